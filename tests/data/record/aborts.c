/* aborts.c: allocates, then dies of SIGABRT with blocks still live. */
#include <stdlib.h>
#include <string.h>

int main(void)
{
    for (int i = 0; i < 1000; i++) {
        char *p = malloc((size_t)(i % 200) + 1);
        p[0] = 1;
        if (i % 3) free(p);
    }
    abort();
}
