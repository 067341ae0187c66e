/* corpus.c: see corpus.h. */
#include "corpus.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <sched.h>

/* A spin lock in shared memory, held for a memcpy at most: no process dies holding it
 * (the backends run in none of the code that takes it). */
void hl_corpus_lock(volatile int *lock)
{
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) sched_yield();
}

void hl_corpus_unlock(volatile int *lock) { __atomic_store_n(lock, 0, __ATOMIC_RELEASE); }

uint32_t hl_corpus_count(const hl_corpus *c) { return __atomic_load_n(&c->count, __ATOMIC_ACQUIRE); }

void hl_corpus_add(hl_corpus *c, const uint8_t *bytes, size_t len)
{
    hl_corpus_lock(&c->lock);
    uint32_t n = c->count;
    if (n < HL_CORPUS_ENTRIES && len <= HL_CORPUS_BYTES - c->used) {
        c->offset[n] = c->used;
        c->length[n] = (uint32_t)len;
        memcpy(c->bytes + c->used, bytes, len);
        c->used += len;
        __atomic_store_n(&c->count, n + 1, __ATOMIC_RELEASE);
    }
    hl_corpus_unlock(&c->lock);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int hl_corpus_load(hl_corpus *c, const char *dir, size_t max_len)
{
    DIR *d = opendir(dir);
    if (!d) return fprintf(stderr, "heaplab: --corpus %s: %s\n", dir, strerror(errno)), -1;
    char *names[HL_CORPUS_ENTRIES];
    size_t count = 0;
    for (struct dirent *e; (e = readdir(d)) && count < HL_CORPUS_ENTRIES;)
        if (e->d_name[0] != '.') names[count++] = hl_mem_strdup(e->d_name);
    closedir(d);
    qsort(names, count, sizeof *names, by_name);
    for (size_t i = 0; i < count; i++) {
        char path[4096], *bytes;
        size_t len;
        hl_diag diag;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        hl_mem_free(names[i]);
        if (hl_file_load(path, &bytes, &len, &diag) != 0) continue; /* a subdirectory */
        hl_corpus_add(c, (const uint8_t *)bytes, len < max_len ? len : max_len);
        hl_mem_free(bytes);
    }
    return 0;
}

unsigned hl_corpus_learn(hl_corpus *c, const hl_diff_summary *s, const uint8_t *bytes, size_t len)
{
    bool fresh = false;
    unsigned seen = 0;
    for (int k = 0; k < HL_OP_COUNT; k++) {
        uint64_t before = __atomic_fetch_or(&c->outcomes[k], s->outcomes[k], __ATOMIC_RELAXED);
        fresh |= (s->outcomes[k] & ~before) != 0;
        seen += (unsigned)__builtin_popcountll(before | s->outcomes[k]);
    }
    if (fresh) hl_corpus_add(c, bytes, len);
    return seen;
}

unsigned hl_corpus_outcomes(const hl_corpus *c)
{
    unsigned seen = 0;
    for (int k = 0; k < HL_OP_COUNT; k++) seen += (unsigned)__builtin_popcountll(__atomic_load_n(&c->outcomes[k], __ATOMIC_RELAXED));
    return seen;
}

hl_fuzz_pool *hl_fuzz_pool_new(unsigned jobs)
{
    if (jobs == 0 || jobs > HL_POOL_JOBS) return NULL;
    hl_fuzz_pool *pool = mmap(NULL, sizeof *pool, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (pool == MAP_FAILED) return NULL;
    pool->jobs = jobs; /* the rest is zero, as a fresh mapping is */
    return pool;
}

void hl_fuzz_pool_free(hl_fuzz_pool *pool)
{
    if (pool) munmap(pool, sizeof *pool);
}

bool hl_pool_claim(hl_fuzz_pool *pool, const char *key)
{
    hl_corpus_lock(&pool->lock);
    bool fresh = true;
    for (uint32_t i = 0; i < pool->claimed && fresh; i++) fresh = strcmp(pool->keys[i], key) != 0;
    if (fresh && pool->claimed < HL_POOL_JOBS) snprintf(pool->keys[pool->claimed++], HL_POOL_KEY, "%s", key);
    hl_corpus_unlock(&pool->lock);
    return fresh;
}

void hl_fuzz_pool_total(const hl_fuzz_pool *pool, hl_fuzz_result *total)
{
    memset(total, 0, sizeof *total);
    for (unsigned j = 0; j < pool->jobs; j++) {
        if (!pool->finished[j]) continue;
        const hl_fuzz_result *r = &pool->results[j];
        total->execs += r->execs;
        total->seconds = r->seconds > total->seconds ? r->seconds : total->seconds;
        total->kinds |= r->kinds;
        total->ignored += r->ignored;
    }
    total->findings = pool->claimed;
    total->outcomes = hl_corpus_outcomes(&pool->corpus);
    total->corpus = hl_corpus_count(&pool->corpus);
}
