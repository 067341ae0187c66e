/* backend_util.h: helpers the backend unit tests share: make an instance from a spec
 * string's options, allocate, fill and verify bytes through the backend's mem_view. */
#ifndef HL_BACKEND_UTIL_H
#define HL_BACKEND_UTIL_H

#include "backends.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct instance {
    const hl_backend *backend;
    hl_heap *heap;
    void *buffer;
    size_t buffer_size;
    char error[400];
} instance;

/* options: "key=value:key=value" or ""; static_size > 0 hands create a caller buffer. */
/* As make_instance, with the caller's HL_HINT_* promises in the config. */
static inline hl_error make_instance_hinted(instance *in, const hl_backend *backend, const char *options,
                                            size_t static_size, uint32_t hints)
{
    static char storage[16][64];
    hl_option opts[8];
    size_t count = 0;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", options);
    for (char *item = strtok(copy, ":"); item && count < 8; item = strtok(NULL, ":")) {
        char *eq = strchr(item, '=');
        snprintf(storage[2 * count], 64, "%.*s", (int)(eq ? eq - item : (long)strlen(item)), item);
        snprintf(storage[2 * count + 1], 64, "%s", eq ? eq + 1 : "");
        opts[count].key = storage[2 * count];
        opts[count].value = storage[2 * count + 1];
        count++;
    }
    memset(in, 0, sizeof *in);
    in->backend = backend;
    if (static_size) {
        in->buffer = mmap(NULL, static_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        in->buffer_size = static_size;
    }
    hl_config config = {opts, count, in->buffer, in->buffer_size, in->error, sizeof in->error, false, hints};
    return backend->create(&config, &in->heap);
}

static inline hl_error make_instance(instance *in, const hl_backend *backend, const char *options, size_t static_size)
{
    return make_instance_hinted(in, backend, options, static_size, 0);
}

static inline void drop_instance(instance *in)
{
    if (in->heap) in->backend->destroy(in->heap);
    if (in->buffer) munmap(in->buffer, in->buffer_size);
    in->heap = NULL;
}

static inline hl_addr alloc_in(instance *in, size_t size, size_t align)
{
    hl_error e = HL_E_OK;
    return in->backend->alloc(in->heap, (hl_layout){size, align}, HL_CAP_NONE, &e);
}

static inline void fill(instance *in, hl_addr block, size_t size, unsigned char seed)
{
    unsigned char *p = block ? in->backend->mem_view(in->heap, block, size ? size : 1) : NULL;
    for (size_t i = 0; p && i < size; i++) p[i] = (unsigned char)(seed + i * 7);
}

static inline bool holds(instance *in, hl_addr block, size_t size, unsigned char seed)
{
    unsigned char *p = block ? in->backend->mem_view(in->heap, block, size ? size : 1) : NULL;
    if (!p) return false;
    for (size_t i = 0; i < size; i++)
        if (p[i] != (unsigned char)(seed + i * 7)) return false;
    return true;
}

static inline hl_stats stats_of(instance *in)
{
    hl_stats s;
    in->backend->stats(in->heap, &s);
    return s;
}

static inline bool healthy(instance *in)
{
    char message[300] = "";
    hl_error e = in->backend->check(in->heap, message, sizeof message);
    if (e != HL_E_OK) fprintf(stderr, "  check: %s\n", message);
    return e == HL_E_OK;
}

/* The permissions /proc/self/maps gives the page holding addr ("rw-p", "---p", "r-xp"),
 * or "" if no mapping holds it. */
static inline const char *perms_of(hl_addr addr)
{
    static char perms[8];
    perms[0] = '\0';
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return perms;
    unsigned long long lo, hi;
    char p[8];
    while (fscanf(f, "%llx-%llx %7s%*[^\n]", &lo, &hi, p) == 3)
        if (addr >= lo && addr < hi) {
            snprintf(perms, sizeof perms, "%s", p);
            break;
        }
    fclose(f);
    return perms;
}

#endif
