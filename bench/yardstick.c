/* yardstick.c: the hand-written loop heaplab's speed figures are checked against.
 * No heaplab code: it reads a trace in heaplab's text form (`heaplab convert --to
 * text`), keeps alloc, free and realloc (anything else is refused), gives each block
 * id a pointer slot (ids in order of first appearance), and then times one loop over
 * the pre-decoded operations that calls the allocator's own entry points and writes
 * the first byte of every block it gets, as heaplab's measure path does. A `fail=`
 * operation is not run (nor is it by heaplab's measure path).
 *
 *   yardstick [--lib libc|jemalloc|mimalloc|tcmalloc|null] [--in-process] TRACE.txt
 *
 * The loop runs twice over the trace in a forked child (as heaplab's timed runs do)
 * unless --in-process: cold, the allocator's first pass (its page faults included),
 * then, every block freed after each, warm passes (at least 3, until 20 ms, at most
 * 50, no more after 1 s; the median: the steady state heaplab's ops/s reports, by the
 * same rule). Prints
 * one JSON line: {"lib", "ops", "cold_ns", "warm_ns", "cold_ns_per_op", "ns_per_op"}
 * (ns_per_op: warm). jemalloc needs
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 in the environment. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { ALLOC, FREE, REALLOC };

typedef struct op {
    uint32_t kind;
    uint32_t slot;
    uint64_t size;
    uint64_t align;
} op;

typedef struct lib {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*realloc)(void *, size_t);
    void *(*aligned)(size_t, size_t); /* (align, size) */
} lib;

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "yardstick: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(2);
}

/* ---------------------------------------------------------------- entry points */

static void *bind(void *handle, const char *symbol)
{
    void *p = dlsym(handle, symbol);
    if (!p) die("missing symbol %s", symbol);
    return p;
}

/* --lib null: an allocator that does nothing (64 cache lines handed out in turn), the
 * loop's own cost, to set beside heaplab's null backend */
static _Alignas(4096) unsigned char null_lines[64 * 64 + 4096];
static unsigned null_next;
__attribute__((noinline)) static void *null_malloc(size_t size)
{
    (void)size;
    return &null_lines[(null_next++ % 64) * 64];
}
__attribute__((noinline)) static void null_free(void *p) { (void)p; }
__attribute__((noinline)) static void *null_realloc(void *p, size_t size)
{
    (void)p;
    return null_malloc(size);
}
__attribute__((noinline)) static void *null_aligned(size_t align, size_t size)
{
    (void)align;
    return null_malloc(size);
}

static lib open_lib(const char *name)
{
    lib l;
    if (strcmp(name, "null") == 0) {
        l.malloc = null_malloc, l.free = null_free, l.realloc = null_realloc, l.aligned = null_aligned;
        return l;
    }
    if (strcmp(name, "libc") == 0) {
        l.malloc = malloc, l.free = free, l.realloc = realloc, l.aligned = aligned_alloc;
        return l;
    }
    const char *soname = strcmp(name, "jemalloc") == 0   ? "libjemalloc.so.2"
                         : strcmp(name, "mimalloc") == 0 ? "libmimalloc.so.2"
                         : strcmp(name, "tcmalloc") == 0 ? "libtcmalloc_minimal.so.4"
                                                          : NULL;
    if (!soname) die("unknown --lib '%s' (libc, jemalloc, mimalloc, tcmalloc, null)", name);
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) die("cannot load: %s", dlerror());
    if (strcmp(name, "mimalloc") == 0) {
        l.malloc = bind(h, "mi_malloc"), l.free = bind(h, "mi_free"), l.realloc = bind(h, "mi_realloc");
        l.aligned = bind(h, "mi_aligned_alloc");
    } else if (strcmp(name, "tcmalloc") == 0) {
        l.malloc = bind(h, "tc_malloc"), l.free = bind(h, "tc_free"), l.realloc = bind(h, "tc_realloc");
        l.aligned = bind(h, "tc_memalign");
    } else {
        l.malloc = bind(h, "malloc"), l.free = bind(h, "free"), l.realloc = bind(h, "realloc");
        l.aligned = bind(h, "aligned_alloc");
    }
    return l;
}

/* ---------------------------------------------------------------- decoding */

/* The decoder's memory comes from mmap, never from malloc: glibc's malloc adapts its
 * mmap and trim thresholds to the blocks it has seen freed, so a decoder that used it
 * would leave glibc in another state than a fresh process's before the timed loop. */
static void *map_zeroed(size_t bytes)
{
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) die("%s", "out of memory");
    return p;
}
static void *map_grow(void *old, size_t old_bytes, size_t bytes)
{
    void *p = map_zeroed(bytes);
    if (old) memcpy(p, old, old_bytes), munmap(old, old_bytes);
    return p;
}

typedef struct idmap { /* open addressing, id + 1 as the key (0: empty) */
    uint64_t *keys;
    uint32_t *slots;
    size_t capacity, count;
} idmap;

static uint32_t slot_of(idmap *m, uint64_t id, uint32_t *next)
{
    if (2 * (m->count + 1) > m->capacity) {
        size_t capacity = m->capacity ? 2 * m->capacity : 1024;
        idmap bigger = {map_zeroed(capacity * 8), map_zeroed(capacity * 4), capacity, 0};
        for (size_t i = 0; i < m->capacity; i++) {
            if (!m->keys[i]) continue;
            size_t j = (m->keys[i] * 0x9E3779B97F4A7C15ull) & (bigger.capacity - 1);
            while (bigger.keys[j]) j = (j + 1) & (bigger.capacity - 1);
            bigger.keys[j] = m->keys[i], bigger.slots[j] = m->slots[i], bigger.count++;
        }
        if (m->capacity) munmap(m->keys, m->capacity * 8), munmap(m->slots, m->capacity * 4);
        *m = bigger;
    }
    size_t j = ((id + 1) * 0x9E3779B97F4A7C15ull) & (m->capacity - 1);
    while (m->keys[j] && m->keys[j] != id + 1) j = (j + 1) & (m->capacity - 1);
    if (!m->keys[j]) m->keys[j] = id + 1, m->slots[j] = (*next)++, m->count++;
    return m->slots[j];
}

static uint64_t number(const char *s, const char *path, size_t line)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s) {
        char where[600];
        snprintf(where, sizeof where, "%s:%zu: expected a number", path, line);
        die("%s", where);
    }
    uint64_t scale = *end == 'K' ? 1024 : *end == 'M' ? 1 << 20 : *end == 'G' ? 1ull << 30 : 1;
    return v * scale;
}

static op *decode(const char *path, size_t *count, uint32_t *slots)
{
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open %s", path);
    size_t capacity = 1 << 16, n = 0, line_no = 0;
    op *ops = map_zeroed(capacity * sizeof *ops);
    idmap ids = {0};
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line_no++;
        char word[32];
        unsigned long long id;
        int used;
        if (line[0] == '#' || line[0] == '\n' || strncmp(line, "heaplab-trace", 13) == 0 || strncmp(line, "end", 3) == 0)
            continue;
        if (sscanf(line, "%31s %llu%n", word, &id, &used) != 2) {
            char where[600];
            snprintf(where, sizeof where, "%s:%zu: not an operation this loop runs", path, line_no);
            die("%s", where);
        }
        if (strstr(line, " fail=")) continue;
        op o = {0, 0, 0, 1};
        const char *rest = line + used;
        if (strcmp(word, "alloc") == 0) {
            o.kind = ALLOC;
            o.size = number(rest, path, line_no);
            const char *align = strstr(rest, "align=");
            if (align) o.align = number(align + 6, path, line_no);
        } else if (strcmp(word, "free") == 0) {
            o.kind = FREE;
        } else if (strcmp(word, "realloc") == 0) {
            o.kind = REALLOC;
            o.size = number(rest, path, line_no);
        } else {
            char where[600];
            snprintf(where, sizeof where, "%s:%zu: '%s' is not alloc, free or realloc", path, line_no, word);
            die("%s", where);
        }
        o.slot = slot_of(&ids, id, slots);
        if (n == capacity) ops = map_grow(ops, capacity * sizeof *ops, 2 * capacity * sizeof *ops), capacity *= 2;
        ops[n++] = o;
    }
    fclose(f);
    *count = n;
    return ops;
}

/* ---------------------------------------------------------------- the loop */

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t run(const lib *l, const op *ops, size_t count, void **ptr)
{
    uint64_t start = now_ns();
    for (size_t i = 0; i < count; i++) {
        const op *o = &ops[i];
        void *p;
        switch (o->kind) {
        case ALLOC:
            p = o->align > 16 ? l->aligned(o->align, (o->size + o->align - 1) & ~(o->align - 1))
                              : l->malloc(o->size ? o->size : 1);
            if (p && o->size) *(volatile char *)p = 1;
            ptr[o->slot] = p;
            break;
        case FREE:
            l->free(ptr[o->slot]);
            ptr[o->slot] = NULL;
            break;
        default:
            p = l->realloc(ptr[o->slot], o->size ? o->size : 1);
            if (p) {
                if (o->size) *(volatile char *)p = 1;
                ptr[o->slot] = p;
            }
            break;
        }
    }
    uint64_t ns = now_ns() - start;
    return ns;
}

int main(int argc, char **argv)
{
    const char *name = "libc", *path = NULL;
    int in_process = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--lib") == 0 && i + 1 < argc) name = argv[++i];
        else if (strcmp(argv[i], "--in-process") == 0) in_process = 1;
        else if (argv[i][0] == '-') die("unknown option '%s' (usage: yardstick [--lib NAME] [--in-process] TRACE.txt)", argv[i]);
        else path = argv[i];
    }
    if (!path) die("%s", "usage: yardstick [--lib libc|jemalloc|mimalloc|tcmalloc] [--in-process] TRACE.txt");
    uint32_t slots = 0;
    size_t count;
    op *ops = decode(path, &count, &slots);
    /* the slot array and the result live outside the allocator under test */
    void **ptr = mmap(NULL, (slots + 1) * sizeof(void *), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t *shared = mmap(NULL, 16, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ptr == MAP_FAILED || shared == MAP_FAILED) die("%s", "cannot map the slot array");
    pid_t child = in_process ? 0 : fork();
    if (child == 0) {
        lib l = open_lib(name);
        memset(ptr, 0, (slots + 1) * sizeof(void *)); /* its pages are this process's before the clock starts */
        shared[0] = run(&l, ops, count, ptr); /* cold: the allocator's first pass */
        for (uint32_t s = 0; s < slots; s++) l.free(ptr[s]), ptr[s] = NULL;
        /* warm: the same again, at least 3 times and until 20 ms, at most 50 and no more
         * once they add up to 1 s; the median */
        uint64_t warm[50], total = 0;
        unsigned n = 0;
        while (n < 50 && (n < 3 || total < 20000000u) && total < 1000000000u) {
            warm[n] = run(&l, ops, count, ptr);
            total += warm[n++];
            for (uint32_t s = 0; s < slots; s++) l.free(ptr[s]), ptr[s] = NULL;
        }
        for (unsigned i = 1; i < n; i++)
            for (unsigned j = i; j > 0 && warm[j - 1] > warm[j]; j--) {
                uint64_t t = warm[j];
                warm[j] = warm[j - 1], warm[j - 1] = t;
            }
        shared[1] = n % 2 ? warm[n / 2] : (warm[n / 2 - 1] + warm[n / 2]) / 2;
        if (!in_process) _exit(0);
    } else {
        int status;
        if (child < 0 || waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            die("%s", "the timed child failed");
    }
    printf("{\"lib\": \"%s\", \"ops\": %zu, \"cold_ns\": %llu, \"warm_ns\": %llu, \"cold_ns_per_op\": %.3f, "
           "\"ns_per_op\": %.3f}\n",
           name, count, (unsigned long long)shared[0], (unsigned long long)shared[1],
           count ? (double)shared[0] / (double)count : 0.0, count ? (double)shared[1] / (double)count : 0.0);
    return 0;
}
