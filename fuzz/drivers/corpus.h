/* corpus.h: the built-in fuzzer's corpus and what the workers of `heaplab fuzz --jobs
 * J` share (fuzz/drivers/corpus.c). Internal to the engine (engine.c): the public face
 * is hl_fuzz_pool in hl_fuzz.h.
 *
 * The corpus lives in shared memory: a campaign's children write into it and it
 * outlives each of them; with a pool, the J workers' children all write into the
 * pool's one corpus. Entries are only ever appended: bytes first, then the count
 * (released), so a reader that loads the count (acquired) sees whole entries without
 * the lock, which only writers take. */
#ifndef HL_FUZZ_CORPUS_H
#define HL_FUZZ_CORPUS_H

#include "hl_fuzz.h"

#define HL_CORPUS_ENTRIES 4096
#define HL_CORPUS_BYTES (8u << 20)

typedef struct hl_corpus {
    volatile uint32_t count;
    volatile int lock;               /* writers only */
    size_t used;
    uint64_t offset[HL_CORPUS_ENTRIES];
    uint32_t length[HL_CORPUS_ENTRIES];
    uint64_t outcomes[HL_OP_COUNT];  /* every (kind, outcome) seen so far */
    unsigned char bytes[HL_CORPUS_BYTES];
} hl_corpus;

#define HL_POOL_JOBS 64
#define HL_POOL_KEY 240

struct hl_fuzz_pool {
    unsigned jobs;
    volatile int lock;
    volatile int seeded;             /* the --corpus files are in (loaded once) */
    uint32_t claimed;                /* findings written, each by the first worker to meet it */
    char keys[HL_POOL_JOBS][HL_POOL_KEY];
    volatile int finished[HL_POOL_JOBS];
    hl_fuzz_result results[HL_POOL_JOBS];
    hl_corpus corpus;
};

void hl_corpus_lock(volatile int *lock);
void hl_corpus_unlock(volatile int *lock);
/* The entries a reader may use (acquired). */
uint32_t hl_corpus_count(const hl_corpus *c);
/* Appends an entry (dropped when the corpus is full). */
void hl_corpus_add(hl_corpus *c, const uint8_t *bytes, size_t len);
/* The files of dir (in name order, each cut to max_len) become entries; -1 with a
 * message on stderr when dir cannot be read. */
int hl_corpus_load(hl_corpus *c, const char *dir, size_t max_len);
/* Adds the input when it showed an outcome not seen before; the count of outcomes. */
unsigned hl_corpus_learn(hl_corpus *c, const hl_diff_summary *s, const uint8_t *bytes, size_t len);
/* Outcome pairs seen so far. */
unsigned hl_corpus_outcomes(const hl_corpus *c);
/* True if this worker is the first to claim the finding key (rule and backend): it
 * writes it; false if another worker already did. */
bool hl_pool_claim(hl_fuzz_pool *pool, const char *key);

#endif
