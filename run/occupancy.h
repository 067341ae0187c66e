/* occupancy.h: which bytes of the address space live blocks cover: the address index
 * of the executor's block map (blockmap.c) and, an instance of its own, of the shadow
 * model (check/shadow.c): shared code, separate state.
 *
 * One bit per granule of 2^granule_log2 bytes, in bitmaps of 4 MiB of address space
 * each, found by region number through a small hash. A block of a few hundred bytes
 * is a few bits of one word, so marking, clearing and testing it touches one cache
 * line, and the bitmaps of a 100 MB heap fit in the L2 cache: far cheaper than an
 * ordered index, which paid cache misses on every insert and remove.
 *
 * A region that one block covers whole (a block of 8 MiB and more covers at least
 * one) is marked `full` and keeps no bitmap, so a 256 MiB block costs 64 flags, not
 * 2 MiB of bits to write and clear; a partial clear of a full region makes its bitmap.
 *
 * Exact as long as every block starts on a granule boundary (the executor takes the
 * granule from the backend's minimum alignment, at most 16 bytes): two such blocks
 * that do not overlap never share a granule. A misaligned block (itself an ALIGNMENT
 * divergence) can make a later test report an overlap that is not there.
 *
 * Invariant (checked by the block map): the set bits are exactly the granules of
 * the indexed blocks; `set` counts them. */
#ifndef HL_OCCUPANCY_H
#define HL_OCCUPANCY_H

#include "hl_core.h"

typedef struct occ_region {
    uint64_t number;  /* address >> OCC_REGION_SHIFT */
    uint64_t *bits;   /* NULL: no bitmap (all clear, or all set when full) */
    uint64_t set;     /* granules marked in this region */
    uint32_t dirty_lo, dirty_hi; /* the bitmap's words that may hold a set bit: [lo, hi) */
    bool used;        /* false: an empty slot */
    bool full;        /* every granule marked; bits is NULL */
} occ_region;

typedef struct occupancy {
    unsigned granule_log2;
    occ_region *slots;
    uint32_t mask, used;
    occ_region *last; /* the region used last: most operations stay in one */
    uint64_t set;     /* granules marked */
    uint64_t **spare; /* cleared bitmaps of forgotten regions, for the next region made */
    uint32_t spare_count, spare_cap;
} occupancy;

void occ_init(occupancy *occ, unsigned granule_log2);
void occ_free(occupancy *occ);
/* Clears every mark for the next use (a persistent run's next stream): the regions
 * are forgotten (a backend that maps afresh puts the next stream's blocks elsewhere)
 * and their bitmaps, cleared where they were marked, kept for the regions made next. */
void occ_clear(occupancy *occ);
/* True if any granule of [start, end) is marked. */
bool occ_any(occupancy *occ, hl_addr start, hl_addr end);
/* True if every granule of [start, end) is marked. */
bool occ_all(occupancy *occ, hl_addr start, hl_addr end);
/* Marks (on) or clears the granules of [start, end). */
void occ_mark(occupancy *occ, hl_addr start, hl_addr end, bool on);
/* The number of granules [start, end) covers. */
uint64_t occ_granules(const occupancy *occ, hl_addr start, hl_addr end);
/* The bytes the index takes in heaplab's memory (its bitmaps and slots). */
size_t occ_bytes(const occupancy *occ);

#endif
