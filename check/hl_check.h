/* hl_check.h: the check layer: the shadow model (the contract checked on every
 * operation), the checking run of one backend over one trace (hl_run, isolated or
 * not), differential runs, the reproducer and the shrinker.
 *
 * Depends on measure/, run/ and below. */
#ifndef HL_CHECK_H
#define HL_CHECK_H

#include "hl_measure.h"

/* ================================================================ shadow model */


typedef struct hl_shadow hl_shadow;

/* check_every: the backend's check paced by time (the default). A heap walk costs
 * O(heap) and a heap can hold far more free than live blocks, so no operation count
 * fits every backend; instead a check runs at least HL_CHECK_PACED_MIN operations
 * after the last one and once the time since it ended is 19 times what it took:
 * checks take at most about 5% of the run. */
#define HL_CHECK_PACED UINT64_MAX
#define HL_CHECK_PACED_MIN 4096u
/* check_every: after every operation the backend's check and the contents of every
 * live block (O(live bytes sampled) an operation: for re-running a finding, so the
 * first rule a bug breaks is the one reported, not a crash it causes later). */
#define HL_CHECK_DEEP (UINT64_MAX - 1)
/* check_every: after every operation the backend's check, and the harness writes
 * nothing into the blocks (no patterns; contents are not checked). A heap that hands
 * out memory still on its own free list then shows as OVERLAP when it hands that
 * memory out again, instead of crashing on a list node the pattern overwrote. */
#define HL_CHECK_UNTOUCHED (UINT64_MAX - 2)

/* check_every as text: "paced", "deep", "untouched" or the count (buf holds at least
 * 24 bytes; the text is there or a constant). hl_check_every_parse reads it back: true
 * with *out set for one of those names or a count below HL_CHECK_UNTOUCHED; false
 * (*out unspecified) otherwise. */
const char *hl_check_every_name(uint64_t check_every, char *buf, size_t capacity);
bool hl_check_every_parse(const char *text, uint64_t *out);
/* What the deeper modes do, for messages: "deep: every live block's contents too",
 * "untouched: nothing written into the blocks"; NULL for the others. */
const char *hl_check_every_explain(uint64_t check_every);

/* The shadow model: an observer that checks every operation against the contract
 * (CONTRACT.md, "What the shadow model checks") and stops the stream at the first
 * divergence. It keeps its own view of the live blocks and open scopes, built from
 * the operations and the result records alone, never from the executor's map. Calls the backend's check every check_every operations exactly (0: only
 * at the end; HL_CHECK_PACED: paced by time), always once at the end, and verifies
 * every live block's contents at the end. */
hl_shadow *hl_shadow_new(uint64_t check_every);
void hl_shadow_free(hl_shadow *shadow);
/* Forgets every block, scope and finding, keeping the tables (and the granule) for
 * another stream on the same instance through the same observer (persistent fuzzing):
 * time in what the stream before touched, not in the largest one seen. */
void hl_shadow_reset(hl_shadow *shadow);
hl_observer hl_shadow_observer(hl_shadow *shadow);
/* From now on, whatever the check period: no patterns written into the blocks and no
 * contents verified, every other check as before (`heaplab run --check`: a program's
 * bytes are its own). Call before the first operation. */
void hl_shadow_untouched(hl_shadow *shadow);
/* The divergence found, or NULL. */
const hl_finding *hl_shadow_finding(const hl_shadow *shadow);
/* While on, the checks that read the whole backend (stats against the model, the
 * backend's check) are left out after each operation: other threads' calls are in
 * flight, so the backend's counters legitimately run ahead of the model. The
 * threaded runner turns it off for operations that run alone; the end of the stream
 * checks both in any case. */
void hl_shadow_concurrent(hl_shadow *shadow, bool on);

/* Detections so far (all counted, the first HL_DETECTIONS_KEPT kept in *kept). */
uint64_t hl_shadow_detections(const hl_shadow *shadow, const hl_detection **kept);
/* Differential runs: tells the shadow that id was retired outside any operation
 * (hl_exec_retire, whose answer is freed): a block it holds live that the backend
 * freed (freed is OK) stays in the trace but no longer in the backend. */
void hl_shadow_retire(hl_shadow *shadow, uint64_t id, hl_error freed);
/* The shadow's own view (check/shadow.c): the blocks it holds live, and the bytes
 * its records, id table, scope lists and address index take in heaplab's memory. */
uint64_t hl_shadow_live_blocks(const hl_shadow *shadow);
size_t hl_shadow_bytes(const hl_shadow *shadow);


/* ================================================================ findings, printed */

/* The one line every command prints for a finding (finding.c):
 *   LABEL BACKEND: SOURCE:LINE: operation N (KIND): RULE: MESSAGE
 * LABEL is DIFFERENCE for a disagreement between backends (OUTCOME_DIFFERS,
 * OFFSET_DIFFERS), DIVERGENCE for anything else. SOURCE says where the operations
 * came from (a trace's path; "input 7 (seed 1)"); with lines, the trace's line
 * follows it (text ":LINE", binary ": byte N"). trace (may be NULL) gives the
 * operation's kind. A finding at the end of the stream (the final checks, the
 * teardown) reads "SOURCE: end of the stream (N operations): RULE: MESSAGE", never a
 * trace line that does not exist. */
void hl_finding_print(FILE *out, const char *backend, const char *source, const hl_trace *trace, bool lines,
                      const hl_finding *f);

/* ================================================================ checking runs */

typedef struct hl_run_options {
    bool shadow;               /* attach the shadow model */
    uint64_t check_every;      /* backend check period (shadow only); 0: at the end; HL_CHECK_PACED */
    bool isolate;              /* run in a forked child (hl_run) */
    bool threads;              /* a trace of several threads on real threads, where the
                                  backend declares HL_FEATURE_THREAD_SAFE (threads.c) */
    bool latency;              /* time each call (fenced) into per-kind histograms;
                                  with shadow off, patterns off (latency.c) */
    double timeout_seconds;    /* isolated: an operation taking longer is a HANG */
    hl_progress progress;      /* how far the run got (hl_run.h) */
} hl_run_options;

/* Runs trace on a fresh instance of spec, in-process or (options->isolate) in a
 * forked child whose crash or hang becomes a CRASH / HANG finding at the operation it
 * was in. Returns 0 clean, 1 a finding, 2 the instance could not be made. */
int hl_run(const hl_spec *spec, const hl_trace *trace, const hl_run_options *options,
           hl_run_summary *summary);

/* Records in a reproducer's metadata (heaplab.check_every) the heap-check period its
 * finding was made with, so replay and shrink run it with the same checks. */
void hl_repro_set_check_every(hl_trace *trace, uint64_t check_every);
/* Sets all of a reproducer's metadata: the backends (specs as a --backends list), the
 * rule and operation index of its finding, where it came from and its check period,
 * so `heaplab replay FILE` and `shrink FILE` run it again as it ran. */
void hl_repro_label(hl_trace *trace, const hl_spec *specs, size_t count, hl_rule rule, uint64_t index,
                    const char *source, uint64_t check_every);
/* Writes a reproducer for a finding into dir: the trace's prefix up to the failing
 * operation, restricted to the block ids the finding names when that still
 * reproduces the same rule (checked by replaying it), else the whole prefix. specs
 * are the backends the finding came from: one (a replay), or the lanes of a diff,
 * whose difference rules the reproducer shows only as a diff; label names the backend
 * the finding is on (the file's name). The trace's metadata records them
 * (heaplab.backend: the specs as a --backends list; heaplab.rule, heaplab.index,
 * heaplab.source), so `replay FILE` without --backends runs it again as it ran.
 * Returns 0 with the file's path in path, or -1 with diag. */
int hl_repro_write(const hl_spec *specs, size_t count, const char *label, const hl_trace *trace,
                   const hl_finding *finding, uint64_t check_every, double timeout, const char *dir, char *path,
                   size_t capacity, hl_diag *diag);
/* ================================================================ conformance */

/* The conformance pass of `heaplab vet` (check/conformance.c): one trace per property
 * of the contract (alignment, sizes, realloc, scopes, misuse, caps), the same for
 * every backend (what one does not declare it refuses as the contract allows, and
 * the executor skips misuse kinds it does not detect). */
typedef struct hl_conformance {
    const char *property; /* "alignment" */
    const char *what;     /* one line: what its trace asks */
    hl_trace trace;       /* named vet-PROPERTY.trace; free with hl_trace_free */
} hl_conformance;
size_t hl_conformance_count(void);
/* Property i (< hl_conformance_count()): 0, or -1 with diag. */
int hl_conformance_trace(size_t i, hl_conformance *out, hl_diag *diag);
/* The out-of-memory trace for a backend whose memory heaplab caps at cap bytes
 * (vet-oom.trace, property "oom"): 2 * cap / 4 KiB allocations of 4 KiB (about half
 * of them past the cap, to be refused with the heap unchanged), a free of every one
 * (the refused ones' frees are skipped), then cap / 4 / 4 KiB allocations of 4 KiB
 * left live, which an allocator that got its memory back serves. So on a run of it,
 * phase one's refusals are the skipped frees, and summary.failures - summary.skipped
 * is how many of the last allocations were refused. 0, or -1 with diag. */
#define HL_CONFORMANCE_OOM_BLOCK 4096u
int hl_conformance_oom(size_t cap, hl_conformance *out, hl_diag *diag);

/* True for the rules only a comparison of several backends shows (OUTCOME_DIFFERS,
 * OFFSET_DIFFERS): a reproducer of one runs as a diff. */
bool hl_rule_is_difference(hl_rule rule);


/* ================================================================ known findings */

/* Findings a run does not stop on (--ignore RULE@BACKEND, ignore.c): a known bug of a
 * peer must not end every comparison it touches. BACKEND is a backend's name (every
 * spec of it) or a spec's label. */
typedef struct hl_ignore {
    hl_rule rule;
    char backend[120];
} hl_ignore;
typedef struct hl_ignores {
    hl_ignore *items;
    size_t count, capacity;
} hl_ignores;
/* Adds "RULE@BACKEND", or every such line of the file text names ('#' comments):
 * 0, or -1 with diag naming the entry (and file line) that is wrong. */
int hl_ignores_add(hl_ignores *ignores, const char *text, hl_diag *diag);
/* True when a finding of rule on spec is ignored (ignores may be NULL). */
bool hl_ignored(const hl_ignores *ignores, hl_rule rule, const hl_spec *spec);
void hl_ignores_free(hl_ignores *ignores);

/* ================================================================ differential runs */

#define HL_DIFF_IGNORED_KEPT 8

/* What a differential run of several backends over one stream found. */
typedef struct hl_diff_summary {
    uint64_t ops;              /* operations stepped */
    uint64_t retired;          /* ids retired because some backends could not serve them */
    uint64_t offsets_compared; /* blocks whose offsets offset-exact backends had to agree on */
    bool ended;                /* the comparison ended early (a one-sided scope failure) */
    uint64_t ended_at;
    char ended_reason[200];
    bool found;
    hl_finding finding;        /* the first difference or contract break */
    char backend[200];         /* the backend it names (for OUTCOME_DIFFERS, the first of the two) */
    char other[200];           /* OUTCOME_DIFFERS: the second backend */
    bool setup_failed;
    char setup_error[600];
    uint64_t outcomes[HL_OP_COUNT]; /* bit e of outcomes[k]: some backend answered an operation
                                       of kind k with error e (sent, not skipped): the
                                       behaviour the fuzzer's feedback counts */
    uint32_t ignored;          /* findings ignored: each stopped its backend's lane there */
    hl_finding ignored_finding[HL_DIFF_IGNORED_KEPT]; /* the first of them */
    char ignored_backend[HL_DIFF_IGNORED_KEPT][120];
} hl_diff_summary;

/* Steps an executor per spec over trace in lockstep, each under its own shadow model,
 * and compares what the contract says must agree: the outcome (success or the error)
 * of every operation except usable_size and misuse, which each backend answers as it
 * declares. A failed alloc or realloc that another backend served (OUT_OF_MEMORY,
 * UNSUPPORTED, CAPACITY: legal anywhere) retires the id everywhere; a one-sided
 * failure of enter_scope or promote ends the comparison there. Returns 0 clean, 1 a
 * finding (first difference or contract break), 2 setup failure. In process. */
int hl_diff(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every, hl_diff_summary *summary);
/* hl_diff stepping lanes under watch (hl_isolate's; NULL: not isolated): each lane
 * and operation is published before its backend is called, teardown blocks too. */
int hl_diff_watched(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every,
                    hl_diff_summary *summary, hl_watch *watch);
/* hl_diff_watched with known findings (see hl_diff_isolated_ignoring; NULL: none). */
int hl_diff_watched_ignoring(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every,
                             const hl_ignores *ignores, hl_diff_summary *summary, hl_watch *watch);
/* One set of instances for several streams, one after another (persistent fuzzing):
 * open makes an instance per spec, told hints (HL_HINT_*, beside ONE_THREAD) (NULL
 * when one cannot be made, with *failed a setup failure saying why); run is
 * hl_diff_watched_ignoring over trace on those instances, the executors and shadow
 * models reset (their tables kept, emptied in time proportional to what the stream
 * before touched); reusable says whether the last stream left every instance as new: it ran to its end with no
 * finding and ended with a free_all every lane served (else close and open again).
 * What one stream leaves behind that free_all does not clear is the next stream's to
 * find: a finding after several streams may need them all (hl_fuzz_history). */
typedef struct hl_differ hl_differ;
hl_differ *hl_differ_open(const hl_spec *specs, size_t count, uint64_t check_every, const hl_ignores *ignores,
                          uint32_t hints, hl_watch *watch, hl_diff_summary *failed);
int hl_differ_run(hl_differ *differ, const hl_trace *trace, hl_diff_summary *summary);
bool hl_differ_reusable(const hl_differ *differ);
void hl_differ_close(hl_differ *differ);
/* hl_diff through hl_isolate, so a backend that crashes, exits or stops is a CRASH
 * finding and one that makes no progress for timeout seconds (0: no limit) a HANG,
 * naming the backend (its lane) and the operation index (or the teardown block),
 * never the end of the caller. A finding of the stream wins over a teardown crash. */
int hl_diff_isolated(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every,
                     double timeout, hl_diff_summary *summary);
/* hl_diff_isolated with known findings: a lane whose shadow model finds an ignored
 * rule stops there (counted and kept in summary->ignored*), the other lanes go on and
 * are compared to the end. A crash or hang ends the run as ever (ignored or not, the
 * process is gone); difference rules are not ignored. */
int hl_diff_isolated_ignoring(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every,
                              double timeout, const hl_ignores *ignores, hl_diff_summary *summary);
/* For a CRASH or HANG in *got (found with check_every): stream run again
 * (hl_diff_isolated_ignoring) with check_every HL_CHECK_DEEP, then HL_CHECK_UNTOUCHED,
 * and when neither shows anything, the same on the crash's shrunk stream (hl_shrink,
 * up to 300 runs or 10 s; check/deepen.c). When one shows another rule on the same backend at
 * or before the crash's operation, *got becomes the earliest such finding and the
 * mode it was found under is returned (its reproducer must record it as its
 * check_every); *smaller is then the shrunk stream it was found on (free it), or
 * empty (count 0) when it was stream itself. Else 0, *got stays, *smaller empty. */
uint64_t hl_diff_deepen(const hl_spec *specs, size_t count, const hl_trace *stream, uint64_t check_every,
                        double timeout, const hl_ignores *ignores, hl_diff_summary *got, hl_trace *smaller);

/* ================================================================ shrinking */

typedef struct hl_shrink_options {
    uint64_t check_every;    /* heap check period of each run (0: at the end; the fuzzer's) */
    double timeout;          /* a run without an answer this long is a HANG (0: no limit) */
    bool progress;           /* a progress line on stderr about once a second */
    uint64_t max_runs;       /* stop shrinking after this many runs (0: no limit) */
    double max_seconds;      /* or after this long (0: no limit) */
    bool keep_values;        /* leave sizes, alignments and ranges as they are (a reproducer) */
    bool want_rule;          /* shrink only if the trace shows this rule first (else return 1) */
    hl_rule rule;
} hl_shrink_options;

typedef struct hl_shrink_result {
    size_t before, after;    /* operations */
    size_t ids_before, ids_dropped; /* block ids the finding does not name, and how many went */
    uint64_t runs;           /* candidate traces run */
    double seconds;
    hl_diff_summary finding; /* what the smallest trace shows */
} hl_shrink_result;

/* Minimises trace while it shows the same rule on the same backend as it does first
 * (check/shrink.c, heaplab's one minimiser): the prefix up to the finding's
 * operation, then delta debugging over the block ids the finding does not name
 * (an allocator's state depends on blocks it does not name: a free list's order, a
 * bump pointer), then over operations, then sizes, alignments and touched ranges,
 * within the options' budget. Every run is isolated (hl_diff_isolated). Returns 0 with *out the
 * smallest trace found (consistent; free with hl_trace_free), 1 when trace shows no
 * finding on these backends, 2 on a setup failure (r->finding.setup_error). */
int hl_shrink(const hl_spec *specs, size_t count, const hl_trace *trace, const hl_shrink_options *options,
              hl_trace *out, hl_shrink_result *r);

#endif /* HL_CHECK_H */
