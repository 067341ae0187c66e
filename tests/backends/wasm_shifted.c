/* wasm_shifted.c: a test-only copy of the wasm backend whose heap starts 64 bytes
 * later: every operation behaves as the contract says (the shadow model finds nothing),
 * but it declares itself offset-exact with `wasm` and hands out other offsets, which
 * only the differential offset comparison sees (OFFSET_DIFFERS). */
#include "backends.h"

#define HL_WASM_NAME "wasm-shifted"
#define HL_WASM_GETTER hl_test_backend_wasm_shifted
#define HL_WASM_HEAP_BASE (1024u + 64u)
#define HL_WASM_NO_SURFACES 1
const hl_backend *hl_test_backend_wasm_shifted(void);

#include "wasm/wasm.c"
