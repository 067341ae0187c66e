/* hl_fuzz.h: the fuzzing layer's public header. For now: one operation decoder that
 * turns any byte string into a valid operation stream over the whole contract, and
 * its inverse, an encoder from a trace to bytes that decode back to the same stream.
 * The built-in fuzzer, the libFuzzer and AFL++ targets (issue 10) all decode with it.
 *
 * The byte format (each operation; a varint is LEB128, at most 10 bytes; a missing
 * byte at the end of the input reads as 0, and the stream ends there):
 *   opcode byte c, kind by c % 16:
 *     0 1 2 14 alloc: size, align, caps byte (bits 0-1: EXEC, DMA)
 *     3 4 15   free: pick of a live block
 *     5        realloc: pick, size
 *     6        touch: pick, offset varint, length varint, write byte (bit 0)
 *     7        usable: pick
 *     8        scope_enter
 *     9        scope_exit: varint k, the scope k levels out from the innermost
 *     10       promote: varint k (scope as for exit), pick among the blocks in that
 *              scope or inside it, n varint (at most the block's size)
 *     11       free_all
 *     12       misuse byte m, by m % 6: double_free (pick of a freed block),
 *              free_invalid (varint: any allocated id; offset varint, 0 reads as 1),
 *              free_layout (pick; size; align: a layout other than its own),
 *              overflow and underflow (pick; J varint), after_free (pick of a freed
 *              block; offset varint, below its last size)
 *     13       annotate the next operation: error byte (fail= that error when it is
 *              a real error and the next operation an alloc, realloc, scope_enter
 *              or promote), thread
 *              varint (0: none, else t-1)
 *   size: byte s < 48: the edge sizes (0, 1, powers of two and their neighbours up
 *     to 65537, class boundaries, 1 MiB, 16 MiB, 2^40); s == 255: a varint, modulo
 *     256 MiB + 1 (so other sizes above 256 MiB do not round-trip); else s-48.
 *   align: byte a <= 16: 1 << a; a == 255: a varint (any value, 3 included); else 16.
 *   pick: a varint k, the (k mod count)-th of the candidates in the decoder's order.
 * An operation that cannot be formed (a free with nothing live) is dropped. Block ids
 * are 1, 2, 3... in allocation order and scope ids 1, 2, 3... in enter order, so the
 * encoder reproduces a trace up to that renumbering; everything else (sizes, layouts,
 * caps, offsets, fail= annotations, thread ids) round-trips exactly. */
#ifndef HL_FUZZ_H
#define HL_FUZZ_H

#include "hl_check.h"
#include "hl_import.h"

#include <stdio.h>

/* Decodes bytes into *out (a fresh trace named `name`, no metadata), at most
 * max_ops operations. Always succeeds: every input is a valid stream (it passes
 * hl_trace_check). The same bytes always give the same stream. */
void hl_fuzz_decode(const uint8_t *bytes, size_t size, size_t max_ops, const char *name, hl_trace *out);

/* Encodes a consistent trace (hl_trace_check passed) so that hl_fuzz_decode gives it
 * back up to the renumbering of ids. Returns a buffer from heaplab's private memory
 * (hl_mem_free it) with its length in *size. */
uint8_t *hl_fuzz_encode(const hl_trace *trace, size_t *size);

/* The stream the diff target runs for one input (fuzz/history.c): its decoded
 * operations (hl_fuzz_decode) and a free_all, which leaves the instances as new for
 * the next input. The operations are numbered from 0; the free_all is the last. */
void hl_fuzz_stream(const uint8_t *bytes, size_t size, size_t max_ops, const char *name, hl_trace *out);
/* The streams of inputs[0..count) one after another, as instances that lived across
 * them were sent them: one self-contained trace (each input's block and scope ids
 * renumbered past the ones before it), so a finding that needs the earlier inputs
 * replays on fresh instances. count 1 is hl_fuzz_stream. */
void hl_fuzz_history(const uint8_t *const *inputs, const size_t *sizes, size_t count, size_t max_ops,
                     const char *name, hl_trace *out);

/* ---------------------------------------------------------------- the targets */

/* What every front end runs on one input (fuzz/target.c), in process: the built-in
 * fuzzer's child, the libFuzzer and AFL++ entry points, the corpus replayer. */
typedef enum hl_fuzz_target_kind {
    HL_FUZZ_TARGET_DIFF,   /* decode, then hl_diff over the backends under the shadow */
    HL_FUZZ_TARGET_DECODE, /* decode only: the bare target exec/s is compared with */
    HL_FUZZ_TARGET_PARSE,  /* the trace readers: a trace or a clean error, and a valid
                              trace reads back the same from the other form */
} hl_fuzz_target_kind;

#define HL_FUZZ_DEFAULT_BACKENDS "refs,libc"
#define HL_FUZZ_MAX_OPS 4096

typedef struct hl_fuzz_target {
    hl_fuzz_target_kind kind;
    hl_spec *specs;          /* diff: the backends */
    size_t count;
    size_t max_ops;          /* decoded operations, at most */
    uint64_t check_every;    /* each backend's heap check period (0: at the end) */
    hl_watch *watch;         /* diff: where each lane is, for an isolating caller (NULL: none) */
    const hl_ignores *ignores; /* diff: known findings that stop their lane only (NULL: none) */
    uint64_t fresh_every;    /* diff: inputs one set of instances serves (each input's stream
                                ends with free_all, which leaves them as new); after that, after
                                a finding, or after an input that did not leave them as new,
                                fresh ones. 0 or 1: fresh instances for every input */
    hl_differ *differ;       /* diff: the instances kept for the next input (NULL: none) */
    uint64_t differ_inputs;  /* inputs run on them so far */
} hl_fuzz_target;

/* Sets up the target named kind ("diff", "decode", "parse") over the backend list
 * (NULL: HL_FUZZ_DEFAULT_BACKENDS; only diff uses it). Each backend is created once
 * here, so a spec that cannot make an instance fails now. Returns 0, or 2 with diag. */
int hl_fuzz_target_open(hl_fuzz_target *t, const char *kind, const char *backends, hl_diag *diag);
const char *hl_fuzz_target_name(const hl_fuzz_target *t);
/* Runs one input. Returns 0 clean, 1 a finding (in *s: rule, operation, backend),
 * 2 a setup failure (s->setup_error). ORs the decoded operation kinds into *kinds
 * when kinds is not NULL. Never exits; a crash or hang is the caller's to catch. */
int hl_fuzz_target_run(hl_fuzz_target *t, const uint8_t *data, size_t size, hl_diff_summary *s, uint32_t *kinds);
/* The inputs the instances of the next run will have served, that run's included: 1
 * when it gets fresh ones. */
uint64_t hl_fuzz_target_history(const hl_fuzz_target *t);
/* Drops the kept instances (the next input gets fresh ones). */
void hl_fuzz_target_forget(hl_fuzz_target *t);
/* The targets themselves (target_diff.c, target_decode.c, target_parse.c), as
 * hl_fuzz_target_run calls them: *s zeroed, the same return values. */
int hl_fuzz_target_diff(hl_fuzz_target *t, const uint8_t *data, size_t size, hl_diff_summary *s, uint32_t *kinds);
int hl_fuzz_target_decode(const hl_fuzz_target *t, const uint8_t *data, size_t size, hl_diff_summary *s,
                          uint32_t *kinds);
int hl_fuzz_target_parse(const uint8_t *data, size_t size, hl_diff_summary *s);
/* One line for a finding (hl_finding_print's, source "fuzz input") or the setup
 * error of hl_fuzz_target_run. */
void hl_fuzz_target_report(const hl_diff_summary *s, FILE *out);

/* A finding (*found) of the diff target t on inputs[count - 1], after inputs[0..count
 * - 1) ran in the same process, the last on_instances of them (it included) on the
 * same instances, run again on fresh instances in a fresh process (hl_diff_isolated,
 * timeout as there): the input alone, then its instances' inputs, then all count, each
 * as one trace (hl_fuzz_history). Returns 1, 2 or 3 (which of them showed it) with
 * *out the stream that shows it again and *got what it shows (the same rule on the
 * same backend; the operation index is the stream's), or 0 when none does (*out: the
 * input's stream, *got: *found). Free *out with hl_trace_free. */
int hl_fuzz_reproduce(const hl_fuzz_target *t, const uint8_t *const *inputs, const size_t *sizes, size_t count,
                      size_t on_instances, const hl_diff_summary *found, double timeout, hl_trace *out,
                      hl_diff_summary *got);

/* ---------------------------------------------------------------- in-process engines */

/* The inputs the diff target's kept instances served, for an engine that runs every
 * input in one process (libFuzzer, AFL++ persistent mode; fuzz/inprocess.c). Zero it
 * to start; hl_fuzz_kept_free when done. */
typedef struct hl_fuzz_kept {
    uint8_t **bytes;
    size_t *sizes;
    size_t count, cap;
} hl_fuzz_kept;

/* hl_fuzz_target_run, remembering the input while t's instances live (copies). */
int hl_fuzz_target_run_kept(hl_fuzz_target *t, hl_fuzz_kept *kept, const uint8_t *data, size_t size,
                            hl_diff_summary *s);
/* After the finding *s of the last kept input: returns 1 when the input alone may show
 * it (it is the engine's artifact; also when there is nothing before it), 2 when only
 * the run with the inputs before it does on fresh instances (that run is written as a
 * reproducer trace DIR/history-RULE-HASH.trace, named on out), 0 when no fresh run
 * shows it (said on out). Runs in forked children (timeout seconds each). */
int hl_fuzz_kept_explain(const hl_fuzz_target *t, const hl_fuzz_kept *kept, const hl_diff_summary *s,
                         const char *dir, double timeout, FILE *out);
void hl_fuzz_kept_free(hl_fuzz_kept *kept);

/* ---------------------------------------------------------------- the built-in fuzzer */

/* Fresh random bytes for input n of a campaign with this seed: their length (up to
 * max_len) and values come from a splitmix64 stream of (seed, n). The engine makes
 * half its inputs so, the other half by mutating its corpus. */
size_t hl_fuzz_input(uint64_t seed, uint64_t n, uint8_t *buf, size_t max_len);

typedef struct hl_fuzz_options {
    uint64_t seed;
    double seconds;          /* stop after this long (0: no limit) */
    uint64_t runs;           /* stop after this many inputs (0: no limit) */
    size_t max_len, max_ops; /* input bytes and decoded operations, at most */
    bool keep_going;         /* record each distinct finding and go on */
    double hang_seconds;     /* an input that makes no progress this long is a HANG */
    const char *findings;    /* directory for finding files */
    bool progress;           /* a progress line on stderr about once a second */
    uint64_t check_every;    /* each backend's heap check period (0: at the end of an input) */
    hl_fuzz_target_kind target; /* HL_FUZZ_TARGET_DIFF (0), or DECODE to measure the engine alone */
    const char *corpus;      /* a directory whose files seed the corpus (NULL: none) */
    const hl_ignores *ignores; /* known findings (--ignore): counted, never a finding */
    uint64_t fresh_every;    /* inputs one child (and its instances) runs before a fresh one (>= 1) */
    struct hl_fuzz_pool *pool; /* shared with other workers (fuzz --jobs; NULL: none) */
    unsigned job;            /* this worker's number in pool, from 0 */
} hl_fuzz_options;

#define HL_FUZZ_FRESH_EVERY 100

typedef struct hl_fuzz_result {
    uint64_t execs;          /* inputs run */
    double seconds;
    uint32_t kinds;          /* bit k: operation kind k was decoded at least once */
    uint64_t findings;       /* distinct findings */
    unsigned outcomes;       /* (operation kind, outcome) pairs seen: the feedback */
    unsigned corpus;         /* corpus entries at the end (seeds and kept inputs) */
    uint64_t ignored;        /* ignored findings, over every input */
    hl_finding first;        /* the first finding written (when findings > 0): rule, operation */
    char first_backend[200]; /* its backend's label */
    char first_trace[800];   /* its reproducer trace ("" if it could not be written) */
} hl_fuzz_result;

/* Fuzzes the specs differentially (hl_diff on each decoded input) in a forked child,
 * so a crash or hang of a backend is a finding, not the end of heaplab. Inputs are
 * fresh or mutated from a corpus that keeps every input showing a new (operation
 * kind, outcome) pair (fuzz/engine.c). Each distinct
 * finding (rule and backend) is written to options->findings as NAME.trace (the
 * decoded stream), NAME.input (the bytes) and NAME.json (specs, rule, operation,
 * seed, input number) and printed on stderr. Returns 0 clean, 1 findings, 2 setup
 * failure (message on stderr). */
int hl_fuzz_run(const hl_spec *specs, size_t count, const hl_fuzz_options *options, hl_fuzz_result *result);

/* What the workers of `heaplab fuzz --jobs J` share (fuzz/drivers/corpus.c): one
 * corpus (the --corpus files loaded once, every worker's new inputs added to it and
 * mutated by all), one table of the findings written (rule and backend: the first
 * worker to meet one writes it, the others say so and write nothing), and each
 * worker's result. Made in shared memory before the workers are forked (NULL when it
 * cannot be, or jobs is not 1..64); each worker passes it in hl_fuzz_options with its
 * number. */
typedef struct hl_fuzz_pool hl_fuzz_pool;
hl_fuzz_pool *hl_fuzz_pool_new(unsigned jobs);
void hl_fuzz_pool_free(hl_fuzz_pool *pool);
/* The sum over the workers that finished: inputs, kinds, ignored findings; seconds is
 * the longest worker's; findings, outcomes and corpus are the shared ones. */
void hl_fuzz_pool_total(const hl_fuzz_pool *pool, hl_fuzz_result *total);

/* The "backends" of the finding record beside a finding's file (NAME.input or
 * NAME.trace -> NAME.json), comma-separated into *list (heaplab memory; hl_mem_free
 * it). Returns 0 when there is no record, 1 with *list, -1 for a record without a
 * list of backends. */
int hl_fuzz_record_backends(const char *path, char **list);

#endif
