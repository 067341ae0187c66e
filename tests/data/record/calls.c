/* calls.c: each wrapped call once, including the ones that fail or do nothing. */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

int main(void)
{
    void *volatile sink;
    sink = calloc(SIZE_MAX / 2, 4);       /* overflow: fails */
    void *q = malloc(10);
    sink = realloc(q, 0);                 /* glibc: frees q */
    free(NULL);                           /* nothing */
    void *r = NULL;
    if (posix_memalign(&r, 64, 100) != 0) return 1;
    sink = (void *)(uintptr_t)malloc_usable_size(r);
    void *s = reallocarray(NULL, 8, 4);
    sink = reallocarray(s, SIZE_MAX, 2);  /* overflow: fails, s stays */
    s = realloc(s, 4000);
    void *t = aligned_alloc(256, 512), *u = memalign(128, 10), *v = valloc(10), *w = pvalloc(10);
    free(r), free(s), free(t), free(u), free(v), free(w);
    (void)sink;
    return 0;
}
