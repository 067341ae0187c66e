/* malloc_adapter.c: a malloc-style allocator (malloc, free, realloc and, where
 * present, an aligned allocation and usable_size) as a foreign heaplab backend. Its
 * users: libc, malloc:PREFIX@LIB and the peers (malloc_adapter.h).
 * Thread safety (libc and the peers declare it; threaded replay relies on it): the
 * adapter's own state (the tracker, the stats) sits under one mutex, taken around
 * bookkeeping only, so the allocator's malloc and free run concurrently. A block
 * leaves the tracker before its free and joins it after its malloc returns; realloc
 * runs under the mutex, so its old address cannot be handed out and tracked by
 * another thread before the move is recorded. With HL_HINT_ONE_THREAD no lock is
 * taken; with HL_HINT_CALLER_FREES no block is tracked (scopes and free_all are then
 * UNSUPPORTED): what is left of a call is the allocator's call, the live counts (from
 * the layouts the contract passes) and the call counters; with HL_HINT_NO_STATS as
 * well, the allocator's call alone, after the contract's checks.
 * The allocator's statistics are never read inside alloc, free or realloc: the
 * footprint is read when stats or check asks (see sample_footprint), so a timed call
 * times the allocator and nothing else.
 * No misuse is detected: a malloc's own checks abort the process, which is not a
 * named error. Scopes, free_all and destroy go through the kit's tracked slots (the
 * tracker tracks every block); the tracker's memory comes from mmap, never from
 * malloc, so it stays out of the allocator's figures. */
#include "hl_kit.h"
#include "malloc_adapter.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ADAPTER_MAX_ALIGN 65536u

/* The footprint is read, exactly, whenever stats (or check, or a scope exit, or
 * free_all) asks for it and an alloc, free or realloc was made since the last
 * reading, unless the peer can tell cheaply that its footprint cannot have moved
 * (peer.same_footprint: glibc's program break did not move and no block of 64 KiB or
 * more came or went). So a figure read at an operation is that operation's, never an
 * older sample: the fragmentation observer's footprint at the peak of live bytes and
 * its peak footprint are exact. Never with HL_HINT_NO_STATS; never for a library
 * without PREFIXfootprint (its footprint is not measured). */

struct hl_heap {
    hl_tracked_heap kit;   /* first: the tracker, the stats (hl_kit.h) */
    pthread_mutex_t lock;  /* over everything but peer.f (see the top) */
    hl_malloc_peer peer;   /* a copy */
    size_t baseline;       /* peer.baseline() at create */
    uint64_t read_changes; /* changes() at the last footprint reading */
    size_t largest_since_read; /* the largest block allocated, resized or freed since */
    uint64_t limit;        /* larger requests fail here, without calling the allocator: one
                              that maps lazily (jemalloc, mimalloc) hands out 1 TiB at once,
                              and the harness's pattern writes over it would take the machine
                              down (hl_os_memory) */
    uint32_t hints;        /* HL_HINT_* of the config */
    bool locking;          /* no HL_HINT_ONE_THREAD: the mutex is taken */
    bool tracking;         /* no HL_HINT_CALLER_FREES: every block is in the tracker */
    bool lean;             /* neither locking nor tracking: the fast paths below */
    bool counting;         /* no HL_HINT_NO_STATS: the fast paths count */
    size_t fast_limit;     /* sizes 1 .. fast_limit go straight to malloc (0 unless lean) */
    hl_direct direct;      /* lean and not counting: the allocator's own entry points */
    char library_source[160]; /* describe's source for a library */
};

/* a library's footprint is measured only through its PREFIXfootprint */
static bool footprint_unknown(const hl_heap *h) { return !h->peer.footprint; }

/* The largest alignment malloc(size) gives: min_align, or for a library (C's promise)
 * min(min_align, the largest power of two <= size). */
static size_t malloc_promise(const hl_heap *h, size_t size)
{
    if (!h->peer.library || size >= h->peer.min_align) return h->peer.min_align;
    return size ? (size_t)1 << (63 - __builtin_clzll((unsigned long long)size)) : 1;
}

/* allocations, frees and reallocs so far */
static uint64_t changes(const hl_heap *h)
{
    const uint64_t *calls = h->kit.stats.calls;
    return calls[HL_STAT_alloc] + calls[HL_STAT_free] + calls[HL_STAT_realloc];
}

/* reads the footprint now (see the top) */
static void read_footprint(hl_heap *h)
{
    if (h->hints & HL_HINT_NO_STATS || footprint_unknown(h)) return;
    h->read_changes = changes(h);
    h->largest_since_read = 0;
    size_t held = h->peer.footprint();
    hl_stats_footprint(&h->kit.stats, held > h->baseline ? held - h->baseline : 0);
}

/* before stats are handed out: a reading if something changed since the last */
static void note_footprint(hl_heap *h)
{
    if (h->hints & HL_HINT_NO_STATS || footprint_unknown(h) || changes(h) == h->read_changes) return;
    /* one thread: the peer may know its footprint stayed (several: other arenas) */
    if (!h->locking && h->peer.same_footprint && h->peer.same_footprint(h->largest_since_read)) {
        h->read_changes = changes(h);
        return;
    }
    read_footprint(h);
}

/* a block of size bytes came or went: what same_footprint is told */
static void note_size(hl_heap *h, size_t size)
{
    if (size > h->largest_since_read) h->largest_since_read = size;
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

/* A raw block: malloc for the alignments it guarantees, the aligned entry above (its
 * size rounded up to the alignment, as C11's aligned_alloc asks). */
static void *raw_alloc(hl_heap *h, hl_layout layout)
{
    size_t size = layout.size ? layout.size : 1; /* a unique block even for size 0 */
    if (layout.align <= malloc_promise(h, size)) return h->peer.f.malloc(size);
    /* a small block of a library without an aligned entry: a size of align bytes
     * (align <= min_align here) carries the promise */
    if (!h->peer.f.aligned) return h->peer.f.malloc(layout.align);
    if (size > SIZE_MAX - layout.align) return NULL;
    return h->peer.f.aligned(layout.align, (size + layout.align - 1) & ~(layout.align - 1));
}

/* ---------------------------------------------------------------- the kit's view */

static hl_addr kit_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    (void)caps, (void)error; /* no capabilities here */
    return (hl_addr)raw_alloc(h, layout);
}
static void kit_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    (void)layout;
    h->peer.f.free((void *)block);
}
static void *adapter_mem_view(hl_heap *h, hl_addr addr, size_t len)
{
    (void)h, (void)len; /* the process's memory: nothing to check it against */
    return (void *)addr;
}
/* scope exits and free_all sample; entering a scope costs the allocator nothing */
static void kit_footprint(hl_heap *h, hl_stat_op after)
{
    if (after != HL_STAT_enter_scope) read_footprint(h); /* blocks of any size came or went */
}
static void lock(const hl_heap *h)
{
    if (h->locking) pthread_mutex_lock((pthread_mutex_t *)&h->lock);
}
static void unlock(const hl_heap *h)
{
    if (h->locking) pthread_mutex_unlock((pthread_mutex_t *)&h->lock);
}

static const hl_tracked_ops kit_ops = {kit_alloc, kit_free, adapter_mem_view, kit_footprint, NULL, lock, unlock};

/* ---------------------------------------------------------------- lifecycle */

/* "library: aligned_alloc, usable_size, footprint": what a library exports beyond
 * malloc, free and realloc (describe's source) */
static void describe_library(hl_heap *h)
{
    const hl_malloc_fns *f = &h->peer.f;
    const char *names[] = {f->aligned ? "aligned_alloc" : NULL, f->usable ? "usable_size" : NULL,
                           f->calloc ? "calloc" : NULL,        h->peer.library_footprint ? "footprint" : NULL,
                           h->peer.library_check ? "check" : NULL, h->peer.library_reset ? "reset" : NULL};
    size_t n = (size_t)snprintf(h->library_source, sizeof h->library_source, "library");
    const char *sep = ": ";
    for (size_t i = 0; i < sizeof names / sizeof names[0] && n < sizeof h->library_source; i++)
        if (names[i]) {
            n += (size_t)snprintf(h->library_source + n, sizeof h->library_source - n, "%s%s", sep, names[i]);
            sep = ", ";
        }
    if (!h->peer.library_footprint && n < sizeof h->library_source)
        snprintf(h->library_source + n, sizeof h->library_source - n, "; footprint not measured");
}

hl_error hl_malloc_adapter_create(const hl_malloc_peer *peer, const hl_config *config, hl_heap **out)
{
    if (peer->instance_live && *peer->instance_live)
        return hl_config_say(config, "%s: one instance per process (its statistics are the process's); %s", peer->name,
                             "destroy the other first"),
               HL_E_UNSUPPORTED;
    hl_heap *h = tracker_get(NULL, sizeof *h);
    if (!h) return HL_E_OUT_OF_MEMORY;
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    h->peer = *peer;
    hl_tracker_memory memory = {h, tracker_get, tracker_put, true};
    hl_tracked_init(&h->kit, &kit_ops, memory, true, false);
    h->baseline = peer->baseline ? peer->baseline() : 0;
    h->hints = config->hints;
    h->locking = !(config->hints & HL_HINT_ONE_THREAD);
    h->tracking = !(config->hints & HL_HINT_CALLER_FREES);
    h->read_changes = UINT64_MAX; /* the first stats reads */
    h->limit = hl_os_memory();
    h->lean = !h->locking && !h->tracking;
    h->counting = !(config->hints & HL_HINT_NO_STATS);
    /* 0 when not lean: no size is then below it, and every alloc takes the slow path */
    h->fast_limit = !h->lean ? 0 : h->limit < PTRDIFF_MAX ? (size_t)h->limit : PTRDIFF_MAX;
    /* lean and counting nothing: alloc, free and realloc are the allocator's own calls
     * after the contract's checks, so the measure path may call them directly */
    if (h->lean && !h->counting)
        h->direct = (hl_direct){peer->f.malloc, peer->f.free, peer->f.realloc, h->fast_limit,
                                (uint8_t)__builtin_ctzll((unsigned long long)peer->min_align), peer->library};
    if (peer->instance_live) *peer->instance_live = true;
    if (peer->library) describe_library(h);
    *out = h;
    return HL_E_OK;
}

static void adapter_destroy(hl_heap *h)
{
    if (h->tracking) hl_tracked_free_all(h); /* LeakSanitizer must see the live blocks freed */
    hl_tracker_release_memory(&h->kit.tracker);
    if (h->peer.instance_live) *h->peer.instance_live = false;
    pthread_mutex_destroy(&h->lock);
    tracker_put(NULL, h, sizeof *h);
}

static void adapter_describe(const hl_heap *h, hl_info *info)
{
    memset(info, 0, sizeof *info);
    const hl_malloc_fns *f = &h->peer.f;
    info->name = h->peer.name;
    info->backend_class = HL_CLASS_FOREIGN;
    info->min_align = h->peer.min_align;
    info->max_align = f->aligned ? ADAPTER_MAX_ALIGN : h->peer.min_align;
    /* a library's malloc(1) may be 1-aligned: it declares what C promises, and the
     * adapter asks its aligned entry for more (malloc_promise) */
    if (h->peer.library) info->min_align = 1;
    /* a library is thread-safe where its spec says so (thread_safe=1); its in-place
     * realloc is not known; the peers are thread-safe mallocs that may grow in place */
    info->features = h->peer.library ? (h->peer.thread_safe ? HL_FEATURE_THREAD_SAFE : 0)
                                     : HL_FEATURE_INPLACE_REALLOC | HL_FEATURE_THREAD_SAFE;
    if (footprint_unknown(h)) info->features |= HL_FEATURE_FOOTPRINT_UNKNOWN;
    if (h->peer.library && h->peer.label) info->name = h->peer.label;
    info->source = h->peer.library ? h->library_source : h->peer.source;
    info->page_size = (size_t)sysconf(_SC_PAGESIZE);
    if (h->direct.malloc) info->direct = &h->direct;
}


/* ---------------------------------------------------------------- operations */

/* a failure on a path that holds no lock */
static hl_addr fail_locked(hl_heap *h, hl_stat_op op, hl_error *error, hl_error e)
{
    lock(h);
    h->kit.stats.calls[op]++;
    hl_stats_fail(&h->kit.stats, op, error, e);
    unlock(h);
    return 0;
}

/* every alloc but the lean fast path's (adapter_alloc), out of line so that path
 * keeps no stack frame of its own */
__attribute__((noinline)) static hl_addr alloc_slow(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    if (!hl_is_power_of_two(layout.align)) return fail_locked(h, HL_STAT_alloc, error, HL_E_INVALID_ARGUMENT);
    if (caps || layout.align > ADAPTER_MAX_ALIGN || (layout.align > h->peer.min_align && !h->peer.f.aligned))
        return fail_locked(h, HL_STAT_alloc, error, HL_E_UNSUPPORTED);
    void *p = layout.size > PTRDIFF_MAX || layout.size > h->limit ? NULL : raw_alloc(h, layout);
    lock(h);
    h->kit.stats.calls[HL_STAT_alloc]++;
    if (p && h->tracking && hl_tracker_reserve(&h->kit.tracker) != HL_E_OK) {
        h->peer.f.free(p);
        p = NULL;
    }
    if (p) {
        if (h->tracking) hl_tracker_add(&h->kit.tracker, (hl_addr)p, layout, caps);
        hl_stats_live(&h->kit.stats, +1, (int64_t)layout.size);
        note_size(h, layout.size);
    } else {
        hl_stats_fail(&h->kit.stats, HL_STAT_alloc, error, HL_E_OUT_OF_MEMORY);
    }
    unlock(h);
    return (hl_addr)p;
}

/* the lean fast path's malloc returned NULL: its counts undone, the failure counted */
__attribute__((noinline)) static hl_addr lean_alloc_failed(hl_heap *h, size_t size, hl_error *error)
{
    if (h->counting) hl_stats_live(&h->kit.stats, -1, -(int64_t)size);
    hl_stats_fail(&h->kit.stats, HL_STAT_alloc, error, HL_E_OUT_OF_MEMORY);
    return 0;
}

static hl_addr adapter_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    /* lean, and an alignment malloc keeps (a power of two from 1 to min_align), no caps, a
     * size from 1 to fast_limit (size - 1 wraps for 0): the allocator's call and counts */
    size_t a = layout.align;
    bool fast = (layout.size - 1 < h->fast_limit) & (a - 1 < h->peer.min_align) & !(a & (a - 1)) & !caps &
                ((a <= layout.size) | !h->peer.library); /* a library promises a only from size a on */
    if (__builtin_expect(!fast, 0)) return alloc_slow(h, layout, caps, error);
    /* counted before the call (nothing but the result is live across it), undone if it fails */
    hl_stats *st = &h->kit.stats;
    if (h->counting) {
        st->calls[HL_STAT_alloc]++;
        st->live_blocks++;
        st->live_bytes += layout.size;
        note_size(h, layout.size);
    }
    void *p = h->peer.f.malloc(layout.size);
    if (__builtin_expect(!p, 0)) return lean_alloc_failed(h, layout.size, error);
    return (hl_addr)p;
}

__attribute__((noinline)) static hl_error free_slow(hl_heap *h, hl_addr block, hl_layout layout);

static hl_error adapter_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    if (__builtin_expect(!h->lean || !block, 0)) return free_slow(h, block, layout);
    hl_stats *st = &h->kit.stats;
    if (h->counting) {
        st->calls[HL_STAT_free]++;
        st->live_blocks--;
        st->live_bytes -= layout.size;
        note_size(h, layout.size);
    }
    h->peer.f.free((void *)block);
    return HL_E_OK;
}

/* every free but the lean fast path's (adapter_free) */
static hl_error free_slow(hl_heap *h, hl_addr block, hl_layout layout)
{
    lock(h);
    h->kit.stats.calls[HL_STAT_free]++;
    if (block) {
        if (h->tracking) hl_tracker_remove(&h->kit.tracker, block);
        hl_stats_live(&h->kit.stats, -1, -(int64_t)layout.size);
        note_size(h, layout.size);
    }
    unlock(h);
    if (block) h->peer.f.free((void *)block);
    return HL_E_OK;
}

static hl_addr adapter_realloc(hl_heap *h, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    if (!block) return adapter_alloc(h, (hl_layout){size, old.align}, HL_CAP_NONE, error);
    lock(h);
    h->kit.stats.calls[HL_STAT_realloc]++;
    void *p = NULL;
    if (size <= PTRDIFF_MAX && size <= h->limit && (!h->tracking || hl_tracker_reserve(&h->kit.tracker) == HL_E_OK)) {
        if (old.align <= malloc_promise(h, size ? size : 1)) {
            p = h->peer.f.realloc((void *)block, size ? size : 1); /* never 0: that would be a free */
        } else { /* realloc does not keep a stricter alignment: move by hand */
            p = raw_alloc(h, (hl_layout){size, old.align});
            if (p) {
                memcpy(p, (void *)block, old.size < size ? old.size : size);
                h->peer.f.free((void *)block);
            }
        }
    }
    if (p) {
        if (h->tracking) hl_tracker_moved(&h->kit.tracker, block, (hl_addr)p, size); /* cannot fail: reserved */
        hl_stats_resize(&h->kit.stats, old.size, size);
        note_size(h, old.size > size ? old.size : size);
    } else {
        hl_stats_fail(&h->kit.stats, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
    }
    unlock(h);
    return (hl_addr)p;
}

static size_t adapter_usable_size(hl_heap *h, hl_addr block, hl_layout layout)
{
    return h->peer.f.usable ? h->peer.f.usable((void *)block) : layout.size;
}

static hl_error adapter_check(hl_heap *h, char *message, size_t capacity)
{
    lock(h);
    read_footprint(h);
    const char *broken = h->peer.library_check ? h->peer.library_check() : NULL;
    unlock(h);
    if (broken) {
        snprintf(message, capacity, "%s", broken);
        return HL_E_CORRUPTED;
    }
    if (!h->tracking) return HL_E_OK; /* nothing tracked to check against */
    return hl_tracked_check(h, message, capacity);
}

static void adapter_stats(const hl_heap *heap, hl_stats *stats)
{
    hl_heap *h = (hl_heap *)heap; /* a due footprint sample updates the cached figures */
    lock(h);
    note_footprint(h);
    *stats = h->kit.stats;
    unlock(h);
}

/* scopes and free_all need the tracker: UNSUPPORTED under HL_HINT_CALLER_FREES */
static hl_error adapter_enter_scope(hl_heap *h, hl_scope *out)
{
    return h->tracking ? hl_tracked_enter_scope(h, out) : HL_E_UNSUPPORTED;
}
static hl_error adapter_exit_scope(hl_heap *h, hl_scope scope)
{
    return h->tracking ? hl_tracked_exit_scope(h, scope) : HL_E_UNSUPPORTED;
}
static hl_addr adapter_promote(hl_heap *h, hl_scope scope, hl_addr block, hl_layout layout, size_t n,
                               hl_error *error)
{
    if (h->tracking) return hl_tracked_promote(h, scope, block, layout, n, error);
    *error = HL_E_UNSUPPORTED;
    return 0;
}
/* every tracked block freed, then a library's PREFIXreset: back to empty */
static hl_error adapter_free_all(hl_heap *h)
{
    if (!h->tracking) return HL_E_UNSUPPORTED;
    hl_error e = hl_tracked_free_all(h);
    if (e == HL_E_OK && h->peer.library_reset) h->peer.library_reset();
    return e;
}

const hl_backend *hl_malloc_adapter_table(hl_backend *table, const char *name, const char *summary,
                                          const hl_option_doc *option_docs,
                                          hl_error (*create)(const hl_config *, hl_heap **))
{
    if (table->create) return table;
    static const hl_backend adapter = {
        sizeof(hl_backend), HL_CONTRACT_VERSION, NULL, HL_CLASS_FOREIGN, NULL, NULL, NULL, adapter_destroy,
        adapter_describe, adapter_alloc, adapter_free, adapter_realloc, adapter_usable_size, adapter_mem_view,
        hl_tracked_mem_copy, adapter_enter_scope, adapter_exit_scope, adapter_promote, adapter_free_all,
        NULL, NULL, NULL, NULL, adapter_stats, adapter_check};
    *table = adapter;
    table->name = name;
    table->summary = summary;
    table->option_docs = option_docs;
    table->create = create;
    return table;
}

/* ---------------------------------------------------------------- loading a peer */

const char *hl_malloc_break_mover;

#define TLS_HINT "(heaplab re-executes itself with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384; was it set?)"
#define MAX_ENTRIES 8

bool hl_malloc_bind(const hl_config *config, const char *name, const char *soname, void **lib,
                    const hl_malloc_entry *entries, size_t count)
{
    if (!*lib) *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL); /* stays loaded for the process */
    if (!*lib) {
        hl_config_say(config, "%s: cannot load %s: %s %s", name, soname, dlerror(), TLS_HINT);
        return false;
    }
    void *found[MAX_ENTRIES];
    for (size_t i = 0; i < count && i < MAX_ENTRIES; i++) {
        found[i] = dlsym(*lib, entries[i].symbol);
        if (!found[i]) {
            hl_config_say(config, "%s: the library does not export %s()", name, entries[i].symbol);
            return false;
        }
    }
    for (size_t i = 0; i < count && i < MAX_ENTRIES; i++) *entries[i].slot = found[i];
    return true;
}
