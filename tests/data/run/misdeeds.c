/* misdeeds.c: one misdeed of a program's own, chosen by argv[1], for `heaplab run`:
 *   overflow   writes one byte past a 4096-byte block
 *   busy       the same while three other threads allocate and free without pause
 *   underflow  reads the byte before a 4096-byte block
 *   after      reads a 100-byte block after freeing it
 *   double     frees a 40-byte block twice
 *   invalid    frees a pointer 8 bytes into a live block
 *   many N     keeps N 32-byte blocks live at once
 *   big N      allocates and touches N MiB in 1 MiB blocks
 *   null       writes through a null pointer (the program's own crash)
 *   real       no misdeed: blocks from glibc's own malloc (as from before the shim
 *              took over) handed to free, realloc and malloc_usable_size
 *   page       no misdeed: writes the first byte of a page-aligned 4096-byte block
 *   clean      none (a few blocks, freed)
 * Exits 0 when the misdeed went unnoticed (or there was none). */
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *churn(void *arg)
{
    (void)arg;
    for (;;) free(malloc(48));
    return NULL;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "clean";
    long n = argc > 2 ? atol(argv[2]) : 0;
    char *volatile keep = malloc(64); /* a block that stays live, as real programs have */
    if (strcmp(what, "busy") == 0) {
        pthread_t id;
        for (int t = 0; t < 3; t++) pthread_create(&id, NULL, churn, NULL);
        for (volatile int spin = 0; spin < 1000000; spin++) {}
        char *volatile p = malloc(4096);
        p[4096] = 1;
    } else if (strcmp(what, "overflow") == 0) {
        char *volatile p = malloc(4096);
        p[4096] = 1;
    } else if (strcmp(what, "underflow") == 0) {
        char *volatile p = malloc(4096);
        printf("%d\n", p[-1]);
    } else if (strcmp(what, "after") == 0) {
        char *volatile p = malloc(100);
        memset(p, 1, 100);
        free(p);
        printf("%d\n", p[10]);
    } else if (strcmp(what, "double") == 0) {
        char *volatile p = malloc(40);
        free(p);
        free(p);
    } else if (strcmp(what, "invalid") == 0) {
        char *volatile p = malloc(40);
        size_t volatile inside = 8; /* not a constant: the compiler would warn of it */
        free(p + inside);
    } else if (strcmp(what, "many") == 0) {
        void **live = calloc((size_t)n, sizeof *live);
        for (long i = 0; i < n; i++) live[i] = malloc(32);
        for (long i = 0; i < n; i++) free(live[i]);
        free(live);
    } else if (strcmp(what, "big") == 0) {
        for (long i = 0; i < n; i++) {
            char *p = malloc(1 << 20);
            if (!p) return printf("malloc returned NULL after %ld MiB\n", i), 3;
            memset(p, 1, 1 << 20);
        }
    } else if (strcmp(what, "null") == 0) {
        *(volatile int *)(uintptr_t)n = 1;
    } else if (strcmp(what, "real") == 0) {
        void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
        void *(*real_malloc)(size_t) = libc ? (void *(*)(size_t))dlsym(libc, "malloc") : NULL;
        if (!real_malloc) return fprintf(stderr, "misdeeds: no libc malloc\n"), 2;
        char *a = real_malloc(100), *b = real_malloc(200), *c = real_malloc(300);
        memset(b, 'b', 200);
        if (malloc_usable_size(a) < 100) return 4;
        b = realloc(b, 5000);
        for (int i = 0; i < 200; i++)
            if (b[i] != 'b') return 5;
        free(a), free(b), free(c);
    } else if (strcmp(what, "page") == 0) {
        char *volatile p = valloc(4096);
        p[0] = 1;
        free(p);
    } else if (strcmp(what, "clean") == 0) {
        for (int i = 0; i < 100; i++) free(malloc((size_t)i * 13));
    } else {
        return fprintf(stderr, "misdeeds: unknown misdeed %s\n", what), 2;
    }
    free(keep);
    return 0;
}
