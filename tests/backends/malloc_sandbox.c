/* malloc_sandbox.c: the example malloc library (examples/malloc_lib/exmalloc.c) with
 * one misdeed on its first ex_malloc, chosen by SANDBOX_DO (read then, so the library
 * loads the same whatever is chosen), to see heaplab's sandbox refuse it:
 *   write=PATH   open PATH for writing, creating it, and write a line into it;
 *   kill         kill(getppid(), SIGKILL): end the process that runs the library;
 *   fork         fork a process;
 *   exec         execve /bin/true;
 *   socket       open a TCP socket;
 *   read=PATH    open PATH read-only (allowed: allocators read /proc and /sys);
 *   thread       start a thread and join it (allowed);
 * and two that are no sandbox matter, for vet's "never a hang of heaplab":
 *   hang         spin forever (a HANG);
 *   exit         exit(0) (the run's process ends: a CRASH finding, not a clean run).
 * Without SANDBOX_DO it is the example library. A misdeed the sandbox lets through
 * leaves the library working on, so a run shows whether it was refused. */
#define ex_malloc plain_malloc
#include "../../examples/malloc_lib/exmalloc.c"
#undef ex_malloc

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

void *ex_malloc(size_t size);

static void *nothing(void *arg) { return arg; }

static void misdeed(const char *what)
{
    if (strncmp(what, "write=", 6) == 0) {
        int fd = open(what + 6, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            if (write(fd, "written\n", 8) != 8) abort();
            close(fd);
        }
    } else if (strncmp(what, "read=", 5) == 0) {
        int fd = open(what + 5, O_RDONLY);
        if (fd < 0) abort(); /* refused or missing: the run shows it */
        close(fd);
    } else if (strcmp(what, "kill") == 0) {
        kill(getppid(), SIGKILL);
    } else if (strcmp(what, "fork") == 0) {
        if (fork() == 0) _exit(0);
    } else if (strcmp(what, "exec") == 0) {
        char *argv[] = {"/bin/true", NULL};
        execv(argv[0], argv);
    } else if (strcmp(what, "socket") == 0) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0) close(fd);
    } else if (strcmp(what, "hang") == 0) {
        for (volatile int spin = 1; spin;) continue;
    } else if (strcmp(what, "exit") == 0) {
        exit(0);
    } else if (strcmp(what, "thread") == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0) abort();
    }
}

void *ex_malloc(size_t size)
{
    static int done;
    if (!done) {
        done = 1;
        const char *what = getenv("SANDBOX_DO");
        if (what) misdeed(what);
    }
    return plain_malloc(size);
}
