/* preload.c: the LD_PRELOAD libraries heaplab starts programs with (the recorder of
 * `heaplab record`, the run shim of `heaplab run`): where they are, and how a child
 * about to exec a program puts one in front of its LD_PRELOAD. */
#include "cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool hl_cli_find_library(const char *name, char *path, size_t capacity)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return false;
    *slash = '\0';
    snprintf(path, capacity, "%s/%s", self, name);
    if (access(path, R_OK) == 0) return true;
    snprintf(path, capacity, "%s/../%s", self, name);
    return access(path, R_OK) == 0;
}

void hl_cli_preload(const char *library)
{
    const char *old = getenv("LD_PRELOAD");
    size_t n = strlen(library) + (old ? strlen(old) : 0) + 2;
    char *preload = hl_mem_alloc(n);
    snprintf(preload, n, "%s%s%s", library, old && *old ? ":" : "", old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    hl_mem_free(preload);
}
