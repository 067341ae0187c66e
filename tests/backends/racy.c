/* racy.c: a test-only backend that declares thread safety and is not quite: `racy`
 * serves 64-byte blocks from a bump region under a mutex, but keeps the last freed
 * block in a one-slot cache that alloc pops without the mutex (the classic unlocked
 * fast path). Two allocs that overlap in time both pop the same block. To make that
 * certain rather than likely, the first alloc that finds the cache full waits (up to
 * two seconds) for a second alloc to be inside alloc too. Serialised, nothing ever
 * overlaps and the backend is correct; on real threads (replay --threads) the shadow
 * must report OVERLAP. */
#include "backends.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

const hl_backend *hl_test_backend_racy(void);

#define RACY_BLOCK 64u
#define RACY_REGION (64u << 20)

typedef struct racy_heap {
    pthread_mutex_t lock;
    unsigned char *base;
    size_t top;                   /* bytes handed out from the region */
    _Atomic hl_addr cache;        /* the last freed block, or 0 */
    atomic_int inside;            /* allocs in flight */
    atomic_int met;               /* two allocs were inside at once */
    atomic_int waited;            /* the first full-cache alloc has waited */
    hl_stats stats;
} racy_heap;

static hl_error racy_create(const hl_config *config, hl_heap **out)
{
    if (config->option_count) return HL_E_INVALID_ARGUMENT;
    racy_heap *h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED) return HL_E_OUT_OF_MEMORY;
    h->base = mmap(NULL, RACY_REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (h->base == MAP_FAILED) {
        munmap(h, sizeof *h);
        return HL_E_OUT_OF_MEMORY;
    }
    pthread_mutex_init(&h->lock, NULL);
    *out = (hl_heap *)h;
    return HL_E_OK;
}

static void racy_destroy(hl_heap *heap)
{
    racy_heap *h = (racy_heap *)heap;
    pthread_mutex_destroy(&h->lock);
    munmap(h->base, RACY_REGION);
    munmap(h, sizeof *h);
}

static void racy_describe(const hl_heap *heap, hl_info *info)
{
    (void)heap;
    memset(info, 0, sizeof *info);
    info->name = "racy";
    info->backend_class = HL_CLASS_REFERENCE;
    info->min_align = 16;
    info->max_align = 16;
    info->features = HL_FEATURE_THREAD_SAFE;
    info->source = "mmap";
}

static void count(racy_heap *h, hl_stat_op op, int live, size_t size, bool failed)
{
    pthread_mutex_lock(&h->lock);
    h->stats.calls[op]++;
    if (failed) h->stats.failures[op]++;
    h->stats.live_blocks += (uint64_t)(int64_t)live;
    h->stats.live_bytes += (uint64_t)((int64_t)live * (int64_t)size);
    pthread_mutex_unlock(&h->lock);
}

/* The first alloc to find the cache full waits for a second one to be inside. */
static void rendezvous(racy_heap *h)
{
    if (atomic_load(&h->inside) >= 2) atomic_store(&h->met, 1);
    if (atomic_exchange(&h->waited, 1)) return;
    for (int i = 0; i < 2000 && !atomic_load(&h->met); i++) {
        struct timespec pause = {0, 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

static hl_addr racy_alloc(hl_heap *heap, hl_layout layout, hl_caps caps, hl_error *error)
{
    racy_heap *h = (racy_heap *)heap;
    if ((layout.align & (layout.align - 1)) || !layout.align) {
        count(h, HL_STAT_alloc, 0, 0, true);
        return *error = HL_E_INVALID_ARGUMENT, 0;
    }
    if (caps || layout.align > 16 || layout.size > RACY_BLOCK) {
        count(h, HL_STAT_alloc, 0, 0, true);
        return *error = HL_E_UNSUPPORTED, 0;
    }
    atomic_fetch_add(&h->inside, 1);
    hl_addr block = atomic_load(&h->cache);
    if (block) {            /* the unlocked pop: read, then clear (the bug) */
        rendezvous(h);
        atomic_store(&h->cache, 0);
    }
    atomic_fetch_sub(&h->inside, 1);
    if (!block) {
        pthread_mutex_lock(&h->lock);
        if (h->top + RACY_BLOCK <= RACY_REGION) {
            block = (hl_addr)(h->base + h->top);
            h->top += RACY_BLOCK;
            h->stats.footprint = h->stats.peak_footprint = h->top;
        }
        pthread_mutex_unlock(&h->lock);
    }
    count(h, HL_STAT_alloc, block ? 1 : 0, layout.size, !block);
    if (!block) *error = HL_E_OUT_OF_MEMORY;
    return block;
}

static hl_error racy_free(hl_heap *heap, hl_addr block, hl_layout layout)
{
    racy_heap *h = (racy_heap *)heap;
    count(h, HL_STAT_free, block ? -1 : 0, layout.size, false);
    hl_addr empty = 0;
    if (block) atomic_compare_exchange_strong(&h->cache, &empty, block); /* else it stays unused */
    return HL_E_OK;
}

static hl_addr racy_realloc(hl_heap *heap, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    racy_heap *h = (racy_heap *)heap;
    if (!block) return racy_alloc(heap, (hl_layout){size, old.align}, HL_CAP_NONE, error);
    if (size > RACY_BLOCK) {
        count(h, HL_STAT_realloc, 0, 0, true);
        return *error = HL_E_OUT_OF_MEMORY, 0;
    }
    pthread_mutex_lock(&h->lock);
    h->stats.calls[HL_STAT_realloc]++;
    h->stats.live_bytes += size - old.size;
    pthread_mutex_unlock(&h->lock);
    return block; /* every block has room for RACY_BLOCK bytes */
}

static size_t racy_usable(hl_heap *heap, hl_addr block, hl_layout layout)
{
    (void)heap, (void)block, (void)layout;
    return RACY_BLOCK;
}

static void *racy_view(hl_heap *heap, hl_addr addr, size_t len)
{
    racy_heap *h = (racy_heap *)heap;
    hl_addr base = (hl_addr)h->base;
    return addr >= base && addr - base <= RACY_REGION && len <= RACY_REGION - (addr - base) ? (void *)addr : NULL;
}

static hl_error racy_copy(hl_heap *heap, hl_addr dst, hl_addr src, size_t n)
{
    (void)heap;
    memmove((void *)dst, (const void *)src, n);
    return HL_E_OK;
}

static hl_error racy_enter(hl_heap *heap, hl_scope *out)
{
    (void)heap, (void)out;
    return HL_E_UNSUPPORTED;
}
static hl_error racy_exit(hl_heap *heap, hl_scope scope)
{
    (void)heap, (void)scope;
    return HL_E_UNSUPPORTED;
}
static hl_addr racy_promote(hl_heap *heap, hl_scope s, hl_addr b, hl_layout l, size_t n, hl_error *error)
{
    (void)heap, (void)s, (void)b, (void)l, (void)n;
    return *error = HL_E_UNSUPPORTED, 0;
}
static hl_error racy_free_all(hl_heap *heap)
{
    (void)heap;
    return HL_E_UNSUPPORTED;
}

static void racy_stats(const hl_heap *heap, hl_stats *stats)
{
    racy_heap *h = (racy_heap *)heap;
    pthread_mutex_lock(&h->lock);
    *stats = h->stats;
    pthread_mutex_unlock(&h->lock);
}

static hl_error racy_check(hl_heap *heap, char *message, size_t capacity)
{
    (void)heap, (void)message, (void)capacity;
    return HL_E_OK;
}

const hl_backend *hl_test_backend_racy(void)
{
    static const hl_backend table = {
        sizeof(hl_backend), HL_CONTRACT_VERSION, "racy", HL_CLASS_REFERENCE,
        "64-byte blocks; declares thread safety but pops its free cache without the lock",
        NULL, racy_create, racy_destroy, racy_describe, racy_alloc, racy_free, racy_realloc,
        racy_usable, racy_view, racy_copy, racy_enter, racy_exit, racy_promote, racy_free_all,
        NULL, NULL, NULL, NULL, racy_stats, racy_check};
    return &table;
}
