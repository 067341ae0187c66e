/* memory.c: the yardstick heaplab's memory figures are checked against: a program that
 * makes the same allocations as a benchmark trace directly through an allocator, with
 * no heaplab code between them, so that its peak RSS is the allocator's own memory
 * (bench/memory_bench.py reads it through bench/peak_rss.c and subtracts its slope from
 * heaplab's).
 *
 *   memory-yardstick [--backend libc|NAME[:key=value]...] [--shape live|churn] [--size BYTES] BLOCKS
 *
 * --backend libc    glibc's malloc, called directly (not heaplab's libc adapter, whose
 *                   bookkeeping is heaplab's share);
 * --backend NAME[:key=value]...
 *                   a built-in reference backend (bins, bins:detect=0, arena, ...)
 *                   through its contract table (libheaplab's registry), created with
 *                   those options and no hints, as heaplab's check path creates it.
 * --shape live      BLOCKS allocations, all left live (default);
 * --shape churn     BLOCKS times: one allocation, then its free (at most one block live).
 *
 * Every block's bytes are written once (heaplab's executor writes each block's
 * pattern), so the pages the allocator hands out are resident as they are in a replay.
 * The program keeps no pointer to the blocks it makes: an array of them would be the
 * program's bookkeeping, and that part (the block map) is what heaplab's share
 * measures. Prints one JSON line, {"backend", "shape", "blocks", "size",
 * "peak_rss_bytes"} (its own getrusage: it starts from the resident size of whatever
 * forked it, see peak_rss.c); exits 0, or 2 on bad usage or a failed allocation. */
#include "backends.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int usage(const char *why)
{
    fprintf(stderr, "memory-yardstick: %s\n"
                    "usage: memory-yardstick [--backend libc|NAME[:key=value]...] [--shape live|churn] [--size BYTES] BLOCKS\n",
            why);
    return 2;
}

/* Where each block's address goes, so the compiler keeps every allocation. */
static void *volatile last_block;

static int failed(const char *backend, unsigned long long i)
{
    fprintf(stderr, "memory-yardstick: %s: allocation %llu failed\n", backend, i + 1);
    return 2;
}

/* glibc's malloc, directly */
static int run_libc(bool churn, size_t size, unsigned long long blocks)
{
    for (unsigned long long i = 0; i < blocks; i++) {
        unsigned char *p = malloc(size ? size : 1);
        if (!p) return failed("libc", i);
        memset(p, 0xA5, size);
        last_block = p;
        if (churn) free(p);
    }
    return 0;
}

/* a built-in backend, through its contract table; spec is NAME[:key=value]... */
static int run_table(char *spec, bool churn, size_t size, unsigned long long blocks)
{
    hl_option options[8];
    size_t option_count = 0;
    const char *name = strtok(spec, ":");
    for (char *kv; (kv = strtok(NULL, ":"));) {
        char *eq = strchr(kv, '=');
        if (!eq || option_count == 8) return usage("a backend option is key=value, at most 8 of them");
        *eq = '\0';
        options[option_count++] = (hl_option){kv, eq + 1};
    }
    const hl_backend *b = name ? hl_registry_find(name) : NULL;
    if (!b) return usage("unknown --backend (libc, or a built-in reference backend: bins, arena, ...)");
    /* a foreign backend's table is heaplab's adapter: its bookkeeping is heaplab's share */
    if (b->backend_class != HL_CLASS_REFERENCE) return usage("of the foreign backends only libc is measured (directly)");
    char reason[256] = "";
    hl_config config = {options, option_count, NULL, 0, reason, sizeof reason, false, 0};
    hl_heap *heap;
    hl_error e = b->create(&config, &heap);
    if (e != HL_E_OK) {
        fprintf(stderr, "memory-yardstick: %s: cannot create: %s %s\n", name, hl_error_name(e), reason);
        return 2;
    }
    hl_layout layout = {size, 1};
    for (unsigned long long i = 0; i < blocks; i++) {
        hl_addr a = b->alloc(heap, layout, HL_CAP_NONE, &e);
        if (!a) return failed(name, i);
        if (size) memset(b->mem_view(heap, a, size), 0xA5, size);
        if (churn && b->free(heap, a, layout) != HL_E_OK) return failed(name, i);
    }
    return 0; /* not destroyed: the process ends with the blocks live, as a replay's peak */
}

int main(int argc, char **argv)
{
    const char *backend = "libc";
    const char *shape = "live", *count = NULL;
    unsigned long long size = 16;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--backend") == 0 && a + 1 < argc) backend = argv[++a];
        else if (strcmp(argv[a], "--shape") == 0 && a + 1 < argc) shape = argv[++a];
        else if (strcmp(argv[a], "--size") == 0 && a + 1 < argc) size = strtoull(argv[++a], NULL, 10);
        else if (argv[a][0] == '-' || count) return usage("unknown argument");
        else count = argv[a];
    }
    char *end;
    unsigned long long blocks = count ? strtoull(count, &end, 10) : 0;
    if (!count || *end || blocks == 0) return usage("BLOCKS must be a positive number");
    bool churn = strcmp(shape, "churn") == 0;
    if (!churn && strcmp(shape, "live") != 0) return usage("--shape must be live or churn");
    if (size > 1u << 20) return usage("--size must be at most 1 MiB");
    char name[256];
    snprintf(name, sizeof name, "%s", backend); /* run_table cuts its copy into options */
    int rc = strcmp(backend, "libc") == 0 ? run_libc(churn, (size_t)size, blocks)
                                          : run_table(name, churn, (size_t)size, blocks);
    if (rc) return rc;
    struct rusage usage_self;
    getrusage(RUSAGE_SELF, &usage_self);
    printf("{\"backend\": \"%s\", \"shape\": \"%s\", \"blocks\": %llu, \"size\": %llu, \"peak_rss_bytes\": %lld}\n",
           backend, shape, blocks, size, (long long)usage_self.ru_maxrss * 1024);
    return 0;
}
