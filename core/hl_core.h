/* hl_core.h: what every harness layer shares, and nothing else: heaplab's private
 * memory, the message type for bad input, the clock, the one u64 map, and files
 * written whole or not at all.
 *
 * heaplab's own bookkeeping never uses the process malloc: every harness allocation
 * comes from the private mmap-backed arena below, so a foreign backend's figures
 * (glibc mallinfo2) measure only the trace's blocks.
 *
 * Depends on the contract's types only (allocators/include, allocators/source for the
 * operating system's pages). */
#ifndef HL_CORE_H
#define HL_CORE_H

#include "heaplab.h"

#include <stdio.h>

/* ================================================================ private arena */

/* Zeroed, 16-byte aligned memory from heaplab's private mmap arena. Never returns
 * NULL: if the system refuses memory for heaplab's own bookkeeping, it prints
 * "heaplab: out of memory for its own bookkeeping" and exits 2. Not thread-safe. */
void *hl_mem_alloc(size_t size);
/* Grows or shrinks; contents kept up to min(old, new); new bytes zeroed. ptr NULL
 * means hl_mem_alloc. */
void *hl_mem_realloc(void *ptr, size_t size);
/* NULL is a no-op. */
void hl_mem_free(void *ptr);
/* A copy of s (or of its first n bytes) in the arena. */
char *hl_mem_strdup(const char *s);
char *hl_mem_strndup(const char *s, size_t n);
/* Bytes the arena holds from the system now (for the harness's own figures). */
size_t hl_mem_footprint(void);

/* ================================================================ bootstrap memory */

/* What an LD_PRELOAD library of heaplab's (the recorder, the run shim) hands out while
 * dlsym looks up the real malloc it stands in front of (dlsym may call calloc): a
 * static buffer, 16-byte aligned pieces, zeroed (static storage), never freed or
 * reused. A zeroed hl_boot is empty. */
typedef struct hl_boot {
    char bytes[1 << 16];
    size_t used;
} hl_boot;

/* n bytes of boot, or NULL when they do not fit. */
static inline void *hl_boot_alloc(hl_boot *boot, size_t n)
{
    size_t at = (boot->used + 15) & ~(size_t)15;
    if (n > sizeof boot->bytes - at) return NULL;
    boot->used = at + n;
    return boot->bytes + at;
}
/* True when p is a byte of boot (such a block is never passed to a real free). */
static inline bool hl_boot_owns(const hl_boot *boot, const void *p)
{
    return (const char *)p >= boot->bytes && (const char *)p < boot->bytes + sizeof boot->bytes;
}
/* The bytes of boot from p to its end (what a realloc of a boot block can copy). */
static inline size_t hl_boot_tail(const hl_boot *boot, const void *p)
{
    return (size_t)(boot->bytes + sizeof boot->bytes - (const char *)p);
}

/* ================================================================ messages */

/* A message for bad input: "<file>:<line>: <problem>" (or "<file>: byte N: ..."). */
typedef struct hl_diag {
    char message[600];
} hl_diag;

/* ================================================================ clock */

/* Wall time in nanoseconds (CLOCK_MONOTONIC), for whole runs. */
uint64_t hl_clock_now_ns(void);
/* A cheap monotonic tick count for timing single operations: the CPU's invariant
 * time-stamp counter on x86-64, nanoseconds elsewhere. Only differences mean
 * anything; multiply one by hl_clock_ns_per_tick() for nanoseconds. */
uint64_t hl_clock_ticks(void);
/* Nanoseconds per tick. The first call calibrates (busy-waits about 5 ms). */
double hl_clock_ns_per_tick(void);
/* The same ticks, read for timing one short call (the latency mode): begin waits for
 * everything before it and keeps the call from starting early; end waits for the
 * call to finish and keeps what follows from starting early. Each costs more than
 * hl_clock_ticks; their pair's own cost is hl_clock_measure_overhead's (measure/). */
uint64_t hl_clock_ticks_begin(void);
uint64_t hl_clock_ticks_end(void);

/* ================================================================ the u64 map */

/* A map from any 64-bit key to a 64-bit value (u64map.c): open addressing with
 * linear probing and backward-shift deletion (no tombstones pile up over a long
 * stream), kept at most half full, in heaplab's private memory. A zeroed hl_u64map
 * is an empty map. Not thread-safe. */
typedef struct hl_u64map {
    uint64_t *keys, *values;
    uint8_t *used;
    size_t capacity, count; /* capacity: a power of two, or 0 */
} hl_u64map;

/* Makes room for `entries` keys without growing later (a hint). */
void hl_u64map_reserve(hl_u64map *map, size_t entries);
/* True with *value (if not NULL) when key is in the map. O(1) expected. */
bool hl_u64map_find(const hl_u64map *map, uint64_t key, uint64_t *value);
/* The value slot of key, added with value 0 if absent (*fresh, if not NULL, says
 * which). The pointer is valid until the next put or remove. */
uint64_t *hl_u64map_put(hl_u64map *map, uint64_t key, bool *fresh);
/* Removes key; false if it was absent. */
bool hl_u64map_remove(hl_u64map *map, uint64_t key);
/* Frees the tables; the map is empty (and usable) again. */
void hl_u64map_free(hl_u64map *map);

/* ================================================================ the id map */

/* A map from a trace's block id to a 32-bit position (idmap.c), sized for the ids
 * traces use: ids below HL_IDMAP_DENSE (most traces number their blocks 1, 2, 3...)
 * index an array of 4 bytes an id; larger ones (recorded addresses) go to a u64map.
 * A zeroed hl_idmap is empty. Not thread-safe. */
#define HL_IDMAP_DENSE (1ull << 26)
typedef struct hl_idmap {
    uint32_t *dense;  /* dense[id]: position + 1 (0: absent) */
    uint64_t dense_capacity;
    hl_u64map sparse; /* larger ids -> position */
} hl_idmap;

/* True with *position when id is in the map. O(1). */
bool hl_idmap_find(const hl_idmap *map, uint64_t id, uint32_t *position);
/* Sets id's position (below UINT32_MAX), adding id if absent. */
void hl_idmap_set(hl_idmap *map, uint64_t id, uint32_t position);
/* Frees the tables; the map is empty (and usable) again. */
void hl_idmap_free(hl_idmap *map);

/* ================================================================ open scopes */

/* The scopes open at a point of a trace, innermost last (scopes.c): level L (1 ..
 * depth) is the L-th open one; level 0 is outside every scope. What a trace's scope
 * id names is found in O(1) expected, so a trace of a million nested scopes costs
 * linear time. A zeroed hl_scopes is empty. Not thread-safe. */
typedef struct hl_scopes {
    hl_u64map level_of; /* scope id -> innermost open level with that id */
    uint32_t *id;       /* [level]: its scope id */
    uint32_t *outer;    /* [level]: the level its id named before it opened (0: none) */
    uint32_t depth, capacity;
} hl_scopes;

/* Opens a scope with that id at level depth + 1 (an id already open is allowed: the
 * new level hides the older until it closes). */
void hl_scopes_push(hl_scopes *s, uint32_t scope_id);
/* The innermost open level with that id, or 0 when none is open. */
uint32_t hl_scopes_level(const hl_scopes *s, uint32_t scope_id);
/* Closes every level >= level (level 0: all of them); depth becomes level - 1 (0).
 * A level above depth closes nothing. */
void hl_scopes_close_from(hl_scopes *s, uint32_t level);
/* Frees the tables; s is empty (and usable) again. */
void hl_scopes_free(hl_scopes *s);

/* ================================================================ output files */

/* A file heaplab writes after the fact (a converted or imported trace, a shrunk one,
 * a fuzz finding, a reproducer, a results document) is written to a temporary name in
 * the same folder and renamed into place only when it is complete and flushed to the
 * disk (outfile.c): a full disk, a read-only folder or a crash leaves nothing under
 * the final name (and an older file there intact), never a truncated file that reads
 * as a shorter one. */
typedef struct hl_outfile {
    FILE *f;          /* write here between open and commit */
    const char *path; /* the final name (the caller's string) */
    char *temp;       /* the temporary name beside it */
} hl_outfile;

/* Opens a new temporary file beside path for writing (mode "w" or "wb"). Returns 0,
 * or an errno value with nothing created. */
int hl_outfile_open(hl_outfile *out, const char *path, const char *mode);
/* Flushes, syncs and closes out's file and renames it to its path. Returns 0, or an
 * errno value (the first failure: a write that did not fit, the sync, the rename);
 * then the temporary file is removed and path is as it was. Either way out is closed. */
int hl_outfile_commit(hl_outfile *out);
/* Closes and removes the temporary file; path is as it was. */
void hl_outfile_abort(hl_outfile *out);
/* Writes size bytes to path whole or not at all (open, write, commit). Returns 0 or an
 * errno value. */
int hl_outfile_write(const char *path, const void *bytes, size_t size);
/* Makes the folder dir and any of its parents that are missing (an existing folder
 * is fine). Returns 0, or the errno value of the mkdir that failed. */
int hl_make_folder(const char *dir);
/* Removes the temporary files open now (a command interrupted while writing leaves no
 * .NAME.tmp file). Async-signal-safe: unlink only; for heaplab's signal handler.
 * forget: a forked child's view, which has no files of its own open. */
void hl_outfile_remove_open(void);
void hl_outfile_forget_open(void);

#endif /* HL_CORE_H */
