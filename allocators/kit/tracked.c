/* tracked.c: the table slots of a backend whose scopes are the shared scope tracker's
 * (bins, guard, caps, the malloc adapter): one implementation, parameterised by the
 * backend's raw alloc, free and view (hl_kit.h). Blocks the tracker gives up on exit,
 * promote and free_all leave the stats here, through hl_stats_live. */
#include "hl_kit.h"

#include <stdio.h>

static hl_tracked_heap *kit_of(const hl_heap *heap) { return (hl_tracked_heap *)heap; }

static void lock(const hl_heap *heap)
{
    if (kit_of(heap)->ops->lock) kit_of(heap)->ops->lock(heap);
}
static void unlock(const hl_heap *heap)
{
    if (kit_of(heap)->ops->unlock) kit_of(heap)->ops->unlock(heap);
}

/* the tracker's host: raw blocks, counted */
static hl_addr host_alloc(void *context, hl_layout layout, hl_caps caps)
{
    hl_tracked_heap *kit = kit_of(context);
    hl_error e = HL_E_OK;
    hl_addr block = kit->ops->alloc(context, layout, caps, &e);
    if (block) hl_stats_live(&kit->stats, +1, (int64_t)layout.size);
    return block;
}
static void host_release(void *context, hl_addr block, hl_layout layout)
{
    hl_tracked_heap *kit = kit_of(context);
    kit->ops->free(context, block, layout);
    hl_stats_live(&kit->stats, -1, -(int64_t)layout.size);
}
static void *host_view(void *context, hl_addr addr, size_t len) { return kit_of(context)->ops->view(context, addr, len); }

static hl_tracker_host host_of(hl_heap *heap)
{
    hl_tracker_host host = {heap, host_alloc, host_release, host_view};
    return host;
}

void hl_tracked_init(hl_tracked_heap *kit, const hl_tracked_ops *ops, hl_tracker_memory memory, bool track_root,
                     bool remember_freed)
{
    hl_tracker_init(&kit->tracker, memory, track_root, remember_freed);
    kit->tracker.stats = &kit->stats;
    kit->ops = ops;
}

hl_error hl_tracked_enter_scope(hl_heap *heap, hl_scope *out)
{
    hl_tracked_heap *kit = kit_of(heap);
    lock(heap);
    hl_error e = hl_tracker_enter(&kit->tracker, out); /* the tracker counts the call */
    kit->ops->footprint(heap, HL_STAT_enter_scope);
    unlock(heap);
    return e;
}

hl_error hl_tracked_exit_scope(hl_heap *heap, hl_scope scope)
{
    hl_tracked_heap *kit = kit_of(heap);
    hl_tracker_host host = host_of(heap);
    lock(heap);
    hl_error e = hl_tracker_exit(&kit->tracker, &host, scope);
    kit->ops->footprint(heap, HL_STAT_exit_scope);
    unlock(heap);
    return e;
}

hl_addr hl_tracked_promote(hl_heap *heap, hl_scope scope, hl_addr block, hl_layout layout, size_t n, hl_error *error)
{
    hl_tracked_heap *kit = kit_of(heap);
    hl_tracker_host host = host_of(heap);
    lock(heap);
    hl_addr fresh = hl_tracker_promote(&kit->tracker, &host, scope, block, layout, n, error);
    kit->ops->footprint(heap, HL_STAT_promote);
    unlock(heap);
    return fresh;
}

hl_error hl_tracked_free_all(hl_heap *heap)
{
    hl_tracked_heap *kit = kit_of(heap);
    lock(heap);
    kit->stats.calls[HL_STAT_free_all]++;
    if (kit->ops->reclaim) {
        hl_tracker_forget(&kit->tracker); /* its memory goes back with the rest */
        kit->ops->reclaim(heap);
    } else {
        hl_tracker_each_live(&kit->tracker, host_release, heap);
        hl_tracker_clear(&kit->tracker); /* as new: the freed addresses it remembered go too */
    }
    kit->ops->footprint(heap, HL_STAT_free_all);
    hl_stats_restart(&kit->stats, kit->stats.footprint);
    unlock(heap);
    return HL_E_OK;
}

hl_error hl_tracked_mem_copy(hl_heap *heap, hl_addr dst, hl_addr src, size_t n)
{
    hl_tracked_heap *kit = kit_of(heap);
    lock(heap);
    hl_error e = hl_copy_forward(&kit->stats, kit->ops->view(heap, dst, n), kit->ops->view(heap, src, n), n);
    unlock(heap);
    return e;
}

void hl_tracked_stats(const hl_heap *heap, hl_stats *stats)
{
    lock(heap);
    *stats = kit_of(heap)->stats;
    unlock(heap);
}

hl_error hl_tracked_check(hl_heap *heap, char *message, size_t capacity)
{
    hl_tracked_heap *kit = kit_of(heap);
    lock(heap);
    hl_error e = HL_E_OK;
    if (kit->tracker.track_root && kit->tracker.live_blocks != kit->stats.live_blocks) {
        snprintf(message, capacity, "tracker holds %llu live blocks, stats say %llu",
                 (unsigned long long)kit->tracker.live_blocks, (unsigned long long)kit->stats.live_blocks);
        e = HL_E_CORRUPTED;
    }
    if (e == HL_E_OK) e = hl_tracker_check(&kit->tracker, message, capacity);
    unlock(heap);
    return e;
}
