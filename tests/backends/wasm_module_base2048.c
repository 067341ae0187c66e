/* wasm_module_base2048.c: a test-only `wasm-module` over a real module linked with a
 * 2 KiB stack, so its __heap_base is 2048, not 1024 (build/tests/heaplab-alloc-base2048.wasm).
 * Every operation behaves as the contract says, but it declares itself offset-exact
 * with `wasm` and hands out other offsets: the differential comparison must catch it
 * (OFFSET_DIFFERS), which is why heaplab's module and native core pin one heap base. */
#include "backends.h"

#define HLWM_MODULE heaplab_alloc_base2048
#define HLWM_SOURCE "heaplab_alloc_base2048.c"
#define HLWM_NAME "wasm-module-base2048"
#define HLWM_GETTER hl_test_backend_wasm_module_base2048
const hl_backend *hl_test_backend_wasm_module_base2048(void);

#include "wasm/wasm_module.c"
