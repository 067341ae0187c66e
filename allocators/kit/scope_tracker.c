/* scope_tracker.c: see scope_tracker.h. The records live in a linear-probing table
 * with backward-shift deletion (no tombstones); blocks allocated inside a scope also
 * get a node in one array (index 0 = none), and each scope level is a doubly linked
 * list through those nodes. */
#include "scope_tracker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash(hl_addr addr)
{
    uint64_t x = (uint64_t)addr;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 32;
    return (uint32_t)x;
}

void hl_tracker_init(hl_tracker *t, hl_tracker_memory memory, bool track_root, bool remember_freed)
{
    memset(t, 0, sizeof *t);
    t->memory = memory;
    t->track_root = track_root;
    t->remember_freed = remember_freed;
}

void hl_tracker_release_memory(hl_tracker *t)
{
    if (t->nodes) t->memory.put(t->memory.context, t->nodes, t->node_capacity * sizeof *t->nodes);
    if (t->table) t->memory.put(t->memory.context, t->table, (t->table_mask + 1) * sizeof *t->table);
    if (t->handles) t->memory.put(t->memory.context, t->handles, t->level_capacity * sizeof *t->handles);
    if (t->heads) t->memory.put(t->memory.context, t->heads, t->level_capacity * sizeof *t->heads);
    hl_tracker_forget(t);
}

void hl_tracker_forget(hl_tracker *t)
{
    hl_tracker_memory memory = t->memory;
    bool root = t->track_root, remember = t->remember_freed;
    hl_scope serial = t->serial; /* handles are never reused while the instance lives */
    hl_stats *stats = t->stats;
    hl_tracker_init(t, memory, root, remember);
    t->serial = serial;
    t->stats = stats;
}

void hl_tracker_clear(hl_tracker *t)
{
    if (t->table) memset(t->table, 0, (size_t)(t->table_mask + 1) * sizeof *t->table);
    t->table_used = 0;
    t->node_count = 1, t->spare = 0;
    t->depth = 0;
    t->live_blocks = t->root_live = 0;
}

/* Grows an array to hold `want` elements of `size` bytes; false (unchanged) on failure. */
static bool grow(hl_tracker *t, void **array, uint32_t *capacity, uint32_t want, size_t size)
{
    if (want <= *capacity) return true;
    uint32_t fresh_capacity = *capacity ? *capacity : 8;
    while (fresh_capacity < want) {
        if (fresh_capacity > UINT32_MAX / 2) return false;
        fresh_capacity *= 2;
    }
    void *fresh = t->memory.get(t->memory.context, (size_t)fresh_capacity * size);
    if (!fresh) return false;
    memset(fresh, 0, (size_t)fresh_capacity * size);
    if (*array) {
        memcpy(fresh, *array, (size_t)*capacity * size);
        t->memory.put(t->memory.context, *array, (size_t)*capacity * size);
    }
    *array = fresh;
    *capacity = fresh_capacity;
    return true;
}

/* ---------------------------------------------------------------- the table */

/* addr's record, or the empty slot where it would go. The table must exist. */
static hl_tracked *slot_of(const hl_tracker *t, hl_addr addr)
{
    uint32_t slot = hash(addr) & t->table_mask;
    while (t->table[slot].used && t->table[slot].addr != addr) slot = (slot + 1) & t->table_mask;
    return &t->table[slot];
}

hl_tracked *hl_tracker_find(const hl_tracker *t, hl_addr addr)
{
    if (!t->table) return NULL;
    hl_tracked *record = slot_of(t, addr);
    return record->used ? record : NULL;
}

uint32_t hl_tracker_level_of(const hl_tracker *t, const hl_tracked *record)
{
    return record->node ? t->nodes[record->node].level : 0;
}

static bool rehash(hl_tracker *t, uint32_t slots)
{
    hl_tracked *fresh = t->memory.get(t->memory.context, (size_t)slots * sizeof *fresh);
    if (!fresh) return false;
    memset(fresh, 0, (size_t)slots * sizeof *fresh);
    hl_tracked *old = t->table;
    uint32_t old_slots = t->table ? t->table_mask + 1 : 0;
    t->table = fresh;
    t->table_mask = slots - 1;
    for (uint32_t i = 0; i < old_slots; i++)
        if (old[i].used) *slot_of(t, old[i].addr) = old[i];
    if (old) t->memory.put(t->memory.context, old, old_slots * sizeof *old);
    return true;
}

uint64_t hl_tracker_capacity(size_t bytes)
{
    uint64_t slots = 64, spent = 0, records = 0; /* table_room's growth, step by step */
    while (slots <= (uint64_t)UINT32_MAX + 1 && slots * sizeof(hl_tracked) <= bytes - spent) {
        spent += slots * sizeof(hl_tracked);
        records = slots / 2;
        slots *= 2;
    }
    return records;
}

/* Room for one more record without asking for memory later. */
static bool table_room(hl_tracker *t)
{
    if ((t->table_used + 1) * 2 <= (t->table ? t->table_mask + 1 : 0)) return true;
    return rehash(t, t->table ? (t->table_mask + 1) * 2 : 64);
}

/* Deletes a record, shifting later records of its cluster back (no tombstones). */
static void table_delete(hl_tracker *t, hl_tracked *record)
{
    uint32_t hole = (uint32_t)(record - t->table);
    memset(&t->table[hole], 0, sizeof *t->table);
    t->table_used--;
    for (uint32_t next = (hole + 1) & t->table_mask; t->table[next].used; next = (next + 1) & t->table_mask) {
        uint32_t home = hash(t->table[next].addr) & t->table_mask;
        /* move the record into the hole unless its home lies cyclically in (hole, next] */
        bool stays = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
        if (!stays) {
            t->table[hole] = t->table[next];
            memset(&t->table[next], 0, sizeof *t->table);
            hole = next;
        }
    }
}

/* ---------------------------------------------------------------- scope lists */

static uint32_t new_node(hl_tracker *t, hl_addr addr, uint32_t level)
{
    uint32_t index;
    if (t->spare) {
        index = t->spare;
        t->spare = t->nodes[index].next;
    } else {
        index = t->node_count++; /* room was reserved */
    }
    hl_tracker_node *n = &t->nodes[index];
    n->addr = addr;
    n->level = level;
    n->prev = 0;
    n->next = t->heads[level];
    if (n->next) t->nodes[n->next].prev = index;
    t->heads[level] = index;
    return index;
}

static void free_node(hl_tracker *t, uint32_t index)
{
    hl_tracker_node *n = &t->nodes[index];
    if (n->prev) t->nodes[n->prev].next = n->next;
    else t->heads[n->level] = n->next;
    if (n->next) t->nodes[n->next].prev = n->prev;
    memset(n, 0, sizeof *n);
    n->next = t->spare;
    t->spare = index;
}

/* Room for one more node (index 0 stays unused). */
static bool node_room(hl_tracker *t)
{
    if (t->spare) return true;
    uint32_t want = (t->node_count ? t->node_count : 1) + 1;
    if (!grow(t, (void **)&t->nodes, &t->node_capacity, want, sizeof *t->nodes)) return false;
    if (!t->node_count) t->node_count = 1;
    return true;
}

static bool ensure_levels(hl_tracker *t, uint32_t want)
{
    uint32_t capacity = t->level_capacity;
    if (want < capacity) return true;
    uint32_t c1 = capacity, c2 = capacity;
    if (!grow(t, (void **)&t->handles, &c1, want + 1, sizeof *t->handles)) return false;
    if (!grow(t, (void **)&t->heads, &c2, want + 1, sizeof *t->heads)) return false;
    t->level_capacity = c1 < c2 ? c1 : c2;
    return true;
}

/* ---------------------------------------------------------------- blocks */

/* A live record stops being live: off its list (or the root count); then either
 * remembered as freed or deleted. The record pointer is invalid afterwards. */
static void drop(hl_tracker *t, hl_tracked *record)
{
    if (!record->live) return;
    if (record->node) free_node(t, record->node);
    else t->root_live--;
    record->node = 0;
    record->live = 0;
    t->live_blocks--;
    if (!t->remember_freed) table_delete(t, record);
}

static uint8_t log2_of(size_t align)
{
    uint8_t log = 0;
    while (log < 63 && ((size_t)1 << log) < align) log++;
    return log;
}

hl_error hl_tracker_reserve(hl_tracker *t)
{
    if (!ensure_levels(t, t->depth)) return HL_E_OUT_OF_MEMORY;
    if (!table_room(t)) return HL_E_OUT_OF_MEMORY;
    if (t->depth > 0 && !node_room(t)) return HL_E_OUT_OF_MEMORY;
    return HL_E_OK;
}

hl_error hl_tracker_add_at(hl_tracker *t, hl_addr addr, hl_layout layout, hl_caps caps, uint32_t level)
{
    if (!ensure_levels(t, t->depth) || !table_room(t) || (level > 0 && !node_room(t))) return HL_E_OUT_OF_MEMORY;
    hl_tracked *record = slot_of(t, addr);
    if (record->used) { /* a remembered freed address handed out again, or (a backend bug) a live one */
        drop(t, record);
        record = slot_of(t, addr); /* dropping may have deleted or moved it */
    }
    if (!record->used) {
        record->used = 1;
        record->addr = addr;
        t->table_used++;
    }
    record->size = layout.size;
    record->align_log2 = log2_of(layout.align);
    record->caps = caps;
    record->live = 1;
    record->node = level > 0 ? new_node(t, addr, level) : 0;
    if (!record->node) t->root_live++;
    t->live_blocks++;
    return HL_E_OK;
}

hl_error hl_tracker_add(hl_tracker *t, hl_addr addr, hl_layout layout, hl_caps caps)
{
    if (!hl_tracker_wants(t)) return HL_E_OK;
    return hl_tracker_add_at(t, addr, layout, caps, t->depth);
}

static hl_error classify(const hl_tracked *record, hl_layout layout)
{
    if (!record) return HL_E_INVALID_POINTER;
    if (!record->live) return HL_E_DOUBLE_FREE;
    if (record->size != layout.size || ((size_t)1 << record->align_log2) != layout.align)
        return HL_E_LAYOUT_MISMATCH;
    return HL_E_OK;
}

hl_error hl_tracker_classify_free(const hl_tracker *t, hl_addr addr, hl_layout layout)
{
    return classify(hl_tracker_find(t, addr), layout);
}

hl_error hl_tracker_free(hl_tracker *t, hl_addr addr, hl_layout layout, bool check)
{
    hl_tracked *record = hl_tracker_find(t, addr);
    if (check) {
        hl_error e = classify(record, layout);
        if (e != HL_E_OK) return e;
    }
    if (record) drop(t, record);
    return HL_E_OK;
}

void hl_tracker_remove(hl_tracker *t, hl_addr addr) { (void)hl_tracker_free(t, addr, (hl_layout){0, 1}, false); }

hl_error hl_tracker_moved(hl_tracker *t, hl_addr old_addr, hl_addr new_addr, size_t new_size)
{
    hl_tracked *record = hl_tracker_find(t, old_addr);
    if (!record || !record->live) return HL_E_OK; /* untracked root block */
    if (old_addr == new_addr) {
        record->size = new_size;
        return HL_E_OK;
    }
    hl_layout layout = {new_size, (size_t)1 << record->align_log2};
    hl_caps caps = record->caps;
    uint32_t level = hl_tracker_level_of(t, record);
    hl_error e = hl_tracker_add_at(t, new_addr, layout, caps, level);
    if (e != HL_E_OK) return e;
    hl_tracker_remove(t, old_addr);
    return HL_E_OK;
}

/* Counts a contract operation (and its failure) in the backend's stats, if linked. */
static void count(hl_tracker *t, hl_stat_op op, bool failed)
{
    if (!t->stats) return;
    t->stats->calls[op]++;
    if (failed) t->stats->failures[op]++;
}

hl_error hl_tracker_enter(hl_tracker *t, hl_scope *out)
{
    bool room = ensure_levels(t, t->depth + 1);
    count(t, HL_STAT_enter_scope, !room);
    if (!room) return HL_E_OUT_OF_MEMORY;
    t->depth++;
    t->handles[t->depth] = ++t->serial;
    t->heads[t->depth] = 0;
    *out = t->serial;
    return HL_E_OK;
}

/* Handles rise with the level (each scope takes the next serial and none is reused),
 * so the level of one is a binary search: a million nested scopes stay linear. */
uint32_t hl_tracker_level(const hl_tracker *t, hl_scope handle)
{
    uint32_t low = 1, high = t->depth;
    while (low <= high) {
        uint32_t mid = low + (high - low) / 2;
        if (t->handles[mid] == handle) return mid;
        if (t->handles[mid] < handle) low = mid + 1;
        else high = mid - 1;
    }
    return 0;
}

static int by_address(const void *a, const void *b)
{
    hl_addr x = ((const hl_tracked *)a)->addr, y = ((const hl_tracked *)b)->addr;
    return x < y ? -1 : x > y;
}

/* Releases the live root blocks in address order, so a run frees them in the same
 * order every time (the table's order follows the addresses' hashes, which move with
 * ASLR): a heap corrupted on the way breaks at the same block on every replay. False
 * when the tracker's memory cannot lend the list (the caller scans the table). */
static bool release_root_in_order(hl_tracker *t, hl_tracker_release release, void *context)
{
    if (!t->memory.put_returns) return false;
    size_t count = 0, bytes = (size_t)(t->root_live ? t->root_live : 1) * sizeof(hl_tracked);
    hl_tracked *list = t->memory.get(t->memory.context, bytes);
    if (!list) return false;
    for (uint32_t i = 0; i <= t->table_mask && count < t->root_live; i++)
        if (t->table[i].used && t->table[i].live && !t->table[i].node) list[count++] = t->table[i];
    qsort(list, count, sizeof *list, by_address);
    for (size_t i = 0; i < count; i++) {
        drop(t, hl_tracker_find(t, list[i].addr));
        release(context, list[i].addr, (hl_layout){list[i].size, (size_t)1 << list[i].align_log2});
    }
    t->memory.put(t->memory.context, list, bytes);
    return true;
}

void hl_tracker_close_from(hl_tracker *t, uint32_t level, hl_tracker_release release, void *context)
{
    for (uint32_t l = t->depth; t->heads && l >= level && l > 0; l--) {
        while (t->heads[l]) {
            hl_tracked *record = hl_tracker_find(t, t->nodes[t->heads[l]].addr);
            hl_tracked copy = *record;
            drop(t, record);
            release(context, copy.addr, (hl_layout){copy.size, (size_t)1 << copy.align_log2});
        }
    }
    if (level == 0 && t->table && !release_root_in_order(t, release, context)) {
        /* No memory for the sorted list: scan the table. A deletion shifts a later
         * record into this slot, so look at the same slot again after one. */
        for (uint32_t i = 0; i <= t->table_mask;) {
            hl_tracked copy = t->table[i];
            if (!copy.used || !copy.live) {
                i++;
                continue;
            }
            drop(t, &t->table[i]);
            release(context, copy.addr, (hl_layout){copy.size, (size_t)1 << copy.align_log2});
            if (t->remember_freed) i++;
        }
    }
    t->depth = level ? level - 1 : 0;
}

void hl_tracker_each_live(hl_tracker *t, hl_tracker_release release, void *context)
{
    hl_tracker_close_from(t, 0, release, context);
}

hl_error hl_tracker_check(const hl_tracker *t, char *message, size_t capacity)
{
    /* Walks the scope lists only: blocks outside every scope are counted (root_live),
     * not walked, so the check costs O(scoped blocks), not O(every address ever seen). */
    uint64_t listed = 0, root = t->root_live;
    for (uint32_t l = 1; t->heads && l <= t->depth; l++) {
        if (l > 1 && t->handles[l] <= t->handles[l - 1]) { /* hl_tracker_level's binary search needs it */
            snprintf(message, capacity, "tracker: level %u's handle %llu does not rise above level %u's", l,
                     (unsigned long long)t->handles[l], l - 1);
            return HL_E_CORRUPTED;
        }
        uint32_t prev = 0;
        for (uint32_t i = t->heads[l]; i; prev = i, i = t->nodes[i].next) {
            const hl_tracker_node *n = &t->nodes[i];
            if (n->level != l || n->prev != prev) {
                snprintf(message, capacity, "tracker: node of 0x%llx is badly linked at level %u",
                         (unsigned long long)n->addr, l);
                return HL_E_CORRUPTED;
            }
            const hl_tracked *record = hl_tracker_find(t, n->addr);
            if (!record || !record->live || record->node != i) {
                snprintf(message, capacity, "tracker: scoped block 0x%llx has no live record of its own",
                         (unsigned long long)n->addr);
                return HL_E_CORRUPTED;
            }
            if (++listed > t->node_count) {
                snprintf(message, capacity, "tracker: level %u's list has a cycle", l);
                return HL_E_CORRUPTED;
            }
        }
    }
    if (listed + root != t->live_blocks) {
        snprintf(message, capacity, "tracker: %llu blocks on lists and %llu outside scopes, %llu counted live",
                 (unsigned long long)listed, (unsigned long long)root, (unsigned long long)t->live_blocks);
        return HL_E_CORRUPTED;
    }
    return HL_E_OK;
}

hl_error hl_tracker_exit(hl_tracker *t, const hl_tracker_host *host, hl_scope handle)
{
    uint32_t level = hl_tracker_level(t, handle);
    count(t, HL_STAT_exit_scope, !level);
    if (!level) return HL_E_INVALID_ARGUMENT;
    hl_tracker_close_from(t, level, host->release, host->context);
    return HL_E_OK;
}

static hl_addr promote(hl_tracker *t, const hl_tracker_host *host, hl_scope handle, hl_addr block,
                       hl_layout layout, size_t n, hl_error *error)
{
    uint32_t level = hl_tracker_level(t, handle);
    const hl_tracked *record = hl_tracker_find(t, block);
    if (!level || !record || !record->live || hl_tracker_level_of(t, record) < level || n > record->size) {
        *error = HL_E_INVALID_ARGUMENT;
        return 0;
    }
    hl_caps caps = record->caps;
    hl_layout survivor = {n, layout.align};
    hl_addr fresh = host->alloc(host->context, survivor, caps);
    if (!fresh) {
        *error = HL_E_OUT_OF_MEMORY;
        return 0;
    }
    unsigned char *to = host->view(host->context, fresh, n ? n : 1);
    const unsigned char *from = host->view(host->context, block, n ? n : 1);
    for (size_t i = 0; i < n; i++) to[i] = from[i];
    if (hl_tracker_add_at(t, fresh, survivor, caps, level - 1) != HL_E_OK) {
        host->release(host->context, fresh, survivor);
        *error = HL_E_OUT_OF_MEMORY;
        return 0;
    }
    hl_tracker_close_from(t, level, host->release, host->context);
    return fresh;
}

hl_addr hl_tracker_promote(hl_tracker *t, const hl_tracker_host *host, hl_scope handle, hl_addr block,
                           hl_layout layout, size_t n, hl_error *error)
{
    hl_addr fresh = promote(t, host, handle, block, layout, n, error);
    count(t, HL_STAT_promote, !fresh);
    return fresh;
}
