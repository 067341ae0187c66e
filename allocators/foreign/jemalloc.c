/* jemalloc.c: jemalloc (Debian's libjemalloc2) as a foreign backend, through the
 * malloc adapter. The library is opened RTLD_LOCAL on the first create, so it does not
 * interpose on the process's malloc, and called through the library's own malloc,
 * free and realloc (bound from its handle: the entry points a program that links it
 * calls, and those bench/yardstick.c times), mallocx for an alignment
 * (MALLOCX_LG_ALIGN) and sallocx for usable_size.
 * Footprint: mallctl "stats.mapped" after an "epoch" bump (the bytes of the extents it
 * holds mapped, dirty pages not yet purged included: at least the live bytes, where
 * stats.resident counts only the pages touched), the whole process's
 * (one instance at a time; a run in a fresh process starts from nothing held).
 * Debian's jemalloc uses initial-exec TLS: dlopen fails with "cannot allocate memory
 * in static TLS block" unless glibc reserved room at process start, which
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 does (heaplab re-executes
 * itself with it: hl_registry_reserve_tls). */
#include "backends.h"
#include "hl_kit.h"
#include "malloc_adapter.h"

#include <stdio.h>

static struct {
    void *lib;
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*realloc)(void *, size_t);
    void *(*mallocx)(size_t, int);
    size_t (*sallocx)(const void *, int);
    int (*mallctl)(const char *, void *, size_t *, void *, size_t);
    char source[160];
    bool live;
} je;

static void *je_aligned(size_t align, size_t size) { return je.mallocx(size, __builtin_ctzl(align)); }
static size_t je_usable(void *p) { return je.sallocx(p, 0); }

static size_t je_footprint(void)
{
    uint64_t epoch = 1;
    size_t mapped = 0, len = sizeof epoch;
    je.mallctl("epoch", &epoch, &len, &epoch, sizeof epoch); /* refreshes the statistics */
    len = sizeof mapped;
    if (je.mallctl("stats.mapped", &mapped, &len, NULL, 0) != 0) mapped = 0;
    return mapped;
}

/* its smallest class is 8 bytes, 8-aligned: above that, the aligned entry */
static hl_malloc_peer je_peer = {.name = "jemalloc", .f = {.aligned = je_aligned, .usable = je_usable}, .min_align = 8,
                                 .footprint = je_footprint, .source = je.source, .instance_live = &je.live};

static hl_error jemalloc_create(const hl_config *config, hl_heap **out)
{
    hl_error e = hl_options_apply(config, "jemalloc", NULL, NULL, NULL); /* it has none */
    if (e != HL_E_OK) return e;
    if (!je.source[0]) {
        const hl_malloc_entry entries[] = {
            HL_MALLOC_ENTRY("malloc", je.malloc),   HL_MALLOC_ENTRY("free", je.free),
            HL_MALLOC_ENTRY("realloc", je.realloc), HL_MALLOC_ENTRY("mallocx", je.mallocx),
            HL_MALLOC_ENTRY("sallocx", je.sallocx), HL_MALLOC_ENTRY("mallctl", je.mallctl)};
        if (!hl_malloc_bind(config, "jemalloc", "libjemalloc.so.2", &je.lib, entries, 6)) return HL_E_UNSUPPORTED;
        je_peer.f.malloc = je.malloc, je_peer.f.free = je.free, je_peer.f.realloc = je.realloc;
        const char *version = "?";
        size_t len = sizeof version;
        je.mallctl("version", &version, &len, NULL, 0);
        snprintf(je.source, sizeof je.source, "jemalloc %.40s (malloc); footprint: stats.mapped", version);
    }
    return hl_malloc_adapter_create(&je_peer, config, out);
}

const hl_backend *hl_backend_jemalloc(void)
{
    static hl_backend table;
    return hl_malloc_adapter_table(
        &table, "jemalloc", "jemalloc's own malloc/free/realloc (Debian libjemalloc2, RTLD_LOCAL), footprint: stats.mapped",
        NULL, jemalloc_create);
}
