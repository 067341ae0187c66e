/* hl_blockmap.h: the executor's id -> block map (run/blockmap.c), part of run/'s
 * interface (hl_run.h includes it). */
#ifndef HL_BLOCKMAP_H
#define HL_BLOCKMAP_H

#include "hl_trace.h"

/* ================================================================ block map */

/* The id -> block map and the open scopes: the trace's view of which blocks are live
 * and in which scope, plus where each block lives in the backend. The executor
 * keeps its bookkeeping here; the trace checker (trace/) and the shadow model
 * (check/) keep views of their own, so a bug here is a finding, not a blind spot.
 *
 * Invariants (checked by hl_blockmap_check):
 *   an entry at level L > 0 is LIVE or RETIRED iff it has a node on level L's list,
 *   which holds the blocks first allocated while L was innermost (level 0 keeps no
 *   list and its entries no node);
 *   live_blocks / live_bytes count exactly the LIVE entries;
 *   the address index marks exactly the granules of the indexed entries' extents
 *   [addr, addr + max(size, 1)), which do not overlap; only LIVE entries are
 *   indexed. */
typedef enum hl_block_state {
    HL_BLOCK_FREED = 0, /* known id, not live (freed, exited, or never served) */
    HL_BLOCK_LIVE,      /* live: the backend holds it at addr */
    HL_BLOCK_RETIRED    /* live in the trace, but the backend failed to serve it here:
                           operations on it are skipped and counted */
} hl_block_state;

/* One id's entry: 40 bytes, the executor's whole per-block cost (with 4 bytes of the
 * id index); a block inside a scope also has a 16-byte list node. */
typedef struct hl_block {
    uint64_t id;
    hl_addr addr;        /* LIVE: the block; FREED: where it was last (for misuse) */
    uint64_t size;       /* LIVE: its size now; FREED: the last one */
    union {
        size_t usable;     /* LIVE: usable_size reported by the backend */
        uint64_t freed_at; /* FREED: the block map's free count just after its free */
    };
    uint32_t node;       /* LIVE/RETIRED inside a scope: its scope-list node; else 0 */
    uint8_t align_log2;  /* the layout's align is 1 << align_log2 (HL_BLOCK_ALIGN_ODD:
                            an align that is not a power of two, never served) */
    uint8_t caps;        /* HL_CAP_* */
    uint8_t state;       /* hl_block_state */
    uint8_t in_index;    /* on the address index */
} hl_block;

#define HL_BLOCK_ALIGN_ODD 0xffu

/* The block's layout (size and alignment). */
static inline hl_layout hl_block_layout(const hl_block *block)
{
    return (hl_layout){(size_t)block->size,
                       block->align_log2 == HL_BLOCK_ALIGN_ODD ? 0 : (size_t)1 << block->align_log2};
}
/* Sets the block's layout (an align that is not a power of two is kept as such). */
static inline void hl_block_set_layout(hl_block *block, hl_layout layout)
{
    block->size = layout.size;
    block->align_log2 = layout.align && !(layout.align & (layout.align - 1)) ? (uint8_t)__builtin_ctzll(layout.align)
                                                                             : (uint8_t)HL_BLOCK_ALIGN_ODD;
}

typedef struct hl_blockmap hl_blockmap;

hl_blockmap *hl_blockmap_new(void);
void hl_blockmap_free(hl_blockmap *map);
/* Empties the map (no ids, no scopes, nothing indexed) and keeps its tables for the
 * next stream: time in the entries it held, not in its capacity. The granule stays. */
void hl_blockmap_reset(hl_blockmap *map);
/* Makes room, and touches the memory, for `entries` ids up to max_id, so later calls
 * do not grow or fault in the tables (the id array only while max_id is small enough
 * for one). A hint: any id still works afterwards. */
void hl_blockmap_reserve(hl_blockmap *map, uint64_t entries, uint64_t max_id);
/* The entry of id, or NULL if the id was never seen. O(1). */
hl_block *hl_blockmap_find(hl_blockmap *map, uint64_t id);
/* A hint that id will be looked up soon: starts loading its slot (entry false) or,
 * once the slot is loaded, its entry (entry true). Changes nothing; any id is fine. */
void hl_blockmap_prefetch(hl_blockmap *map, uint64_t id, bool entry);
/* The entry of id, created FREED if new. Pointers stay valid until the next call
 * to hl_blockmap_get (the table may grow); keep ids, not pointers, across calls. */
hl_block *hl_blockmap_get(hl_blockmap *map, uint64_t id);
/* Makes a FREED entry LIVE (or RETIRED) in the innermost scope level. */
void hl_blockmap_make_live(hl_blockmap *map, hl_block *block, hl_block_state state);
/* Makes a LIVE or RETIRED entry FREED: off its scope list and the address index. A
 * LIVE one counts a free and records the count in freed_at. */
void hl_blockmap_make_freed(hl_blockmap *map, hl_block *block);
/* Makes a LIVE entry RETIRED (the backend has freed it; the trace still holds the id),
 * keeping its scope membership. */
void hl_blockmap_retire(hl_blockmap *map, hl_block *block);
/* Counts a free the backend made without a block leaving the live set (a realloc
 * that moved: its old block). */
void hl_blockmap_count_free(hl_blockmap *map);
/* Frees counted so far: a freed block was freed frees - freed_at frees ago. */
uint64_t hl_blockmap_frees(const hl_blockmap *map);
/* Sets a LIVE entry's size (realloc, promote), keeping the counters right. */
void hl_blockmap_resize(hl_blockmap *map, hl_block *block, size_t size);
/* Moves a LIVE or RETIRED entry to scope level `level` (promote). */
void hl_blockmap_move_level(hl_blockmap *map, hl_block *block, uint32_t level);
/* The address index: which bytes the indexed live blocks cover, at the precision of
 * a granule (1 byte by default; set it to the backend's minimum alignment, up to 16,
 * before indexing anything: exact for blocks that start on that alignment). */
void hl_blockmap_set_granule(hl_blockmap *map, size_t align);
/* Puts a LIVE entry with its addr on the address index, in O(size / granule). If
 * its extent overlaps an indexed block, it is NOT indexed: *overlap is set and *other
 * names that block (found by a scan: a divergence is rare). */
void hl_blockmap_index(hl_blockmap *map, hl_block *block, bool *overlap, uint64_t *other);
/* Takes an entry off the address index (before its address changes). */
void hl_blockmap_unindex(hl_blockmap *map, hl_block *block);
/* True if addr's granule is covered by an indexed block. O(1). */
bool hl_blockmap_covered(hl_blockmap *map, hl_addr addr);
/* True if an indexed block covers a granule of [start, end). O((end - start) / granule). */
bool hl_blockmap_any(hl_blockmap *map, hl_addr start, hl_addr end);
/* The indexed block whose extent contains addr, or NULL. O(entries): for tests and
 * diagnostics. */
hl_block *hl_blockmap_at(hl_blockmap *map, hl_addr addr);

/* Scopes: level 0 is outside every scope; opening a scope pushes level depth+1. */
uint32_t hl_blockmap_depth(const hl_blockmap *map);
/* Opens a level for the trace's scope id with the backend's handle. */
void hl_blockmap_push_scope(hl_blockmap *map, uint32_t scope_id, hl_scope handle);
/* The level of the open scope with that trace id, or 0 if it is not open. */
uint32_t hl_blockmap_scope_level(const hl_blockmap *map, uint32_t scope_id);
hl_scope hl_blockmap_scope_handle(const hl_blockmap *map, uint32_t level);
/* Calls visit for every LIVE or RETIRED entry at levels >= level (any order). */
void hl_blockmap_visit_from(hl_blockmap *map, uint32_t level,
                            void (*visit)(void *context, hl_block *block), void *context);
/* Calls visit for every LIVE entry in block id order (teardown's fixed order); visit
 * may make the entry FREED. Time and memory: when every id is below 2^26 and the id
 * array is at most 8 times the entries in use, the id array is walked (no memory);
 * otherwise the entries in use are sorted (4 bytes each). */
void hl_blockmap_visit_live_by_id(hl_blockmap *map, void (*visit)(void *context, hl_block *block), void *context);
/* Closes levels >= level: their entries become FREED. */
void hl_blockmap_close_from(hl_blockmap *map, uint32_t level);
/* The scope level a LIVE or RETIRED entry belongs to (0: outside every scope). */
uint32_t hl_blockmap_level_of(const hl_blockmap *map, const hl_block *block);
/* The level of a LIVE/RETIRED entry's scope, as a trace scope id (0 at level 0). */
uint32_t hl_blockmap_scope_id(const hl_blockmap *map, uint32_t level);

uint64_t hl_blockmap_live_blocks(const hl_blockmap *map);
uint64_t hl_blockmap_live_bytes(const hl_blockmap *map);
/* The usable sizes of the blocks on the address index (the live blocks, less any
 * that overlapped another), summed: internal fragmentation's numerator. */
uint64_t hl_blockmap_indexed_usable(const hl_blockmap *map);
/* Verifies the invariants above; returns false with a reason in message. */
bool hl_blockmap_check(hl_blockmap *map, char *message, size_t capacity);


#endif /* HL_BLOCKMAP_H */
