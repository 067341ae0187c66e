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
 * finding, and with keep_going starts a new child.
 *
 * A child runs at most fresh_every inputs, then a fresh one takes over: state that
 * outlives an input in the child (a malloc-style library's process-global heap) lives
 * that long at most. The inputs a child ran are kept in shared memory too, so the
 * parent can run a finding again on fresh instances, with the inputs before it when
 * it needs them (hl_fuzz_reproduce), and write the stream that shows it. */
#include "corpus.h"

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

/* The inputs the running child has run, oldest first: the instances' history, so a
 * finding that needs earlier inputs can be replayed with them (hl_fuzz_reproduce). */
typedef struct history {
    uint32_t count;
    size_t used;
    size_t *offset, *length; /* [fresh_every] */
    unsigned char *bytes;    /* fresh_every * max_len */
} history;

typedef struct shared {
    volatile uint64_t current;  /* input in flight */
    volatile uint64_t done;     /* inputs finished */
    volatile uint32_t kinds;
    volatile int found;         /* the child stopped on a finding of its own */
    volatile uint64_t on_instances; /* inputs the instances of the input in flight served, it included */
    volatile uint64_t ignored;  /* ignored findings (--ignore), over the inputs done */
    hl_diff_summary summary;
    size_t input_len;           /* the bytes of the input in flight */
    hl_corpus corpus;           /* the campaign's, unless it shares a pool's */
    unsigned char input[];
} shared;

/* Input n: fresh bytes, or a mutation of a corpus entry; both from (seed, n). */
static size_t make_input(const hl_fuzz_options *o, const hl_corpus *c, uint64_t n, uint8_t *buf)
{
    uint64_t state = (o->seed ^ 0x6a09e667f3bcc909ULL) * 0x2545f4914f6cdd1dULL + n;
    uint32_t entries = hl_corpus_count(c); /* whole entries, whoever adds more meanwhile */
    if (entries == 0 || splitmix(&state) % 2 == 0) return hl_fuzz_input(o->seed, n, buf, o->max_len);
    uint32_t e = (uint32_t)(splitmix(&state) % entries);
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
            uint32_t other = (uint32_t)((r >> 16) % entries);
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
    hl_corpus *corpus; /* page's, or the pool's the workers share */
    history *past;     /* in the shared mapping too */
    uint64_t fresh_every; /* inputs a child runs, at most */
    uint64_t start;    /* the child's first input */
    double started;    /* the campaign's start (seconds) */
    size_t findings;   /* distinct findings so far */
    bool time_up;      /* --time ran out while a child ran: in_flight is let finish */
    uint64_t in_flight;
    double time_up_at;
} campaign;

/* The child: inputs from c->start on, at most fresh_every of them. Returns 0 when
 * its runs are done, 1 on a finding (page->summary), 2 on a setup failure, 3 when a
 * fresh child is due. */
static int child(void *context, hl_watch *watch, void *result)
{
    (void)result;
    campaign *c = context;
    const hl_fuzz_options *o = c->o;
    shared *page = c->page;
    /* the child's instances serve its inputs, as long as each leaves them as new */
    hl_fuzz_target target = {o->target, (hl_spec *)c->specs, c->count, o->max_ops, o->check_every, watch, o->ignores,
                             c->fresh_every, NULL, 0};
    uint8_t *buf = hl_mem_alloc(o->max_len + 1);
    history *past = c->past;
    past->count = 0;
    past->used = 0;
    /* only the diff target has instances to keep and a history to replay */
    bool diff = o->target == HL_FUZZ_TARGET_DIFF;
    for (uint64_t n = c->start; !o->runs || n < o->runs; n++) {
        if (diff && past->count == c->fresh_every) return 3;
        page->current = n;
        watch->completed = n;
        size_t len = make_input(o, c->corpus, n, buf);
        memcpy(page->input, buf, len);
        page->input_len = len;
        if (diff) {
            past->offset[past->count] = past->used;
            past->length[past->count] = len;
            memcpy(past->bytes + past->used, buf, len);
            past->used += len;
            past->count++;
        }
        uint32_t kinds = 0;
        watch->published = 0;
        page->on_instances = hl_fuzz_target_history(&target);
        /* into the shared page: a finding published before a teardown crash wins */
        int rc = hl_fuzz_target_run(&target, buf, len, &page->summary, &kinds);
        page->kinds |= kinds;
        page->ignored += page->summary.ignored;
        if (rc == 0) hl_corpus_learn(c->corpus, &page->summary, buf, len);
        if (rc != 0) {
            page->found = rc == 1 ? 1 : 2;
            return rc;
        }
        page->done = n + 1;
    }
    return 0;
}

static double now_seconds(void) { return (double)hl_clock_now_ns() * 1e-9; }

/* hl_isolate's stop hook: the campaign's time is up. Once it is, the input in flight
 * then is given up to the hang timeout to end, so one that hangs (the first of a
 * library that hangs on its first call, say) is a HANG rather than a clean stop with
 * nothing run. */
static bool time_is_up(void *context, const hl_watch *watch)
{
    (void)watch;
    campaign *c = context;
    double now = now_seconds();
    if (c->o->seconds <= 0 || now - c->started < c->o->seconds) return false;
    if (!c->time_up) {
        c->time_up = true;
        c->in_flight = c->page->current;
        c->time_up_at = now;
    }
    return c->page->done > c->in_flight || c->o->hang_seconds <= 0 || now - c->time_up_at >= c->o->hang_seconds;
}

/* hl_isolate's tick: a progress line about once a second. */
static void show_progress(void *context, const hl_watch *watch)
{
    (void)watch;
    campaign *c = context;
    shared *page = c->page;
    double t = now_seconds();
    unsigned kinds = (unsigned)__builtin_popcount(page->kinds);
    unsigned outcomes = hl_corpus_outcomes(c->corpus);
    fprintf(stderr, "fuzz: %" PRIu64 " execs, %.0f execs/s, %u/%d op kinds, %u outcomes, corpus %u, %zu findings\n",
            page->done, (double)page->done / (t - c->started), kinds, HL_OP_COUNT, outcomes, hl_corpus_count(c->corpus),
            c->findings);
}

/* A finding to write: where it was found and the stream that shows it again. */
typedef struct found {
    uint64_t n;             /* the input it was found on */
    hl_diff_summary got;    /* rule, backend, operation: as the reproducer shows them */
    hl_trace stream;        /* the reproducer: the input's stream, or with the inputs before it */
    size_t before;          /* inputs before n in the stream (0: the input alone) */
    bool reproduced;        /* a fresh run showed it again */
    bool shrunk;            /* stream is the crash's shrunk stream (hl_diff_deepen) */
    uint64_t deep;          /* a CRASH or HANG traced to an earlier rule: the check mode that showed it
                               (hl_diff_deepen), its reproducer's check_every; 0: none */
    char trace_path[800];   /* where write_finding put the reproducer ("" if it could not) */
} found;

/* Runs the finding again on fresh instances (hl_fuzz_reproduce) with the inputs of
 * the child's history; the other targets' findings are their input's decoding. */
static void reproduce(const campaign *c, const hl_finding *f, const char *backend, found *out)
{
    const hl_fuzz_options *o = c->o;
    history *past = c->past;
    memset(out, 0, sizeof *out);
    out->n = c->page->current;
    out->got.found = true;
    out->got.finding = *f;
    snprintf(out->got.backend, sizeof out->got.backend, "%s", backend);
    size_t count = past->count ? past->count : 1;
    if (o->target != HL_FUZZ_TARGET_DIFF || !past->count) {
        hl_fuzz_stream(c->page->input, c->page->input_len, o->max_ops, "fuzz-input", &out->stream);
        return;
    }
    const uint8_t **inputs = hl_mem_alloc(count * sizeof *inputs);
    for (size_t i = 0; i < count; i++) inputs[i] = past->bytes + past->offset[i];
    hl_fuzz_target t = {o->target, (hl_spec *)c->specs, c->count, o->max_ops, o->check_every, NULL, o->ignores,
                        0, NULL, 0};
    hl_diff_summary seen = out->got;
    size_t on_instances = c->page->on_instances < count ? (size_t)c->page->on_instances : count;
    int how = hl_fuzz_reproduce(&t, inputs, past->length, count, on_instances, &seen, o->hang_seconds, &out->stream,
                                &out->got);
    hl_mem_free(inputs);
    out->reproduced = how != 0;
    out->before = how == 2 ? on_instances - 1 : how == 3 ? count - 1 : 0;
    if (!how) return;
    hl_trace smaller;
    out->deep = hl_diff_deepen(c->specs, c->count, &out->stream, o->check_every, o->hang_seconds, o->ignores,
                               &out->got, &smaller);
    if (smaller.count) { /* found on the crash's shrunk stream: that is the reproducer */
        hl_trace_free(&out->stream);
        out->stream = smaller;
        out->shrunk = true;
    }
}

/* Writes NAME.trace (the reproducer, its metadata naming the backends, rule and
 * operation, so `heaplab replay NAME.trace` needs nothing else), NAME.input (bytes
 * that decode to it) and NAME.json; prints the finding. */
static void write_finding(const campaign *c, found *w)
{
    const hl_fuzz_options *o = c->o;
    const hl_finding *f = &w->got.finding;
    int made = hl_make_folder(o->findings);
    if (made) fprintf(stderr, "heaplab: %s: cannot create the findings folder: %s\n", o->findings, strerror(made));
    char base[700];
    snprintf(base, sizeof base, "%s/fuzz-%" PRIu64 "-%" PRIu64 ".%s", o->findings, o->seed, w->n, hl_rule_name(f->rule));
    char path[800];
    snprintf(path, sizeof path, "%s.input", base);
    uint8_t *encoded = NULL;
    size_t len = c->page->input_len;
    const uint8_t *bytes = c->page->input;
    if (w->shrunk) bytes = encoded = hl_fuzz_encode(&w->stream, &len); /* the target adds a free_all */
    else if (w->before) { /* the stream without its closing free_all, which the target adds back */
        w->stream.count--;
        bytes = encoded = hl_fuzz_encode(&w->stream, &len);
        w->stream.count++;
    }
    int e = hl_outfile_write(path, bytes, len); /* each file whole or not at all */
    if (e) fprintf(stderr, "heaplab: %s: cannot write: %s (nothing written)\n", path, strerror(e));
    hl_mem_free(encoded);
    char text[300];
    snprintf(text, sizeof text, "fuzz seed %" PRIu64 ", input %" PRIu64 "%s%s", o->seed, w->n,
             w->before ? " and the inputs before it on the same instances" : "",
             w->shrunk ? " (its crash's stream, shrunk)" : "");
    hl_repro_label(&w->stream, c->specs, c->count, f->rule, f->index, text, w->deep ? w->deep : o->check_every);
    snprintf(path, sizeof path, "%s.trace", base);
    hl_diag diag;
    bool trace_written = hl_trace_write(&w->stream, HL_TRACE_TEXT, path, &diag) == 0;
    if (!trace_written) fprintf(stderr, "heaplab: %s\n", diag.message);
    else snprintf(w->trace_path, sizeof w->trace_path, "%s", path);
    cJSON *doc = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(doc, "backends");
    for (size_t i = 0; i < c->count; i++) cJSON_AddItemToArray(list, cJSON_CreateString(c->specs[i].text));
    cJSON_AddStringToObject(doc, "backend", w->got.backend);
    cJSON_AddStringToObject(doc, "rule", hl_rule_name(f->rule));
    cJSON_AddNumberToObject(doc, "operation", (double)f->index);
    cJSON_AddStringToObject(doc, "message", f->message);
    cJSON_AddNumberToObject(doc, "seed", (double)o->seed);
    cJSON_AddNumberToObject(doc, "input", (double)w->n);
    cJSON_AddNumberToObject(doc, "inputs_before", (double)w->before);
    cJSON_AddBoolToObject(doc, "reproduced", w->reproduced);
    cJSON_AddBoolToObject(doc, "deepened", w->deep != 0);
    cJSON_AddNumberToObject(doc, "max_len", (double)o->max_len);
    char *json = cJSON_Print(doc);
    snprintf(path, sizeof path, "%s.json", base);
    size_t json_len = strlen(json);
    json[json_len] = '\n'; /* the document and a newline, written as one */
    e = hl_outfile_write(path, json, json_len + 1);
    json[json_len] = '\0';
    if (e) fprintf(stderr, "heaplab: %s: cannot write: %s (nothing written)\n", path, strerror(e));
    cJSON_free(json);
    cJSON_Delete(doc);
    char source[160];
    if (w->before)
        snprintf(source, sizeof source, "input %" PRIu64 " (seed %" PRIu64 ") after the %zu before it", w->n, o->seed,
                 w->before);
    else snprintf(source, sizeof source, "input %" PRIu64 " (seed %" PRIu64 ")", w->n, o->seed);
    /* the stream names the operation's kind; a finding past it reads as its end */
    hl_finding_print(stderr, w->got.backend, source, o->target == HL_FUZZ_TARGET_DIFF ? &w->stream : NULL, false, f);
    if (w->before)
        fprintf(stderr, "  the input alone does not show it on fresh instances; with the %zu inputs the same\n"
                        "  instances ran before it, it does: the trace holds them all, each ending in free_all\n",
                w->before);
    if (w->deep)
        fprintf(stderr, "  the run crashed or hung later; run again%s with the heap checked after every\n"
                        "  operation (check_every=%s), it broke this rule first\n",
                w->shrunk ? " on the crash's shrunk stream" : "",
                hl_check_every_explain(w->deep));
    if (!w->reproduced && o->target == HL_FUZZ_TARGET_DIFF)
        fprintf(stderr, "  NOT REPRODUCED: a fresh run of the input, alone or after the %zu before it, does not\n"
                        "  show it (state beyond the instances, or timing)\n",
                c->past->count ? (size_t)c->past->count - 1 : 0);
    if (trace_written) fprintf(stderr, "  written: %s.trace\n", base); /* only once it is there, whole */
    else fprintf(stderr, "  not written: %s.trace (see above)\n", base);
}

int hl_fuzz_run(const hl_spec *specs, size_t count, const hl_fuzz_options *o, hl_fuzz_result *result)
{
    memset(result, 0, sizeof *result);
    size_t page_size = sizeof(shared) + o->max_len + 1;
    shared *page = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return fprintf(stderr, "heaplab: cannot map shared memory: %s\n", strerror(errno)), 2;
    hl_corpus *corpus = o->pool ? &o->pool->corpus : &page->corpus;
    int loaded = 0;
    if (o->pool) hl_corpus_lock(&o->pool->lock);
    if (o->corpus && !(o->pool && o->pool->seeded)) loaded = hl_corpus_load(corpus, o->corpus, o->max_len);
    if (o->pool) {
        o->pool->seeded = 1;
        hl_corpus_unlock(&o->pool->lock);
    }
    if (loaded != 0) return munmap(page, page_size), 2;
    size_t keep = o->fresh_every ? (size_t)o->fresh_every : HL_FUZZ_FRESH_EVERY;
    size_t past_size = sizeof(history) + 2 * keep * sizeof(size_t) + keep * o->max_len;
    history *past = mmap(NULL, past_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (past == MAP_FAILED) {
        munmap(page, page_size);
        return fprintf(stderr, "heaplab: cannot map shared memory: %s\n", strerror(errno)), 2;
    }
    past->offset = (size_t *)(past + 1);
    past->length = past->offset + keep;
    past->bytes = (unsigned char *)(past->length + keep);
    char seen[64][240]; /* distinct findings: rule and backend */
    size_t seen_count = 0;
    campaign c = {specs, count, o, page, corpus, past, keep, 0, now_seconds(), 0, false, 0, 0};
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
        if (how.end == HL_ISOLATED_FAILED) {
            munmap(page, page_size);
            munmap(past, past_size);
            return fprintf(stderr, "heaplab: %s\n", how.error), 2;
        }
        uint64_t n = page->current;
        result->execs = page->done;
        hl_finding f;
        memset(&f, 0, sizeof f);
        char backend[200] = "";
        bool finding = false;
        if (how.end == HL_ISOLATED_RETURNED && body == 3) { /* a fresh child, fresh instances */
            next = page->done;
            continue;
        }
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
            if (fresh && o->pool && !hl_pool_claim(o->pool, key)) { /* another worker wrote it */
                fprintf(stderr, "fuzz: seed %" PRIu64 ": %s at input %" PRIu64 ": another job found it first\n",
                        o->seed, key, n);
                fresh = false;
            }
            if (fresh) {
                found w;
                reproduce(&c, &f, backend, &w);
                write_finding(&c, &w);
                if (!result->first_backend[0]) { /* what the caller reports first */
                    result->first = w.got.finding;
                    snprintf(result->first_backend, sizeof result->first_backend, "%s", w.got.backend);
                    snprintf(result->first_trace, sizeof result->first_trace, "%s", w.trace_path);
                }
                hl_trace_free(&w.stream);
            }
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
    result->corpus = hl_corpus_count(corpus);
    result->outcomes = hl_corpus_outcomes(corpus);
    if (o->pool && o->job < o->pool->jobs) {
        o->pool->results[o->job] = *result;
        __atomic_store_n(&o->pool->finished[o->job], 1, __ATOMIC_RELEASE);
    }
    munmap(page, page_size);
    munmap(past, past_size);
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
