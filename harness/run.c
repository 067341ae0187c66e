/* run.c: one (backend, trace) run: a fresh instance, an executor with the shadow
 * model, the fragmentation observer (the run's figures) and, with --latency, the
 * latency one, every operation stepped once. The isolated form
 * runs the same thing in a forked child that publishes its progress (the count of
 * completed operations) in a shared page, so a backend that crashes or hangs becomes
 * a CRASH or HANG finding at the operation it was in, never the end of heaplab.
 * (A shared counter rather than a pipe: one store per operation instead of a write
 * system call, and the last value survives the child's death just the same.) */
#include "hl_harness.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


static void name_run(const hl_spec *spec, const hl_trace *trace, hl_run_summary *summary)
{
    memset(summary, 0, sizeof *summary);
    snprintf(summary->backend, sizeof summary->backend, "%s", spec->text);
    snprintf(summary->trace, sizeof summary->trace, "%s", trace->path ? trace->path : "-");
}

static int run_here(const hl_spec *spec, const hl_trace *trace, const hl_run_options *options,
                    hl_run_summary *summary)
{
    hl_diag diag;
    hl_heap *heap = hl_spec_create(spec, &diag);
    if (!heap) {
        summary->setup_failed = true;
        snprintf(summary->setup_error, sizeof summary->setup_error, "%s", diag.message);
        return 2;
    }
    hl_exec *exec = hl_exec_new(spec->backend, heap, spec->text);
    hl_exec_expect(exec, trace->ops, trace->count); /* before the clock starts */
    const hl_info *info = hl_exec_info(exec);
    if (info->backend_class == HL_CLASS_REFERENCE || !info->source)
        snprintf(summary->backend_version, sizeof summary->backend_version, "heaplab %s", HL_VERSION);
    else
        snprintf(summary->backend_version, sizeof summary->backend_version, "%s", info->source);
    hl_shadow *shadow = NULL;
    if (options->shadow) {
        shadow = hl_shadow_new(options->check_every);
        hl_observer observer = hl_shadow_observer(shadow);
        hl_exec_observe(exec, &observer);
    }
    else hl_exec_write_patterns(exec, false); /* nobody would read them */
    hl_exec_time_calls(exec, options->latency ? HL_TIMING_FENCED : options->shadow ? HL_TIMING_OFF : HL_TIMING_PLAIN);
    summary->backend_timed = !options->shadow;
    hl_observer fragmentation = hl_fragmentation_observer(&summary->fragmentation, trace->count);
    hl_exec_observe(exec, &fragmentation);
    if (options->latency) {
        hl_latency_init(&summary->latency);
        hl_observer latency = hl_latency_observer(&summary->latency);
        hl_exec_observe(exec, &latency);
    }

    summary->trace_threads = (uint32_t)hl_threads_count(trace->ops, trace->count);
    bool threaded = options->threads && summary->trace_threads > 1 &&
                    (hl_exec_info(exec)->features & HL_FEATURE_THREAD_SAFE);
    uint64_t start = hl_clock_now_ns();
    int rc = 0;
    uint64_t at = 0;
    if (threaded) {
        summary->threads = summary->trace_threads < HL_THREADS_MAX ? summary->trace_threads : HL_THREADS_MAX;
        rc = hl_threads_run(exec, shadow, trace->ops, trace->count, summary->threads, options, &at, &diag);
        if (rc < 0) {
            summary->setup_failed = true;
            snprintf(summary->setup_error, sizeof summary->setup_error, "%s", diag.message);
            rc = 0;
        }
    } else {
        for (size_t i = 0; i < trace->count && !rc; i++) {
            hl_exec_prefetch(exec, trace->ops, trace->count, i);
            rc = hl_exec_step(exec, &trace->ops[i], i);
            at = i;
            if (options->progress) *options->progress = i + 1;
            if (options->on_progress && (i & 0xffff) == 0xffff)
                options->on_progress(options->progress_context, i + 1, trace->count);
        }
    }
    if (rc == 2) {
        summary->stream_ended = true;
        summary->ended_at = at;
        snprintf(summary->ended_reason, sizeof summary->ended_reason,
                 "%s failed here; the rest of the trace cannot follow", hl_op_name((hl_op_kind)trace->ops[at].kind));
    }
    hl_exec_finish(exec);
    summary->elapsed_ns = hl_clock_now_ns() - start;

    const hl_exec_counts *counts = hl_exec_counts_of(exec);
    summary->ops = counts->ops;
    summary->sent = counts->sent;
    summary->skipped = counts->skipped;
    summary->failures = counts->failures;
    summary->backend_ns = (uint64_t)((double)counts->elapsed_ticks * hl_clock_ns_per_tick());
    if (shadow) {
        const hl_detection *kept;
        summary->detections = hl_shadow_detections(shadow, &kept);
        uint64_t n = summary->detections < HL_DETECTIONS_KEPT ? summary->detections : HL_DETECTIONS_KEPT;
        memcpy(summary->detected, kept, n * sizeof *kept);
    }
    if (shadow && hl_shadow_finding(shadow)) {
        summary->found = true;
        summary->finding = *hl_shadow_finding(shadow);
    }
    hl_shadow_free(shadow);
    hl_exec_free(exec);
    hl_spec_destroy(spec, heap);
    return summary->setup_failed ? 2 : summary->found ? 1 : 0;
}

/* The process's resident set now (/proc/self/statm), in bytes; 0 if unknown. */
static uint64_t resident_bytes(void)
{
    unsigned long long pages = 0, resident = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (!statm) return 0;
    if (fscanf(statm, "%llu %llu", &pages, &resident) != 2) resident = 0;
    fclose(statm);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

typedef struct shared_page {
    volatile uint64_t completed;
    volatile int done;
    int rc;
    hl_run_summary summary;
} shared_page;

static void crash_finding(const hl_trace *trace, hl_run_summary *summary, hl_rule rule, uint64_t index,
                          const char *what)
{
    summary->found = true;
    summary->finding.rule = rule;
    summary->finding.index = index;
    summary->finding.line = index < trace->count ? trace->ops[index].line : 0;
    snprintf(summary->finding.message, sizeof summary->finding.message, "%s", what);
}

static int run_isolated(const hl_spec *spec, const hl_trace *trace, const hl_run_options *options,
                        hl_run_summary *summary)
{
    shared_page *page = mmap(NULL, sizeof *page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        summary->setup_failed = true;
        snprintf(summary->setup_error, sizeof summary->setup_error, "cannot map a shared page: %s",
                 strerror(errno));
        return 2;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        munmap(page, sizeof *page);
        summary->setup_failed = true;
        snprintf(summary->setup_error, sizeof summary->setup_error, "cannot fork: %s", strerror(errno));
        return 2;
    }
    if (pid == 0) {
        hl_run_options child = *options;
        child.progress = &page->completed;
        child.on_progress = NULL; /* the parent shows progress */
        uint64_t rss_start = resident_bytes();
        page->rc = run_here(spec, trace, &child, &page->summary);
        struct rusage usage;
        if (getrusage(RUSAGE_SELF, &usage) == 0) {
            page->summary.rss_start_bytes = rss_start;
            page->summary.rss_peak_bytes = (uint64_t)usage.ru_maxrss * 1024;
        }
        page->done = 1;
        _exit(0);
    }
    uint64_t last = 0, changed = hl_clock_now_ns(), shown = changed, timeout = (uint64_t)(options->timeout_seconds * 1e9);
    int status = 0;
    bool hung = false;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) break;
        if (got < 0 && errno != EINTR) break;
        uint64_t completed = page->completed;
        if (options->on_progress && hl_clock_now_ns() - shown > 1000000000u) { /* the child cannot print */
            options->on_progress(options->progress_context, completed, trace->count);
            shown = hl_clock_now_ns();
        }
        if (completed != last) {
            last = completed;
            changed = hl_clock_now_ns();
        } else if (timeout && hl_clock_now_ns() - changed > timeout) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            hung = true;
            break;
        }
        struct timespec pause = {0, 2 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    int rc;
    uint64_t index = page->completed;
    char what[300];
    if (page->done && !hung) {
        *summary = page->summary;
        rc = page->rc;
    } else {
        summary->ops = index;
        if (hung)
            snprintf(what, sizeof what, "no progress for %.1f s; the child was killed", options->timeout_seconds);
        else if (WIFSIGNALED(status))
            snprintf(what, sizeof what, "the backend died of signal %d (%s)", WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
        else
            snprintf(what, sizeof what, "the backend's process exited with status %d mid-operation",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        crash_finding(trace, summary, hung ? HL_RULE_HANG : HL_RULE_CRASH, index, what);
        rc = 1;
    }
    munmap(page, sizeof *page);
    return rc;
}

int hl_run(const hl_spec *spec, const hl_trace *trace, const hl_run_options *options, hl_run_summary *summary)
{
    name_run(spec, trace, summary);
    hl_clock_ns_per_tick(); /* calibrated once, here, not inside a timed loop or in each child */
    int rc = options->isolate ? run_isolated(spec, trace, options, summary)
                              : run_here(spec, trace, options, summary);
    /* the run's names are the front end's, whatever the child wrote */
    snprintf(summary->backend, sizeof summary->backend, "%s", spec->text);
    snprintf(summary->trace, sizeof summary->trace, "%s", trace->path ? trace->path : "-");
    return rc;
}
