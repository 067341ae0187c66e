/* malloc_badcheck.c: the example malloc library (examples/malloc_lib/exmalloc.c) whose
 * ex_check reports a broken heap while exactly three blocks are live, and only then:
 * an invariant broken for a moment. A check at the end of a run (vet's conformance
 * rows, paced) never sees it; vet's check row, a check after every operation, must. */
#define ex_malloc plain_malloc
#define ex_free plain_free
#define ex_check plain_check
#include "../../examples/malloc_lib/exmalloc.c"
#undef ex_malloc
#undef ex_free
#undef ex_check

void *ex_malloc(size_t size);
void ex_free(void *p);
const char *ex_check(void);

static long live;

void *ex_malloc(size_t size)
{
    void *p = plain_malloc(size);
    live += p != NULL;
    return p;
}

void ex_free(void *p)
{
    live -= p != NULL;
    plain_free(p);
}

const char *ex_check(void) { return live == 3 ? "free list: a node points into a live block" : plain_check(); }
