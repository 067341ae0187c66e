/* forks.c: blocks live at a fork are freed by the child, which allocates its own; the
 * parent goes on after the child ends. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    void *kept[10];
    for (int i = 0; i < 10; i++) kept[i] = malloc(100 + (size_t)i);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 10; i += 2) free(kept[i]); /* inherited blocks */
        char *volatile mine = malloc(5000); /* volatile: the pair is not optimised away */
        mine[0] = 1;
        free(mine);
        exit(0);
    }
    waitpid(pid, NULL, 0);
    for (int i = 0; i < 10; i++) free(kept[i]);
    return 0;
}
