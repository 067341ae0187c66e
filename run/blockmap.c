/* blockmap.c: the id -> block map, the scope levels and the address index.
 *
 * Entries live in one array (index 0 is "none"), found through an open-addressing
 * hash on the id; entries are never deleted, so indexes are stable and a freed id
 * keeps its last address and layout for the misuse operations.
 * Scope levels are doubly linked lists of nodes, one node for each block inside a
 * scope (level 0, where almost every block lives, keeps no list, so its entries
 * carry no links); which bytes the indexed live blocks cover is a granule bitmap
 * (occupancy.c).
 * Invariants: see hl_blockmap.h; checked by hl_blockmap_check. */
#include "hl_run.h"
#include "occupancy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCKMAP_DENSE_LIMIT (1ull << 26) /* ids below it index an array (4 bytes each) */

struct slot {
    uint64_t id;
    uint32_t index;
};

typedef struct scope_level {
    hl_scope handle;
    uint32_t head; /* first node of the level's list, 0 if empty */
} scope_level;

/* A block inside a scope: its level and its place on the level's list. */
typedef struct scope_node {
    uint32_t entry;      /* the block's entry index (0: a spare node) */
    uint32_t level;      /* >= 1 */
    uint32_t prev, next; /* nodes on the same level (0 = none); next: spare list too */
} scope_node;

struct hl_blockmap {
    hl_block *entries; /* [0] unused */
    uint32_t count, capacity;
    uint32_t *dense; /* dense[id]: entry index of a small id (0 = none) */
    uint64_t dense_capacity;
    uint64_t hashed; /* entries found through the table */
    struct slot *table; /* hash slots: the id and its entry index (0 = empty), so a
                           probe never leaves the table until it hits */
    uint32_t table_mask;
    scope_level *levels; /* [0] is the level outside every scope */
    scope_node *nodes;   /* [0] unused */
    uint32_t node_count, node_capacity, spare; /* spare: unused nodes, through next */
    hl_scopes scopes;    /* the open scopes' trace ids, by level */
    uint32_t depth, level_capacity;
    occupancy occ;
    uint64_t indexed;
    uint64_t indexed_usable; /* sum of the indexed blocks' usable sizes */
    uint64_t frees; /* served blocks that left the live set (free, realloc moves, exits) */
    uint64_t live_blocks, live_bytes;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

hl_blockmap *hl_blockmap_new(void)
{
    hl_blockmap *map = hl_mem_alloc(sizeof *map);
    map->capacity = 1024;
    map->entries = hl_mem_alloc(map->capacity * sizeof *map->entries);
    map->count = 1;
    map->table_mask = 2048 - 1;
    map->table = hl_mem_alloc((size_t)(map->table_mask + 1) * sizeof *map->table);
    map->level_capacity = 16;
    map->levels = hl_mem_alloc(map->level_capacity * sizeof *map->levels);
    map->node_count = 1; /* node 0 is "none" */
    occ_init(&map->occ, 0);
    return map;
}

void hl_blockmap_free(hl_blockmap *map)
{
    if (!map) return;
    hl_mem_free(map->entries);
    hl_mem_free(map->table);
    hl_mem_free(map->dense);
    hl_mem_free(map->levels);
    hl_mem_free(map->nodes);
    hl_scopes_free(&map->scopes);
    occ_free(&map->occ);
    hl_mem_free(map);
}

void hl_blockmap_reset(hl_blockmap *map)
{
    for (uint32_t i = 1; i < map->count; i++) /* the dense slots in use, not the whole array */
        if (map->entries[i].id < map->dense_capacity) map->dense[map->entries[i].id] = 0;
    if (map->hashed) memset(map->table, 0, (size_t)(map->table_mask + 1) * sizeof *map->table);
    memset(map->levels, 0, map->level_capacity * sizeof *map->levels);
    hl_scopes_close_from(&map->scopes, 0);
    occ_clear(&map->occ);
    map->count = 1;
    map->hashed = 0;
    map->node_count = 1;
    map->spare = 0;
    map->depth = 0;
    map->indexed = map->indexed_usable = map->frees = map->live_blocks = map->live_bytes = 0;
}

static uint32_t slot_of(const hl_blockmap *map, uint64_t id)
{
    uint32_t slot = (uint32_t)mix64(id) & map->table_mask;
    while (map->table[slot].index && map->table[slot].id != id) slot = (slot + 1) & map->table_mask;
    return slot;
}

/* Small ids (most traces number their blocks 1, 2, 3...) are found through a direct
 * array instead of the hash: one access, and ids allocated close together stay close
 * together in memory, which a hash scatters. Larger ids (recorded addresses) hash. */
static uint32_t *dense_slot(hl_blockmap *map, uint64_t id, bool grow)
{
    if (id >= BLOCKMAP_DENSE_LIMIT) return NULL;
    if (id >= map->dense_capacity) {
        if (!grow) return NULL;
        uint64_t capacity = map->dense_capacity ? map->dense_capacity : 4096;
        while (capacity <= id) capacity *= 2;
        map->dense = hl_mem_realloc(map->dense, capacity * sizeof *map->dense); /* new slots are zero */
        map->dense_capacity = capacity;
    }
    return &map->dense[id];
}

hl_block *hl_blockmap_find(hl_blockmap *map, uint64_t id)
{
    uint32_t *dense = dense_slot(map, id, false);
    uint32_t index = dense ? *dense : id < BLOCKMAP_DENSE_LIMIT ? 0 : map->table[slot_of(map, id)].index;
    return index ? &map->entries[index] : NULL;
}

/* Writes a zero into every page of [p, p + bytes) (already zero): faults it in now. */
static void touch(void *p, size_t bytes)
{
    volatile unsigned char *b = p;
    for (size_t at = 0; at < bytes; at += 4096) b[at] = 0;
}

void hl_blockmap_reserve(hl_blockmap *map, uint64_t entries, uint64_t max_id)
{
    if (entries + 1 > map->capacity && entries < UINT32_MAX / 2) {
        uint32_t old = map->capacity;
        map->capacity = (uint32_t)entries + 1; /* exactly: every entry reserved is touched */
        map->entries = hl_mem_realloc(map->entries, map->capacity * sizeof *map->entries);
        touch(map->entries + old, (map->capacity - old) * sizeof *map->entries);
    }
    if (max_id < BLOCKMAP_DENSE_LIMIT && max_id >= map->dense_capacity) {
        uint64_t old = map->dense_capacity;
        dense_slot(map, max_id, true);
        touch(map->dense + old, (map->dense_capacity - old) * sizeof *map->dense);
    }
}

void hl_blockmap_prefetch(hl_blockmap *map, uint64_t id, bool entry)
{
    if (id >= BLOCKMAP_DENSE_LIMIT) {
        const struct slot *slot = &map->table[(uint32_t)mix64(id) & map->table_mask];
        if (!entry) __builtin_prefetch(slot);
        else if (slot->id == id && slot->index) __builtin_prefetch(&map->entries[slot->index], 1);
        return;
    }
    if (id >= map->dense_capacity) return;
    if (!entry) __builtin_prefetch(&map->dense[id]);
    else if (map->dense[id]) __builtin_prefetch(&map->entries[map->dense[id]], 1);
}

static void rehash(hl_blockmap *map)
{
    hl_mem_free(map->table);
    map->table_mask = map->table_mask * 2 + 1;
    map->table = hl_mem_alloc((size_t)(map->table_mask + 1) * sizeof *map->table);
    for (uint32_t i = 1; i < map->count; i++)
        if (map->entries[i].id >= BLOCKMAP_DENSE_LIMIT)
            map->table[slot_of(map, map->entries[i].id)] = (struct slot){map->entries[i].id, i};
}

hl_block *hl_blockmap_get(hl_blockmap *map, uint64_t id)
{
    uint32_t *dense = dense_slot(map, id, true);
    uint32_t slot = 0;
    if (dense) {
        if (*dense) return &map->entries[*dense];
    } else {
        slot = slot_of(map, id);
        if (map->table[slot].index) return &map->entries[map->table[slot].index];
    }
    if (map->count == map->capacity) {
        if (map->capacity > UINT32_MAX / 2) {
            fprintf(stderr, "heaplab: more than 2^31 distinct block ids\n");
            _Exit(2);
        }
        map->capacity *= 2;
        map->entries = hl_mem_realloc(map->entries, map->capacity * sizeof *map->entries);
    }
    uint32_t index = map->count++;
    hl_block *block = &map->entries[index];
    memset(block, 0, sizeof *block);
    block->id = id;
    if (dense) {
        *dense = index;
    } else {
        map->table[slot] = (struct slot){id, index};
        if (++map->hashed * 2 > map->table_mask) rehash(map);
    }
    return &map->entries[index];
}

static uint32_t index_of(const hl_blockmap *map, const hl_block *block)
{
    return (uint32_t)(block - map->entries);
}

/* ---------------------------------------------------------------- scope lists */

/* Level 0 (outside every scope) keeps no list: it is where almost every block lives,
 * and linking it would cost two cache misses per free; the rare walks of level 0
 * (free_all, the final sweep) scan the entries instead. */
static void link_level(hl_blockmap *map, hl_block *block, uint32_t level)
{
    if (level == 0) {
        block->node = 0;
        return;
    }
    uint32_t n = map->spare;
    if (n) {
        map->spare = map->nodes[n].next;
    } else {
        if (map->node_count >= map->node_capacity) {
            map->node_capacity = map->node_capacity ? 2 * map->node_capacity : 64;
            map->nodes = hl_mem_realloc(map->nodes, map->node_capacity * sizeof *map->nodes);
        }
        n = map->node_count++;
    }
    scope_node *node = &map->nodes[n];
    *node = (scope_node){index_of(map, block), level, 0, map->levels[level].head};
    if (node->next) map->nodes[node->next].prev = n;
    map->levels[level].head = n;
    block->node = n;
}

static void unlink_level(hl_blockmap *map, hl_block *block)
{
    uint32_t n = block->node;
    if (!n) return;
    scope_node *node = &map->nodes[n];
    if (node->prev) map->nodes[node->prev].next = node->next;
    else map->levels[node->level].head = node->next;
    if (node->next) map->nodes[node->next].prev = node->prev;
    *node = (scope_node){0, 0, 0, map->spare};
    map->spare = n;
    block->node = 0;
}

uint32_t hl_blockmap_level_of(const hl_blockmap *map, const hl_block *block)
{
    return block->node ? map->nodes[block->node].level : 0;
}

void hl_blockmap_make_live(hl_blockmap *map, hl_block *block, hl_block_state state)
{
    block->state = (uint8_t)state;
    link_level(map, block, map->depth);
    if (state == HL_BLOCK_LIVE) {
        map->live_blocks++;
        map->live_bytes += block->size;
    }
}

/* A block leaves the live set; freed_at is the free count it gets (a served block
 * counts one free). */
static void free_one(hl_blockmap *map, hl_block *block, uint64_t freed_at)
{
    if (block->state == HL_BLOCK_FREED) return;
    if (block->in_index) hl_blockmap_unindex(map, block);
    unlink_level(map, block);
    if (block->state == HL_BLOCK_LIVE) {
        map->live_blocks--;
        map->live_bytes -= block->size;
        map->frees++;
        block->freed_at = freed_at ? freed_at : map->frees;
    }
    block->state = HL_BLOCK_FREED;
}

void hl_blockmap_make_freed(hl_blockmap *map, hl_block *block) { free_one(map, block, 0); }

void hl_blockmap_retire(hl_blockmap *map, hl_block *block)
{
    if (block->state != HL_BLOCK_LIVE) return;
    if (block->in_index) hl_blockmap_unindex(map, block);
    map->live_blocks--;
    map->live_bytes -= block->size;
    map->frees++;
    block->state = HL_BLOCK_RETIRED; /* stays on its scope's list */
}

void hl_blockmap_count_free(hl_blockmap *map) { map->frees++; }
uint64_t hl_blockmap_frees(const hl_blockmap *map) { return map->frees; }

void hl_blockmap_resize(hl_blockmap *map, hl_block *block, size_t size)
{
    if (block->state == HL_BLOCK_LIVE) map->live_bytes = map->live_bytes - block->size + size;
    block->size = size;
}

void hl_blockmap_move_level(hl_blockmap *map, hl_block *block, uint32_t level)
{
    unlink_level(map, block);
    link_level(map, block, level);
}

uint32_t hl_blockmap_depth(const hl_blockmap *map) { return map->depth; }

void hl_blockmap_push_scope(hl_blockmap *map, uint32_t scope_id, hl_scope handle)
{
    if (map->depth + 1 >= map->level_capacity) {
        map->level_capacity *= 2;
        map->levels = hl_mem_realloc(map->levels, map->level_capacity * sizeof *map->levels);
    }
    scope_level *level = &map->levels[++map->depth];
    hl_scopes_push(&map->scopes, scope_id);
    level->handle = handle;
    level->head = 0;
}

uint32_t hl_blockmap_scope_level(const hl_blockmap *map, uint32_t scope_id)
{
    return hl_scopes_level(&map->scopes, scope_id);
}

hl_scope hl_blockmap_scope_handle(const hl_blockmap *map, uint32_t level)
{
    return map->levels[level].handle;
}

uint32_t hl_blockmap_scope_id(const hl_blockmap *map, uint32_t level)
{
    return level ? map->scopes.id[level] : 0;
}

void hl_blockmap_visit_from(hl_blockmap *map, uint32_t level,
                            void (*visit)(void *context, hl_block *block), void *context)
{
    if (level == 0) {
        for (uint32_t i = 1; i < map->count; i++)
            if (map->entries[i].state != HL_BLOCK_FREED && map->entries[i].node == 0) visit(context, &map->entries[i]);
        level = 1;
    }
    for (uint32_t l = level; l <= map->depth; l++)
        for (uint32_t n = map->levels[l].head; n; n = map->nodes[n].next)
            visit(context, &map->entries[map->nodes[n].entry]);
}

static int by_id(const void *a, const void *b, void *entries)
{
    uint64_t x = ((const hl_block *)entries)[*(const uint32_t *)a].id;
    uint64_t y = ((const hl_block *)entries)[*(const uint32_t *)b].id;
    return x < y ? -1 : x > y;
}

void hl_blockmap_visit_live_by_id(hl_blockmap *map, void (*visit)(void *context, hl_block *block), void *context)
{
    /* Small ids only, and the id array not much longer than the entries in use: walk
     * the id array (in order, no memory). */
    if (!map->hashed && map->dense_capacity / 8 <= map->count) {
        for (uint64_t id = 0; id < map->dense_capacity; id++)
            if (map->dense[id] && map->entries[map->dense[id]].state == HL_BLOCK_LIVE)
                visit(context, &map->entries[map->dense[id]]);
        return;
    }
    /* Otherwise the entries in use, sorted: the id array's capacity is the largest
     * run's, and a map reused run after run (fuzzing) would walk all of it each time. */
    if (map->count <= 1) return;
    uint32_t *live = hl_mem_alloc((map->count - 1) * sizeof *live);
    size_t n = 0;
    for (uint32_t i = 1; i < map->count; i++)
        if (map->entries[i].state == HL_BLOCK_LIVE) live[n++] = i;
    qsort_r(live, n, sizeof *live, by_id, map->entries);
    for (size_t i = 0; i < n; i++) visit(context, &map->entries[live[i]]);
    hl_mem_free(live);
}

void hl_blockmap_close_from(hl_blockmap *map, uint32_t level)
{
    /* The backend frees these in an order of its own: each gets the oldest count of
     * the batch, so "freed at most Q frees ago" never overstates how recent it is. */
    uint64_t oldest = map->frees + 1;
    for (uint32_t l = map->depth; l >= level && l > 0; l--)
        while (map->levels[l].head) free_one(map, &map->entries[map->nodes[map->levels[l].head].entry], oldest);
    if (level == 0)
        for (uint32_t i = 1; i < map->count; i++) free_one(map, &map->entries[i], oldest);
    map->depth = level ? level - 1 : 0;
    hl_scopes_close_from(&map->scopes, level);
}

uint64_t hl_blockmap_live_blocks(const hl_blockmap *map) { return map->live_blocks; }
uint64_t hl_blockmap_live_bytes(const hl_blockmap *map) { return map->live_bytes; }
uint64_t hl_blockmap_indexed_usable(const hl_blockmap *map) { return map->indexed_usable; }

/* ---------------------------------------------------------------- address index */

/* [addr, end) of a block; end 0 when it reaches the top of the address space. */
static hl_addr extent_end(const hl_block *b)
{
    hl_addr end = b->addr + (b->size ? b->size : 1);
    return end < b->addr ? 0 : end;
}

static bool extents_meet(const hl_block *b, hl_addr start, hl_addr end)
{
    hl_addr b_end = extent_end(b);
    return (b_end == 0 || b_end > start) && (end == 0 || b->addr < end);
}

void hl_blockmap_set_granule(hl_blockmap *map, size_t align)
{
    unsigned log = 0;
    while (log < 4 && ((size_t)2 << log) <= align) log++;
    if (map->indexed == 0 && log != map->occ.granule_log2) {
        occ_free(&map->occ);
        occ_init(&map->occ, log);
    }
}

void hl_blockmap_index(hl_blockmap *map, hl_block *block, bool *overlap, uint64_t *other)
{
    hl_addr end = extent_end(block);
    *overlap = occ_any(&map->occ, block->addr, end);
    if (*overlap) { /* rare (a finding): name the block by a scan */
        *other = 0;
        for (uint32_t i = 1; i < map->count; i++) {
            const hl_block *b = &map->entries[i];
            if (b->in_index && extents_meet(b, block->addr, end)) {
                *other = b->id;
                break;
            }
        }
        return;
    }
    occ_mark(&map->occ, block->addr, end, true);
    block->in_index = 1;
    map->indexed++;
    map->indexed_usable += block->usable;
}

void hl_blockmap_unindex(hl_blockmap *map, hl_block *block)
{
    if (!block->in_index) return;
    occ_mark(&map->occ, block->addr, extent_end(block), false);
    block->in_index = 0;
    map->indexed--;
    map->indexed_usable -= block->usable;
}

bool hl_blockmap_covered(hl_blockmap *map, hl_addr addr) { return occ_any(&map->occ, addr, addr + 1); }
bool hl_blockmap_any(hl_blockmap *map, hl_addr start, hl_addr end) { return start < end && occ_any(&map->occ, start, end); }

hl_block *hl_blockmap_at(hl_blockmap *map, hl_addr addr)
{
    if (!hl_blockmap_covered(map, addr)) return NULL;
    for (uint32_t i = 1; i < map->count; i++)
        if (map->entries[i].in_index && extents_meet(&map->entries[i], addr, addr + 1)) return &map->entries[i];
    return NULL;
}

/* ---------------------------------------------------------------- check */

bool hl_blockmap_check(hl_blockmap *map, char *message, size_t capacity)
{
    uint64_t on_lists = 0, live = 0, bytes = 0, indexed = 0, granules = 0, usable = 0;
    for (uint32_t l = 1; l <= map->depth; l++) {
        uint32_t prev = 0;
        for (uint32_t n = map->levels[l].head; n; prev = n, n = map->nodes[n].next) {
            const scope_node *node = &map->nodes[n];
            const hl_block *b = &map->entries[node->entry];
            if (node->prev != prev || node->level != l || b->node != n || b->state == HL_BLOCK_FREED) {
                snprintf(message, capacity, "block id %llu is badly linked at level %u",
                         (unsigned long long)b->id, l);
                return false;
            }
            if (++on_lists > map->count) {
                snprintf(message, capacity, "scope level %u's list has a cycle", l);
                return false;
            }
        }
    }
    for (uint32_t i = 1; i < map->count; i++) {
        const hl_block *b = &map->entries[i];
        if (b->state == HL_BLOCK_LIVE) live++, bytes += b->size;
        if (b->in_index) {
            indexed++;
            usable += b->usable;
            granules += occ_granules(&map->occ, b->addr, extent_end(b));
            if (!occ_all(&map->occ, b->addr, extent_end(b))) {
                snprintf(message, capacity, "block id %llu is indexed but its bytes are not all marked",
                         (unsigned long long)b->id);
                return false;
            }
        }
        if (b->state != HL_BLOCK_FREED && hl_blockmap_level_of(map, b) > map->depth) {
            snprintf(message, capacity, "block id %llu is at closed level %u",
                     (unsigned long long)b->id, hl_blockmap_level_of(map, b));
            return false;
        }
        if (b->state == HL_BLOCK_FREED && b->node) {
            snprintf(message, capacity, "block id %llu is freed but keeps a scope node", (unsigned long long)b->id);
            return false;
        }
    }
    uint64_t not_freed = 0;
    for (uint32_t i = 1; i < map->count; i++)
        not_freed += map->entries[i].state != HL_BLOCK_FREED && map->entries[i].node != 0;
    if (not_freed != on_lists) {
        snprintf(message, capacity, "%llu live or retired blocks in scopes but %llu on scope lists",
                 (unsigned long long)not_freed, (unsigned long long)on_lists);
        return false;
    }
    if (live != map->live_blocks || bytes != map->live_bytes) {
        snprintf(message, capacity, "counters say %llu blocks / %llu bytes, entries %llu / %llu",
                 (unsigned long long)map->live_blocks, (unsigned long long)map->live_bytes,
                 (unsigned long long)live, (unsigned long long)bytes);
        return false;
    }
    if (map->indexed_usable != usable) {
        snprintf(message, capacity, "the indexed blocks' usable sizes sum to %llu; the counter says %llu",
                 (unsigned long long)usable, (unsigned long long)map->indexed_usable);
        return false;
    }
    if (map->indexed != indexed || map->occ.set != granules) {
        snprintf(message, capacity, "%llu blocks marked indexed covering %llu granules; counted %llu and %llu",
                 (unsigned long long)indexed, (unsigned long long)granules, (unsigned long long)map->indexed,
                 (unsigned long long)map->occ.set);
        return false;
    }
    return true;
}
