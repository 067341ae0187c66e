/* hl_run.h: the run layer. One executor (hl_exec) applies operations to a backend
 * instance and keeps the id -> block map; observers (check/, measure/) see every
 * operation. Also backends by spec, block patterns, the fault catcher, threaded
 * stepping, and the finding a run reports. The run loop over lanes: hl_lanes.h.
 *
 * Depends on trace/, core/ and allocators/ (the contract and the backend list). */
#ifndef HL_RUN_H
#define HL_RUN_H

#include "hl_blockmap.h"
#include "hl_isolate.h"

/* ================================================================ block patterns */

/* Which offsets of a block carry its pattern (fill writes no other byte, verify reads
 * none). Which offsets are sampled depends on the offset alone, not the block's size. */
typedef enum hl_pattern_shape {
    HL_PATTERN_TRACE, /* all below 64 KiB, then the first 64 bytes of every further 64 KiB */
    HL_PATTERN_FUZZ   /* all below 4 KiB, then 2 lines of 64 bytes, at 2^k and 1.5 * 2^k,
                         in every octave [2^k, 2^(k+1)): a 16 MiB block has 24 lines, not
                         256, and a fresh page is touched for each */
} hl_pattern_shape;
/* Fills the sampled bytes of offsets [from, to) of block `id`'s pattern at dst (which
 * holds offset from): what the executor writes into every block (outside any timed
 * region) and the shadow model expects to find. Differs between ids and along a
 * block, so an overlap or a lost prefix shows. */
void hl_pattern_fill(hl_pattern_shape shape, void *dst, uint64_t id, size_t from, size_t to);
/* Compares the sampled bytes [from, to) of src (which holds offsets from..to) with
 * the pattern. Returns true if equal, else false with the first differing offset in *bad. */
bool hl_pattern_verify(hl_pattern_shape shape, const void *src, uint64_t id, size_t from, size_t to, size_t *bad);

/* ================================================================ fault catcher */

/* True if this build catches faults of raw accesses (not in sanitizer or fuzzer
 * builds, whose runtimes own SIGSEGV). */
bool hl_fault_available(void);
/* Runs access(context) with SIGSEGV/SIGBUS caught: true if it completed; false if it
 * faulted, with the faulting address in *at (if not NULL). The access must only read
 * or write memory (it is abandoned where it faulted). Without the catcher it simply
 * runs, and a fault ends the process. Not reentrant; one thread. */
bool hl_fault_run(void (*access)(void *context), void *context, uintptr_t *at);

/* ================================================================ executor */

typedef struct hl_exec hl_exec;

/* What one operation did on one backend: handed to every observer's after hook. */
typedef struct hl_result {
    uint64_t index;        /* position of the operation in the stream (0-based) */
    const hl_op *op;
    hl_error error;        /* the backend's answer; OK on success */
    bool skipped;          /* not sent to the backend (reason in skip_reason) */
    const char *skip_reason;
    bool stream_ended;     /* the stream cannot go on here (e.g. enter_scope failed) */
    bool overlap;          /* the returned block overlaps live block overlap_id */
    uint64_t overlap_id;
    hl_addr addr;          /* block after the operation, or the address a misuse used */
    hl_addr old_addr;      /* realloc/promote: the block before */
    size_t old_size;       /* realloc/promote: its size before */
    size_t usable;         /* usable_size of the block after the operation */
    int64_t offset;        /* access misuse: the offset accessed, from the block's start */
    bool faulted;          /* the executor's own (legal) access to the block faulted */
    size_t fault_offset;   /* where, from the block's start */
    uint64_t elapsed_ticks; /* the backend call alone (hl_clock_ticks) */
} hl_result;

/* An observer sees every operation. Hooks return 0 to go on, non-zero to stop the
 * stream (a divergence). before runs ahead of the backend call (the state the
 * operation will change is still there); after gets the result; finish runs once at
 * the end of the stream (also after a stop); concurrent says whether other threads'
 * calls may be in flight around the operations that follow (threaded replay: a
 * check that reads the whole backend must wait for an operation that runs alone).
 * Any hook may be NULL. */
typedef struct hl_observer {
    const char *name;
    void *context;
    int (*before)(void *context, hl_exec *exec, const hl_op *op, uint64_t index);
    int (*after)(void *context, hl_exec *exec, const hl_result *result);
    int (*finish)(void *context, hl_exec *exec);
    void (*concurrent)(void *context, bool on);
    /* A hint from hl_exec_prefetch that an operation on id comes soon: start loading
     * the observer's bookkeeping for it, its slot (entry false) or, a few operations
     * later, its entry (entry true). Must change nothing observable. */
    void (*prefetch)(void *context, uint64_t id, bool entry);
} hl_observer;

/* Counters of what an executor did; kept by the executor itself. */
typedef struct hl_exec_counts {
    uint64_t ops;          /* operations stepped */
    uint64_t sent;         /* of which sent to the backend */
    uint64_t skipped;      /* of which skipped (feature, retired id, misuse not declared) */
    uint64_t failures;     /* backend calls that returned an error */
    uint64_t elapsed_ticks; /* sum of the backend calls (hl_clock_ticks) */
} hl_exec_counts;

/* Builds an executor over an instance it does not own. */
hl_exec *hl_exec_new(const hl_backend *backend, hl_heap *heap, const char *label);
/* Whether the executor writes each block's pattern (default yes). Off only when no
 * observer verifies contents (replay --no-shadow), so throughput runs measure the
 * allocator and not the pattern writes. */
void hl_exec_write_patterns(hl_exec *exec, bool on);
/* The pattern's shape in this executor's blocks (default HL_PATTERN_TRACE); set before
 * the first operation (the shadow reads it back to verify). */
void hl_exec_set_pattern_shape(hl_exec *exec, hl_pattern_shape shape);
hl_pattern_shape hl_exec_pattern_shape(const hl_exec *exec);
/* Whether and how each backend call is timed (result->elapsed_ticks; default
 * HL_TIMING_PLAIN). Two clock reads cost about 4% of a shadow-checked operation,
 * where the split between backend and harness time means little anyway; runs with
 * the shadow turn it off. HL_TIMING_FENCED reads the clock with fences around the
 * call (hl_clock_ticks_begin/end), for per-call latencies. */
typedef enum hl_timing { HL_TIMING_OFF, HL_TIMING_PLAIN, HL_TIMING_FENCED } hl_timing;
void hl_exec_time_calls(hl_exec *exec, hl_timing timing);
/* Concurrent stepping (threaded replay, threads.c). The caller steps from several
 * threads, each holding one lock of its own around hl_exec_step; the executor calls
 * unlock(context) just before each backend call and lock(context) right after it, so
 * calls from several threads overlap while the block map and the observers see one
 * operation at a time. A block leaves the address index before its free or realloc
 * is sent (another thread may be handed its address at once). The fault catcher is
 * off meanwhile (it serves one thread): access misuse is skipped. Preconditions: the
 * backend declares HL_FEATURE_THREAD_SAFE; only alloc, free, realloc, usable and
 * touch overlap, never two on one id (every other kind runs with no other step in
 * flight). NULL, NULL turns it off. The observers' concurrent hooks hear of both. */
void hl_exec_concurrent(hl_exec *exec, void (*unlock)(void *context), void (*lock)(void *context), void *context);
/* While concurrent stepping is on, brackets an operation that runs alone (no other
 * step in flight): the observers' concurrent hooks hear off, then on again. */
void hl_exec_alone(hl_exec *exec, bool alone);
/* Sizes the executor's bookkeeping for a stream before it runs (the block map's
 * tables, touched), so a timed loop over it does not pay for growing them. */
void hl_exec_expect(hl_exec *exec, const hl_op *ops, size_t count);
/* The same from counts gathered elsewhere (a stream read from a file): the stream's
 * allocs and its largest block id. */
void hl_exec_reserve(hl_exec *exec, uint64_t allocs, uint64_t max_id);
void hl_exec_free(hl_exec *exec);
/* For another stream on the same instance (which the caller has made as new, e.g. by
 * a free_all): the block map is emptied (hl_blockmap_reset) and the counts zeroed;
 * settings and observers stay (each observer is its owner's to reset). */
void hl_exec_reset(hl_exec *exec);
/* Registers an observer (up to 8); they run in registration order. */
void hl_exec_observe(hl_exec *exec, const hl_observer *observer);
/* Applies op (the index-th of its stream) to the backend, keeps the block map, writes
 * patterns, and runs the observers. Returns 0 to go on, 1 if an observer stopped the
 * stream, 2 if the stream ended here (result->stream_ended). */
int hl_exec_step(hl_exec *exec, const hl_op *op, uint64_t index);
/* A hint to call before stepping ops[index] of a stream of count: starts loading,
 * in two stages, the block-map slots and then the entries of the operations a few
 * steps ahead (and the observers' own, through their prefetch hooks), so a replay
 * over many live blocks waits less on memory. Changes
 * nothing observable; skipping it changes only the speed. */
void hl_exec_prefetch(hl_exec *exec, const hl_op *ops, size_t count, size_t index);
/* Differential runs (CONTRACT.md, "Differential rules"): frees id's block in the
 * backend if it is live there and retires the id (later operations on it skip).
 * Returns the backend's answer to the free (OK if there was nothing to free). */
hl_error hl_exec_retire(hl_exec *exec, uint64_t id);
/* Teardown, part of every run: frees the blocks still live when the stream is over,
 * in block id order (a fixed order, so a heap corrupted on the way crashes at the
 * same block every time), each named in watch (may be NULL) as it is freed. Run
 * after the finish hooks; observers do not see it. Returns the blocks freed; the
 * first free that failed is *failed (else OK) on block *failed_id. */
uint64_t hl_exec_teardown(hl_exec *exec, hl_watch *watch, uint64_t *failed_id, hl_error *failed);
/* Runs the observers' finish hooks; returns non-zero if one reported a finding. */
int hl_exec_finish(hl_exec *exec);

const hl_backend *hl_exec_backend(const hl_exec *exec);
hl_heap *hl_exec_heap(const hl_exec *exec);
const hl_info *hl_exec_info(const hl_exec *exec);
const char *hl_exec_label(const hl_exec *exec);
hl_blockmap *hl_exec_blocks(hl_exec *exec);
const hl_exec_counts *hl_exec_counts_of(const hl_exec *exec);
/* A host view of len bytes of block at addr through the backend's mem_view. */
void *hl_exec_view(hl_exec *exec, hl_addr addr, size_t len);
/* Runs access(context), an access to the backend's memory, with faults caught when
 * the backend detects access misuse by faulting (so a page it protects by mistake is
 * a finding, not the end of heaplab): true if it completed, false if it faulted at
 * *at. Otherwise it just runs it. */
bool hl_exec_access(hl_exec *exec, void (*access)(void *context), void *context, uintptr_t *at);


/* ================================================================ backends by name */

/* One backend spec: `NAME[:key=value]...` (ARCHITECTURE.md, "One backend-spec
 * grammar"). For source=static the harness provides the caller buffer (size= bytes,
 * default 1M) from its private arena. */
typedef struct hl_spec {
    char *text;              /* as written, e.g. "bins:source=static:size=1M" */
    char *label;             /* what tables, findings and results call it (and what report
                                --compare matches by): a built-in's text; for a library
                                (./lib.so, malloc:PREFIX@LIB) its name= or the file name */
    char *path;              /* a contract plugin's library (./lib.so[:name=LABEL]); else NULL */
    const hl_backend *backend; /* NULL for a contract plugin until hl_spec_create loads it
                                  (in the child that runs it, never in the driver) */
    hl_option *options;
    size_t option_count;
    size_t static_size;      /* > 0: create gets a caller buffer of this size */
    bool external;           /* loaded from outside the tree (./libfoo.so, malloc:PREFIX@LIB):
                                probed in a child when parsed, always run isolated */
    hl_sandbox_state sandbox; /* external, once probed: how the probe's child ran its code */
    uint32_t sandbox_errno;  /* HL_SANDBOX_UNAVAILABLE: why */
} hl_spec;

/* Parses a comma-separated list of specs; `refs` expands to the reference backends,
 * `all` to every built-in backend. A spec from outside the tree is probed in an
 * isolated child (loaded, its table checked, an instance made and destroyed); its
 * code never runs in this process. Returns 0 with an arena array, or -1 with diag
 * naming the unknown backend, the bad option syntax, a version mismatch, a NULL
 * mandatory entry point, or how the probe's child ended (crash, hang, exit). */
int hl_spec_parse_list(const char *list, hl_spec **out, size_t *count, hl_diag *diag);
/* The spec forms of a library, for help texts and errors (one line, no newline). */
#define HL_SPEC_LIBRARY_FORMS "./lib.so[:name=LABEL] (a contract plugin) or malloc:PREFIX@./lib.so[:name=LABEL]"
/* The malloc families the shared library at path exports (its ELF dynamic symbols):
 * each PREFIX whose PREFIXmalloc, PREFIXfree and PREFIXrealloc it defines, at most
 * `most`, into prefixes. Returns how many; 0 for a file that cannot be read or is not
 * a 64-bit ELF library. Nothing of the library runs. */
#define HL_PREFIX_MAX 64
size_t hl_malloc_prefixes(const char *path, char (*prefixes)[HL_PREFIX_MAX], size_t most);
/* Creates an instance of spec (loading a plugin's table first, in this process).
 * Returns NULL with diag holding the backend's reason (unknown option, bad value, not
 * available). destroy with hl_spec_destroy. */
hl_heap *hl_spec_create(const hl_spec *spec, hl_diag *diag);
/* Makes and destroys an instance of spec in an isolated child, so its code never runs
 * in this process (a foreign backend's library is never loaded here): 0, or -1 with
 * diag saying why (its refusal, or how the child ended). */
int hl_spec_probe(hl_spec *spec, hl_diag *diag);
/* One spec parsed but, from outside the tree, not probed yet (hl_spec_probe then tells
 * whether its code loads and makes an instance): its syntax alone decides here. 0, or
 * -1 with diag (bad syntax, an unknown built-in, a list). */
int hl_spec_parse_unprobed(const char *text, hl_spec *out, hl_diag *diag);
/* As hl_spec_create, with the caller's promises (HL_HINT_*, heaplab.h) in the config. */
hl_heap *hl_spec_create_hinted(const hl_spec *spec, uint32_t hints, hl_diag *diag);
void hl_spec_destroy(const hl_spec *spec, hl_heap *heap);


/* ================================================================ progress */

/* Where a long run publishes how far it got: count (if set) gets the operations
 * completed so far; report (if set) is called with done / total now and then (every
 * 65536 operations in process; about once a second from an isolated run's parent). */
typedef struct hl_progress {
    volatile uint64_t *count;
    void (*report)(void *context, uint64_t done, uint64_t total);
    void *context;
} hl_progress;

/* ================================================================ threaded replay */

/* Real threads a threaded replay uses at most; trace threads beyond it share them. */
#define HL_THREADS_MAX 64
/* True for the kinds that run concurrently (alloc, free, realloc, usable, touch); the
 * others run alone. */
bool hl_threads_op_concurrent(hl_op_kind kind);
/* The number of distinct threads among ops' concurrent kinds (t= ids; operations
 * without one count as one more thread). */
size_t hl_threads_count(const hl_op *ops, size_t count);
/* Steps ops through exec on min(threads, HL_THREADS_MAX) real threads (threads.c):
 * each trace thread's operations in order on one thread, an operation on an id only
 * after the previous one on that id completed, every kind that is not concurrent
 * alone with nothing in flight (the executor tells its observers which, through their
 * concurrent hooks). Preconditions: the backend declares HL_FEATURE_THREAD_SAFE; the
 * trace passes hl_trace_check. progress (may be NULL): its count (if set) gets the
 * count of the gap-free prefix of completed operations, its report (if set) is
 * called with it every 65536 operations. Returns 0 when every operation ran, 1 when an observer
 * stopped the stream or 2 when it ended (operation *stopped_at; other threads' later
 * operations may have run), or -1 with diag when a thread could not start. */
int hl_threads_run(hl_exec *exec, const hl_op *ops, size_t count, unsigned threads,
                   const hl_progress *progress, uint64_t *stopped_at, hl_diag *diag);

#endif /* HL_RUN_H */
