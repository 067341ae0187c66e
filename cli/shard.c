/* shard.c: `heaplab report --shard I/N`, the slice of the traces one shard runs
 * (cli.h). The split depends on the set of trace files only, never on the order they
 * were named in: the collected paths are sorted (byte order) and repeats dropped; then,
 * largest file first (equal sizes in path order), each trace goes to the shard with the
 * fewest bytes so far (equal: the one with fewer traces, then the lower number). So the
 * shards' work is balanced by file size (their totals differ by at most the largest
 * trace's size), every machine that sees the same files splits them the same way, and
 * N larger than the number of traces leaves the shards past it empty. A shard runs its
 * traces in path order, each on every backend. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { MAX_SHARDS = 1000000 };

/* A whole number of 1 to 9 digits at *text, advancing it; -1 if none. */
static long whole(const char **text)
{
    const char *p = *text;
    long value = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 10; p++, digits++) value = value * 10 + (*p - '0');
    if (digits == 0 || digits > 9) return -1;
    *text = p;
    return value;
}

int hl_cli_shard_parse(const char *command, const char *text, hl_cli_shard *shard)
{
    const char *p = text;
    long index = whole(&p);
    long count = index >= 0 && *p == '/' ? (p++, whole(&p)) : -1;
    if (index < 0 || count < 0 || *p)
        return hl_cli_usage_error(command, "--shard '%s' is not I/N (shard I of N, two whole numbers: 2/3)", text);
    if (count < 1 || count > MAX_SHARDS)
        return hl_cli_usage_error(command, "--shard '%s': N, the number of shards, goes from 1 to %d", text,
                                  MAX_SHARDS);
    if (index < 1 || index > count)
        return hl_cli_usage_error(command, "--shard '%s': there is no shard %ld of %ld (I goes from 1 to N)", text,
                                  index, count);
    shard->index = (unsigned)index;
    shard->count = (unsigned)count;
    return 0;
}

static int by_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef struct weighed {
    uint64_t bytes;
    size_t at; /* in the sorted set */
} weighed;

static int largest_first(const void *a, const void *b)
{
    const weighed *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

void hl_cli_shard_select(hl_cli_shard *shard, char **paths, size_t count)
{
    char **all = hl_mem_alloc(sizeof *all * (count ? count : 1));
    memcpy(all, paths, sizeof *all * count);
    qsort(all, count, sizeof *all, by_path);
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (n == 0 || strcmp(all[n - 1], all[i]) != 0) all[n++] = all[i];
    weighed *order = hl_mem_alloc(sizeof *order * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        order[i] = (weighed){stat(all[i], &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0, i};
    }
    qsort(order, n, sizeof *order, largest_first);
    /* only the first min(N, traces) shards can get one: a trace always goes to an empty shard first */
    size_t shards = shard->count < n ? shard->count : n;
    uint64_t *load = hl_mem_alloc(sizeof *load * (shards ? shards : 1));
    size_t *held = hl_mem_alloc(sizeof *held * (shards ? shards : 1));
    memset(load, 0, sizeof *load * (shards ? shards : 1));
    memset(held, 0, sizeof *held * (shards ? shards : 1));
    bool *mine = hl_mem_alloc(sizeof *mine * (n ? n : 1));
    for (size_t k = 0; k < n; k++) {
        size_t best = 0;
        for (size_t s = 1; s < shards; s++)
            if (load[s] < load[best] || (load[s] == load[best] && held[s] < held[best])) best = s;
        load[best] += order[k].bytes;
        held[best]++;
        mine[order[k].at] = best + 1 == shard->index;
    }
    shard->all = all;
    shard->all_count = n;
    shard->mine = hl_mem_alloc(sizeof *shard->mine * (n ? n : 1));
    shard->mine_count = 0;
    shard->bytes = 0;
    for (size_t i = 0; i < n; i++)
        if (mine[i]) shard->mine[shard->mine_count++] = all[i];
    for (size_t k = 0; k < n; k++)
        if (mine[order[k].at]) shard->bytes += order[k].bytes;
    hl_mem_free(order);
    hl_mem_free(load);
    hl_mem_free(held);
    hl_mem_free(mine);
}
