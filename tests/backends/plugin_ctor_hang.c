/* plugin_ctor_hang.c: a contract plugin whose constructor never returns. */
#define _POSIX_C_SOURCE 200809L
#include "heaplab.h"

#include <time.h>

__attribute__((constructor)) static void hang_on_load(void)
{
    for (;;) {
        struct timespec pause = {1, 0};
        nanosleep(&pause, 0);
    }
}

const hl_backend *heaplab_backend(void);
const hl_backend *heaplab_backend(void) { return 0; }
