/* malloc_lib.c: malloc:PREFIX@LIB[:option...], a malloc-style shared library heaplab
 * loads (dlopen) exporting PREFIXmalloc, PREFIXfree, PREFIXrealloc, through the malloc
 * adapter. What it may export besides, each used when present (README, "Backends from
 * outside the tree"; examples/malloc_lib/exmalloc.c has them all):
 *   PREFIXaligned_alloc(align, size)  alignments beyond what malloc promises;
 *   PREFIXmalloc_usable_size(p)       usable_size (absent: the requested size);
 *   PREFIXcalloc(n, size)             reported by describe (the contract has no calloc);
 *   PREFIXfootprint(void)             bytes held from the system: the footprint (absent:
 *                                     "not measured", HL_FEATURE_FOOTPRINT_UNKNOWN);
 *   PREFIXcheck(void)                 a heap walk: NULL, or a line saying what is broken
 *                                     (check's CORRUPTED);
 *   PREFIXreset(void)                 back to empty: free_all ends with it.
 * Its malloc(n) promises C's alignment for n bytes (the adapter's malloc_promise).
 * Options: min_align (the most malloc promises), thread_safe=1 (declares thread
 * safety), name=LABEL (the label in tables, plots and compare; default: the library's
 * file name without its directory). run/spec.c turns the spec into the options lib=
 * and prefix=; such a backend always runs isolated. */
#include "backends.h"
#include "hl_kit.h"
#include "malloc_adapter.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef struct malloc_settings {
    const char *lib, *prefix, *name;
    uint64_t min_align;
    unsigned thread_safe;
} malloc_settings;

#define MALLOC_OPTIONS(X)                                                                                        \
    X("lib", "", "the shared library (the spec malloc:PREFIX@LIB sets it)", HL_OPTION_TEXT, lib, 0, 0, NULL, 0) \
    X("prefix", "", "the prefix of its entry points (malloc:PREFIX@LIB sets it)", HL_OPTION_TEXT, prefix, 0, 0,  \
      NULL, 0)                                                                                                   \
    X("min_align", "16", "the most its malloc promises (C: min(this, the largest power of two <= n) for n bytes)", \
      HL_OPTION_SIZE, min_align, 1, 4096, NULL, HL_OPTION_POWER_OF_TWO)                                           \
    X("thread_safe", "0", "1: its entry points may be called from several threads at once", HL_OPTION_WORD,      \
      thread_safe, 0, 0, hl_option_flag_words, 0)                                                                \
    X("name", "", "the label in tables, plots and compare (default: the library's file name)", HL_OPTION_TEXT,   \
      name, 0, 0, NULL, 0)

#define HL_SETTINGS malloc_settings
static const hl_option_doc option_docs[] = {MALLOC_OPTIONS(HL_OPTION_DOC){NULL, NULL, NULL}};
static const hl_option_rule option_rules[] = {MALLOC_OPTIONS(HL_OPTION_RULE)};

/* The entry point PREFIX + name of lib, or NULL (message in config when required). */
static void *entry(const hl_config *config, void *lib, const malloc_settings *s, const char *name, bool required)
{
    char symbol[160];
    snprintf(symbol, sizeof symbol, "%s%s", s->prefix, name);
    void *p = dlsym(lib, symbol);
    if (!p && required) hl_config_say(config, "malloc: %s does not export %s()", s->lib, symbol);
    return p;
}

/* The last part of path: the label a library gets without name= */
static const char *file_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static hl_error malloc_create(const hl_config *config, hl_heap **out)
{
    malloc_settings s = {NULL, "", NULL, 16, 0};
    if (hl_options_apply(config, "malloc", option_docs, option_rules, &s) != HL_E_OK) return HL_E_INVALID_ARGUMENT;
    if (!s.lib) return hl_config_say(config, "malloc: no library (spec: malloc:PREFIX@./libfoo.so)%s", ""), HL_E_INVALID_ARGUMENT;
    void *lib = dlopen(s.lib, RTLD_NOW | RTLD_LOCAL); /* stays loaded: its blocks may outlive an instance */
    if (!lib) return hl_config_say(config, "malloc: cannot load %s", dlerror()), HL_E_UNSUPPORTED;
    hl_malloc_peer peer = {.name = "malloc", .min_align = (size_t)s.min_align};
    peer.library = true;
    peer.thread_safe = s.thread_safe == 1;
    peer.label = s.name && s.name[0] ? s.name : file_name(s.lib);
    hl_malloc_fns *f = &peer.f;
    *(void **)&f->malloc = entry(config, lib, &s, "malloc", true);
    *(void **)&f->free = f->malloc ? entry(config, lib, &s, "free", true) : NULL;
    *(void **)&f->realloc = f->free ? entry(config, lib, &s, "realloc", true) : NULL;
    if (!f->realloc) return HL_E_UNSUPPORTED;
    *(void **)&f->aligned = entry(config, lib, &s, "aligned_alloc", false);
    *(void **)&f->calloc = entry(config, lib, &s, "calloc", false);
    *(void **)&f->usable = entry(config, lib, &s, "malloc_usable_size", false);
    *(void **)&peer.library_footprint = entry(config, lib, &s, "footprint", false);
    *(void **)&peer.library_check = entry(config, lib, &s, "check", false);
    *(void **)&peer.library_reset = entry(config, lib, &s, "reset", false);
    peer.footprint = peer.library_footprint; /* NULL: the footprint is not measured */
    return hl_malloc_adapter_create(&peer, config, out);
}

const hl_backend *hl_backend_malloc_lib(void)
{
    static hl_backend table;
    return hl_malloc_adapter_table(&table, "malloc", "a malloc-style shared library: malloc:PREFIX@./libfoo.so",
                                   option_docs, malloc_create);
}
