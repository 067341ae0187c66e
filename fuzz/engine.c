/* engine.c: the built-in fuzzer. Inputs are numbered and made from (seed, number),
 * so the parent can make again the input a child died on. A forked child decodes and
 * runs inputs one after another (hl_diff over every spec) and publishes, in a shared
 * page, the number of the input in flight, the operation kinds seen, and a finding's
 * summary; the parent shows progress, turns a child's death into CRASH and a child
 * that stops progressing into HANG, writes each distinct finding, and with
 * keep_going starts a new child after it. */
#include "hl_fuzz.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
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

typedef struct shared {
    volatile uint64_t current;  /* input in flight */
    volatile uint64_t done;     /* inputs finished */
    volatile uint32_t kinds;
    volatile int found;         /* the child stopped on a finding of its own */
    hl_diff_summary summary;
} shared;

static void child(const hl_spec *specs, size_t count, const hl_fuzz_options *o, shared *page, uint64_t start)
{
    hl_fuzz_target target = {HL_FUZZ_TARGET_DIFF, (hl_spec *)specs, count, o->max_ops, o->check_every};
    uint8_t *buf = hl_mem_alloc(o->max_len + 1);
    for (uint64_t n = start; !o->runs || n < o->runs; n++) {
        page->current = n;
        size_t len = hl_fuzz_input(o->seed, n, buf, o->max_len);
        uint32_t kinds = 0;
        hl_diff_summary s;
        int rc = hl_fuzz_target_run(&target, buf, len, &s, &kinds);
        page->kinds |= kinds;
        if (rc != 0) {
            page->summary = s;
            page->found = rc == 1 ? 1 : 2;
            _exit(1);
        }
        page->done = n + 1;
    }
    _exit(0);
}

static double now_seconds(void) { return (double)hl_clock_now_ns() * 1e-9; }

/* Writes NAME.trace, NAME.input and NAME.json for input n. */
static void write_finding(const hl_spec *specs, size_t count, const hl_fuzz_options *o, uint64_t n,
                          const hl_finding *f, const char *backend)
{
    mkdir(o->findings, 0777);
    char base[700];
    snprintf(base, sizeof base, "%s/fuzz-%" PRIu64 "-%" PRIu64 ".%s", o->findings, o->seed, n, hl_rule_name(f->rule));
    uint8_t *buf = hl_mem_alloc(o->max_len + 1);
    size_t len = hl_fuzz_input(o->seed, n, buf, o->max_len);
    char path[800];
    snprintf(path, sizeof path, "%s.input", base);
    FILE *out = fopen(path, "wb");
    if (out) fwrite(buf, 1, len, out), fclose(out);
    hl_trace trace;
    hl_fuzz_decode(buf, len, o->max_ops, "fuzz-input", &trace);
    snprintf(path, sizeof path, "%s.trace", base);
    hl_diag diag;
    if (hl_trace_write(&trace, HL_TRACE_TEXT, path, &diag) != 0) fprintf(stderr, "heaplab: %s\n", diag.message);
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
    out = fopen(path, "w");
    if (out) fprintf(out, "%s\n", text), fclose(out);
    cJSON_free(text);
    cJSON_Delete(doc);
    hl_trace_free(&trace);
    hl_mem_free(buf);
    fprintf(stderr, "FINDING %s: input %" PRIu64 " (seed %" PRIu64 "), operation %" PRIu64 ": %s: %s\n  written: %s.trace\n",
            backend, n, o->seed, f->index, hl_rule_name(f->rule), f->message, base);
}

int hl_fuzz_run(const hl_spec *specs, size_t count, const hl_fuzz_options *o, hl_fuzz_result *result)
{
    memset(result, 0, sizeof *result);
    shared *page = mmap(NULL, sizeof *page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return fprintf(stderr, "heaplab: cannot map a shared page: %s\n", strerror(errno)), 2;
    memset(page, 0, sizeof *page);
    char seen[64][240]; /* distinct findings: rule and backend */
    size_t seen_count = 0;
    double start = now_seconds(), shown = start;
    uint64_t next = 0;
    int rc = 0;
    for (;;) {
        page->found = 0;
        page->current = page->done = next;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) return fprintf(stderr, "heaplab: cannot fork: %s\n", strerror(errno)), 2;
        if (pid == 0) child(specs, count, o, page, next);
        uint64_t last_done = next;
        double progressed = now_seconds();
        int status = 0;
        bool stopped = false, hung = false;
        for (;;) {
            pid_t got = waitpid(pid, &status, WNOHANG);
            if (got == pid) break;
            double t = now_seconds();
            if (page->done != last_done) last_done = page->done, progressed = t;
            if ((o->seconds > 0 && t - start >= o->seconds) || (o->hang_seconds > 0 && t - progressed >= o->hang_seconds)) {
                hung = !(o->seconds > 0 && t - start >= o->seconds);
                stopped = !hung;
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                break;
            }
            if (o->progress && t - shown >= 1.0) {
                shown = t;
                unsigned kinds = (unsigned)__builtin_popcount(page->kinds);
                fprintf(stderr, "fuzz: %" PRIu64 " execs, %.0f execs/s, %u/%d op kinds, %zu findings\n", page->done,
                        (double)page->done / (t - start), kinds, HL_OP_COUNT, seen_count);
            }
            usleep(2000);
        }
        uint64_t n = page->current;
        result->execs = page->done;
        hl_finding f;
        memset(&f, 0, sizeof f);
        char backend[200] = "";
        bool finding = false;
        if (!stopped && page->found == 2) {
            fprintf(stderr, "heaplab: %s\n", page->summary.setup_error);
            rc = 2;
            break;
        }
        if (!stopped && page->found == 1) {
            f = page->summary.finding;
            snprintf(backend, sizeof backend, "%s", page->summary.backend);
            finding = true;
        } else if (hung || (!stopped && WIFSIGNALED(status))) {
            f.rule = hung ? HL_RULE_HANG : HL_RULE_CRASH;
            if (hung) snprintf(f.message, sizeof f.message, "no progress for %.0f s", o->hang_seconds);
            else snprintf(f.message, sizeof f.message, "the run died of signal %d (%s)", WTERMSIG(status),
                          strsignal(WTERMSIG(status)));
            if (count == 1) snprintf(backend, sizeof backend, "%s", specs[0].text);
            else snprintf(backend, sizeof backend, "(one of the backends; replay the trace with --isolate to name it)");
            finding = true;
        }
        if (finding) {
            char key[240];
            snprintf(key, sizeof key, "%s %s", hl_rule_name(f.rule), backend);
            bool fresh = true;
            for (size_t i = 0; i < seen_count; i++) fresh &= strcmp(seen[i], key) != 0;
            if (fresh && seen_count < 64) snprintf(seen[seen_count++], sizeof seen[0], "%s", key);
            if (fresh) write_finding(specs, count, o, n, &f, backend);
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
    munmap(page, sizeof *page);
    return rc;
}
