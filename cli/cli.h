/* cli.h: the heaplab binary's subcommands. The top layer: nothing depends on it.
 * Each subcommand is one file with a run function and its help text; main.c
 * dispatches through the HL_COMMANDS table. Exit codes everywhere: 0 clean, 1 a
 * finding, 2 bad usage or bad input. */
#ifndef HL_CLI_H
#define HL_CLI_H

#include "hl_fuzz.h"
#include "hl_import.h"
#include "backends.h"

#include <stdio.h>

#define HL_EXIT_CLEAN 0
#define HL_EXIT_FINDING 1
#define HL_EXIT_USAGE 2

#define HL_COMMANDS(X)                                                                  \
    X(list, "list the backends, their class, features and options")                   \
    X(replay, "replay traces on backends under the shadow model")                      \
    X(diff, "feed traces to several backends in lockstep and compare them")           \
    X(fuzz, "differential fuzzing with the built-in fuzzer")                          \
    X(shrink, "minimise a finding's trace while it shows the same rule")               \
    X(record, "run a program and record its allocator calls as a trace")              \
    X(run, "run a program with its malloc served by a backend, the contract checked live") \
    X(validate, "check that trace files parse and are consistent, without running")    \
    X(convert, "convert a trace between the text and binary forms, or to and from fuzz inputs") \
    X(import, "make a trace from a foreign allocation log (mtrace, malloclab, logalloc, valgrind)") \
    X(report, "measure traces on backends and write an HTML/Markdown report; compare two runs") \
    X(vet, "vet one allocator: conformance, fuzzing, real traces; a verdict per property")

#define HL_COMMAND_DECLARE(name, summary)                                               \
    int hl_cmd_##name(int argc, char **argv);                                           \
    void hl_help_##name(FILE *out);
HL_COMMANDS(HL_COMMAND_DECLARE)
#undef HL_COMMAND_DECLARE

/* The LD_PRELOAD library called name beside the heaplab binary (build/) or one folder
 * up (build/asan/): true with its path (preload.c). */
bool hl_cli_find_library(const char *name, char *path, size_t capacity);
/* In a child about to exec a program: library goes first in LD_PRELOAD. */
void hl_cli_preload(const char *library);
/* What `heaplab run --record` shares with `heaplab record` (cmd_record.c). target:
 * OUT's absolute path, once OUT is known to be writable and the older OUT.* files are
 * removed (0; else 2 after the message naming OUT and program). setenv: in the child,
 * the recorder's environment. finish: every file written tidied and summarised on
 * out, a line each (0; 2 when nothing was recorded or recording stopped early). */
int hl_record_target(const char *out, const char *program, char *target, size_t capacity);
void hl_record_setenv(const char *target, bool forks);
int hl_record_finish(const char *target, bool binary, FILE *out);
/* Prints "heaplab <command>: <message>" and a pointer to --help on stderr; returns 2. */
int hl_cli_usage_error(const char *command, const char *fmt, ...);
/* Prints a bad-input message (already naming the file) on stderr; returns 2. */
int hl_cli_input_error(const hl_diag *diag);
/* Lists the trace files named by paths (files, or directories searched for files with
 * a trace magic) without reading them: each trace is read and checked once, when its
 * turn comes (hl_cli_read_trace), so memory holds one trace at a time and bad input
 * in a later trace is reported when that trace is reached. Returns 0 with *out_paths
 * and *out_bytes (if not NULL: the files' sizes in all, for progress estimates), or
 * 2 after printing the message (a missing path, a directory with no trace). */
int hl_cli_collect_traces(char **paths, int count, char ***out_paths, size_t *out_count, uint64_t *out_bytes);
/* Reads the trace at path and checks its consistency, once: 0 with *trace (free it
 * with hl_trace_free), or 2 after printing the message naming the file (and line).
 * A cut tail's warning goes to stderr. */
int hl_cli_read_trace(const char *path, hl_trace *trace);
/* The same for a trace replay and report stream (stream.c): checks it in one pass
 * without keeping its operations (trace->streamed: ops NULL, count and the run's
 * sizes set; each run reads the file again). A file that cannot be read twice (a
 * pipe, a device), or a trace of several threads when threads is set, is read whole
 * (hl_cli_read_trace). Returns 0, or 2 after printing the message. */
int hl_cli_stream_trace(const char *path, bool threads, hl_trace *trace);
/* The measure path's plan of a trace, compiled (from the file again, for a streamed
 * trace) when a timed run needs it, and dropped before the next checking run so the
 * two never hold their memory at once; heaplab's own cost on it is measured once. */
typedef struct hl_cli_plan {
    const hl_trace *trace;
    bool isolate;
    double timeout;
    hl_plan plan;
    bool built, costed;
    hl_null_cost null_cost;
} hl_cli_plan;
/* The plan, and the null cost in *null_cost; NULL with diag when the file no longer
 * holds the trace that was checked. */
const hl_plan *hl_cli_plan_get(hl_cli_plan *plan, const hl_null_cost **null_cost, hl_diag *diag);
/* Frees the plan (a later get compiles it again). */
void hl_cli_plan_drop(hl_cli_plan *plan);
/* The trace a finding's message and reproducer read: trace itself when it is held;
 * for a streamed one, its operations up to the finding (all of them for a teardown
 * finding) read from the file again into *held, with its path, form and metadata.
 * Free *held with hl_trace_free in either case. NULL with diag when the file no
 * longer holds them. */
const hl_trace *hl_cli_finding_trace(const hl_trace *trace, const hl_finding *finding, hl_trace *held,
                                     hl_diag *diag);

/* A slice of the traces for `report --shard I/N` (shard.c): the whole set, sorted by
 * path with repeats dropped (every shard sees the same), and shard I's part of it,
 * balanced by file size and independent of the order the paths were named in. */
typedef struct hl_cli_shard {
    unsigned index, count; /* I of N; count 0: not sharded */
    char **all;            /* every trace of the split, in path order */
    size_t all_count;
    char **mine; /* this shard's traces, in path order */
    size_t mine_count;
    uint64_t bytes; /* their files' sizes */
} hl_cli_shard;
/* Parses "I/N" (1 <= I <= N) into shard->index and ->count: 0, or 2 after a usage
 * message naming the value and what is wrong with it. */
int hl_cli_shard_parse(const char *command, const char *text, hl_cli_shard *shard);
/* Fills shard's all and mine from the collected paths (hl_cli_collect_traces). */
void hl_cli_shard_select(hl_cli_shard *shard, char **paths, size_t count);

/* diff's loop (cmd_diff.c): each trace through hl_diff_isolated, a line per trace
 * whose backends agree; the first finding is printed and written as a reproducer
 * into findings. Returns 0, 1 (a finding) or 2 (bad input, printed). */
int hl_cli_diff_traces(const hl_spec *specs, size_t spec_count, char **paths, size_t path_count,
                       uint64_t check_every, double timeout, const char *findings, const hl_ignores *ignores);
/* --ignore RULE@BACKEND (replay, diff): its help, and its parse into ignores (0, or 2
 * after a usage message naming what is wrong). Repeatable; a file of them too. */
#define HL_CLI_IGNORE_HELP                                                               \
    "  --ignore RULE@BACKEND  a known finding that does not stop the run: it ends that\n" \
    "                      backend's part of the trace, is listed and counted, and\n"     \
    "                      alone exits 0 (BACKEND: a name or a spec's label;\n"           \
    "                      repeatable; or a file of such lines)\n"
int hl_cli_ignore(const char *command, hl_ignores *ignores, const char *arg);
/* The backends a reproducer was written for (its heaplab.backend metadata) and its
 * rule, when replay or shrink is not given --backends: 0 with *backends (an arena
 * string) and *rule, or 2 after command's usage message when a trace names none or
 * the traces name different ones (stream.c). *check_every (when not NULL) gets the
 * heap-check period the finding was made with, when the first trace names one. */
int hl_cli_finding_backends(const char *command, char **paths, size_t path_count, char **backends, hl_rule *rule,
                            uint64_t *check_every);
/* The heap-check period a finding was made with (its heaplab.check_every): true with
 * *check_every, false when the trace names none or an unreadable one. */
bool hl_cli_finding_check_every(const hl_trace *trace, uint64_t *check_every);
/* For a CRASH or HANG *finding on backend (a string of capacity bytes) of specs over
 * trace, found with *check_every (cli/deepen.c, hl_diff_deepen): when a run with every
 * operation checked shows another rule on that backend at or before it, says so on
 * stderr, makes *finding, backend and *check_every that finding's and mode, and
 * returns true; *smaller is then the shrunk stream it showed on (free it) or empty
 * (the trace itself). Else false, nothing changed, *smaller empty. */
bool hl_cli_deepen(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t *check_every, double timeout,
                   const hl_ignores *ignores, hl_finding *finding, char *backend, size_t capacity, hl_trace *smaller);
/* A replay finding made reportable (cli/deepen.c): its trace (read back for a streamed
 * one), a crash or hang run deeper (hl_cli_deepen, with shadow), then written into dir
 * as a reproducer. shown is the stream the finding is on; repro its file ("" when it
 * could not be written: said on stderr). Free with hl_cli_written_free. */
typedef struct hl_cli_written {
    hl_trace held, smaller;
    const hl_trace *shown;
    char repro[600];
} hl_cli_written;
/* Returns 0, or -1 with diag when the finding's trace cannot be read back. */
int hl_cli_write_finding(const hl_spec *spec, const hl_trace *trace, hl_run_summary *summary, bool shadow,
                         uint64_t check_every, double timeout, const hl_ignores *ignores, const char *dir,
                         hl_cli_written *out, hl_diag *diag);
void hl_cli_written_free(hl_cli_written *written);
/* Parses a backend list and makes (and destroys) one instance of each, so that an
 * unknown backend or a bad option is bad usage before anything runs or prints (a
 * foreign backend's in a child: its library is never loaded in the driver).
 * Returns 0, or 2 after printing the message. */
int hl_cli_backends(const char *list, hl_spec **specs, size_t *count);
/* ---------------------------------------------------------------- vet */

/* One row of `heaplab vet`'s verdict (cmd_vet.c): a property and what became of it. */
typedef enum { HL_VET_PASS, HL_VET_FAIL, HL_VET_NOT_CHECKED, HL_VET_MEASURED } hl_vet_status;
typedef struct hl_vet_row {
    char property[32];
    hl_vet_status status; /* MEASURED: figures shown beside the peers, not judged */
    char detail[600];     /* what was checked or measured, the finding, or why not */
    char rule[32];        /* FAIL: the rule broken */
    char repro[800];      /* FAIL: its reproducer ("" if none could be written) */
    char report[800];     /* speed and memory: the report with the figures */
} hl_vet_row;
/* --budget: speed=FACTORx:PEER (at least 1/FACTOR of PEER's ops/s), frag=FACTORx:PEER
 * (peak footprint over peak live at most FACTOR times PEER's); PEER libc (glibc),
 * jemalloc, mimalloc, tcmalloc or best. factor 0: no limit. */
typedef struct hl_vet_limit {
    double factor;
    char peer[16];
} hl_vet_limit;
typedef struct hl_vet_budget {
    hl_vet_limit speed, frag;
} hl_vet_budget;
/* Adds text's limits to *out: 0, or 2 after a usage message. */
int hl_vet_budget_parse(const char *text, hl_vet_budget *out);
/* The speed and memory rows (vet_measure.c): spec beside the peers on traces by
 * `heaplab report` into OUT/report. 0, or -1 when the report did not run (both rows
 * NOT CHECKED, saying so). */
int hl_vet_measure(const hl_spec *spec, char **traces, int trace_count, const char *out, const hl_vet_budget *budget,
                   bool quiet, hl_vet_row rows[2]);

/* A duration: 30, 30s, 5m, 1h (seconds into *out); false otherwise. */
bool hl_cli_duration(const char *text, double *out);
/* The folder `relative` of the source tree this binary was built in (the first
 * ancestor of the binary's folder, up to 4 up, where relative/probe is readable) into
 * out; false when there is none. */
bool hl_cli_tree_path(const char *relative, const char *probe, char *out, size_t capacity);
/* ---------------------------------------------------------------- the option table */

/* The options several commands share, parsed and documented once (options.c): a
 * command names those it takes with HL_SHARE_* bits and sets their defaults in an
 * hl_cli_shared before parsing. */
enum {
    HL_SHARE_BACKENDS = 1 << 0,    /* --backends LIST (--backend an alias) */
    HL_SHARE_CHECK_EVERY = 1 << 1, /* --check-every N|paced */
    HL_SHARE_TIMEOUT = 1 << 2,     /* --timeout SECONDS */
    HL_SHARE_JSON = 1 << 3,        /* --json */
    HL_SHARE_SEED = 1 << 4,        /* --seed N */
    HL_SHARE_QUIET = 1 << 5,       /* -q, --quiet */
    HL_PERMUTE = 1 << 6,           /* options may follow the arguments (default: they end there) */
    HL_SHARE_MAX_OPS = 1 << 7,     /* --max-ops N: the most operations a trace read into memory may hold */
    HL_SHARE_SANDBOX = 1 << 8      /* --no-sandbox: libraries from outside the tree run unconfined */
};
typedef struct hl_cli_shared {
    const char *backends;
    uint64_t check_every;
    bool check_given; /* --check-every was given (else a finding's own period applies) */
    double timeout;
    bool json;
    uint64_t seed;
    bool seeded;
    bool quiet;
    bool no_sandbox; /* --no-sandbox (also set for the whole process: hl_sandbox_disable) */
} hl_cli_shared;

/* One option of a command's own: its long name, whether it takes a value, the key
 * its handler gets, its lines for --help ("  --name ARG     text\n", already
 * formatted; NULL: not shown), and its short form (-K; 0: none). */
typedef struct hl_cli_option {
    const char *name;
    bool has_arg;
    int key;
    const char *help;
    char short_name;
} hl_cli_option;
#define HL_OPTION(name, has_arg, key, help) {name, has_arg, key, help, 0}
#define HL_OPTIONS_END {NULL, false, 0, NULL, 0}

/* Parses argv[1..]: the shared options named in `shared` into *s, the command's own
 * (own: a table ending with a {NULL} entry) through handle(context, key, value),
 * which returns 0 or an exit status after printing a usage message. An unknown or
 * incomplete option is a usage error naming it. Returns 0 with optind at the first
 * argument, or 2. */
int hl_cli_parse(const char *command, int argc, char **argv, unsigned shared, hl_cli_shared *s,
                 const hl_cli_option *own, int (*handle)(void *context, int key, const char *arg), void *context);
/* The "options:" section of a command's help: the shared options it takes (with the
 * defaults in *defaults), then its own, then -q. */
void hl_cli_print_options(FILE *out, unsigned shared, const hl_cli_shared *defaults, const hl_cli_option *own);

#endif
