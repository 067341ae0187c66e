/* peak_rss.c: runs a command and prints its peak resident set size: ru_maxrss from
 * wait4, the larger of the command's own peak and that of every descendant it waited
 * for (so heaplab's forked runs count). No heaplab code.
 *
 *   peak-rss CMD [ARG]...
 *
 * A launcher of its own because Linux starts a process's ru_maxrss at the resident
 * size of the process that forked it (exec keeps the old address space's peak): a
 * command started by the Python benchmark directly would never show less than the
 * interpreter's own ~15 MB, and small runs would all measure the same. This launcher
 * holds about 1 MB when it forks.
 *
 * The command's stdout and stderr pass through; then one line on stderr,
 * "peak-rss: BYTES". Exit status: the command's (128 + the signal if one ended it);
 * 127 when it cannot be run, 2 on bad usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: peak-rss CMD [ARG]...\n");
        return 2;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("peak-rss: fork");
        return 127;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        fprintf(stderr, "peak-rss: cannot run %s: ", argv[1]);
        perror(NULL);
        _exit(127);
    }
    int status;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            perror("peak-rss: wait4");
            return 127;
        }
    }
    fprintf(stderr, "peak-rss: %lld\n", (long long)usage.ru_maxrss * 1024);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
