/* wasm_module_trap.c: a test-only `wasm-module` over a broken real module whose
 * `heaplab-usable` reads past the end of its memory (build/tests/heaplab-alloc-trap.wasm,
 * -DHLWC_TEST_TRAP): the out-of-bounds trap must become the operation's failure and
 * check's report, never the end of heaplab's process. */
#include "backends.h"

#define HLWM_MODULE heaplab_alloc_trap
#define HLWM_SOURCE "heaplab_alloc_trap.c"
#define HLWM_NAME "wasm-module-trap"
#define HLWM_GETTER hl_test_backend_wasm_module_trap
const hl_backend *hl_test_backend_wasm_module_trap(void);

#include "wasm/wasm_module.c"
