/* plugin_ctor_crash.c: a contract plugin whose constructor segfaults as it is loaded:
 * heaplab must refuse it with a message and survive (its code never runs in the
 * driver's process). */
#include "heaplab.h"

static volatile int *wild = (volatile int *)8;

__attribute__((constructor)) static void crash_on_load(void) { *wild = 1; }

const hl_backend *heaplab_backend(void);
const hl_backend *heaplab_backend(void) { return 0; }
