/* libc.c: the foreign backends over a malloc-style interface (malloc, free, realloc
 * and, where present, an aligned allocation and usable_size):
 *   libc                  the process's malloc (glibc here), posix_memalign above 16;
 *                         footprint from mallinfo2(); one instance per process
 *   malloc:PREFIX@LIB     a shared library heaplab loads (dlopen) exporting
 *                         PREFIXmalloc, PREFIXfree, PREFIXrealloc and, where present,
 *                         PREFIXaligned_alloc, PREFIXcalloc, PREFIXmalloc_usable_size;
 *                         what is absent is declared absent: no aligned_alloc, no
 *                         alignment above min_align (UNSUPPORTED); no usable_size, the
 *                         requested size. The footprint is the live bytes (nothing
 *                         more is known). spec.c turns the spec into options lib= and
 *                         prefix=; such a backend always runs isolated.
 * Thread safety (libc declares it; threaded replay relies on it): the adapter's own
 * state (the tracker, the stats) sits under one mutex, taken around bookkeeping only,
 * so the allocator's malloc and free run concurrently. A block leaves the tracker
 * before its free and joins it after its malloc returns; realloc runs under the
 * mutex, so its old address cannot be handed out and tracked by another thread
 * before the move is recorded.
 * Neither detects misuse: a malloc's own checks abort the process, which is not a
 * named error. Scopes, free_all and destroy go through the scope tracker, which
 * tracks every block; its memory comes from mmap, never from malloc, so it stays out
 * of the allocator's figures. */
#include "backends.h"
#include "hl_source.h"
#include "malloc_adapter.h"
#include "scope_tracker.h"

#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define LIBC_MIN_ALIGN 16u
#define LIBC_MAX_ALIGN 65536u

/* mallinfo2 walks every free chunk of every arena: O(heap), with a cache miss per
 * chunk (about as many as there are live blocks). So the footprint is a sample,
 * taken after 64 + 2 * live_blocks changes (amortised, half a miss per operation),
 * whenever the live bytes grow past the last sampled level by 64 KiB or a sixteenth
 * (so the peak is seen, in O(log) samples during a ramp), after scope exits and
 * free_all, and by check. */

typedef hl_malloc_fns malloc_fns;

struct hl_heap {
    pthread_mutex_t lock;  /* over everything below but f (see the top) */
    hl_tracker tracker;
    hl_stats stats;
    malloc_fns f;
    const hl_malloc_peer *peer; /* libc or a peer (peers.c): its own footprint figure, one
                                   instance; NULL for malloc:PREFIX@LIB */
    size_t min_align;      /* what malloc guarantees */
    size_t baseline;       /* peer->baseline() at create */
    unsigned countdown;
    uint64_t sampled_live; /* live bytes at the last sample */
    uint64_t limit;        /* larger requests fail here (see machine_limit) */
};

static size_t glibc_held(void)
{
    struct mallinfo2 info = mallinfo2();
    return info.arena + info.hblkhd;
}

/* The footprint is what glibc holds from the system less what others (heaplab's
 * libraries, an earlier instance's leftovers) hold live in it when the instance is
 * made: the free memory glibc keeps is this instance's to use and is counted, after
 * malloc_trim has given back what it can (so a run that follows another starts
 * from a heap as small as glibc can make it). */
static size_t glibc_baseline(void)
{
    malloc_trim(0);
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

static void note_footprint(hl_heap *h);

static void sample_footprint(hl_heap *h)
{
    if (!h->peer) return note_footprint(h);
    h->countdown = 64 + (unsigned)(h->stats.live_blocks * 2);
    h->sampled_live = h->stats.live_bytes;
    size_t held = h->peer->footprint();
    h->stats.footprint = held > h->baseline ? held - h->baseline : 0;
    if (h->stats.footprint > h->stats.peak_footprint) h->stats.peak_footprint = h->stats.footprint;
}

static void note_footprint(hl_heap *h)
{
    if (!h->peer) { /* a loaded library: its live bytes are all that is known */
        h->stats.footprint = h->stats.live_bytes;
        if (h->stats.footprint > h->stats.peak_footprint) h->stats.peak_footprint = h->stats.footprint;
        return;
    }
    uint64_t margin = h->sampled_live / 16 > 65536 ? h->sampled_live / 16 : 65536;
    if (h->countdown-- == 0 || h->stats.live_bytes > h->sampled_live + margin) sample_footprint(h);
}

/* A request above the machine's memory (RAM + swap) fails with OUT_OF_MEMORY in the
 * adapter, without calling the allocator: an allocator that maps lazily (jemalloc,
 * mimalloc) hands out 1 TiB at once, and the harness's pattern writes over it would
 * take the machine down. */
static uint64_t machine_limit(void)
{
    struct sysinfo info;
    if (sysinfo(&info) != 0) return UINT64_MAX;
    return ((uint64_t)info.totalram + (uint64_t)info.totalswap) * info.mem_unit;
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

static void *glibc_aligned(size_t align, size_t size)
{
    void *p = NULL;
    return posix_memalign(&p, align, size) == 0 ? p : NULL;
}

/* A raw block: malloc for the alignments it guarantees, the aligned entry above (its
 * size rounded up to the alignment, as C11's aligned_alloc asks). */
static void *raw_alloc(hl_heap *h, hl_layout layout)
{
    size_t size = layout.size ? layout.size : 1; /* a unique block even for size 0 */
    if (layout.align <= h->min_align) return h->f.malloc(size);
    if (size > SIZE_MAX - layout.align) return NULL;
    return h->f.aligned(layout.align, (size + layout.align - 1) & ~(layout.align - 1));
}

static void count_live(hl_heap *h, size_t size, int sign)
{
    h->stats.live_blocks += (uint64_t)(int64_t)sign;
    h->stats.live_bytes += (uint64_t)((int64_t)sign * (int64_t)size);
}

static hl_addr host_alloc(void *context, hl_layout layout, hl_caps caps)
{
    (void)caps; /* no capabilities here */
    void *p = raw_alloc(context, layout);
    if (p) count_live(context, layout.size, +1);
    return (hl_addr)p;
}
static void host_release(void *context, hl_addr block, hl_layout layout)
{
    ((hl_heap *)context)->f.free((void *)block);
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

static hl_error start(hl_heap **out, const malloc_fns *f, const hl_malloc_peer *peer, size_t min_align)
{
    hl_heap *h = tracker_get(NULL, sizeof *h);
    if (!h) return HL_E_OUT_OF_MEMORY;
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    h->f = *f;
    h->peer = peer;
    h->min_align = min_align;
    hl_tracker_memory memory = {h, tracker_get, tracker_put};
    hl_tracker_init(&h->tracker, memory, true, false);
    h->tracker.stats = &h->stats;
    h->baseline = peer && peer->baseline ? peer->baseline() : 0;
    h->countdown = 0; /* the first change samples */
    h->limit = machine_limit();
    *out = h;
    return HL_E_OK;
}

static char glibc_source[96];
static bool glibc_live; /* glibc has one heap per process */
static const hl_malloc_peer glibc_peer = {"libc", {malloc, free, realloc, glibc_aligned, calloc, malloc_usable_size},
                                          LIBC_MIN_ALIGN, glibc_held, glibc_baseline, glibc_source, &glibc_live};

static hl_error libc_create(const hl_config *config, hl_heap **out)
{
    if (config->option_count)
        return hl_config_say(config, "libc: unknown option '%s' (libc has none)%s", config->options[0].key, ""),
               HL_E_INVALID_ARGUMENT;
    if (!glibc_source[0])
        snprintf(glibc_source, sizeof glibc_source, "glibc %s (malloc); footprint: mallinfo2", gnu_get_libc_version());
    return hl_malloc_adapter_create(&glibc_peer, config, out);
}

/* The entry point PREFIX + name of lib, or NULL (message in config when required). */
static void *entry(const hl_config *config, void *lib, const char *lib_path, const char *prefix, const char *name,
                   bool required)
{
    char symbol[160];
    snprintf(symbol, sizeof symbol, "%s%s", prefix, name);
    void *p = dlsym(lib, symbol);
    if (!p && required) hl_config_say(config, "malloc: %s does not export %s()", lib_path, symbol);
    return p;
}

static hl_error malloc_create(const hl_config *config, hl_heap **out)
{
    const char *lib_path = NULL, *prefix = "";
    uint64_t min_align = LIBC_MIN_ALIGN;
    for (size_t i = 0; i < config->option_count; i++) {
        const char *key = config->options[i].key, *value = config->options[i].value;
        if (strcmp(key, "lib") == 0) lib_path = value;
        else if (strcmp(key, "prefix") == 0) prefix = value;
        else if (strcmp(key, "min_align") == 0 && hl_source_parse_size(value, &min_align) && hl_is_power_of_two(min_align) &&
                 min_align <= 4096)
            continue;
        else
            return hl_config_say(config, "malloc: bad option '%s=%s' (known: lib, prefix, min_align: a power of two up to 4096)",
                                 key, value),
                   HL_E_INVALID_ARGUMENT;
    }
    if (!lib_path) return hl_config_say(config, "malloc: no library (spec: malloc:PREFIX@./libfoo.so)%s", ""), HL_E_INVALID_ARGUMENT;
    void *lib = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL); /* stays loaded: its blocks may outlive an instance */
    if (!lib) return hl_config_say(config, "malloc: cannot load %s", dlerror()), HL_E_UNSUPPORTED;
    malloc_fns f;
    *(void **)&f.malloc = entry(config, lib, lib_path, prefix, "malloc", true);
    *(void **)&f.free = f.malloc ? entry(config, lib, lib_path, prefix, "free", true) : NULL;
    *(void **)&f.realloc = f.free ? entry(config, lib, lib_path, prefix, "realloc", true) : NULL;
    if (!f.realloc) return HL_E_UNSUPPORTED;
    *(void **)&f.aligned = entry(config, lib, lib_path, prefix, "aligned_alloc", false);
    *(void **)&f.calloc = entry(config, lib, lib_path, prefix, "calloc", false);
    *(void **)&f.usable = entry(config, lib, lib_path, prefix, "malloc_usable_size", false);
    return start(out, &f, NULL, (size_t)min_align);
}

static void libc_destroy(hl_heap *h)
{
    hl_tracker_host host = tracker_host(h);
    hl_tracker_each_live(&h->tracker, host.release, h); /* LeakSanitizer must see them freed */
    hl_tracker_release_memory(&h->tracker);
    if (h->peer) *h->peer->instance_live = false;
    pthread_mutex_destroy(&h->lock);
    tracker_put(NULL, h, sizeof *h);
}

static void libc_describe(const hl_heap *h, hl_info *info)
{
    memset(info, 0, sizeof *info);
    info->name = h->peer ? h->peer->name : "malloc";
    info->backend_class = HL_CLASS_FOREIGN;
    info->min_align = h->min_align;
    info->max_align = h->f.aligned ? LIBC_MAX_ALIGN : h->min_align;
    /* a loaded library's thread safety and in-place realloc are not known: not declared;
     * the peers are thread-safe mallocs that may grow a block in place */
    info->features = h->peer ? HL_FEATURE_INPLACE_REALLOC | HL_FEATURE_THREAD_SAFE : 0;
    info->source = h->peer ? h->peer->source : h->f.usable ? (h->f.calloc ? "library (usable_size, calloc)" : "library (usable_size)")
                                                    : h->f.calloc ? "library (calloc)" : "library";
    info->page_size = (size_t)sysconf(_SC_PAGESIZE);
}

static hl_addr fail(hl_heap *h, hl_stat_op op, hl_error *error, hl_error e)
{
    h->stats.failures[op]++;
    *error = e;
    return 0;
}

static void lock(const hl_heap *h) { pthread_mutex_lock((pthread_mutex_t *)&h->lock); }
static void unlock(const hl_heap *h) { pthread_mutex_unlock((pthread_mutex_t *)&h->lock); }

/* fail() under the lock, for the paths that hold none */
static hl_addr fail_locked(hl_heap *h, hl_stat_op op, hl_error *error, hl_error e)
{
    lock(h);
    h->stats.calls[op]++;
    fail(h, op, error, e);
    unlock(h);
    return 0;
}

static hl_addr libc_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    if (!hl_is_power_of_two(layout.align)) return fail_locked(h, HL_STAT_alloc, error, HL_E_INVALID_ARGUMENT);
    if (caps || layout.align > LIBC_MAX_ALIGN || (layout.align > h->min_align && !h->f.aligned))
        return fail_locked(h, HL_STAT_alloc, error, HL_E_UNSUPPORTED);
    void *p = layout.size > PTRDIFF_MAX || layout.size > h->limit ? NULL : raw_alloc(h, layout);
    lock(h);
    h->stats.calls[HL_STAT_alloc]++;
    if (p && hl_tracker_reserve(&h->tracker) != HL_E_OK) {
        h->f.free(p);
        p = NULL;
    }
    if (p) {
        hl_tracker_add(&h->tracker, (hl_addr)p, layout, caps);
        count_live(h, layout.size, +1);
        note_footprint(h);
    } else {
        fail(h, HL_STAT_alloc, error, HL_E_OUT_OF_MEMORY);
    }
    unlock(h);
    return (hl_addr)p;
}

static hl_error libc_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    lock(h);
    h->stats.calls[HL_STAT_free]++;
    if (block) {
        hl_tracker_remove(&h->tracker, block);
        count_live(h, layout.size, -1);
        note_footprint(h);
    }
    unlock(h);
    if (block) h->f.free((void *)block);
    return HL_E_OK;
}

static hl_addr libc_realloc(hl_heap *h, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    if (!block) return libc_alloc(h, (hl_layout){size, old.align}, HL_CAP_NONE, error);
    lock(h);
    h->stats.calls[HL_STAT_realloc]++;
    void *p = NULL;
    if (size <= PTRDIFF_MAX && size <= h->limit && hl_tracker_reserve(&h->tracker) == HL_E_OK) {
        if (old.align <= h->min_align) {
            p = h->f.realloc((void *)block, size ? size : 1); /* never 0: that would be a free */
        } else { /* realloc does not keep a stricter alignment: move by hand */
            p = raw_alloc(h, (hl_layout){size, old.align});
            if (p) {
                memcpy(p, (void *)block, old.size < size ? old.size : size);
                h->f.free((void *)block);
            }
        }
    }
    if (p) {
        hl_tracker_moved(&h->tracker, block, (hl_addr)p, size); /* cannot fail: reserved */
        h->stats.live_bytes += size - old.size;
        note_footprint(h);
    } else {
        fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
    }
    unlock(h);
    return (hl_addr)p;
}

static size_t libc_usable_size(hl_heap *h, hl_addr block, hl_layout layout)
{
    return h->f.usable ? h->f.usable((void *)block) : layout.size;
}

static void *libc_mem_view(hl_heap *h, hl_addr addr, size_t len)
{
    (void)h, (void)len; /* the process's memory: nothing to check it against */
    return (void *)addr;
}

static hl_error libc_mem_copy(hl_heap *h, hl_addr dst, hl_addr src, size_t n)
{
    lock(h);
    hl_error e = hl_copy_forward(&h->stats, (unsigned char *)dst, (const unsigned char *)src, n);
    unlock(h);
    return e;
}

static hl_error libc_enter_scope(hl_heap *h, hl_scope *out)
{
    lock(h);
    hl_error e = hl_tracker_enter(&h->tracker, out); /* the tracker counts the call */
    unlock(h);
    return e;
}

static hl_error libc_exit_scope(hl_heap *h, hl_scope scope)
{
    hl_tracker_host host = tracker_host(h);
    lock(h);
    hl_error e = hl_tracker_exit(&h->tracker, &host, scope);
    sample_footprint(h);
    unlock(h);
    return e;
}

static hl_addr libc_promote(hl_heap *h, hl_scope scope, hl_addr block, hl_layout layout, size_t n, hl_error *error)
{
    hl_tracker_host host = tracker_host(h);
    lock(h);
    hl_addr fresh = hl_tracker_promote(&h->tracker, &host, scope, block, layout, n, error);
    note_footprint(h);
    unlock(h);
    return fresh;
}

static hl_error libc_free_all(hl_heap *h)
{
    hl_tracker_host host = tracker_host(h);
    lock(h);
    h->stats.calls[HL_STAT_free_all]++;
    hl_tracker_each_live(&h->tracker, host.release, h);
    sample_footprint(h);
    unlock(h);
    return HL_E_OK;
}

static void libc_stats(const hl_heap *h, hl_stats *stats)
{
    lock(h);
    *stats = h->stats;
    unlock(h);
}

static hl_error libc_check(hl_heap *h, char *message, size_t capacity)
{
    lock(h);
    sample_footprint(h);
    hl_error e = HL_E_OK;
    if (h->tracker.live_blocks != h->stats.live_blocks) {
        snprintf(message, capacity, "tracker holds %llu blocks, stats say %llu",
                 (unsigned long long)h->tracker.live_blocks, (unsigned long long)h->stats.live_blocks);
        e = HL_E_CORRUPTED;
    }
    if (e == HL_E_OK) e = hl_tracker_check(&h->tracker, message, capacity);
    unlock(h);
    return e;
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

static const hl_option_doc malloc_options[] = {
    {"lib", "", "the shared library (the spec malloc:PREFIX@LIB sets it)"},
    {"prefix", "", "the prefix of its entry points (malloc:PREFIX@LIB sets it)"},
    {"min_align", "16", "the alignment its malloc guarantees; above it only with PREFIXaligned_alloc"},
    {NULL, NULL, NULL}};

const hl_backend *hl_backend_malloc_lib(void)
{
    static const hl_backend table = {
        sizeof(hl_backend), HL_CONTRACT_VERSION, "malloc", HL_CLASS_FOREIGN,
        "a malloc-style shared library: malloc:PREFIX@./libfoo.so",
        malloc_options, malloc_create, libc_destroy, libc_describe, libc_alloc, libc_free, libc_realloc,
        libc_usable_size, libc_mem_view, libc_mem_copy, libc_enter_scope, libc_exit_scope, libc_promote,
        libc_free_all, NULL, NULL, NULL, NULL, libc_stats, libc_check};
    return &table;
}

hl_error hl_malloc_adapter_create(const hl_malloc_peer *peer, const hl_config *config, hl_heap **out)
{
    if (*peer->instance_live)
        return hl_config_say(config, "%s: one instance per process (its statistics are the process's); %s", peer->name,
                             "destroy the other first"),
               HL_E_UNSUPPORTED;
    hl_error e = start(out, &peer->f, peer, peer->min_align);
    if (e != HL_E_OK) return e;
    *peer->instance_live = true;
    return HL_E_OK;
}

void hl_malloc_adapter_table(hl_backend *table)
{
    *table = *hl_backend_libc();
    table->option_docs = NULL;
}
