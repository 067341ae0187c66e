/* churn.c: every call of the malloc family from several threads, each checking what
 * it got: contents kept across realloc, calloc's zeroes, every alignment asked for,
 * malloc_usable_size at least the size, blocks freed by another thread than the one
 * that made them. Exits 1 (saying which) at the first thing wrong, else 0 and prints
 * a checksum line. argv[1]: threads (4), argv[2]: rounds (20000). */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 256
static int rounds = 20000;
static void *volatile handoff[64];
static volatile int failed;

static void fail(const char *what, long t)
{
    fprintf(stderr, "churn: thread %ld: %s\n", t, what);
    failed = 1;
}

static uint32_t next(uint32_t *s) { return *s = *s * 1103515245u + 12345u, *s >> 8; }



static void *work(void *arg)
{
    long t = (long)arg;
    uint32_t seed = (uint32_t)t * 7919u + 1;
    unsigned char *slot[SLOTS] = {0};
    size_t size[SLOTS] = {0};
    for (int r = 0; r < rounds && !failed; r++) {
        int k = (int)(next(&seed) % SLOTS);
        if (slot[k]) {
            for (size_t i = 0; i < size[k]; i++)
                if (slot[k][i] != (unsigned char)(k + size[k])) return fail("a block's bytes changed", t), NULL;
            if (next(&seed) % 4 == 0) { /* grow or shrink, contents kept */
                size_t n = next(&seed) % 5000;
                unsigned char *q = realloc(slot[k], n ? n : 1);
                if (!q) return fail("realloc returned NULL", t), NULL;
                size_t keep = size[k] < (n ? n : 1) ? size[k] : (n ? n : 1);
                for (size_t i = 0; i < keep; i++)
                    if (q[i] != (unsigned char)(k + size[k])) return fail("realloc lost the prefix", t), NULL;
                slot[k] = q, size[k] = n ? n : 1;
                memset(q, (unsigned char)(k + size[k]), size[k]);
                continue;
            }
            if (next(&seed) % 8 == 0) { /* hand it to the next thread to free */
                void *old = __atomic_exchange_n(&handoff[t % 64], slot[k], __ATOMIC_ACQ_REL);
                free(old);
            } else {
                free(slot[k]);
            }
            slot[k] = NULL;
            continue;
        }
        size_t n = next(&seed) % (next(&seed) % 16 == 0 ? 70000 : 600);
        unsigned char *p;
        switch (next(&seed) % 6) {
        case 0: {
            p = calloc(1, n);
            if (!p) return fail("calloc returned NULL", t), NULL;
            for (size_t i = 0; i < n; i++)
                if (p[i]) return fail("calloc's block is not zeroed", t), NULL;
            break;
        }
        case 1: {
            size_t align = (size_t)16 << (next(&seed) % 8);
            void *q = NULL;
            if (posix_memalign(&q, align, n)) return fail("posix_memalign failed", t), NULL;
            if ((uintptr_t)q % align) return fail("posix_memalign: misaligned", t), NULL;
            p = q;
            break;
        }
        case 2: {
            size_t align = (size_t)16 << (next(&seed) % 8);
            p = aligned_alloc(align, n);
            if (!p || (uintptr_t)p % align) return fail("aligned_alloc: NULL or misaligned", t), NULL;
            break;
        }
        case 3:
            p = memalign(64, n);
            if (!p || (uintptr_t)p % 64) return fail("memalign: NULL or misaligned", t), NULL;
            break;
        default:
            p = malloc(n);
            if (!p || (uintptr_t)p % 16) return fail("malloc: NULL or not 16-aligned", t), NULL;
        }
        if (malloc_usable_size(p) < n) return fail("malloc_usable_size below the size", t), NULL;
        slot[k] = p, size[k] = n ? n : 0;
        memset(p, (unsigned char)(k + size[k]), size[k]);
    }
    for (int k = 0; k < SLOTS; k++) free(slot[k]);
    return NULL;
}

int main(int argc, char **argv)
{
    long threads = argc > 1 ? atol(argv[1]) : 4;
    if (argc > 2) rounds = atoi(argv[2]);
    pthread_t id[64];
    if (threads < 1 || threads > 64) return 2;
    for (long t = 0; t < threads; t++) pthread_create(&id[t], NULL, work, (void *)t);
    for (long t = 0; t < threads; t++) pthread_join(id[t], NULL);
    for (int i = 0; i < 64; i++) free(handoff[i]);
    if (failed) return 1;
    printf("churn: %ld threads x %d rounds: every block checked\n", threads, rounds);
    return 0;
}
