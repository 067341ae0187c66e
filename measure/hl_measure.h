/* hl_measure.h: the measure layer: latency histograms, fragmentation and footprint,
 * and the results document (one record per (backend, trace) run) that the report
 * reads. The latency and fragmentation observers watch an executor (run/).
 *
 * Depends on run/ and below. */
#ifndef HL_MEASURE_H
#define HL_MEASURE_H

#include "hl_run.h"

/* ================================================================ histogram */

/* A log-bucketed histogram (histogram.c): fixed memory, no allocation on record,
 * every value kept to about 1% (a bucket spans at most 1/64 of its values; values
 * below 128 exactly). Values of 2^HL_HIST_MAX_BITS or more share the last bucket
 * (max stays exact). */
#define HL_HIST_SUB_BITS 6
#define HL_HIST_MAX_BITS 36
#define HL_HIST_BUCKETS ((HL_HIST_MAX_BITS - HL_HIST_SUB_BITS + 1) << HL_HIST_SUB_BITS)
typedef struct hl_histogram {
    uint64_t count, sum, min, max;
    uint64_t bucket[HL_HIST_BUCKETS];
} hl_histogram;

void hl_histogram_reset(hl_histogram *h);
void hl_histogram_record(hl_histogram *h, uint64_t value);
/* The mean of the values recorded (exact); 0 when empty. */
double hl_histogram_mean(const hl_histogram *h);
/* The smallest bucket bound at or above percent% of the values (0..100): at most
 * about 1.6% above the true percentile, never below it, within [min, max]; 100
 * gives max; 0 when empty. */
uint64_t hl_histogram_percentile(const hl_histogram *h, double percent);
/* Bucket i holds the values low..high (inclusive). */
uint64_t hl_histogram_bucket_low(size_t i);
uint64_t hl_histogram_bucket_high(size_t i);

/* ================================================================ latency */

/* What an empty begin/end pair measures, over 4095 pairs (about 100 us; no
 * allocation): the median is what the latency mode subtracts from every sample.
 * step_ticks: the smallest difference between two of those readings, where it can
 * be seen (below 128 ticks): the counter's real resolution (a hypervisor may
 * advance it in steps of many ticks); 1 if all readings were equal. */
typedef struct hl_clock_overhead {
    uint64_t min_ticks, median_ticks, p99_ticks, step_ticks;
} hl_clock_overhead;
hl_clock_overhead hl_clock_measure_overhead(void);


/* The operation kinds the latency mode times, one histogram each. */
#define HL_LATENCY_TABLE(X) X(ALLOC) X(FREE) X(REALLOC) X(USABLE) X(SCOPE_ENTER) X(SCOPE_EXIT) X(PROMOTE) X(FREE_ALL)
#define HL_LATENCY_KINDS 8

/* A run's latencies in nanoseconds per kind (plain data: crosses a process
 * boundary with the run's summary). */
typedef struct hl_latency {
    bool on;                      /* the run timed its calls (replay --latency) */
    double ns_per_tick;
    hl_clock_overhead overhead;   /* in ticks; the median is subtracted from each call */
    hl_histogram kind[HL_LATENCY_KINDS];
} hl_latency;

/* The histogram slot of kind, or -1 if the latency mode does not time it. */
int hl_latency_slot(hl_op_kind kind);
/* "alloc" for the slot of HL_OP_ALLOC. */
const char *hl_latency_kind_name(int slot);
/* Calibrates the clock and measures the timer's overhead (about 5 ms the first
 * time in a process, then about 100 us). */
void hl_latency_init(hl_latency *latency);
/* An observer that records each timed call of the executor into *latency (made
 * with hl_latency_init). The executor must time calls with HL_TIMING_FENCED. */
hl_observer hl_latency_observer(hl_latency *latency);

/* ================================================================ fragmentation */

/* Timeline points a run keeps at most (fragmentation.c). */
#define HL_TIMELINE_POINTS 4096
typedef struct hl_timeline_point {
    uint64_t op;              /* operations completed */
    uint64_t live_bytes;      /* requested bytes of the live blocks */
    uint64_t footprint_bytes; /* the backend's stats.footprint */
} hl_timeline_point;

/* A run's fragmentation and the figures a results document reports per run: peak
 * live bytes and blocks, peak and final footprint (plain data). The measures are
 * ratios (1.0: none); 0 where the run had no live bytes to divide by.
 * fragmentation.c says how each is read. */
typedef struct hl_fragmentation {
    bool on;
    double time_average;       /* J&W 1: mean footprint / mean live, over the timeline */
    double at_peak_live;       /* J&W 2: footprint / live at the peak of live bytes */
    double at_peak_footprint;  /* J&W 3: footprint / live at the peak of footprint */
    double peak_to_peak;       /* J&W 4: peak footprint / peak live */
    double internal_average;   /* usable / requested of the live blocks, timeline mean */
    double internal_at_peak_live;
    uint64_t peak_live_bytes, peak_live_blocks, peak_footprint_bytes, final_footprint_bytes;
    uint64_t live_at_peak_live, footprint_at_peak_live, usable_at_peak_live;
    uint64_t live_at_peak_footprint, footprint_at_peak_footprint;
    uint64_t backend_peak_footprint; /* the backend's own stats.peak_footprint */
    uint64_t footprint_reads;  /* stats calls made */
    uint64_t every;            /* a timeline point every this many operations */
    uint32_t points;
    hl_timeline_point timeline[HL_TIMELINE_POINTS];
    bool at_peak_footprint_na;  /* nothing live at the footprint's peak: measure 3 is n/a */
    /* the observer's running state */
    uint64_t point_at, rng;
    double sum_footprint, sum_live, sum_usable, sum_requested;
} hl_fragmentation;

/* The timeline period for a stream of ops operations: 1 up to HL_TIMELINE_POINTS - 1
 * operations, then the smallest period that keeps the points under that. */
uint64_t hl_fragmentation_period(uint64_t ops);
/* An observer that fills *f over a stream of about ops operations (a longer one
 * keeps its first points and the last). The measures are set by its finish hook. */
hl_observer hl_fragmentation_observer(hl_fragmentation *f, uint64_t ops);

/* ================================================================ the measure path */

#include "hl_plan.h" /* the plan: a trace compiled to steps (plan.c) */

/* A timed run whose passes add up to less than HL_SPEED_MIN_NS, or of fewer steps
 * than HL_SPEED_MIN_STEPS, is "not measured": a timer interrupt or a page fault (5-20 us) would be over 1% of
 * it, and an allocator's one-time start (mimalloc reserves and maps its first segment:
 * over 1 ms for a 67-operation trace here) is all it sees. */
#define HL_SPEED_MIN_NS 1000000u
#define HL_SPEED_MIN_STEPS 10000u

/* What a timed run measured (plain data: crosses a process boundary). */
typedef struct hl_speed {
    bool ran;            /* the loop ran to its end */
    bool measured;       /* ran, and timed_ns >= HL_SPEED_MIN_NS */
    uint64_t steps;      /* steps in the plan */
    uint64_t calls;      /* backend calls made in the timed loop */
    uint64_t skipped;    /* steps on a block an earlier failed call left absent */
    uint64_t failed;     /* calls that failed (the backend could not follow) */
    uint64_t not_run;    /* operations of the trace that are no step */
    uint64_t timed_ns;   /* the median warm pass, clock read to clock read */
    uint64_t warm_total_ns; /* all warm passes */
    uint32_t warm_passes;
    uint64_t cold_ns;    /* the cold (first) pass */
    bool cold_measured;  /* cold_ns long enough to be a measure */
    uint32_t hints;      /* what the instance was told (HL_HINT_*) */
    bool direct;         /* the allocator's own entry points were called (hl_info.direct) */
    char error[640];     /* !ran: why (the instance could not be made, a crash) */
} hl_speed;

typedef struct hl_speed_options {
    bool isolate;        /* in a forked child (a fresh allocator; a crash is no end) */
    double timeout;      /* isolated: seconds without progress before it is killed */
    bool table_only;     /* never the instance's own entry points (hl_info.direct) */
} hl_speed_options;

/* The nanoseconds per step (per operation run) of a measured run's warm pass, or of
 * its cold pass; 0 when not measured. */
double hl_speed_ns_per_op(const hl_speed *speed);
double hl_speed_cold_ns_per_op(const hl_speed *speed);
/* Runs plan cold once, then warm (speed.c says how often) on a fresh instance of spec (created with
 * HL_HINT_ONE_THREAD and HL_HINT_NO_STATS, and HL_HINT_CALLER_FREES unless the
 * plan is scoped; after each pass the leftovers are freed, or free_all is called,
 * after the clock read). Returns 0 with *out filled, or
 * -1 with out->error saying why it did not run to its end. */
int hl_speed_run(const hl_spec *spec, const hl_plan *plan, const hl_speed_options *options, hl_speed *out);
/* The null backend: it does no work (every alloc gets one of 64 lines of a static
 * buffer; free does nothing). Not a correct allocator, never in `all`: the measure
 * path over it is heaplab's own cost per operation. */
const hl_spec *hl_speed_null_spec(void);

/* ================================================================ run records */

typedef struct hl_run_summary hl_run_summary;
/* heaplab's own cost per step on a plan: the null backend's ns per step through the
 * contract table and through its own entry points (0 if not measured). */
typedef struct hl_null_cost {
    double table_ns, direct_ns;
} hl_null_cost;
hl_null_cost hl_speed_null_cost(const hl_plan *plan, bool isolate, double timeout);
/* A timed run of spec on plan into summary's speed fields (isolated when asked or when
 * the spec is from outside the tree), with null's figure for the path the run took
 * (speed.direct) as heaplab's own cost. */
void hl_speed_into(const hl_spec *spec, const hl_plan *plan, bool isolate, double timeout, const hl_null_cost *null,
                   hl_run_summary *summary);

/* What one (backend, trace) run did: plain data, so it crosses a process boundary. */
struct hl_run_summary {
    char backend[200];
    char backend_version[200]; /* "heaplab VERSION" for the reference backends; a foreign
                                  one's describe source (its library and version) */
    char trace[400];
    uint32_t features, misuse; /* what the instance declared (hl_info): HL_FEATURE_*, HL_MISUSE_BIT */
    uint64_t ops, sent, skipped, failures;
    uint64_t elapsed_ns;       /* wall time of the operation loop, observers included */
    uint64_t backend_ns;       /* sum of the backend calls alone, if timed */
    bool backend_timed;        /* runs without the shadow time each call */
    bool stream_ended;         /* stopped early without a finding */
    uint64_t ended_at;
    char ended_reason[200];
    bool found;
    bool ignored;          /* the finding is a known one (--ignore): listed, not a divergence */
    hl_finding finding;
    uint64_t detections;       /* declared misuse detections that fired (passes) */
    hl_detection detected[HL_DETECTIONS_KEPT]; /* the first of them */
    uint32_t threads;          /* real threads the run used; 0: serialised in trace order */
    uint32_t trace_threads;    /* distinct threads in the trace */
    hl_latency latency;        /* per-call latencies (options->latency) */
    hl_fragmentation fragmentation;
    bool footprint_unknown;    /* the backend offers no footprint reading
                                  (HL_FEATURE_FOOTPRINT_UNKNOWN): footprints and the
                                  measures over them are "not measured" */
    bool speed_on;             /* a timed run of the measure path was made (speed) */
    hl_speed speed;
    double null_ns_per_op;     /* the null backend's ns per step on the same plan (heaplab's
                                  own cost); 0: not measured */
    uint64_t rss_start_bytes;  /* isolated runs: the child's resident set as it started */
    uint64_t rss_peak_bytes;   /* and its peak (getrusage maxrss): the footprint's cross-check */
    bool setup_failed;         /* the instance could not be made (bad option: usage) */
    char setup_error[600];
};

/* ================================================================ results */

/* The results document: {schema_version, machine, build, shard?, partial?, results: [...]}, one
 * result per (backend, trace) run. The report (reports/) reads exactly this. Every change
 * of its shape bumps the version (3: build.id, shard, speed; ops_per_sec and the
 * footprints nullable); the report reads the versions reports/schema holds a schema of
 * and refuses others. */
#define HL_RESULTS_SCHEMA_VERSION 4
/* heaplab's own version (the results document, --version) */
#define HL_VERSION "0.1.0"

typedef struct hl_results hl_results;
hl_results *hl_results_new(void);
/* Adds one run; repro is the reproducer's path or NULL. */
void hl_results_add(hl_results *results, const hl_run_summary *summary, const char *repro);
/* Marks the document as shard index of count (1 <= index <= count, `report --shard`):
 * the traces it ran and all traces of the split (sorted), so a merge can check that
 * the shards add up to the whole set. */
void hl_results_shard(hl_results *results, unsigned index, unsigned count, char *const *traces, size_t trace_count,
                      char *const *all, size_t all_count);
/* Marks the document partial (`report` interrupted, README "Interrupting heaplab"):
 * partial: {reason, not_measured: []}, reason replaced if it already was. */
void hl_results_partial(hl_results *results, const char *reason);
/* Lists (trace, backend) under partial.not_measured: a pair the document has no result
 * of. Does nothing unless the document is partial. */
void hl_results_not_measured(hl_results *results, const char *trace, const char *backend);
/* The document as indented JSON (arena string; hl_mem_free it). */
char *hl_results_json(hl_results *results);
void hl_results_free(hl_results *results);
/* True when this build runs under sanitizers (its timings and footprints are marked). */
bool hl_build_sanitized(void);
/* The build's identity (build.id, build_id.c): the SHA-256 of the running binary in hex,
 * as `sha256sum` prints it; "config:..." when the binary cannot be read. */
const char *hl_build_id(void);

#endif /* HL_MEASURE_H */
