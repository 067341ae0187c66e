/* addr_index.h: the live blocks ordered by address (internal to blockmap.c).
 *
 * A two-level sorted array: a short array of chunk pointers with each chunk's first
 * address (binary-searched, small enough to stay in cache), and chunks of up to
 * ADDR_CHUNK items kept sorted by memmove, their starts in one array that a lookup
 * counts through without branches. At 100k blocks a lookup waits on about one
 * memory latency where a binary tree waited on twenty; that is what keeps the
 * shadow model's overlap check cheap.
 *
 * Invariants (addr_index_check): items are sorted by start across chunks; no chunk
 * but a lone one is empty; firsts[c] == chunks[c]->starts[0]. */
#ifndef HL_ADDR_INDEX_H
#define HL_ADDR_INDEX_H

#include "hl_harness.h"

typedef struct addr_item {
    hl_addr start, end; /* the block's extent [start, end) */
    uint32_t entry;     /* its block-map entry */
} addr_item;

typedef struct addr_chunk addr_chunk;

typedef struct addr_index {
    addr_chunk **chunks;
    hl_addr *firsts;
    uint32_t count, capacity;
    uint64_t items;
} addr_index;

void addr_index_init(addr_index *index);
void addr_index_free(addr_index *index);
/* Inserts item unless its extent overlaps an item's: then returns false with that
 * item's entry in *other and changes nothing. */
bool addr_index_insert(addr_index *index, addr_item item, uint32_t *other);
/* Removes the item starting at start (no-op if none). */
void addr_index_remove(addr_index *index, hl_addr start);
/* The item whose extent contains addr: true with it in *found, else false. */
bool addr_index_at(const addr_index *index, hl_addr addr, addr_item *found);
/* Verifies the invariants; false with a reason. */
bool addr_index_check(const addr_index *index, char *message, size_t capacity);

#endif
