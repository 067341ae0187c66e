/* reexec.c: `reexec N PROGRAM ARGS...` execs itself N more times in the same process,
 * then PROGRAM, as shell shims do. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    void *p = malloc(123); /* each image allocates */
    free(p);
    int n = atoi(argv[1]);
    if (n > 0) {
        char count[16];
        snprintf(count, sizeof count, "%d", n - 1);
        argv[1] = count;
        execv("/proc/self/exe", argv);
        return 3;
    }
    execv(argv[2], argv + 2);
    return 4;
}
