/* shrink.c: the realloc pattern that opens the first-fit test library's planted bug
 * (tests/backends/malloc_firstfit.c): a block shrunk in place, a block put into its
 * freed tail, then the shrunk block and the one after the tail freed: that block's
 * stale prev_size makes its merge backwards swallow the live block in the tail, and
 * the next allocation is served over it. Any correct allocator sees an ordinary
 * program. Exits 1 when the block in the tail lost its bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *volatile a = malloc(1000), *volatile b = malloc(100), *volatile fence = malloc(100);
    a = realloc(a, 100);           /* in place on a first-fit heap: its tail goes free */
    char *volatile d = malloc(880); /* first fit: the whole tail (896 bytes with its header) */
    memset(d, 'd', 880);
    free(a);
    free(b);                       /* merges backwards by its stale prev_size, over d */
    char *volatile e = malloc(1000);
    volatile char *fill = e; /* written for real: the compiler would drop stores to a block only freed later */
    for (int i = 0; i < 1000; i++) fill[i] = 'e';
    int kept = 0;
    const volatile char *bytes = d; /* read for real: the compiler takes malloc's blocks as disjoint */
    for (int i = 0; i < 880; i++) kept += bytes[i] == 'd';
    printf("%d of 880 bytes kept\n", kept);
    free(e), free(d), free(fence);
    return kept == 880 ? 0 : 1;
}
