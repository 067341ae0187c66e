/* targets.c: what the micro-benchmarks measure (micro.h). The built-in backends come
 * from the registry and are called through their contract tables; the raw peers are
 * the mallocs themselves: glibc's malloc/free/realloc/aligned_alloc of the process,
 * and the libraries heaplab's peer backends load (allocators/foreign/), opened here
 * the same way (dlopen RTLD_NOW | RTLD_LOCAL: they do not take over the process's
 * malloc) and called through their own entry points:
 *   jemalloc  malloc, free, realloc, aligned_alloc of libjemalloc.so.2 (Debian's build
 *             has no je_ prefix; dlsym on its handle finds its own definitions, which
 *             dladdr confirms; the adapter calls mallocx/dallocx/rallocx instead)
 *   mimalloc  mi_malloc, mi_free, mi_realloc, mi_aligned_alloc
 *   tcmalloc  tc_malloc, tc_free, tc_realloc, tc_memalign */
#include "backends.h"
#include "micro.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TARGETS 32

static micro_target targets[MAX_TARGETS];
static size_t target_count;
static char skipped_text[MAX_TARGETS][512];
static const char *skipped[MAX_TARGETS];
static size_t skipped_count;
static bool made;

static void skip(const char *name, const char *why)
{
    if (skipped_count == MAX_TARGETS) return;
    snprintf(skipped_text[skipped_count], sizeof skipped_text[0], "%s: %s", name, why);
    fprintf(stderr, "bench-micro: skipping %s\n", skipped_text[skipped_count]);
    skipped[skipped_count] = skipped_text[skipped_count];
    skipped_count++;
}

void micro_reserve_tls(char **argv) { hl_registry_reserve_tls(argv); }

static hl_error create(const hl_backend *b, hl_heap **heap, char *message, size_t capacity, uint32_t hints)
{
    hl_config config = {0};
    config.hints = hints;
    config.error_message = message;
    config.error_capacity = capacity;
    message[0] = '\0';
    return b->create(&config, heap);
}

static void add_backend(const hl_backend *b)
{
    char message[300];
    hl_heap *heap = NULL;
    hl_error e = create(b, &heap, message, sizeof message, 0);
    if (e != HL_E_OK) {
        char why[480];
        snprintf(why, sizeof why, "create failed (%s)%s%s", hl_error_name(e), message[0] ? ": " : "", message);
        return skip(b->name, why);
    }
    hl_info info;
    b->describe(heap, &info);
    b->destroy(heap);
    micro_target *t = &targets[target_count++];
    snprintf(t->name, sizeof t->name, "%s", b->name);
    t->backend = b;
    t->linear = (info.features & HL_FEATURE_LINEAR_MEMORY) != 0;
}

static void *glibc_aligned(size_t align, size_t size) { return aligned_alloc(align, size); }

/* symbols: malloc, free, realloc, aligned (aligned_alloc's argument order) */
static void add_peer(const char *name, const char *soname, const char *const symbols[4])
{
    char label[32];
    snprintf(label, sizeof label, "raw:%s", name);
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL); /* kept loaded: the adapter shares it */
    if (!lib) {
        char why[480];
        const char *error = dlerror();
        snprintf(why, sizeof why, "cannot load %s: %s", soname, error ? error : "?");
        return skip(label, why);
    }
    void *found[4];
    for (int i = 0; i < 4; i++) {
        found[i] = dlsym(lib, symbols[i]);
        Dl_info where;
        if (!found[i] || !dladdr(found[i], &where) || !where.dli_fname || !strstr(where.dli_fname, soname)) {
            char why[480];
            snprintf(why, sizeof why, "%s does not define %s()", soname, symbols[i]);
            return skip(label, why);
        }
    }
    micro_target *t = &targets[target_count++];
    snprintf(t->name, sizeof t->name, "%s", label);
    /* function pointers seen as void * by dlsym (POSIX guarantees the round trip) */
    memcpy(&t->raw.malloc, &found[0], sizeof found[0]);
    memcpy(&t->raw.free, &found[1], sizeof found[1]);
    memcpy(&t->raw.realloc, &found[2], sizeof found[2]);
    memcpy(&t->raw.aligned, &found[3], sizeof found[3]);
}

micro_target *micro_targets(size_t *count)
{
    if (!made) {
        made = true;
        size_t n;
        const hl_backend *const *all = hl_registry(&n);
        for (size_t i = 0; i < n && target_count < MAX_TARGETS - 4; i++)
            if (!hl_registry_is_test_only(all[i]) && !hl_registry_on_request(all[i])) add_backend(all[i]);
        micro_target *t = &targets[target_count++];
        snprintf(t->name, sizeof t->name, "raw:libc");
        t->raw = (micro_raw){malloc, free, realloc, glibc_aligned};
        static const char *const je[4] = {"malloc", "free", "realloc", "aligned_alloc"};
        static const char *const mi[4] = {"mi_malloc", "mi_free", "mi_realloc", "mi_aligned_alloc"};
        static const char *const tc[4] = {"tc_malloc", "tc_free", "tc_realloc", "tc_memalign"};
        add_peer("jemalloc", "libjemalloc.so.2", je);
        add_peer("mimalloc", "libmimalloc.so.2", mi);
        add_peer("tcmalloc", "libtcmalloc_minimal.so.4", tc);
    }
    *count = target_count;
    return targets;
}

const char *const *micro_skipped(size_t *count)
{
    *count = skipped_count;
    return skipped;
}

const char *micro_open(micro_target *t, uint32_t hints)
{
    static char why[400];
    if (!t->backend || t->heap) return NULL;
    char message[300];
    hl_error e = create(t->backend, &t->heap, message, sizeof message, hints);
    if (e == HL_E_OK) return NULL;
    t->heap = NULL;
    snprintf(why, sizeof why, "create failed (%s)%s%s", hl_error_name(e), message[0] ? ": " : "", message);
    return why;
}

void micro_close(micro_target *t)
{
    if (t->backend && t->heap) t->backend->destroy(t->heap);
    t->heap = NULL;
}
