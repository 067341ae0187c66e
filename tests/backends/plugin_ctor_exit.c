/* plugin_ctor_exit.c: a contract plugin whose constructor calls exit(0), which in
 * the driver's process would end heaplab with status 0 and no output. */
#include "heaplab.h"

#include <stdlib.h>

__attribute__((constructor)) static void exit_on_load(void) { exit(0); }

const hl_backend *heaplab_backend(void);
const hl_backend *heaplab_backend(void) { return 0; }
