/* libc.c: the first foreign backend, an adapter over the process's malloc, free,
 * realloc and posix_memalign (glibc here). It detects no misuse: glibc's own checks
 * abort the process, which is not a named error. Scopes, free_all and destroy go
 * through the scope tracker, which tracks every block; its memory comes from mmap,
 * never from malloc, so it stays out of glibc's figures. The footprint is glibc's
 * mallinfo2() arena + hblkhd minus their value when the instance was created.
 * One instance per process: glibc's heap is the process's. */
#include "hl_source.h"
#include "scope_tracker.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIBC_MIN_ALIGN 16u
#define LIBC_MAX_ALIGN 65536u

/* mallinfo2 walks every free chunk of every arena: O(heap), with a cache miss per
 * chunk (about as many as there are live blocks). So the footprint is a sample,
 * taken after 64 + 2 * live_blocks changes (amortised, half a miss per operation),
 * whenever the live bytes grow past the last sampled level by 64 KiB or a sixteenth
 * (so the peak is seen, in O(log) samples during a ramp), after scope exits and
 * free_all, and by check. */

struct hl_heap {
    hl_tracker tracker;
    hl_stats stats;
    size_t baseline; /* mallinfo2 arena + hblkhd at create */
    unsigned countdown;
    uint64_t sampled_live; /* live bytes at the last sample */
};

static bool instance_live; /* glibc has one heap per process */

static size_t glibc_held(void)
{
    struct mallinfo2 info = mallinfo2();
    return info.arena + info.hblkhd;
}

static void sample_footprint(hl_heap *h)
{
    h->countdown = 64 + (unsigned)(h->stats.live_blocks * 2);
    h->sampled_live = h->stats.live_bytes;
    size_t held = glibc_held();
    h->stats.footprint = held > h->baseline ? held - h->baseline : 0;
    if (h->stats.footprint > h->stats.peak_footprint) h->stats.peak_footprint = h->stats.footprint;
}

static void note_footprint(hl_heap *h)
{
    uint64_t margin = h->sampled_live / 16 > 65536 ? h->sampled_live / 16 : 65536;
    if (h->countdown-- == 0 || h->stats.live_bytes > h->sampled_live + margin) sample_footprint(h);
}

static void *tracker_get(void *context, size_t bytes)
{
    (void)context;
    return hl_os_map(bytes);
}

static void tracker_put(void *context, void *memory, size_t bytes)
{
    (void)context;
    hl_os_unmap(memory, bytes);
}

/* A raw block: malloc for the alignments it guarantees, posix_memalign above. */
static void *raw_alloc(hl_layout layout)
{
    size_t size = layout.size ? layout.size : 1; /* a unique block even for size 0 */
    if (layout.align <= LIBC_MIN_ALIGN) return malloc(size);
    void *p = NULL;
    return posix_memalign(&p, layout.align, size) == 0 ? p : NULL;
}

static void count_live(hl_heap *h, size_t size, int sign)
{
    h->stats.live_blocks += (uint64_t)(int64_t)sign;
    h->stats.live_bytes += (uint64_t)((int64_t)sign * (int64_t)size);
}

static hl_addr host_alloc(void *context, hl_layout layout, hl_caps caps)
{
    (void)caps; /* no capabilities here */
    void *p = raw_alloc(layout);
    if (p) count_live(context, layout.size, +1);
    return (hl_addr)p;
}
static void host_release(void *context, hl_addr block, hl_layout layout)
{
    free((void *)block);
    count_live(context, layout.size, -1);
}
static void *host_view(void *context, hl_addr addr, size_t len)
{
    (void)context, (void)len;
    return (void *)addr;
}
static hl_tracker_host tracker_host(hl_heap *h)
{
    hl_tracker_host host = {h, host_alloc, host_release, host_view};
    return host;
}

static hl_error libc_create(const hl_config *config, hl_heap **out)
{
    if (config->option_count) {
        if (config->error_message)
            snprintf(config->error_message, config->error_capacity, "libc: unknown option '%s' (libc has none)",
                     config->options[0].key);
        return HL_E_INVALID_ARGUMENT;
    }
    if (instance_live) {
        if (config->error_message)
            snprintf(config->error_message, config->error_capacity,
                     "libc: one instance per process (glibc's heap is the process's); destroy the other first");
        return HL_E_UNSUPPORTED;
    }
    hl_heap *h = tracker_get(NULL, sizeof *h);
    if (!h) return HL_E_OUT_OF_MEMORY;
    memset(h, 0, sizeof *h);
    hl_tracker_memory memory = {h, tracker_get, tracker_put};
    hl_tracker_init(&h->tracker, memory, true, false);
    h->tracker.stats = &h->stats;
    h->baseline = glibc_held();
    h->countdown = 0; /* the first change samples */
    instance_live = true;
    *out = h;
    return HL_E_OK;
}

static void libc_destroy(hl_heap *h)
{
    hl_tracker_host host = tracker_host(h);
    hl_tracker_each_live(&h->tracker, host.release, h); /* LeakSanitizer must see them freed */
    hl_tracker_release_memory(&h->tracker);
    tracker_put(NULL, h, sizeof *h);
    instance_live = false;
}

static void libc_describe(const hl_heap *h, hl_info *info)
{
    (void)h;
    memset(info, 0, sizeof *info);
    info->name = "libc";
    info->backend_class = HL_CLASS_FOREIGN;
    info->min_align = LIBC_MIN_ALIGN;
    info->max_align = LIBC_MAX_ALIGN;
    info->features = HL_FEATURE_INPLACE_REALLOC | HL_FEATURE_THREAD_SAFE;
    info->source = "malloc";
    info->page_size = (size_t)sysconf(_SC_PAGESIZE);
}

static hl_addr fail(hl_heap *h, hl_stat_op op, hl_error *error, hl_error e)
{
    h->stats.failures[op]++;
    *error = e;
    return 0;
}

static hl_addr libc_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    h->stats.calls[HL_STAT_alloc]++;
    if (!hl_is_power_of_two(layout.align)) return fail(h, HL_STAT_alloc, error, HL_E_INVALID_ARGUMENT);
    if (caps || layout.align > LIBC_MAX_ALIGN) return fail(h, HL_STAT_alloc, error, HL_E_UNSUPPORTED);
    if (layout.size > PTRDIFF_MAX || hl_tracker_reserve(&h->tracker) != HL_E_OK)
        return fail(h, HL_STAT_alloc, error, HL_E_OUT_OF_MEMORY);
    void *p = raw_alloc(layout);
    if (!p) return fail(h, HL_STAT_alloc, error, HL_E_OUT_OF_MEMORY);
    hl_tracker_add(&h->tracker, (hl_addr)p, layout, caps);
    count_live(h, layout.size, +1);
    note_footprint(h);
    return (hl_addr)p;
}

static hl_error libc_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    h->stats.calls[HL_STAT_free]++;
    if (!block) return HL_E_OK;
    hl_tracker_remove(&h->tracker, block);
    free((void *)block);
    count_live(h, layout.size, -1);
    note_footprint(h);
    return HL_E_OK;
}

static hl_addr libc_realloc(hl_heap *h, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    if (!block) return libc_alloc(h, (hl_layout){size, old.align}, HL_CAP_NONE, error);
    h->stats.calls[HL_STAT_realloc]++;
    if (size > PTRDIFF_MAX || hl_tracker_reserve(&h->tracker) != HL_E_OK)
        return fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
    void *p;
    if (old.align <= LIBC_MIN_ALIGN) {
        p = realloc((void *)block, size ? size : 1); /* never 0: that would be a free */
    } else { /* realloc does not keep a stricter alignment: move by hand */
        p = raw_alloc((hl_layout){size, old.align});
        if (p) {
            memcpy(p, (void *)block, old.size < size ? old.size : size);
            free((void *)block);
        }
    }
    if (!p) return fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
    hl_tracker_moved(&h->tracker, block, (hl_addr)p, size); /* cannot fail: reserved */
    h->stats.live_bytes += size - old.size;
    note_footprint(h);
    return (hl_addr)p;
}

static size_t libc_usable_size(hl_heap *h, hl_addr block, hl_layout layout)
{
    (void)h, (void)layout;
    return malloc_usable_size((void *)block);
}

static void *libc_mem_view(hl_heap *h, hl_addr addr, size_t len)
{
    (void)h, (void)len; /* the process's memory: nothing to check it against */
    return (void *)addr;
}

static hl_error libc_mem_copy(hl_heap *h, hl_addr dst, hl_addr src, size_t n)
{
    return hl_copy_forward(&h->stats, (unsigned char *)dst, (const unsigned char *)src, n);
}

static hl_error libc_enter_scope(hl_heap *h, hl_scope *out)
{
    return hl_tracker_enter(&h->tracker, out); /* the tracker counts the call */
}

static hl_error libc_exit_scope(hl_heap *h, hl_scope scope)
{
    hl_tracker_host host = tracker_host(h);
    hl_error e = hl_tracker_exit(&h->tracker, &host, scope);
    sample_footprint(h);
    return e;
}

static hl_addr libc_promote(hl_heap *h, hl_scope scope, hl_addr block, hl_layout layout, size_t n, hl_error *error)
{
    hl_tracker_host host = tracker_host(h);
    hl_addr fresh = hl_tracker_promote(&h->tracker, &host, scope, block, layout, n, error);
    note_footprint(h);
    return fresh;
}

static hl_error libc_free_all(hl_heap *h)
{
    h->stats.calls[HL_STAT_free_all]++;
    hl_tracker_host host = tracker_host(h);
    hl_tracker_each_live(&h->tracker, host.release, h);
    sample_footprint(h);
    return HL_E_OK;
}

static void libc_stats(const hl_heap *h, hl_stats *stats) { *stats = h->stats; }

static hl_error libc_check(hl_heap *h, char *message, size_t capacity)
{
    sample_footprint(h);
    if (h->tracker.live_blocks != h->stats.live_blocks) {
        snprintf(message, capacity, "tracker holds %llu blocks, stats say %llu",
                 (unsigned long long)h->tracker.live_blocks, (unsigned long long)h->stats.live_blocks);
        return HL_E_CORRUPTED;
    }
    return hl_tracker_check(&h->tracker, message, capacity);
}

const hl_backend *hl_backend_libc(void)
{
    static const hl_backend table = {
        sizeof(hl_backend), HL_CONTRACT_VERSION, "libc", HL_CLASS_FOREIGN,
        "the process's malloc/free/realloc/posix_memalign (glibc), footprint from mallinfo2",
        NULL, libc_create, libc_destroy, libc_describe, libc_alloc, libc_free, libc_realloc,
        libc_usable_size, libc_mem_view, libc_mem_copy, libc_enter_scope, libc_exit_scope, libc_promote,
        libc_free_all, NULL, NULL, NULL, NULL, libc_stats, libc_check};
    return &table;
}
