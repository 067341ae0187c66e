/* blockmap.c: the id -> block map, the scope levels and the address index.
 *
 * Entries live in one array (index 0 is "none"), found through an open-addressing
 * hash on the id; entries are never deleted, so indexes are stable and a freed id
 * keeps its last address and layout for the misuse operations.
 * Scope levels are doubly linked lists through the entries (prev/next); the address
 * index is a treap through the entries (left/right/priority), keyed by address.
 * Invariants: see hl_harness.h, "block map"; checked by hl_blockmap_check. */
#include "hl_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct scope_level {
    uint32_t scope_id;
    hl_scope handle;
    uint32_t head; /* first entry of the level's list, 0 if empty */
} scope_level;

struct hl_blockmap {
    hl_block *entries; /* [0] unused */
    uint32_t count, capacity;
    uint32_t *table; /* hash slots: entry index, 0 = empty */
    uint32_t table_mask;
    scope_level *levels; /* [0] is the level outside every scope */
    uint32_t depth, level_capacity;
    uint32_t root; /* address index root */
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
    return map;
}

void hl_blockmap_free(hl_blockmap *map)
{
    if (!map) return;
    hl_mem_free(map->entries);
    hl_mem_free(map->table);
    hl_mem_free(map->levels);
    hl_mem_free(map);
}

static uint32_t slot_of(const hl_blockmap *map, uint64_t id)
{
    uint32_t slot = (uint32_t)mix64(id) & map->table_mask;
    while (map->table[slot] && map->entries[map->table[slot]].id != id)
        slot = (slot + 1) & map->table_mask;
    return slot;
}

hl_block *hl_blockmap_find(hl_blockmap *map, uint64_t id)
{
    uint32_t index = map->table[slot_of(map, id)];
    return index ? &map->entries[index] : NULL;
}

static void rehash(hl_blockmap *map)
{
    hl_mem_free(map->table);
    map->table_mask = map->table_mask * 2 + 1;
    map->table = hl_mem_alloc((size_t)(map->table_mask + 1) * sizeof *map->table);
    for (uint32_t i = 1; i < map->count; i++) map->table[slot_of(map, map->entries[i].id)] = i;
}

hl_block *hl_blockmap_get(hl_blockmap *map, uint64_t id)
{
    uint32_t slot = slot_of(map, id);
    if (map->table[slot]) return &map->entries[map->table[slot]];
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
    block->priority = (uint32_t)mix64(index ^ 0x9e3779b97f4a7c15ULL);
    map->table[slot] = index;
    if ((uint64_t)map->count * 2 > map->table_mask) rehash(map);
    return &map->entries[index];
}

static uint32_t index_of(const hl_blockmap *map, const hl_block *block)
{
    return (uint32_t)(block - map->entries);
}

/* ---------------------------------------------------------------- scope lists */

static void link_level(hl_blockmap *map, hl_block *block, uint32_t level)
{
    uint32_t index = index_of(map, block);
    block->level = level;
    block->prev = 0;
    block->next = map->levels[level].head;
    if (block->next) map->entries[block->next].prev = index;
    map->levels[level].head = index;
}

static void unlink_level(hl_blockmap *map, hl_block *block)
{
    if (block->prev) map->entries[block->prev].next = block->next;
    else map->levels[block->level].head = block->next;
    if (block->next) map->entries[block->next].prev = block->prev;
    block->prev = block->next = 0;
}

void hl_blockmap_make_live(hl_blockmap *map, hl_block *block, hl_block_state state)
{
    block->state = (uint8_t)state;
    link_level(map, block, map->depth);
    if (state == HL_BLOCK_LIVE) {
        map->live_blocks++;
        map->live_bytes += block->layout.size;
    }
}

void hl_blockmap_make_freed(hl_blockmap *map, hl_block *block)
{
    if (block->state == HL_BLOCK_FREED) return;
    if (block->in_index) hl_blockmap_unindex(map, block);
    unlink_level(map, block);
    if (block->state == HL_BLOCK_LIVE) {
        map->live_blocks--;
        map->live_bytes -= block->layout.size;
    }
    block->state = HL_BLOCK_FREED;
}

void hl_blockmap_resize(hl_blockmap *map, hl_block *block, size_t size)
{
    if (block->state == HL_BLOCK_LIVE) map->live_bytes = map->live_bytes - block->layout.size + size;
    block->layout.size = size;
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
    level->scope_id = scope_id;
    level->handle = handle;
    level->head = 0;
}

uint32_t hl_blockmap_scope_level(const hl_blockmap *map, uint32_t scope_id)
{
    for (uint32_t level = map->depth; level > 0; level--)
        if (map->levels[level].scope_id == scope_id) return level;
    return 0;
}

hl_scope hl_blockmap_scope_handle(const hl_blockmap *map, uint32_t level)
{
    return map->levels[level].handle;
}

uint32_t hl_blockmap_scope_id(const hl_blockmap *map, uint32_t level)
{
    return level ? map->levels[level].scope_id : 0;
}

void hl_blockmap_visit_from(hl_blockmap *map, uint32_t level,
                            void (*visit)(void *context, hl_block *block), void *context)
{
    for (uint32_t l = level; l <= map->depth; l++)
        for (uint32_t i = map->levels[l].head; i; i = map->entries[i].next)
            visit(context, &map->entries[i]);
}

void hl_blockmap_close_from(hl_blockmap *map, uint32_t level)
{
    for (uint32_t l = map->depth; l >= level; l--) {
        while (map->levels[l].head) hl_blockmap_make_freed(map, &map->entries[map->levels[l].head]);
        if (l == 0) break;
    }
    map->depth = level ? level - 1 : 0;
}

uint64_t hl_blockmap_live_blocks(const hl_blockmap *map) { return map->live_blocks; }
uint64_t hl_blockmap_live_bytes(const hl_blockmap *map) { return map->live_bytes; }

/* ---------------------------------------------------------------- address index */

static hl_addr extent_end(const hl_block *b) { return b->addr + (b->layout.size ? b->layout.size : 1); }

/* Inserts entry `index` under *root (a treap ordered by addr, max-heap on priority). */
static void treap_insert(hl_blockmap *map, uint32_t *root, uint32_t index)
{
    if (!*root) {
        *root = index;
        return;
    }
    hl_block *node = &map->entries[*root], *block = &map->entries[index];
    if (block->addr < node->addr) {
        treap_insert(map, &node->left, index);
        if (map->entries[node->left].priority > node->priority) { /* rotate right */
            uint32_t left = node->left;
            node->left = map->entries[left].right;
            map->entries[left].right = *root;
            *root = left;
        }
    } else {
        treap_insert(map, &node->right, index);
        if (map->entries[node->right].priority > node->priority) { /* rotate left */
            uint32_t right = node->right;
            node->right = map->entries[right].left;
            map->entries[right].left = *root;
            *root = right;
        }
    }
}

static void treap_remove(hl_blockmap *map, uint32_t *root, uint32_t index)
{
    while (*root != index) {
        hl_block *node = &map->entries[*root];
        root = map->entries[index].addr < node->addr ? &node->left : &node->right;
        if (!*root) return;
    }
    /* rotate the node down until it has at most one child, then splice it out */
    for (;;) {
        hl_block *node = &map->entries[index];
        if (!node->left || !node->right) {
            *root = node->left ? node->left : node->right;
            node->left = node->right = 0;
            return;
        }
        if (map->entries[node->left].priority > map->entries[node->right].priority) {
            uint32_t left = node->left;
            node->left = map->entries[left].right;
            map->entries[left].right = index;
            *root = left;
            root = &map->entries[left].right;
        } else {
            uint32_t right = node->right;
            node->right = map->entries[right].left;
            map->entries[right].left = index;
            *root = right;
            root = &map->entries[right].left;
        }
    }
}

/* The indexed block with the largest addr <= addr, or 0. */
static uint32_t floor_of(const hl_blockmap *map, hl_addr addr)
{
    uint32_t best = 0;
    for (uint32_t i = map->root; i;) {
        const hl_block *node = &map->entries[i];
        if (node->addr <= addr) {
            best = i;
            i = node->right;
        } else {
            i = node->left;
        }
    }
    return best;
}

/* The indexed block with the smallest addr > addr, or 0. */
static uint32_t above(const hl_blockmap *map, hl_addr addr)
{
    uint32_t best = 0;
    for (uint32_t i = map->root; i;) {
        const hl_block *node = &map->entries[i];
        if (node->addr > addr) {
            best = i;
            i = node->left;
        } else {
            i = node->right;
        }
    }
    return best;
}

void hl_blockmap_index(hl_blockmap *map, hl_block *block, bool *overlap, uint64_t *other)
{
    *overlap = false;
    uint32_t before = floor_of(map, block->addr);
    if (before && extent_end(&map->entries[before]) > block->addr) {
        *overlap = true;
        *other = map->entries[before].id;
        return;
    }
    uint32_t after = above(map, block->addr);
    if (after && map->entries[after].addr < extent_end(block)) {
        *overlap = true;
        *other = map->entries[after].id;
        return;
    }
    block->left = block->right = 0;
    treap_insert(map, &map->root, index_of(map, block));
    block->in_index = 1;
}

void hl_blockmap_unindex(hl_blockmap *map, hl_block *block)
{
    if (!block->in_index) return;
    treap_remove(map, &map->root, index_of(map, block));
    block->in_index = 0;
}

hl_block *hl_blockmap_at(hl_blockmap *map, hl_addr addr)
{
    uint32_t i = floor_of(map, addr);
    if (i && addr < extent_end(&map->entries[i])) return &map->entries[i];
    return NULL;
}

/* ---------------------------------------------------------------- check */

typedef struct check_walk {
    const hl_blockmap *map;
    uint64_t count;
    hl_addr last_end;
    bool ordered, heap_ok;
} check_walk;

static void walk_index(check_walk *walk, uint32_t i, uint32_t parent_priority)
{
    if (!i) return;
    const hl_block *node = &walk->map->entries[i];
    if (node->priority > parent_priority) walk->heap_ok = false;
    walk_index(walk, node->left, node->priority);
    if (walk->count && node->addr < walk->last_end) walk->ordered = false;
    if (node->state != HL_BLOCK_LIVE || !node->in_index) walk->ordered = false;
    walk->last_end = extent_end(node);
    walk->count++;
    walk_index(walk, node->right, node->priority);
}

bool hl_blockmap_check(hl_blockmap *map, char *message, size_t capacity)
{
    uint64_t on_lists = 0, live = 0, bytes = 0, indexed = 0;
    for (uint32_t l = 0; l <= map->depth; l++) {
        uint32_t prev = 0;
        for (uint32_t i = map->levels[l].head; i; prev = i, i = map->entries[i].next) {
            const hl_block *b = &map->entries[i];
            if (b->prev != prev || b->level != l || b->state == HL_BLOCK_FREED) {
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
        if (b->state == HL_BLOCK_LIVE) live++, bytes += b->layout.size;
        if (b->in_index) indexed++;
        if (b->state != HL_BLOCK_FREED && b->level > map->depth) {
            snprintf(message, capacity, "block id %llu is at closed level %u",
                     (unsigned long long)b->id, b->level);
            return false;
        }
    }
    uint64_t not_freed = 0;
    for (uint32_t i = 1; i < map->count; i++) not_freed += map->entries[i].state != HL_BLOCK_FREED;
    if (not_freed != on_lists) {
        snprintf(message, capacity, "%llu live or retired blocks but %llu on scope lists",
                 (unsigned long long)not_freed, (unsigned long long)on_lists);
        return false;
    }
    if (live != map->live_blocks || bytes != map->live_bytes) {
        snprintf(message, capacity, "counters say %llu blocks / %llu bytes, entries %llu / %llu",
                 (unsigned long long)map->live_blocks, (unsigned long long)map->live_bytes,
                 (unsigned long long)live, (unsigned long long)bytes);
        return false;
    }
    check_walk walk = {map, 0, 0, true, true};
    walk_index(&walk, map->root, UINT32_MAX);
    if (!walk.ordered || !walk.heap_ok || walk.count != indexed) {
        snprintf(message, capacity, "address index is broken (ordered %d, heap %d, %llu of %llu)",
                 walk.ordered, walk.heap_ok, (unsigned long long)walk.count,
                 (unsigned long long)indexed);
        return false;
    }
    return true;
}
