/* plugin_ctor_write.c: a contract plugin whose constructor creates the file named by
 * PLUGIN_WRITE_TO (nothing when it is unset): the sandbox is installed before the
 * library loads, so even a constructor's write is refused (SANDBOX) and the file
 * never appears. */
#include "heaplab.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void write_on_load(void)
{
    const char *path = getenv("PLUGIN_WRITE_TO");
    if (!path) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) close(fd);
}

const hl_backend *heaplab_backend(void);
const hl_backend *heaplab_backend(void) { return 0; }
