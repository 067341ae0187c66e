/* peers.c: the allocators people use, as foreign backends beside libc: jemalloc,
 * mimalloc and tcmalloc (Debian's libjemalloc2, libmimalloc2.0, libtcmalloc-minimal4).
 *
 * Several live in one heaplab process without taking over its malloc: each library
 * is opened with dlopen(RTLD_LOCAL) on the first create, so its malloc, free, ... do
 * not interpose on the process's (glibc keeps serving heaplab and the other
 * backends), and the adapter calls it through its own non-overriding entry points:
 *   jemalloc  mallocx / dallocx / rallocx / sallocx (alignment as MALLOCX_LG_ALIGN);
 *             footprint: mallctl "stats.resident" after an "epoch" bump
 *   mimalloc  mi_malloc / mi_free / mi_realloc / mi_malloc_aligned / mi_usable_size;
 *             footprint: mi_process_info's current commit
 *   tcmalloc  tc_malloc / tc_free / tc_realloc / tc_memalign / tc_malloc_size;
 *             footprint: MallocExtension "generic.heap_size" less
 *             "tcmalloc.pageheap_unmapped_bytes"
 * Debian's jemalloc uses initial-exec TLS: dlopen fails with "cannot allocate memory
 * in static TLS block" unless glibc reserved room at process start, which
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 does (heaplab re-executes
 * itself with it: cli/main.c). The adapter (libc.c) does the rest: tracking, scopes,
 * stats, the footprint sampled as for glibc. Each figure is the allocator's own, for
 * the whole process: one instance per peer at a time, and a run in a fresh process
 * (--isolate) starts from an allocator that holds nothing. */
#include "backends.h"
#include "hl_source.h"
#include "malloc_adapter.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer's built-in suppressions (this file is linked wherever the registry
 * is): tcmalloc registers its MallocExtension with the process's operator new, which
 * ASan serves, once per process and never frees it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libtcmalloc_minimal.so\n"; }
#endif

#define TLS_HINT "(heaplab re-executes itself with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384; was it set?)"

/* The library, opened once per process; NULL with a message in config on failure. */
static void *open_library(const hl_config *config, const char *name, const char *soname, void **handle)
{
    if (*handle) return *handle;
    *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL); /* stays loaded for the process */
    if (!*handle) hl_config_say(config, "%s: cannot load %s: %s %s", name, soname, dlerror(), TLS_HINT);
    return *handle;
}

/* An entry point and where its address goes (a function pointer, seen as void *). */
typedef struct entry {
    const char *symbol;
    void **slot;
} entry;
#define ENTRY(symbol, field) {symbol, (void **)&(field)}
#define MAX_ENTRIES 8

/* Opens the library (once) and binds every entry, all or none; false with a message
 * in config if the library does not load or lacks one of them. */
static bool bind(const hl_config *config, const char *name, const char *soname, void **lib, const entry *entries,
                 size_t count)
{
    if (!open_library(config, name, soname, lib)) return false;
    void *found[MAX_ENTRIES];
    for (size_t i = 0; i < count; i++) {
        found[i] = dlsym(*lib, entries[i].symbol);
        if (!found[i]) {
            hl_config_say(config, "%s: the library does not export %s()", name, entries[i].symbol);
            return false;
        }
    }
    for (size_t i = 0; i < count; i++) *entries[i].slot = found[i];
    return true;
}

static hl_error no_options(const hl_config *config, const char *name)
{
    if (!config->option_count) return HL_E_OK;
    hl_config_say(config, "%s: unknown option '%s' (%s has none)", name, config->options[0].key, name);
    return HL_E_INVALID_ARGUMENT;
}

/* ---------------------------------------------------------------- jemalloc */

static struct {
    void *lib;
    void *(*mallocx)(size_t, int);
    void (*dallocx)(void *, int);
    void *(*rallocx)(void *, size_t, int);
    size_t (*sallocx)(const void *, int);
    int (*mallctl)(const char *, void *, size_t *, void *, size_t);
    char source[160];
    bool live;
} je;

static void *je_malloc(size_t size) { return je.mallocx(size, 0); }
static void je_free(void *p) { je.dallocx(p, 0); }
static void *je_realloc(void *p, size_t size) { return je.rallocx(p, size, 0); }
static void *je_aligned(size_t align, size_t size) { return je.mallocx(size, __builtin_ctzl(align)); }
static size_t je_usable(void *p) { return je.sallocx(p, 0); }

static size_t je_footprint(void)
{
    uint64_t epoch = 1;
    size_t resident = 0, len = sizeof epoch;
    je.mallctl("epoch", &epoch, &len, &epoch, sizeof epoch); /* refreshes the statistics */
    len = sizeof resident;
    if (je.mallctl("stats.resident", &resident, &len, NULL, 0) != 0) resident = 0;
    return resident;
}

static hl_malloc_peer je_peer = {"jemalloc", {je_malloc, je_free, je_realloc, je_aligned, NULL, je_usable}, 8,
                                 je_footprint, NULL, je.source, &je.live};

static hl_error jemalloc_create(const hl_config *config, hl_heap **out)
{
    hl_error e = no_options(config, "jemalloc");
    if (e != HL_E_OK) return e;
    if (!je.source[0]) {
        const entry entries[] = {ENTRY("mallocx", je.mallocx), ENTRY("dallocx", je.dallocx), ENTRY("rallocx", je.rallocx),
                                 ENTRY("sallocx", je.sallocx), ENTRY("mallctl", je.mallctl)};
        if (!bind(config, "jemalloc", "libjemalloc.so.2", &je.lib, entries, 5)) return HL_E_UNSUPPORTED;
        const char *version = "?";
        size_t len = sizeof version;
        je.mallctl("version", &version, &len, NULL, 0);
        snprintf(je.source, sizeof je.source, "jemalloc %.40s (mallocx); footprint: stats.resident", version);
    }
    return hl_malloc_adapter_create(&je_peer, config, out);
}

/* ---------------------------------------------------------------- mimalloc */

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

static void *mi_malloc_entry(size_t size) { return mi.malloc(size); }
static void mi_free_entry(void *p) { mi.free(p); }
static void *mi_realloc_entry(void *p, size_t size) { return mi.realloc(p, size); }

static hl_malloc_peer mi_peer = {"mimalloc", {mi_malloc_entry, mi_free_entry, mi_realloc_entry, mi_aligned, NULL, mi_usable},
                                 8, mi_footprint, NULL, mi.source, &mi.live};

static hl_error mimalloc_create(const hl_config *config, hl_heap **out)
{
    hl_error e = no_options(config, "mimalloc");
    if (e != HL_E_OK) return e;
    if (!mi.source[0]) {
        const entry entries[] = {ENTRY("mi_malloc", mi.malloc), ENTRY("mi_free", mi.free), ENTRY("mi_realloc", mi.realloc),
                                 ENTRY("mi_malloc_aligned", mi.malloc_aligned), ENTRY("mi_usable_size", mi.usable),
                                 ENTRY("mi_process_info", mi.process_info), ENTRY("mi_version", mi.version)};
        if (!bind(config, "mimalloc", "libmimalloc.so.2", &mi.lib, entries, 7)) return HL_E_UNSUPPORTED;
        int version = mi.version();
        snprintf(mi.source, sizeof mi.source, "mimalloc %d.%d.%d (mi_malloc); footprint: mi_process_info commit",
                 version / 100, version / 10 % 10, version % 10);
    }
    return hl_malloc_adapter_create(&mi_peer, config, out);
}

/* ---------------------------------------------------------------- tcmalloc */

static struct {
    void *lib;
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*realloc)(void *, size_t);
    void *(*memalign)(size_t, size_t);
    size_t (*size)(void *);
    int (*property)(const char *, size_t *);
    const char *(*version)(int *, int *, int *);
    char source[160];
    bool live;
} tc;

static void *tc_malloc_entry(size_t size) { return tc.malloc(size); }
static void tc_free_entry(void *p) { tc.free(p); }
static void *tc_realloc_entry(void *p, size_t size) { return tc.realloc(p, size); }
static void *tc_aligned(size_t align, size_t size) { return tc.memalign(align, size); }
static size_t tc_usable(void *p) { return tc.size(p); }

static size_t tc_footprint(void)
{
    size_t heap = 0, unmapped = 0;
    tc.property("generic.heap_size", &heap);
    tc.property("tcmalloc.pageheap_unmapped_bytes", &unmapped);
    return heap > unmapped ? heap - unmapped : 0;
}

/* the three guarantee 8 bytes (their smallest class is 8 bytes, 8-aligned): above
 * that, the aligned entry */
static hl_malloc_peer tc_peer = {"tcmalloc", {tc_malloc_entry, tc_free_entry, tc_realloc_entry, tc_aligned, NULL, tc_usable},
                                 8, tc_footprint, NULL, tc.source, &tc.live};

static hl_error tcmalloc_create(const hl_config *config, hl_heap **out)
{
    hl_error e = no_options(config, "tcmalloc");
    if (e != HL_E_OK) return e;
    if (!tc.source[0]) {
        const entry entries[] = {ENTRY("tc_malloc", tc.malloc), ENTRY("tc_free", tc.free), ENTRY("tc_realloc", tc.realloc),
                                 ENTRY("tc_memalign", tc.memalign), ENTRY("tc_malloc_size", tc.size),
                                 ENTRY("MallocExtension_GetNumericProperty", tc.property), ENTRY("tc_version", tc.version)};
        if (!bind(config, "tcmalloc", "libtcmalloc_minimal.so.4", &tc.lib, entries, 7)) return HL_E_UNSUPPORTED;
        const char *version = tc.version(NULL, NULL, NULL);
        snprintf(tc.source, sizeof tc.source, "%.40s tcmalloc_minimal (tc_malloc); footprint: heap_size - unmapped",
                 version ? version : "gperftools");
    }
    return hl_malloc_adapter_create(&tc_peer, config, out);
}

/* ---------------------------------------------------------------- tables */

static const hl_backend *table_of(hl_backend *table, const char *name, const char *summary,
                                  hl_error (*create)(const hl_config *, hl_heap **))
{
    if (!table->create) {
        hl_malloc_adapter_table(table);
        table->name = name;
        table->summary = summary;
        table->create = create;
    }
    return table;
}

const hl_backend *hl_backend_jemalloc(void)
{
    static hl_backend table;
    return table_of(&table, "jemalloc", "jemalloc through mallocx/dallocx (Debian libjemalloc2, RTLD_LOCAL), footprint: stats.resident",
                    jemalloc_create);
}

const hl_backend *hl_backend_mimalloc(void)
{
    static hl_backend table;
    return table_of(&table, "mimalloc", "mimalloc through mi_malloc/mi_free (Debian libmimalloc2.0, RTLD_LOCAL), footprint: commit",
                    mimalloc_create);
}

const hl_backend *hl_backend_tcmalloc(void)
{
    static hl_backend table;
    return table_of(&table, "tcmalloc", "gperftools' tcmalloc_minimal through tc_malloc/tc_free (RTLD_LOCAL), footprint: heap - unmapped",
                    tcmalloc_create);
}
