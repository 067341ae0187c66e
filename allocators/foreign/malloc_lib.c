/* malloc_lib.c: malloc:PREFIX@LIB, a malloc-style shared library heaplab loads
 * (dlopen) exporting PREFIXmalloc, PREFIXfree, PREFIXrealloc and, where present,
 * PREFIXaligned_alloc, PREFIXcalloc, PREFIXmalloc_usable_size, through the malloc
 * adapter. What is absent is declared absent: no aligned_alloc, no alignment above
 * min_align (UNSUPPORTED); no usable_size, the requested size. The footprint is the
 * live bytes (nothing more is known). run/spec.c turns the spec into the options lib=
 * and prefix=; such a backend always runs isolated. */
#include "backends.h"
#include "hl_kit.h"
#include "malloc_adapter.h"

#include <dlfcn.h>
#include <stdio.h>

typedef struct malloc_settings {
    const char *lib, *prefix;
    uint64_t min_align;
} malloc_settings;

#define MALLOC_OPTIONS(X)                                                                                        \
    X("lib", "", "the shared library (the spec malloc:PREFIX@LIB sets it)", HL_OPTION_TEXT, lib, 0, 0, NULL, 0) \
    X("prefix", "", "the prefix of its entry points (malloc:PREFIX@LIB sets it)", HL_OPTION_TEXT, prefix, 0, 0,  \
      NULL, 0)                                                                                                   \
    X("min_align", "16", "the alignment its malloc guarantees; above it only with PREFIXaligned_alloc",          \
      HL_OPTION_SIZE, min_align, 1, 4096, NULL, HL_OPTION_POWER_OF_TWO)

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

static hl_error malloc_create(const hl_config *config, hl_heap **out)
{
    malloc_settings s = {NULL, "", 16};
    if (hl_options_apply(config, "malloc", option_docs, option_rules, &s) != HL_E_OK) return HL_E_INVALID_ARGUMENT;
    if (!s.lib) return hl_config_say(config, "malloc: no library (spec: malloc:PREFIX@./libfoo.so)%s", ""), HL_E_INVALID_ARGUMENT;
    void *lib = dlopen(s.lib, RTLD_NOW | RTLD_LOCAL); /* stays loaded: its blocks may outlive an instance */
    if (!lib) return hl_config_say(config, "malloc: cannot load %s", dlerror()), HL_E_UNSUPPORTED;
    hl_malloc_peer peer = {"malloc", {0}, (size_t)s.min_align, NULL, NULL, NULL, NULL};
    hl_malloc_fns *f = &peer.f;
    *(void **)&f->malloc = entry(config, lib, &s, "malloc", true);
    *(void **)&f->free = f->malloc ? entry(config, lib, &s, "free", true) : NULL;
    *(void **)&f->realloc = f->free ? entry(config, lib, &s, "realloc", true) : NULL;
    if (!f->realloc) return HL_E_UNSUPPORTED;
    *(void **)&f->aligned = entry(config, lib, &s, "aligned_alloc", false);
    *(void **)&f->calloc = entry(config, lib, &s, "calloc", false);
    *(void **)&f->usable = entry(config, lib, &s, "malloc_usable_size", false);
    return hl_malloc_adapter_create(&peer, config, out);
}

const hl_backend *hl_backend_malloc_lib(void)
{
    static hl_backend table;
    return hl_malloc_adapter_table(&table, "malloc", "a malloc-style shared library: malloc:PREFIX@./libfoo.so",
                                   option_docs, malloc_create);
}
