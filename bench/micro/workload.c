/* workload.c: the micro-benchmarks' random inputs and their own memory (micro.h).
 * Made before the clock starts, from one fixed seed, so every target is fed the same
 * sizes and indices; held in mmap'd memory so the benchmark's own tables never sit in
 * the process's malloc heap, which raw:libc measures. */
#include "micro.h"

#include <sys/mman.h>

#define SEED 0x9e3779b97f4a7c15ull

void *micro_map(size_t bytes)
{
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void micro_unmap(void *memory, size_t bytes)
{
    if (memory) munmap(memory, bytes ? bytes : 1);
}

/* splitmix64: a stream's n-th value, from the seed and the stream number */
static uint64_t next(uint64_t *state)
{
    uint64_t z = (*state += SEED);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void micro_random_sizes(uint16_t *out, size_t count, uint64_t stream)
{
    uint64_t state = SEED ^ (stream * 0xd1b54a32d192ed03ull);
    for (size_t i = 0; i < count; i++)
        out[i] = (uint16_t)(MICRO_MIN_SIZE + next(&state) % (MICRO_MAX_SIZE - MICRO_MIN_SIZE + 1));
}

void micro_random_indices(uint32_t *out, size_t count, uint32_t bound, uint64_t stream)
{
    uint64_t state = SEED ^ (stream * 0xd1b54a32d192ed03ull);
    for (size_t i = 0; i < count; i++) out[i] = (uint32_t)(next(&state) % bound);
}
