/* scope_tracker.h: the shared scope tracker (internal to the allocators layer).
 *
 * For backends without native scopes, it gives CONTRACT.md's scope semantics: a block
 * belongs to the scope that was innermost at its first allocation; realloc and free
 * never change that; exiting a scope frees its blocks and those of every scope inside
 * it. It can also remember every block (track_root) and freed addresses
 * (remember_freed), which makes it a misuse detector: INVALID_POINTER, DOUBLE_FREE
 * and LAYOUT_MISMATCH.
 *
 * Its memory comes from the backend (a reference backend's memory source, so it
 * counts in the footprint; a foreign adapter's own mmap), through hl_tracker_memory.
 * Lookups by address are O(1) (an open-addressing hash whose slots are the records);
 * exit is O(blocks freed); only blocks allocated inside a scope get a list node.
 *
 * Invariants (checked by hl_tracker_check):
 *   a live record allocated inside a scope has a node on its level's list
 *   (1 <= level <= depth); level 0 keeps no list and no nodes;
 *   freed records have no node; live_blocks counts the live records, root_live
 *   those without a node. */
#ifndef HL_SCOPE_TRACKER_H
#define HL_SCOPE_TRACKER_H

#include "heaplab.h"

typedef struct hl_tracker_memory {
    void *context;
    /* bytes of host memory, or NULL */
    void *(*get)(void *context, size_t bytes);
    /* memory from get that the tracker no longer needs (may do nothing) */
    void (*put)(void *context, void *memory, size_t bytes);
    /* put really gives memory back: free_all may then borrow a list to free the root
       blocks in address order (the same order on every run) */
    bool put_returns;
} hl_tracker_memory;

/* One tracked address: a record in the hash table itself, so the lookup a free
 * makes is one probe sequence and (usually) one cache line. Records move when the
 * table rehashes or deletes; hold addresses, not record pointers, across changes. */
typedef struct hl_tracked {
    hl_addr addr;
    size_t size;
    uint32_t node;       /* its scope-list node if it was allocated inside a scope, else 0 */
    hl_caps caps;
    uint8_t align_log2;  /* the layout's align is 1 << align_log2 */
    uint8_t live;        /* 1 live, 0 freed and remembered */
    uint8_t used;        /* 0: an empty slot */
} hl_tracked;

/* A scope-list node: only blocks allocated inside a scope have one. */
typedef struct hl_tracker_node {
    hl_addr addr;     /* finds the record */
    uint32_t level;   /* >= 1 */
    uint32_t prev, next;
} hl_tracker_node;

typedef struct hl_tracker {
    hl_tracker_memory memory;
    bool track_root;     /* register blocks allocated outside every scope too */
    bool remember_freed; /* keep freed addresses (DOUBLE_FREE detection) */
    hl_tracked *table;   /* open addressing, linear probing, load <= 1/2 */
    uint32_t table_mask, table_used;
    hl_tracker_node *nodes; /* [0] unused */
    uint32_t node_count, node_capacity, spare; /* spare: a list of unused nodes via next */
    hl_scope *handles; /* handles[level], level 1..depth */
    uint32_t *heads;   /* heads[level]: first node of the level's list */
    uint32_t depth, level_capacity;
    hl_scope serial;
    uint64_t live_blocks;
    uint64_t root_live; /* live blocks at level 0 (which keeps no list) */
    hl_stats *stats;    /* if set, enter/exit/promote count their calls and failures here */
} hl_tracker;

/* A backend's raw free of a block the tracker releases (exit, free_all). */
typedef void (*hl_tracker_release)(void *context, hl_addr addr, hl_layout layout);

void hl_tracker_init(hl_tracker *tracker, hl_tracker_memory memory, bool track_root, bool remember_freed);
/* Returns all its memory (put) and forgets everything. */
void hl_tracker_release_memory(hl_tracker *tracker);
/* Forgets everything without returning memory (the backend reclaimed it wholesale). */
void hl_tracker_forget(hl_tracker *tracker);
/* After every block was released (hl_tracker_each_live): forgets the freed addresses
 * it remembers too, keeping its memory, so the next lookups and the next free_all's
 * walk cost what the instance served since, not everything it ever served. */
void hl_tracker_clear(hl_tracker *tracker);

/* True if a block allocated now must be registered (track_root or a scope open). */
static inline bool hl_tracker_wants(const hl_tracker *tracker) { return tracker->track_root || tracker->depth > 0; }
/* Registers a new block at the innermost level (or `level`). OUT_OF_MEMORY when the
 * tracker cannot grow; nothing changed then. */
hl_error hl_tracker_add(hl_tracker *tracker, hl_addr addr, hl_layout layout, hl_caps caps);
hl_error hl_tracker_add_at(hl_tracker *tracker, hl_addr addr, hl_layout layout, hl_caps caps, uint32_t level);
/* The record of addr (live or remembered freed), or NULL. Valid until the next change. */
hl_tracked *hl_tracker_find(const hl_tracker *tracker, hl_addr addr);
/* The scope level a record belongs to (0 outside every scope). */
uint32_t hl_tracker_level_of(const hl_tracker *tracker, const hl_tracked *record);
/* What a free of (addr, layout) is: OK, INVALID_POINTER (unknown or interior),
 * DOUBLE_FREE (remembered freed), LAYOUT_MISMATCH. Changes nothing. Meaningful only
 * with track_root (else unknown addresses are blocks of the root level). */
hl_error hl_tracker_classify_free(const hl_tracker *tracker, hl_addr addr, hl_layout layout);
/* Unregisters a live block (freed); no-op for an untracked address. */
void hl_tracker_remove(hl_tracker *tracker, hl_addr addr);
/* A free in one lookup: with classify, what hl_tracker_classify_free says, and only
 * an OK free unregisters the block; without, hl_tracker_remove and OK. */
hl_error hl_tracker_free(hl_tracker *tracker, hl_addr addr, hl_layout layout, bool classify);
/* A realloc moved or resized a block: same level and caps, new address and size. */
hl_error hl_tracker_moved(hl_tracker *tracker, hl_addr old_addr, hl_addr new_addr, size_t new_size);

/* Opens a scope. OUT_OF_MEMORY leaves none opened. */
hl_error hl_tracker_enter(hl_tracker *tracker, hl_scope *out);
/* The level of an open scope, or 0 if handle is not open. */
uint32_t hl_tracker_level(const hl_tracker *tracker, hl_scope handle);
/* Releases every block at levels >= level (through release) and closes them. */
void hl_tracker_close_from(hl_tracker *tracker, uint32_t level, hl_tracker_release release, void *context);
/* Calls release for every live block (free_all of a backend that frees one by one). */
void hl_tracker_each_live(hl_tracker *tracker, hl_tracker_release release, void *context);

/* The most records (live blocks outside every scope, and freed addresses it
 * remembers) a tracker can hold when it draws its tables from `bytes` of memory its
 * put never returns (a bump region): its table doubles from 64 slots and stays at
 * most half full, so every table it ever had is still spent. A backend that hosts its
 * tracker so declares this as its live-block capacity. */
uint64_t hl_tracker_capacity(size_t bytes);
/* Makes sure one more block can be registered without asking for memory (so a
 * realloc that already happened can always be recorded). OUT_OF_MEMORY otherwise. */
hl_error hl_tracker_reserve(hl_tracker *tracker);

/* What the generic exit and promote need from the backend. */
typedef struct hl_tracker_host {
    void *context;
    /* a raw, untracked block of layout with caps, or 0 (out of memory) */
    hl_addr (*alloc)(void *context, hl_layout layout, hl_caps caps);
    /* frees a block the tracker gives up (exit, promote); keeps the backend's stats */
    hl_tracker_release release;
    /* host bytes of [addr, addr + len) */
    void *(*view)(void *context, hl_addr addr, size_t len);
} hl_tracker_host;

/* exit_scope: INVALID_ARGUMENT (nothing changed) if handle is not open. */
hl_error hl_tracker_exit(hl_tracker *tracker, const hl_tracker_host *host, hl_scope handle);
/* promote (CONTRACT.md): the survivor is allocated and registered in handle's parent
 * before anything closes, so OUT_OF_MEMORY leaves every scope and block intact. */
hl_addr hl_tracker_promote(hl_tracker *tracker, const hl_tracker_host *host, hl_scope handle, hl_addr block,
                           hl_layout layout, size_t n, hl_error *error);

/* Verifies the invariants; CORRUPTED with a message on the first broken one. */
hl_error hl_tracker_check(const hl_tracker *tracker, char *message, size_t capacity);

#endif
