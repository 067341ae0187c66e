/* spec.c: backend specs (`bins:source=static:size=1M,libc`, `refs`, `all`,
 * `./libfoo.so`, `malloc:PREFIX@./libfoo.so`) into backend tables, options and
 * instances. The one place that turns a name into a backend, so every subcommand
 * accepts the same grammar.
 *
 * Code loaded by path from outside the tree (a contract plugin, a malloc-style
 * library: its constructors, its getter, create and destroy) never runs in the
 * driver's own process: the spec is probed in an isolated child (hl_isolate), which
 * loads it, checks its table and makes and destroys an instance; the parent keeps
 * only the verdict. The table itself is loaded again, lazily, by hl_spec_create in
 * whichever child runs it, under the sandbox's seccomp filter (sandbox.c). */
#include "hl_run.h"
#include "backends.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define STATIC_DEFAULT_SIZE (1u << 20)

static int fail(hl_diag *diag, const char *fmt, const char *a, const char *b)
{
    snprintf(diag->message, sizeof diag->message, fmt, a, b);
    return -1;
}

/* Loads a contract plugin: a .so exporting heaplab_backend(). */
static const hl_backend *load_plugin(const char *path, hl_diag *diag)
{
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fail(diag, "backend '%s': cannot load plugin: %s", path, dlerror());
        return NULL;
    }
    const hl_backend *(*getter)(void);
    *(void **)&getter = dlsym(lib, HL_PLUGIN_SYMBOL);
    if (!getter) {
        char prefixes[4][HL_PREFIX_MAX], meant[400] = "";
        size_t n = hl_malloc_prefixes(path, prefixes, 4);
        for (size_t i = 0; i < n; i++)
            snprintf(meant + strlen(meant), sizeof meant - strlen(meant), "%smalloc:%s@%s", i ? " or " : "",
                     prefixes[i], path);
        snprintf(diag->message, sizeof diag->message,
                 "backend '%s': plugin does not export %s()%s%s%s", path, HL_PLUGIN_SYMBOL,
                 n ? "; it exports malloc, free and realloc: did you mean " : " (a contract plugin must; a "
                                                                              "malloc-style library is named "
                                                                              "malloc:PREFIX@LIB)",
                 meant, n ? "?" : "");
        return NULL;
    }
    const hl_backend *backend = getter();
    if (!backend) {
        fail(diag, "backend '%s': %s() returned no table", path, HL_PLUGIN_SYMBOL);
        return NULL;
    }
    if (backend->contract_version != HL_CONTRACT_VERSION || backend->struct_size < sizeof(hl_backend)) {
        char versions[128];
        snprintf(versions, sizeof versions, "contract version %u, table size %u; heaplab needs %u and %zu",
                 backend->contract_version, backend->struct_size, HL_CONTRACT_VERSION, sizeof(hl_backend));
        fail(diag, "backend '%s': plugin was built for another contract (%s)", path, versions);
        return NULL;
    }
    /* the mandatory entry points (seal, unseal and the cache hooks are optional) */
    const char *missing = !backend->name           ? "name"
                          : !backend->create       ? "create"
                          : !backend->destroy      ? "destroy"
                          : !backend->describe     ? "describe"
                          : !backend->alloc        ? "alloc"
                          : !backend->free         ? "free"
                          : !backend->realloc      ? "realloc"
                          : !backend->usable_size  ? "usable_size"
                          : !backend->mem_view     ? "mem_view"
                          : !backend->mem_copy     ? "mem_copy"
                          : !backend->enter_scope  ? "enter_scope"
                          : !backend->exit_scope   ? "exit_scope"
                          : !backend->promote      ? "promote"
                          : !backend->free_all     ? "free_all"
                          : !backend->stats        ? "stats"
                          : !backend->check        ? "check"
                                                   : NULL;
    if (missing) {
        fail(diag, "backend '%s': the plugin's table has no %s (a mandatory entry point is NULL)", path, missing);
        return NULL;
    }
    return backend;
}

/* The probe of a spec from outside the tree, in a child. */
typedef struct probe_answer {
    int ok;
    char message[600];
} probe_answer;

static int probe_child(void *context, hl_watch *watch, void *result)
{
    hl_spec *spec = context;
    probe_answer *answer = result;
    hl_diag diag;
    hl_watch_phase(watch, HL_PHASE_SETUP);
    hl_heap *heap = hl_spec_create(spec, &diag);
    if (!heap) {
        snprintf(answer->message, sizeof answer->message, "%s", diag.message);
        return 0;
    }
    hl_spec_destroy(spec, heap);
    answer->ok = 1;
    return 0;
}

static int probe(hl_spec *spec, hl_diag *diag);
int hl_spec_probe(hl_spec *spec, hl_diag *diag) { return probe(spec, diag); }

/* Loads, checks and instantiates an external spec in an isolated child: 0, or -1
 * with diag saying why (its own refusal, or how its code ended the child). */
static int probe(hl_spec *spec, hl_diag *diag)
{
    probe_answer answer = {0, ""};
    hl_isolation iso = {.timeout = 10};
    hl_isolated how;
    hl_isolate(probe_child, spec, &answer, sizeof answer, &iso, &how);
    spec->sandbox = (hl_sandbox_state)how.watch.sandbox;
    spec->sandbox_errno = how.watch.sandbox_errno;
    static bool noted; /* once per heaplab: the filter could not be installed */
    if (spec->sandbox == HL_SANDBOX_UNAVAILABLE && !noted) {
        noted = true;
        char why[200];
        hl_sandbox_why(spec->sandbox, spec->sandbox_errno, why, sizeof why);
        fprintf(stderr, "heaplab: note: %s runs NOT SANDBOXED: %s\n", spec->label, why);
    }
    if (how.end == HL_ISOLATED_RETURNED) {
        if (answer.ok) return 0;
        snprintf(diag->message, sizeof diag->message, "%s", answer.message);
        return -1;
    }
    if (how.end == HL_ISOLATED_FAILED) return fail(diag, "backend '%s': cannot probe it: %s", spec->text, how.error);
    hl_finding f;
    hl_isolated_finding(&how, "its code", iso.timeout, &f);
    snprintf(diag->message, sizeof diag->message,
             "backend '%.200s': loading it and making an instance went wrong, %s%s%.300s (nothing of it ran in heaplab)",
             spec->text, f.rule == HL_RULE_SANDBOX ? hl_rule_name(f.rule) : "", f.rule == HL_RULE_SANDBOX ? ": " : "",
             f.message);
    return -1;
}

static void add_option(hl_spec *spec, size_t *capacity, const char *key, const char *value)
{
    if (spec->option_count == *capacity) {
        *capacity = *capacity ? *capacity * 2 : 4;
        spec->options = hl_mem_realloc(spec->options, *capacity * sizeof *spec->options);
    }
    spec->options[spec->option_count].key = hl_mem_strdup(key);
    spec->options[spec->option_count].value = hl_mem_strdup(value);
    spec->option_count++;
}

/* malloc:PREFIX@LIB[:key=value...]: the malloc-style adapter with options prefix=,
 * lib= (LIB ends at the first ':') and the spec's own (name=, thread_safe=,
 * min_align=). The library is probed here once (in a child), so a missing file is
 * bad usage before anything runs. */
static int parse_malloc(const char *text, hl_spec *spec, bool probing, hl_diag *diag)
{
    const char *at = strchr(text, '@');
    if (!at || !at[1] || at[1] == ':')
        return fail(diag, "backend '%s': expected malloc:PREFIX@./libfoo.so[:name=LABEL] (PREFIX may be empty)%s", text,
                    "");
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%.*s", (int)(at - (text + 7)), text + 7);
    const char *lib_end = strchr(at + 1, ':');
    char *lib = hl_mem_strndup(at + 1, lib_end ? (size_t)(lib_end - (at + 1)) : strlen(at + 1));
    size_t capacity = 0;
    add_option(spec, &capacity, "prefix", prefix);
    add_option(spec, &capacity, "lib", lib);
    const char *slash = strrchr(lib, '/');
    const char *label = slash ? slash + 1 : lib;
    for (const char *rest = lib_end; rest && *rest;) {
        rest++;
        const char *next = strchr(rest, ':'), *eq = strchr(rest, '=');
        size_t len = next ? (size_t)(next - rest) : strlen(rest);
        if (!eq || eq == rest || (next && eq > next)) {
            char shown[128];
            snprintf(shown, sizeof shown, "%.*s", (int)len, rest);
            return fail(diag, "backend '%s': option '%s' is not key=value", text, shown);
        }
        char *key = hl_mem_strndup(rest, (size_t)(eq - rest)), *value = hl_mem_strndup(eq + 1, len - (size_t)(eq - rest) - 1);
        add_option(spec, &capacity, key, value);
        if (strcmp(key, "name") == 0 && value[0]) label = spec->options[spec->option_count - 1].value;
        hl_mem_free(key);
        hl_mem_free(value);
        rest = next;
    }
    spec->label = hl_mem_strdup(label);
    hl_mem_free(lib);
    spec->backend = hl_backend_malloc_lib();
    spec->external = true;
    return probing ? probe(spec, diag) : 0;
}

static int parse_one(const char *text, hl_spec *spec, bool probing, hl_diag *diag)
{
    memset(spec, 0, sizeof *spec);
    spec->text = hl_mem_strdup(text);
    spec->label = spec->text;
    if (text[0] == '.' || text[0] == '/') {
        const char *named = strstr(text, ":name=");
        if (named && !named[6]) return fail(diag, "backend '%s': name= is empty%s", text, "");
        spec->path = named ? hl_mem_strndup(text, (size_t)(named - text)) : spec->text;
        char *slash = strrchr(spec->path, '/');
        spec->label = named ? hl_mem_strdup(named + 6) : slash && slash[1] ? slash + 1 : spec->path;
        spec->backend = NULL; /* loaded by hl_spec_create, in the child that runs it */
        spec->external = true;
        return probing ? probe(spec, diag) : 0;
    }
    if (strncmp(text, "malloc:", 7) == 0) return parse_malloc(text, spec, probing, diag);
    char *copy = hl_mem_strdup(text);
    char *name = copy, *rest = strchr(copy, ':');
    if (rest) *rest++ = '\0';
    spec->backend = hl_registry_find(name);
    if (!spec->backend) {
        size_t count;
        const hl_backend *const *all = hl_registry(&count);
        char known[256] = "";
        for (size_t i = 0; i < count; i++) {
            if (hl_registry_is_test_only(all[i]) && strcmp(name, all[i]->name) != 0) continue;
            strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
            strncat(known, all[i]->name, sizeof known - strlen(known) - 1);
        }
        snprintf(diag->message, sizeof diag->message, "unknown backend '%s' (known: %s, refs, all; or a library: %s)",
                 name, known, HL_SPEC_LIBRARY_FORMS);
        return -1;
    }
    size_t capacity = 0;
    while (rest && *rest) {
        char *next = strchr(rest, ':');
        if (next) *next++ = '\0';
        char *eq = strchr(rest, '=');
        if (!eq || eq == rest)
            return fail(diag, "backend '%s': option '%s' is not key=value", text, rest);
        *eq = '\0';
        add_option(spec, &capacity, rest, eq + 1);
        rest = next;
    }
    hl_mem_free(copy);
    bool is_static = false;
    uint64_t size = STATIC_DEFAULT_SIZE;
    for (size_t i = 0; i < spec->option_count; i++) {
        if (strcmp(spec->options[i].key, "source") == 0) is_static = strcmp(spec->options[i].value, "static") == 0;
        if (strcmp(spec->options[i].key, "size") == 0 && !hl_parse_size(spec->options[i].value, &size))
            return fail(diag, "backend '%s': size='%s' is not a size", text, spec->options[i].value);
    }
    if (is_static) spec->static_size = (size_t)size;
    return 0;
}

static void push(hl_spec **out, size_t *count, size_t *capacity, const hl_spec *spec)
{
    if (*count == *capacity) {
        *capacity = *capacity ? *capacity * 2 : 8;
        *out = hl_mem_realloc(*out, *capacity * sizeof **out);
    }
    (*out)[(*count)++] = *spec;
}

int hl_spec_parse_list(const char *list, hl_spec **out, size_t *count, hl_diag *diag)
{
    *out = NULL;
    *count = 0;
    size_t capacity = 0;
    char *copy = hl_mem_strdup(list);
    int rc = 0;
    for (char *item = copy; item && rc == 0;) {
        char *next = strchr(item, ',');
        if (next) *next++ = '\0';
        if (!*item) {
            rc = fail(diag, "backend list '%s' has an empty entry", list, "");
            break;
        }
        if (strcmp(item, "refs") == 0 || strcmp(item, "all") == 0) {
            size_t n;
            const hl_backend *const *all = hl_registry(&n);
            for (size_t i = 0; i < n; i++) {
                if (hl_registry_is_test_only(all[i]) || hl_registry_on_request(all[i])) continue;
                if (item[0] == 'r' && all[i]->backend_class != HL_CLASS_REFERENCE) continue;
                hl_spec spec;
                if ((rc = parse_one(all[i]->name, &spec, true, diag)) == 0) push(out, count, &capacity, &spec);
            }
        } else {
            hl_spec spec;
            if ((rc = parse_one(item, &spec, true, diag)) == 0) push(out, count, &capacity, &spec);
        }
        item = next;
    }
    hl_mem_free(copy);
    if (rc == 0 && *count == 0) rc = fail(diag, "backend list '%s' names no backend", list, "");
    /* results are keyed by label: two different specs may not share one */
    for (size_t i = 0; rc == 0 && i < *count; i++)
        for (size_t j = i + 1; rc == 0 && j < *count; j++)
            if (strcmp((*out)[i].label, (*out)[j].label) == 0 && strcmp((*out)[i].text, (*out)[j].text) != 0) {
                snprintf(diag->message, sizeof diag->message,
                         "backends '%s' and '%s' are both called '%s' in the results: give one a name of its own "
                         "(%s:name=LABEL)", (*out)[i].text, (*out)[j].text, (*out)[i].label, (*out)[j].text);
                rc = -1;
            }
    return rc;
}

int hl_spec_parse_unprobed(const char *text, hl_spec *out, hl_diag *diag)
{
    if (!*text || strchr(text, ',') || strcmp(text, "refs") == 0 || strcmp(text, "all") == 0)
        return fail(diag, "'%s' is not one backend%s", text, "");
    return parse_one(text, out, false, diag);
}

/* Caller buffers handed to static-source instances, to unmap on destroy. */
typedef struct static_buffer {
    hl_heap *heap;
    void *memory;
    size_t size;
    struct static_buffer *next;
} static_buffer;
static static_buffer *buffers;

hl_heap *hl_spec_create(const hl_spec *spec, hl_diag *diag) { return hl_spec_create_hinted(spec, 0, diag); }

hl_heap *hl_spec_create_hinted(const hl_spec *spec, uint32_t hints, hl_diag *diag)
{
    if (spec->external) hl_sandbox_enter(); /* before any of its code: its constructors too */
    if (!spec->backend) { /* a plugin: loaded here, in the process that runs it */
        const hl_backend *loaded = load_plugin(spec->path, diag);
        if (!loaded) return NULL;
        ((hl_spec *)spec)->backend = loaded;
    }
    char reason[400] = "";
    hl_config config = {spec->options, spec->option_count, NULL, 0, reason, sizeof reason, hl_fault_available(), hints};
    if (spec->static_size) {
        config.buffer = mmap(NULL, spec->static_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (config.buffer == MAP_FAILED) {
            fail(diag, "backend '%s': cannot map a static buffer of %s bytes", spec->text, "size=");
            return NULL;
        }
        config.buffer_size = spec->static_size;
    }
    hl_heap *heap = NULL;
    hl_error e = spec->backend->create(&config, &heap);
    if (e != HL_E_OK || !heap) {
        if (config.buffer) munmap(config.buffer, config.buffer_size);
        snprintf(diag->message, sizeof diag->message, "backend '%s': %s (%s)", spec->text,
                 reason[0] ? reason : hl_error_text(e), hl_error_name(e));
        return NULL;
    }
    if (config.buffer) {
        static_buffer *b = hl_mem_alloc(sizeof *b);
        *b = (static_buffer){heap, config.buffer, config.buffer_size, buffers};
        buffers = b;
    }
    return heap;
}

void hl_spec_destroy(const hl_spec *spec, hl_heap *heap)
{
    spec->backend->destroy(heap);
    for (static_buffer **p = &buffers; *p; p = &(*p)->next) {
        if ((*p)->heap == heap) {
            static_buffer *b = *p;
            munmap(b->memory, b->size);
            *p = b->next;
            hl_mem_free(b);
            return;
        }
    }
}
