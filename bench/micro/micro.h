/* micro.h: the C side of the micro-benchmarks (bench/micro/, `make bench-micro`).
 *
 * shim.cc, the project's only C++, registers one Google Benchmark per case (a family
 * times a target) and runs it through the two calls at the bottom: micro_prepare
 * outside the clock, then micro_run with the iteration count Google Benchmark asks
 * for, inside it. Everything else is C:
 *   targets.c   what is measured: every built-in backend through its contract table,
 *               and the raw peers (glibc, jemalloc, mimalloc, tcmalloc) through their
 *               own entry points;
 *   workload.c  the pre-generated random sizes and indices (a fixed seed, made before
 *               the clock starts, the same for every target);
 *   pair.c, replace.c, scope.c, chain.c   the bodies, one family each;
 *   cases.c     the families, the case list and the one case prepared at a time.
 * A body's timed loop does the work its family describes and nothing else: no
 * allocation of its own, no bookkeeping but the live set the work needs. Every
 * allocation writes the first byte of its block. Contract targets allocate with
 * alignment MICRO_ALIGN, which every backend serves on its plain path. */
#ifndef HL_MICRO_H
#define HL_MICRO_H

#include "heaplab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* the alignment of every contract allocation but the aligned family's: the peers'
 * smallest (8), so no adapter takes its aligned entry for it */
#define MICRO_ALIGN 8u

/* ---------------------------------------------------------------- targets (targets.c) */

/* A malloc's own entry points (aligned in aligned_alloc's argument order). */
typedef struct micro_raw {
    void *(*malloc)(size_t size);
    void (*free)(void *block);
    void *(*realloc)(void *block, size_t size);
    void *(*aligned)(size_t align, size_t size);
} micro_raw;

typedef struct micro_target {
    char name[32];             /* "bins", "raw:mimalloc": the last part of a case name */
    const hl_backend *backend; /* a contract target; NULL for a raw peer */
    micro_raw raw;             /* a raw peer's entry points */
    hl_heap *heap;             /* a contract target's instance while it is open */
    bool linear;               /* its blocks' bytes are reached through mem_view */
} micro_target;

/* Call first thing in main: re-executes the program once with static TLS reserved
 * for jemalloc (hl_registry_reserve_tls); returns when nothing was needed. */
void micro_reserve_tls(char **argv);

/* The targets, made on the first call: the built-in backends in registry order
 * (test-only ones left out), then raw:libc, raw:jemalloc, raw:mimalloc, raw:tcmalloc.
 * A backend whose create fails, or a peer whose library does not load, is left out
 * with a line on stderr and an entry in micro_skipped. */
micro_target *micro_targets(size_t *count);

/* What was left out: "NAME: reason" lines, *count of them. */
const char *const *micro_skipped(size_t *count);

/* Opens t: a contract target gets a fresh instance (default options, the caller's
 * HL_HINT_* promises), a raw peer nothing. NULL on success, else why (a static
 * string, valid until the next call). */
const char *micro_open(micro_target *t, uint32_t hints);
/* Destroys a contract target's instance; nothing for a raw peer or a closed target. */
void micro_close(micro_target *t);

/* The byte at block a of t's instance, which the caller writes (mem_view for linear
 * memory, the address itself otherwise). */
static inline unsigned char *micro_byte(const hl_backend *b, hl_heap *h, bool linear, hl_addr a)
{
    return linear ? (unsigned char *)b->mem_view(h, a, 1) : (unsigned char *)a;
}

/* ---------------------------------------------------------------- workload (workload.c) */

#define MICRO_MIN_SIZE 8u
#define MICRO_MAX_SIZE 512u

/* Memory for the benchmark's own tables, from mmap (never the process's malloc, which
 * raw:libc measures); zeroed. NULL on failure. micro_unmap(NULL, ...) is a no-op. */
void *micro_map(size_t bytes);
void micro_unmap(void *memory, size_t bytes);

/* count sizes uniform in [MICRO_MIN_SIZE, MICRO_MAX_SIZE], from a fixed seed and a
 * stream number (the same stream gives the same sizes). */
void micro_random_sizes(uint16_t *out, size_t count, uint64_t stream);
/* count indices uniform in [0, bound), from the fixed seed and a stream number. */
void micro_random_indices(uint32_t *out, size_t count, uint32_t bound, uint64_t stream);

/* ---------------------------------------------------------------- the bodies */

/* Each runs `iterations` iterations of its family on an open target t and returns
 * NULL, or why it stopped (a static string: an allocation failed, naming the error). */

/* pair.c: alloc(size, align) + write its first byte + free. A raw peer takes malloc,
 * or its aligned entry when align > 16. */
const char *micro_pair(micro_target *t, size_t size, size_t align, uint64_t iterations);

/* scope.c: contract targets: enter_scope, MICRO_SCOPE_BLOCKS allocs (sizes from the
 * workload), exit_scope. Raw peers: the same mallocs, then a free of each in the order
 * they were made (the comparable: a malloc has no scopes). */
#define MICRO_SCOPE_BLOCKS 64
/* makes the block sizes (outside the clock; again is harmless) */
void micro_scope_prepare(void);
const char *micro_scope(micro_target *t, uint64_t iterations);

/* chain.c: alloc 16 B, realloc to 32, 64, ... 64 KiB (each new block's first byte
 * written), free. */
#define MICRO_CHAIN_FIRST 16u
#define MICRO_CHAIN_LAST 65536u
const char *micro_chain(micro_target *t, uint64_t iterations);

/* replace.c: a live set of n blocks (sizes from the workload), made and warmed up
 * (n replacements) by micro_replace_prepare outside the clock and kept across the
 * runs of one case; each iteration frees the block of a random slot and allocates one
 * of a random size in its place (indices and sizes pre-generated). */
typedef struct micro_live_set micro_live_set;
/* NULL with *why set when the set cannot be made (the error of the failed alloc). */
micro_live_set *micro_replace_prepare(micro_target *t, uint32_t n, const char **why);
const char *micro_replace(micro_live_set *set, uint64_t iterations);
/* Frees the set's blocks (t still open) and the set. */
void micro_replace_release(micro_live_set *set);

/* ---------------------------------------------------------------- cases (cases.c) */

typedef struct micro_case {
    char name[64];        /* "pair/16/bins": family, then target */
    unsigned family;      /* index into the family table */
    micro_target *target;
} micro_case;

/* Every family for every target, family by family (so the targets of one family run
 * side by side in time). Made on the first call (which makes the targets). */
const micro_case *micro_cases(size_t *count);

/* Makes c the prepared case (outside the clock): releases the one prepared before
 * (its live set, its instance), opens c's target, makes c's live set. Preparing the
 * prepared case again does nothing, so a live set lasts across the runs Google
 * Benchmark makes of one case. NULL, or why c cannot run. */
const char *micro_prepare(const micro_case *c);
/* Runs `iterations` iterations of the prepared case c (the timed part). NULL, or why
 * it stopped. */
const char *micro_run(const micro_case *c, uint64_t iterations);
/* Releases the prepared case, if any. */
void micro_release(void);

#ifdef __cplusplus
}
#endif
#endif /* HL_MICRO_H */
