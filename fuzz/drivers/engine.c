/* engine.c: the built-in fuzzer. Input n of a campaign is made from (seed, n): half
 * of them fresh random bytes (hl_fuzz_input), half a mutation (bit flips, interesting
 * bytes, inserts, deletes, copies, splices) of an entry of the corpus. The corpus
 * starts with the files of options->corpus (the shipped traces, encoded) and keeps
 * every input that made some backend answer some kind of operation with an outcome
 * (an error, or success) not seen before: behaviour coverage, the feedback. A forked
 * child (hl_isolate) runs inputs one after another (the diff target) and publishes,
 * in shared memory, the input in flight (its number and bytes), the operation kinds
 * seen and a finding's summary; the corpus lives there too, so it outlives a child.
 * The child's watch names the lane (backend) and operation in flight. The parent
 * shows progress, turns a child's death or exit into CRASH and a child that stops
 * progressing into HANG (both naming the backend and operation), writes each distinct
 * finding, and with keep_going starts a new child. */
#include "hl_fuzz.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

size_t hl_fuzz_input(uint64_t seed, uint64_t n, uint8_t *buf, size_t max_len)
{
    uint64_t state = seed * 0x2545f4914f6cdd1dULL + n;
    size_t len = max_len ? (size_t)(splitmix(&state) % max_len) + 1 : 0;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t word = splitmix(&state);
        for (size_t j = 0; j < 8 && i + j < len; j++) buf[i + j] = (uint8_t)(word >> (8 * j));
    }
    return len;
}

#define CORPUS_ENTRIES 4096
#define CORPUS_BYTES (8u << 20)

typedef struct corpus {
    uint32_t count;
    uint64_t used;                    /* bytes of `bytes` in use */
    uint64_t offset[CORPUS_ENTRIES];
    uint32_t length[CORPUS_ENTRIES];
    uint64_t outcomes[HL_OP_COUNT];   /* every (kind, outcome) seen so far */
    unsigned char bytes[CORPUS_BYTES];
} corpus;

typedef struct shared {
    volatile uint64_t current;  /* input in flight */
    volatile uint64_t done;     /* inputs finished */
    volatile uint32_t kinds;
    volatile int found;         /* the child stopped on a finding of its own */
    volatile uint64_t ignored;  /* ignored findings (--ignore), over the inputs done */
    hl_diff_summary summary;
    size_t input_len;           /* the bytes of the input in flight */
    corpus corpus;
    unsigned char input[];
} shared;

static void corpus_add(corpus *c, const uint8_t *bytes, size_t len)
{
    if (c->count == CORPUS_ENTRIES || len > CORPUS_BYTES - c->used) return;
    c->offset[c->count] = c->used;
    c->length[c->count++] = (uint32_t)len;
    memcpy(c->bytes + c->used, bytes, len);
    c->used += len;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The files of dir (in name order) become the first corpus entries. */
static int corpus_load(corpus *c, const char *dir, size_t max_len)
{
    DIR *d = opendir(dir);
    if (!d) return fprintf(stderr, "heaplab: --corpus %s: %s\n", dir, strerror(errno)), -1;
    char *names[CORPUS_ENTRIES];
    size_t count = 0;
    for (struct dirent *e; (e = readdir(d)) && count < CORPUS_ENTRIES;)
        if (e->d_name[0] != '.') names[count++] = hl_mem_strdup(e->d_name);
    closedir(d);
    qsort(names, count, sizeof *names, by_name);
    for (size_t i = 0; i < count; i++) {
        char path[4096], *bytes;
        size_t len;
        hl_diag diag;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        hl_mem_free(names[i]);
        if (hl_file_load(path, &bytes, &len, &diag) != 0) continue; /* a subdirectory */
        corpus_add(c, (const uint8_t *)bytes, len < max_len ? len : max_len);
        hl_mem_free(bytes);
    }
    return 0;
}

/* Adds the input when it showed an outcome not seen before; the count of outcomes. */
static unsigned corpus_learn(corpus *c, const hl_diff_summary *s, const uint8_t *bytes, size_t len)
{
    bool fresh = false;
    unsigned seen = 0;
    for (int k = 0; k < HL_OP_COUNT; k++) {
        fresh |= (s->outcomes[k] & ~c->outcomes[k]) != 0;
        c->outcomes[k] |= s->outcomes[k];
        seen += (unsigned)__builtin_popcountll(c->outcomes[k]);
    }
    if (fresh) corpus_add(c, bytes, len);
    return seen;
}

/* Input n: fresh bytes, or a mutation of a corpus entry; both from (seed, n). */
static size_t make_input(const hl_fuzz_options *o, const corpus *c, uint64_t n, uint8_t *buf)
{
    uint64_t state = (o->seed ^ 0x6a09e667f3bcc909ULL) * 0x2545f4914f6cdd1dULL + n;
    if (c->count == 0 || splitmix(&state) % 2 == 0) return hl_fuzz_input(o->seed, n, buf, o->max_len);
    uint32_t e = (uint32_t)(splitmix(&state) % c->count);
    size_t len = c->length[e] < o->max_len ? c->length[e] : o->max_len;
    memcpy(buf, c->bytes + c->offset[e], len);
    static const uint8_t interesting[] = {0, 1, 2, 3, 8, 12, 13, 15, 16, 47, 48, 0x7f, 0x80, 0xfe, 0xff};
    for (uint64_t m = 1 + splitmix(&state) % 4; m > 0; m--) {
        uint64_t r = splitmix(&state);
        size_t at = len ? (size_t)((r >> 8) % len) : 0, k = 1 + (size_t)((r >> 40) % 8);
        switch (r % 7) {
        case 0: if (len) buf[at] ^= (uint8_t)(1u << ((r >> 32) % 8)); break;
        case 1: if (len) buf[at] = (uint8_t)(r >> 48); break;
        case 2: if (len) buf[at] = interesting[(r >> 48) % sizeof interesting]; break;
        case 3: /* insert k random bytes */
            if (len + k > o->max_len) break;
            memmove(buf + at + k, buf + at, len - at);
            for (size_t i = 0; i < k; i++) buf[at + i] = (uint8_t)(splitmix(&state));
            len += k;
            break;
        case 4: /* delete k bytes */
            if (k > len - at) k = len - at;
            memmove(buf + at, buf + at + k, len - at - k);
            len -= k;
            break;
        case 5: { /* copy k bytes from elsewhere in the input over `at` */
            size_t from = len ? (size_t)((r >> 16) % len) : 0;
            if (k > len - at) k = len - at;
            if (k > len - from) k = len - from;
            memmove(buf + at, buf + from, k);
            break;
        }
        default: { /* splice: the tail from `at` comes from another entry */
            uint32_t other = (uint32_t)((r >> 16) % c->count);
            size_t from = c->length[other] ? (size_t)((r >> 24) % c->length[other]) : 0;
            size_t tail = c->length[other] - from;
            if (at + tail > o->max_len) tail = o->max_len - at;
            memcpy(buf + at, c->bytes + c->offset[other] + from, tail);
            len = at + tail;
            break;
        }
        }
    }
    return len;
}

typedef struct campaign {
    const hl_spec *specs;
    size_t count;
    const hl_fuzz_options *o;
    shared *page;
    uint64_t start;    /* the child's first input */
    double started;    /* the campaign's start (seconds) */
    size_t findings;   /* distinct findings so far */
} campaign;

/* The child: inputs from c->start on. Returns 0 when its runs are done, 1 on a
 * finding (page->summary), 2 on a setup failure. */
static int child(void *context, hl_watch *watch, void *result)
{
    (void)result;
    campaign *c = context;
    const hl_fuzz_options *o = c->o;
    shared *page = c->page;
    hl_fuzz_target target = {o->target, (hl_spec *)c->specs, c->count, o->max_ops, o->check_every, watch, o->ignores};
    uint8_t *buf = hl_mem_alloc(o->max_len + 1);
    for (uint64_t n = c->start; !o->runs || n < o->runs; n++) {
        page->current = n;
        watch->completed = n;
        size_t len = make_input(o, &page->corpus, n, buf);
        memcpy(page->input, buf, len);
        page->input_len = len;
        uint32_t kinds = 0;
        watch->published = 0;
        /* into the shared page: a finding published before a teardown crash wins */
        int rc = hl_fuzz_target_run(&target, buf, len, &page->summary, &kinds);
        page->kinds |= kinds;
        page->ignored += page->summary.ignored;
        if (rc == 0) corpus_learn(&page->corpus, &page->summary, buf, len);
        if (rc != 0) {
            page->found = rc == 1 ? 1 : 2;
            return rc;
        }
        page->done = n + 1;
    }
    return 0;
}

static double now_seconds(void) { return (double)hl_clock_now_ns() * 1e-9; }

/* hl_isolate's stop hook: the campaign's time is up. */
static bool time_is_up(void *context, const hl_watch *watch)
{
    (void)watch;
    campaign *c = context;
    return c->o->seconds > 0 && now_seconds() - c->started >= c->o->seconds;
}

/* hl_isolate's tick: a progress line about once a second. */
static void show_progress(void *context, const hl_watch *watch)
{
    (void)watch;
    campaign *c = context;
    shared *page = c->page;
    double t = now_seconds();
    unsigned kinds = (unsigned)__builtin_popcount(page->kinds);
    unsigned outcomes = 0;
    for (int k = 0; k < HL_OP_COUNT; k++) outcomes += (unsigned)__builtin_popcountll(page->corpus.outcomes[k]);
    fprintf(stderr, "fuzz: %" PRIu64 " execs, %.0f execs/s, %u/%d op kinds, %u outcomes, corpus %u, %zu findings\n",
            page->done, (double)page->done / (t - c->started), kinds, HL_OP_COUNT, outcomes, page->corpus.count,
            c->findings);
}

/* Writes NAME.trace, NAME.input and NAME.json for input n (its bytes: buf, len). */
static void write_finding(const hl_spec *specs, size_t count, const hl_fuzz_options *o, uint64_t n,
                          const hl_finding *f, const char *backend, const uint8_t *buf, size_t len)
{
    mkdir(o->findings, 0777);
    char base[700];
    snprintf(base, sizeof base, "%s/fuzz-%" PRIu64 "-%" PRIu64 ".%s", o->findings, o->seed, n, hl_rule_name(f->rule));
    char path[800];
    snprintf(path, sizeof path, "%s.input", base);
    int e = hl_outfile_write(path, buf, len); /* each file whole or not at all */
    if (e) fprintf(stderr, "heaplab: %s: cannot write: %s (nothing written)\n", path, strerror(e));
    hl_trace trace;
    hl_fuzz_decode(buf, len, o->max_ops, "fuzz-input", &trace);
    snprintf(path, sizeof path, "%s.trace", base);
    hl_diag diag;
    bool trace_written = hl_trace_write(&trace, HL_TRACE_TEXT, path, &diag) == 0;
    if (!trace_written) fprintf(stderr, "heaplab: %s\n", diag.message);
    cJSON *doc = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(doc, "backends");
    for (size_t i = 0; i < count; i++) cJSON_AddItemToArray(list, cJSON_CreateString(specs[i].text));
    cJSON_AddStringToObject(doc, "backend", backend);
    cJSON_AddStringToObject(doc, "rule", hl_rule_name(f->rule));
    cJSON_AddNumberToObject(doc, "operation", (double)f->index);
    cJSON_AddStringToObject(doc, "message", f->message);
    cJSON_AddNumberToObject(doc, "seed", (double)o->seed);
    cJSON_AddNumberToObject(doc, "input", (double)n);
    cJSON_AddNumberToObject(doc, "max_len", (double)o->max_len);
    char *text = cJSON_Print(doc);
    snprintf(path, sizeof path, "%s.json", base);
    size_t text_len = strlen(text);
    text[text_len] = '\n'; /* the document and a newline, written as one */
    e = hl_outfile_write(path, text, text_len + 1);
    text[text_len] = '\0';
    if (e) fprintf(stderr, "heaplab: %s: cannot write: %s (nothing written)\n", path, strerror(e));
    cJSON_free(text);
    cJSON_Delete(doc);
    char source[96];
    snprintf(source, sizeof source, "input %" PRIu64 " (seed %" PRIu64 ")", n, o->seed);
    /* the decoded stream names the operation's kind; a finding past it (the end of an
     * input, its teardown) reads as the end of the stream */
    hl_finding_print(stderr, backend, source, o->target == HL_FUZZ_TARGET_DIFF ? &trace : NULL, false, f);
    if (trace_written) fprintf(stderr, "  written: %s.trace\n", base); /* only once it is there, whole */
    else fprintf(stderr, "  not written: %s.trace (see above)\n", base);
    hl_trace_free(&trace);
}

int hl_fuzz_run(const hl_spec *specs, size_t count, const hl_fuzz_options *o, hl_fuzz_result *result)
{
    memset(result, 0, sizeof *result);
    size_t page_size = sizeof(shared) + o->max_len + 1;
    shared *page = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return fprintf(stderr, "heaplab: cannot map shared memory: %s\n", strerror(errno)), 2;
    if (o->corpus && corpus_load(&page->corpus, o->corpus, o->max_len) != 0) return munmap(page, page_size), 2;
    char seen[64][240]; /* distinct findings: rule and backend */
    size_t seen_count = 0;
    campaign c = {specs, count, o, page, 0, now_seconds(), 0};
    double start = c.started;
    uint64_t next = 0;
    int rc = 0;
    for (;;) {
        page->found = 0;
        page->current = page->done = next;
        c.start = next;
        c.findings = seen_count;
        hl_isolation iso = {o->hang_seconds, o->progress ? show_progress : NULL, time_is_up, &c, 0};
        hl_isolated how;
        int body = hl_isolate(child, &c, NULL, 0, &iso, &how);
        if (how.end == HL_ISOLATED_FAILED) return munmap(page, page_size), fprintf(stderr, "heaplab: %s\n", how.error), 2;
        uint64_t n = page->current;
        result->execs = page->done;
        hl_finding f;
        memset(&f, 0, sizeof f);
        char backend[200] = "";
        bool finding = false;
        if (how.end == HL_ISOLATED_RETURNED && body == 2) {
            fprintf(stderr, "heaplab: %s\n", page->summary.setup_error);
            rc = 2;
            break;
        }
        if (how.end == HL_ISOLATED_RETURNED && body == 1) {
            f = page->summary.finding;
            snprintf(backend, sizeof backend, "%s", page->summary.backend);
            finding = true;
        } else if (how.end != HL_ISOLATED_STOPPED && how.end != HL_ISOLATED_RETURNED && how.watch.published &&
                   page->summary.found) { /* the input's finding came before its teardown crash */
            f = page->summary.finding;
            snprintf(backend, sizeof backend, "%s", page->summary.backend);
            finding = true;
        } else if (how.end == HL_ISOLATED_HUNG || how.end == HL_ISOLATED_CRASHED || how.end == HL_ISOLATED_EXITED) {
            /* a death, an exit by any means, or silence: the lane and operation it was in */
            uint32_t lane = how.watch.lane < count ? how.watch.lane : 0;
            snprintf(backend, sizeof backend, "%s", o->target == HL_FUZZ_TARGET_DIFF ? specs[lane].label : "the target");
            hl_isolated_finding(&how, backend, o->hang_seconds, &f);
            finding = true;
        }
        if (finding) {
            char key[240];
            snprintf(key, sizeof key, "%s %s", hl_rule_name(f.rule), backend);
            bool fresh = true;
            for (size_t i = 0; i < seen_count; i++) fresh &= strcmp(seen[i], key) != 0;
            if (fresh && seen_count < 64) snprintf(seen[seen_count++], sizeof seen[0], "%s", key);
            if (fresh) write_finding(specs, count, o, n, &f, backend, page->input, page->input_len);
            rc = 1;
            result->execs = n + 1;
            if (!o->keep_going) break;
            next = n + 1;
            if ((o->runs && next >= o->runs) || (o->seconds > 0 && now_seconds() - start >= o->seconds)) break;
            continue;
        }
        break; /* the child finished its runs, or the time is up */
    }
    result->seconds = now_seconds() - start;
    result->kinds = page->kinds;
    result->findings = seen_count;
    result->ignored = page->ignored;
    result->corpus = page->corpus.count;
    for (int k = 0; k < HL_OP_COUNT; k++) result->outcomes += (unsigned)__builtin_popcountll(page->corpus.outcomes[k]);
    munmap(page, page_size);
    return rc;
}

int hl_fuzz_record_backends(const char *path, char **list)
{
    size_t n = strlen(path), stem = n;
    if (n > 6 && (strcmp(path + n - 6, ".input") == 0 || strcmp(path + n - 6, ".trace") == 0)) stem = n - 6;
    char *json = hl_mem_alloc(stem + 6), *text;
    snprintf(json, stem + 6, "%.*s.json", (int)stem, path);
    size_t size;
    hl_diag diag;
    int loaded = hl_file_load(json, &text, &size, &diag);
    hl_mem_free(json);
    if (loaded != 0) return 0;
    cJSON *doc = cJSON_ParseWithLength(text, size), *item;
    hl_mem_free(text);
    size_t length = 0;
    *list = NULL;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(doc, "backends")) {
        if (!cJSON_IsString(item)) continue;
        *list = hl_mem_realloc(*list, length + strlen(item->valuestring) + 2);
        length += (size_t)sprintf(*list + length, "%s%s", length ? "," : "", item->valuestring);
    }
    cJSON_Delete(doc);
    return *list ? 1 : -1;
}
