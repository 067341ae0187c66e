/* wasm_lean.c: the `wasm-lean` backend: the native twin of the lean module
 * (build/heaplab-alloc-lean.wasm): wasm_core.c built with -DHLWC_LEAN, as the module is,
 * under the `wasm` backend's adapter and linear memory. Offset-exact group
 * wasm32-lean, so the module run by `wasm-v8:module=build/heaplab-alloc-lean.min.wasm`
 * is compared with it offset for offset.
 *
 * The lean configuration is for guests that want the smallest allocator: seed 004's
 * surface alone, no misuse checks (declared: none, so heaplab never sends misuse), no
 * scopes (enter_scope fails with OUT_OF_MEMORY, so a stream that opens one ends there), realloc
 * always alloc + copy + free. Run only when named (never in refs or all, nor in the
 * conformance suite, whose scope tests it does not claim to pass). */
#define HLWC_LEAN 1
#include "wasm_core.c"

#define HL_WASM_NAME "wasm-lean"
#define HL_WASM_GETTER hl_backend_wasm_lean
#define HL_WASM_HEAP_BASE HL_LINEAR_HEAP_BASE
#define HL_WASM_NO_SURFACES 1
#define HL_WASM_SUMMARY "the lean wasm core (seed 004 alone: no misuse checks, no scopes), twin of heaplab-alloc-lean.wasm"
#include "wasm.c"
