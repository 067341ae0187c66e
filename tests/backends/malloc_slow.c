/* malloc_slow.c: the example malloc library (examples/malloc_lib/exmalloc.c) built
 * again with its malloc, free and realloc spinning first: a second build of one
 * allocator, several times slower, for report --compare's by-label test. */
#define ex_malloc fast_malloc
#define ex_free fast_free
#define ex_realloc fast_realloc
#include "../../examples/malloc_lib/exmalloc.c"
#undef ex_malloc
#undef ex_free
#undef ex_realloc

void *ex_malloc(size_t size);
void ex_free(void *p);
void *ex_realloc(void *p, size_t size);

static void spin(void)
{
    for (volatile int i = 0; i < 40; i++) continue;
}

void *ex_malloc(size_t size) { return spin(), fast_malloc(size); }
void ex_free(void *p) { spin(), fast_free(p); }
void *ex_realloc(void *p, size_t size) { return spin(), fast_realloc(p, size); }
