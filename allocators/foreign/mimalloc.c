/* mimalloc.c: mimalloc (Debian's libmimalloc2.0) as a foreign backend, through the
 * malloc adapter. Opened RTLD_LOCAL on the first create (it does not interpose on the
 * process's malloc) and called through mi_malloc / mi_free / mi_realloc /
 * mi_malloc_aligned / mi_usable_size. Footprint: mi_process_info's current commit, the
 * whole process's (one instance at a time). */
#include "backends.h"
#include "hl_kit.h"
#include "malloc_adapter.h"

#include <stdio.h>

static struct {
    void *lib;
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*realloc)(void *, size_t);
    void *(*malloc_aligned)(size_t, size_t);
    size_t (*usable)(const void *);
    void (*process_info)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *);
    int (*version)(void);
    char source[160];
    bool live;
} mi;

static void *mi_aligned(size_t align, size_t size) { return mi.malloc_aligned(size, align); }
static size_t mi_usable(void *p) { return mi.usable(p); }

static size_t mi_footprint(void)
{
    size_t elapsed, user, sys, rss, peak_rss, commit = 0, peak_commit, faults;
    mi.process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
    return commit;
}

/* its smallest class is 8 bytes, 8-aligned: above that, the aligned entry */
/* malloc, free and realloc are the library's own, set when it is bound */
static hl_malloc_peer mi_peer = {.name = "mimalloc", .f = {.aligned = mi_aligned, .usable = mi_usable}, .min_align = 8,
                                 .footprint = mi_footprint, .source = mi.source, .instance_live = &mi.live};

static hl_error mimalloc_create(const hl_config *config, hl_heap **out)
{
    hl_error e = hl_options_apply(config, "mimalloc", NULL, NULL, NULL); /* it has none */
    if (e != HL_E_OK) return e;
    if (!mi.source[0]) {
        const hl_malloc_entry entries[] = {
            HL_MALLOC_ENTRY("mi_malloc", mi.malloc), HL_MALLOC_ENTRY("mi_free", mi.free),
            HL_MALLOC_ENTRY("mi_realloc", mi.realloc), HL_MALLOC_ENTRY("mi_malloc_aligned", mi.malloc_aligned),
            HL_MALLOC_ENTRY("mi_usable_size", mi.usable), HL_MALLOC_ENTRY("mi_process_info", mi.process_info),
            HL_MALLOC_ENTRY("mi_version", mi.version)};
        if (!hl_malloc_bind(config, "mimalloc", "libmimalloc.so.2", &mi.lib, entries, 7)) return HL_E_UNSUPPORTED;
        mi_peer.f.malloc = mi.malloc, mi_peer.f.free = mi.free, mi_peer.f.realloc = mi.realloc;
        int version = mi.version();
        snprintf(mi.source, sizeof mi.source, "mimalloc %d.%d.%d (mi_malloc); footprint: mi_process_info commit",
                 version / 100, version / 10 % 10, version % 10);
    }
    return hl_malloc_adapter_create(&mi_peer, config, out);
}

const hl_backend *hl_backend_mimalloc(void)
{
    static hl_backend table;
    return hl_malloc_adapter_table(
        &table, "mimalloc", "mimalloc through mi_malloc/mi_free (Debian libmimalloc2.0, RTLD_LOCAL), footprint: commit",
        NULL, mimalloc_create);
}
