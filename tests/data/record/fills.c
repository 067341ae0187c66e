/* fills.c: `fills N`: forks; the child, then the parent, each make N malloc/free pairs
 * (pair i asks for 16 + i % 200 bytes) and print how many they made: enough records
 * to fill a small disk from both processes. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static long pairs(long n)
{
    long made = 0;
    for (long i = 0; i < n; i++) {
        char *volatile p = malloc((size_t)(16 + i % 200)); /* volatile: the pair is not optimised away */
        if (!p) break;
        p[0] = 1;
        free(p);
        made++;
    }
    return made;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    char *volatile kept = malloc(100); /* live at the fork: the child's trace opens with it */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        printf("child made %ld pairs\n", pairs(n));
        free(kept);
        return 0;
    }
    int status = 1;
    waitpid(pid, &status, 0);
    printf("parent made %ld pairs\n", pairs(n));
    free(kept);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
