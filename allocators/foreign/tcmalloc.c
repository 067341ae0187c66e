/* tcmalloc.c: gperftools' tcmalloc_minimal (Debian's libtcmalloc-minimal4) as a
 * foreign backend, through the malloc adapter. Opened RTLD_LOCAL on the first create
 * (it does not interpose on the process's malloc) and called through tc_malloc /
 * tc_free / tc_realloc / tc_memalign / tc_malloc_size. Footprint: MallocExtension
 * "generic.heap_size" less "tcmalloc.pageheap_unmapped_bytes", the whole process's
 * (one instance at a time). */
#include "backends.h"
#include "hl_kit.h"
#include "malloc_adapter.h"

#include <stdio.h>

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer's built-in suppressions (this file is linked wherever the registry
 * is): tcmalloc registers its MallocExtension with the process's operator new, which
 * ASan serves, once per process and never frees it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libtcmalloc_minimal.so\n"; }
#endif

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

static void *tc_aligned(size_t align, size_t size) { return tc.memalign(align, size); }
static size_t tc_usable(void *p) { return tc.size(p); }

static size_t tc_footprint(void)
{
    size_t heap = 0, unmapped = 0;
    tc.property("generic.heap_size", &heap);
    tc.property("tcmalloc.pageheap_unmapped_bytes", &unmapped);
    return heap > unmapped ? heap - unmapped : 0;
}

/* its smallest class is 8 bytes, 8-aligned: above that, the aligned entry */
/* malloc, free and realloc are the library's own, set when it is bound */
static hl_malloc_peer tc_peer = {.name = "tcmalloc", .f = {.aligned = tc_aligned, .usable = tc_usable}, .min_align = 8,
                                 .footprint = tc_footprint, .source = tc.source, .instance_live = &tc.live};

static hl_error tcmalloc_create(const hl_config *config, hl_heap **out)
{
    hl_error e = hl_options_apply(config, "tcmalloc", NULL, NULL, NULL); /* it has none */
    if (e != HL_E_OK) return e;
    if (!tc.source[0]) {
        const hl_malloc_entry entries[] = {
            HL_MALLOC_ENTRY("tc_malloc", tc.malloc), HL_MALLOC_ENTRY("tc_free", tc.free),
            HL_MALLOC_ENTRY("tc_realloc", tc.realloc), HL_MALLOC_ENTRY("tc_memalign", tc.memalign),
            HL_MALLOC_ENTRY("tc_malloc_size", tc.size), HL_MALLOC_ENTRY("MallocExtension_GetNumericProperty", tc.property),
            HL_MALLOC_ENTRY("tc_version", tc.version)};
        if (!hl_malloc_bind(config, "tcmalloc", "libtcmalloc_minimal.so.4", &tc.lib, entries, 7)) return HL_E_UNSUPPORTED;
        tc_peer.f.malloc = tc.malloc, tc_peer.f.free = tc.free, tc_peer.f.realloc = tc.realloc;
        hl_malloc_break_mover = "tcmalloc"; /* its system allocator takes memory with sbrk */
        const char *version = tc.version(NULL, NULL, NULL);
        snprintf(tc.source, sizeof tc.source, "%.40s tcmalloc_minimal (tc_malloc); footprint: heap_size - unmapped",
                 version ? version : "gperftools");
    }
    return hl_malloc_adapter_create(&tc_peer, config, out);
}

const hl_backend *hl_backend_tcmalloc(void)
{
    static hl_backend table;
    return hl_malloc_adapter_table(
        &table, "tcmalloc",
        "gperftools' tcmalloc_minimal through tc_malloc/tc_free (RTLD_LOCAL), footprint: heap - unmapped", NULL,
        tcmalloc_create);
}
