/* hl_harness.h: the harness layer's public header.
 *
 * One currency, the operation (hl_op); one executor (hl_exec) that applies operations
 * to a backend instance and keeps the id -> block map; everything else observes it.
 * Trace files, fuzz bytes and recorders all become hl_trace / hl_op streams.
 *
 * heaplab's own bookkeeping never uses the process malloc: every harness allocation
 * comes from the private mmap-backed arena below, so a foreign backend's figures
 * (glibc mallinfo2) measure only the trace's blocks.
 */
#ifndef HL_HARNESS_H
#define HL_HARNESS_H

#include "heaplab.h"

#include <stdio.h>

/* ================================================================ private arena */

/* Zeroed, 16-byte aligned memory from heaplab's private mmap arena. Never returns
 * NULL: if the system refuses memory for heaplab's own bookkeeping, it prints
 * "heaplab: out of memory for its own bookkeeping" and exits 2. Not thread-safe. */
void *hl_mem_alloc(size_t size);
/* Grows or shrinks; contents kept up to min(old, new); new bytes zeroed. ptr NULL
 * means hl_mem_alloc. */
void *hl_mem_realloc(void *ptr, size_t size);
/* NULL is a no-op. */
void hl_mem_free(void *ptr);
/* A copy of s (or of its first n bytes) in the arena. */
char *hl_mem_strdup(const char *s);
char *hl_mem_strndup(const char *s, size_t n);
/* Bytes the arena holds from the system now (for the harness's own figures). */
size_t hl_mem_footprint(void);

/* ================================================================ operations */

/* Operation kinds: one table; the enum, the text-trace keywords and the binary codes
 * come from it. The keyword is the first word of a text-trace line; the binary record
 * code is the position in the table, so new kinds are appended, never inserted. */
#define HL_OP_KINDS(X)                                                                  \
    X(ALLOC, "alloc")                                                                   \
    X(FREE, "free")                                                                     \
    X(REALLOC, "realloc")                                                               \
    X(USABLE, "usable")                                                                 \
    X(TOUCH, "touch")                                                                   \
    X(SCOPE_ENTER, "scope_enter")                                                       \
    X(SCOPE_EXIT, "scope_exit")                                                         \
    X(PROMOTE, "promote")                                                               \
    X(FREE_ALL, "free_all")                                                             \
    X(DOUBLE_FREE, "double_free")                                                       \
    X(FREE_INVALID, "free_invalid")                                                     \
    X(FREE_LAYOUT, "free_layout")                                                       \
    X(OVERFLOW, "overflow")                                                             \
    X(UNDERFLOW, "underflow")                                                           \
    X(AFTER_FREE, "after_free")

typedef enum hl_op_kind {
#define HL_OP_ENUM(name, word) HL_OP_##name,
    HL_OP_KINDS(HL_OP_ENUM)
#undef HL_OP_ENUM
    HL_OP_COUNT
} hl_op_kind;

/* "alloc" for HL_OP_ALLOC; "?" outside the table. */
const char *hl_op_name(hl_op_kind kind);
/* The kind whose keyword is the n bytes at word, or HL_OP_COUNT. */
hl_op_kind hl_op_from_name(const char *word, size_t n);
/* True for the explicit misuse kinds (DOUBLE_FREE .. AFTER_FREE). */
bool hl_op_is_misuse(hl_op_kind kind);

/* The positional fields of each kind, in the order both trace forms store them (text:
 * after the keyword; binary: after the flags byte). The optional annotations (align=
 * and caps= on alloc, t= and fail= on any kind) are not positional. */
typedef enum hl_op_field {
    HL_FIELD_ID,     /* op.id, u64 decimal */
    HL_FIELD_SIZE,   /* op.size, u64 (text: K/M/G suffixes allowed) */
    HL_FIELD_ALIGN,  /* op.align, u64 (text: K/M/G suffixes allowed) */
    HL_FIELD_OFFSET, /* op.offset, u64 (text: K/M/G suffixes allowed) */
    HL_FIELD_SCOPE,  /* op.scope, u32 decimal */
    HL_FIELD_RW      /* op.write: text `r` or `w`; binary a flags bit */
} hl_op_field;

#define HL_OP_MAX_FIELDS 4
typedef struct hl_op_fields {
    uint8_t count;
    uint8_t field[HL_OP_MAX_FIELDS];     /* hl_op_field */
    const char *label[HL_OP_MAX_FIELDS]; /* grammar names: "ID", "NEWSIZE", "S", ... */
    const char *usage;                   /* "alloc ID SIZE [align=N] [caps=C]" */
} hl_op_fields;

/* The field list of kind, or NULL outside the table. */
const hl_op_fields *hl_op_fields_of(hl_op_kind kind);

/* One operation. Field use per kind (text form in traces/FORMAT.md):
 *   ALLOC        id size align caps
 *   FREE         id
 *   REALLOC      id size (the new size)
 *   USABLE       id
 *   TOUCH        id offset size(=length) write
 *   SCOPE_ENTER  scope
 *   SCOPE_EXIT   scope
 *   PROMOTE      scope id size(=n)
 *   FREE_ALL     -
 *   DOUBLE_FREE  id (a freed id)
 *   FREE_INVALID id offset (free of block address + offset, offset != 0)
 *   FREE_LAYOUT  id size align (a layout other than the block's)
 *   OVERFLOW     id offset(=j: access at usable_size + j)
 *   UNDERFLOW    id offset(=j: access at -1 - j)
 *   AFTER_FREE   id offset (access inside a freed block)
 * An omitted align is 1 (the backend's minimum applies); every other value, 0
 * included, is kept as written (a non-power-of-two align is an alloc the contract
 * fails with INVALID_ARGUMENT). Readers set align to 1 in kinds without an align and
 * every other field a kind does not use to 0. expect_fail is the error of a `fail=` annotation, or
 * HL_E_OK. caps is used by ALLOC only (realloc keeps the old caps). */
typedef struct hl_op {
    uint8_t kind;        /* hl_op_kind */
    uint8_t expect_fail; /* hl_error; HL_E_OK when not annotated */
    uint8_t write;       /* TOUCH: 1 write, 0 read */
    uint8_t has_thread;  /* 1 when a thread id was given */
    uint32_t caps;       /* HL_CAP_* */
    uint32_t thread;
    uint32_t scope;      /* a trace's scope id (not a backend handle) */
    uint64_t id;         /* a trace's block id */
    uint64_t size;
    uint64_t align;
    uint64_t offset;
    uint64_t line;       /* 1-based source line (text) or byte offset (binary) */
} hl_op;

/* True if a and b are the same operation: same kind, expect_fail, thread (when
 * given), and same values in the fields the kind uses (align and caps for alloc);
 * fields the kind does not use and the source line are ignored. */
bool hl_op_same(const hl_op *a, const hl_op *b);

/* ================================================================ traces */

typedef enum hl_trace_form { HL_TRACE_TEXT, HL_TRACE_BINARY } hl_trace_form;

typedef struct hl_meta {
    char *key;
    char *value;
} hl_meta;

/* A trace in memory: its operations in order, its metadata, where it came from. */
typedef struct hl_trace {
    char *path;            /* as given; "-" never (traces are files) */
    hl_trace_form form;    /* form it was read in */
    hl_op *ops;
    size_t count;
    size_t capacity;
    hl_meta *meta;
    size_t meta_count;
    bool cut_tail;         /* the end marker was missing or the last record cut short */
} hl_trace;

/* A message for bad input: "<file>:<line>: <problem>" (or "<file>: byte N: ..."). */
typedef struct hl_diag {
    char message[600];
} hl_diag;

/* Reads the trace at path, detecting the form by magic (never by name).
 * Returns 0 and fills *out (free with hl_trace_free), or -1 with diag set when the
 * file is missing, empty, has a wrong magic, does not parse, or a number does not
 * fit its field. A cut tail is not an error: the complete records are kept,
 * out->cut_tail is set and a warning naming the file is written into warning (if not
 * NULL; empty otherwise). Does not check consistency: see hl_trace_check. */
int hl_trace_read(const char *path, hl_trace *out, hl_diag *diag, hl_diag *warning);
/* True if the file at path is a regular file starting with a trace magic (any form,
 * any version: "heaplab-trace " or "HLTRACE"). Reads at most 16 bytes. */
bool hl_trace_has_magic(const char *path);
/* Writes the trace in the given form, always ending with the end marker (a cut trace
 * is written complete). Returns 0, or -1 with diag: "<path>: cannot write: <reason>"
 * (I/O error), or an operation / metadata entry that cannot be written (see
 * hl_trace_check_writable). */
int hl_trace_write(const hl_trace *trace, hl_trace_form form, const char *path, hl_diag *diag);
/* Writes the text form to an open stream. Returns 0, or -1 (I/O error or an
 * operation that cannot be written). */
int hl_trace_write_text_stream(const hl_trace *trace, FILE *out);
/* Appends an operation (copied; amortised O(1)). Works on a zeroed hl_trace. */
void hl_trace_push(hl_trace *trace, const hl_op *op);
/* Sets metadata key to value (both copied): replaces the value of an existing key in
 * place, else appends. Repairs what the format cannot hold (see the limits below). */
void hl_trace_set_meta(hl_trace *trace, const char *key, const char *value);
/* The value of metadata key, or NULL. */
const char *hl_trace_meta(const hl_trace *trace, const char *key);
/* Frees everything the trace holds and zeroes it (a zeroed trace is fine too). */
void hl_trace_free(hl_trace *trace);
/* Checks that the trace is consistent with itself (CONTRACT.md "Operations in
 * traces"): frees/reallocs/touches/promotes only live ids outside misuse operations,
 * allocates no live id, names only open scopes. Returns 0, or -1 with diag naming
 * the file, line and problem. */
int hl_trace_check(const hl_trace *trace, hl_diag *diag);
/* Drops, in place and in one pass, every operation hl_trace_check would reject where
 * it stands (a free of an id no longer allocated, a touch past a shrunk size...), so
 * the rest is consistent. Returns how many were dropped. For the shrinker. */
size_t hl_trace_repair(hl_trace *trace);
/* Lists the trace files named by paths (files, or directories searched recursively for
 * files with a trace magic, in name order). A named file is listed whatever its magic
 * (reading it then reports a wrong magic); inside directories, entries starting with
 * '.' are skipped, symbolic links to files followed and to directories not; each
 * directory's entries come in strcmp order, depth first. Returns 0 with *out_paths
 * (an arena array of arena strings, hl_mem_free each) or -1 with diag:
 * "<path>: cannot open: <reason>" for a missing path, "<dir>: no trace in this
 * directory (...)" for a directory with no trace file under it. */
int hl_trace_collect(const char *const *paths, size_t count, char ***out_paths,
                     size_t *out_count, hl_diag *diag);

/* Parses a size with an optional K/M/G suffix (binary units, upper or lower case:
 * 4K = 4096) into *out; false if it is not a number or does not fit in 64 bits.
 * Decimal digits only: no sign, no spaces, no hex. */
bool hl_parse_size(const char *text, uint64_t *out);

/* At most 60 bytes of [s, s + n) for a message (a token a reader or an importer
 * could not use), unprintable bytes as '?', "..." when cut. */
typedef struct hl_shown {
    char text[68];
} hl_shown;
hl_shown hl_show(const char *s, size_t n);

/* The whole file at path in one buffer from heaplab's private memory (hl_mem_free
 * it). Returns 0, or -1 with diag naming the file and the reason. */
int hl_file_load(const char *path, char **bytes, size_t *size, hl_diag *diag);

/* Reads a trace from size bytes in memory (a fuzzer's input, a test's buffer),
 * exactly as hl_trace_read reads a file's contents; name is used in messages and as
 * out->path. bytes is not modified and not kept. */
int hl_trace_read_memory(const char *name, const void *bytes, size_t size, hl_trace *out,
                         hl_diag *diag, hl_diag *warning);
/* Writes the binary form to an open stream. Returns 0, or -1 (I/O error, or an
 * operation that cannot be written: a kind or expect_fail outside the tables). */
int hl_trace_write_binary_stream(const hl_trace *trace, FILE *out);

/* ================================================================ importing foreign logs */

/* What an import made and what it had to leave out (zeroed by hl_import). */
typedef struct hl_import_stats {
    uint64_t ops;              /* operations in the trace */
    uint64_t blocks;           /* allocations the log shows served (each a block id) */
    uint64_t unknown_frees;    /* frees of addresses (ids) not live in the log: skipped */
    uint64_t unknown_reallocs; /* reallocs of addresses not live in the log: recorded as allocs */
    uint64_t live_again;       /* allocations at an address still live in the log (its free
                                  was not logged): the earlier block is left live */
    uint64_t warnings;         /* the sum of the three above */
} hl_import_stats;

/* The formats hl_import reads, as a list for messages. */
#define HL_IMPORT_FORMATS "mtrace, malloclab, logalloc, valgrind"
/* True if format is one of HL_IMPORT_FORMATS. */
bool hl_import_known(const char *format);

/* Converts the foreign allocation log at path into a trace of alloc, free and realloc
 * operations. format is one of HL_IMPORT_FORMATS: `mtrace` (glibc MALLOC_TRACE output),
 * `malloclab` (CMU malloc-lab .rep), `logalloc` (Mozilla logalloc text), `valgrind`
 * (--trace-malloc=yes). The contract, for every format:
 *   - the importer allocates the ids: 1, 2, ... in the order of the allocations, each
 *     address mapped to its block's id while it is live (malloclab keeps its own ids);
 *     a realloc that moves keeps the id;
 *   - free(NULL) is dropped; realloc(NULL, n) is an alloc; realloc(p, 0) that returned
 *     NULL is a free of p (glibc semantics);
 *   - a call that returned NULL (size > 0) is recorded with fail=OUT_OF_MEMORY: an alloc
 *     under a fresh id no address maps to, a realloc leaving its block as it was;
 *   - a free of an address not live in the log (never allocated, or a double free) is
 *     skipped and counted (stats->unknown_frees), a realloc of one is recorded as an
 *     alloc (stats->unknown_reallocs): the result always passes hl_trace_check;
 *   - thread ids, where the format has them (logalloc), become t=.
 * Returns 0 with *out (hl_trace_free it; out->path is path) and *stats, or -1 with diag
 * and *out empty: "<path>:<line>: <problem>" for a line that does not parse (a line
 * with the format's prefix and a bad number, a missing field, a malloclab header
 * missing...), "<path>: cannot open: ..." or "unknown import format ...". */
int hl_import(const char *format, const char *path, hl_trace *out, hl_diag *diag, hl_import_stats *stats);
/* The same on size bytes in memory (a fuzzer's input), named path in messages. */
int hl_import_memory(const char *format, const char *path, const char *bytes, size_t size, hl_trace *out,
                     hl_diag *diag, hl_import_stats *stats);

/* ================================================================ block map */

/* The id -> block map and the open scopes: the trace's view of which blocks are live
 * and in which scope, plus (for an executor) where each block lives. The executor
 * and the trace checker both keep their bookkeeping here, so "live", "in scope" and
 * "freed by an exit" mean one thing everywhere.
 *
 * Invariants (checked by hl_blockmap_check):
 *   an entry at level L > 0 is LIVE or RETIRED iff it is on level L's list, which
 *   holds the blocks first allocated while L was innermost (level 0 keeps no list);
 *   live_blocks / live_bytes count exactly the LIVE entries;
 *   the address index marks exactly the granules of the indexed entries' extents
 *   [addr, addr + max(size, 1)), which do not overlap; only LIVE entries are
 *   indexed. */
typedef enum hl_block_state {
    HL_BLOCK_FREED = 0, /* known id, not live (freed, exited, or never served) */
    HL_BLOCK_LIVE,      /* live: the backend holds it at addr */
    HL_BLOCK_RETIRED    /* live in the trace, but the backend failed to serve it here:
                           operations on it are skipped and counted */
} hl_block_state;

typedef struct hl_block {
    uint64_t id;
    hl_addr addr;        /* LIVE: the block; FREED: where it was last (for misuse) */
    hl_layout layout;    /* LIVE: current layout; FREED: the last one */
    union {
        size_t usable;     /* LIVE: usable_size reported by the backend */
        uint64_t freed_at; /* FREED: the block map's free count just after its free */
    };
    hl_caps caps;
    uint32_t level;      /* scope level it belongs to (0 = outside every scope) */
    uint8_t state;       /* hl_block_state */
    uint8_t in_index;    /* on the address index */
    uint32_t prev, next; /* scope-level list links (entry indexes; 0 = none) */
} hl_block;

typedef struct hl_blockmap hl_blockmap;

hl_blockmap *hl_blockmap_new(void);
void hl_blockmap_free(hl_blockmap *map);
/* Makes room, and touches the memory, for `entries` ids up to max_id, so later calls
 * do not grow or fault in the tables (the id array only while max_id is small enough
 * for one). A hint: any id still works afterwards. */
void hl_blockmap_reserve(hl_blockmap *map, uint64_t entries, uint64_t max_id);
/* The entry of id, or NULL if the id was never seen. O(1). */
hl_block *hl_blockmap_find(hl_blockmap *map, uint64_t id);
/* A hint that id will be looked up soon: starts loading its slot (entry false) or,
 * once the slot is loaded, its entry (entry true). Changes nothing; any id is fine. */
void hl_blockmap_prefetch(hl_blockmap *map, uint64_t id, bool entry);
/* The entry of id, created FREED if new. Pointers stay valid until the next call
 * to hl_blockmap_get (the table may grow); keep ids, not pointers, across calls. */
hl_block *hl_blockmap_get(hl_blockmap *map, uint64_t id);
/* Makes a FREED entry LIVE (or RETIRED) in the innermost scope level. */
void hl_blockmap_make_live(hl_blockmap *map, hl_block *block, hl_block_state state);
/* Makes a LIVE or RETIRED entry FREED: off its scope list and the address index. A
 * LIVE one counts a free and records the count in freed_at. */
void hl_blockmap_make_freed(hl_blockmap *map, hl_block *block);
/* Makes a LIVE entry RETIRED (the backend has freed it; the trace still holds the id),
 * keeping its scope membership. */
void hl_blockmap_retire(hl_blockmap *map, hl_block *block);
/* Counts a free the backend made without a block leaving the live set (a realloc
 * that moved: its old block). */
void hl_blockmap_count_free(hl_blockmap *map);
/* Frees counted so far: a freed block was freed frees - freed_at frees ago. */
uint64_t hl_blockmap_frees(const hl_blockmap *map);
/* Sets a LIVE entry's size (realloc, promote), keeping the counters right. */
void hl_blockmap_resize(hl_blockmap *map, hl_block *block, size_t size);
/* Moves a LIVE or RETIRED entry to scope level `level` (promote). */
void hl_blockmap_move_level(hl_blockmap *map, hl_block *block, uint32_t level);
/* The address index: which bytes the indexed live blocks cover, at the precision of
 * a granule (1 byte by default; set it to the backend's minimum alignment, up to 16,
 * before indexing anything: exact for blocks that start on that alignment). */
void hl_blockmap_set_granule(hl_blockmap *map, size_t align);
/* Puts a LIVE entry with its addr on the address index, in O(size / granule). If
 * its extent overlaps an indexed block, it is NOT indexed: *overlap is set and *other
 * names that block (found by a scan: a divergence is rare). */
void hl_blockmap_index(hl_blockmap *map, hl_block *block, bool *overlap, uint64_t *other);
/* Takes an entry off the address index (before its address changes). */
void hl_blockmap_unindex(hl_blockmap *map, hl_block *block);
/* True if addr's granule is covered by an indexed block. O(1). */
bool hl_blockmap_covered(hl_blockmap *map, hl_addr addr);
/* True if an indexed block covers a granule of [start, end). O((end - start) / granule). */
bool hl_blockmap_any(hl_blockmap *map, hl_addr start, hl_addr end);
/* The indexed block whose extent contains addr, or NULL. O(entries): for tests and
 * diagnostics. */
hl_block *hl_blockmap_at(hl_blockmap *map, hl_addr addr);

/* Scopes: level 0 is outside every scope; opening a scope pushes level depth+1. */
uint32_t hl_blockmap_depth(const hl_blockmap *map);
/* Opens a level for the trace's scope id with the backend's handle. */
void hl_blockmap_push_scope(hl_blockmap *map, uint32_t scope_id, hl_scope handle);
/* The level of the open scope with that trace id, or 0 if it is not open. */
uint32_t hl_blockmap_scope_level(const hl_blockmap *map, uint32_t scope_id);
hl_scope hl_blockmap_scope_handle(const hl_blockmap *map, uint32_t level);
/* Calls visit for every LIVE or RETIRED entry at levels >= level (any order). */
void hl_blockmap_visit_from(hl_blockmap *map, uint32_t level,
                            void (*visit)(void *context, hl_block *block), void *context);
/* Closes levels >= level: their entries become FREED. */
void hl_blockmap_close_from(hl_blockmap *map, uint32_t level);
/* The level of a LIVE/RETIRED entry's scope, as a trace scope id (0 at level 0). */
uint32_t hl_blockmap_scope_id(const hl_blockmap *map, uint32_t level);

uint64_t hl_blockmap_live_blocks(const hl_blockmap *map);
uint64_t hl_blockmap_live_bytes(const hl_blockmap *map);
/* The usable sizes of the blocks on the address index (the live blocks, less any
 * that overlapped another), summed: internal fragmentation's numerator. */
uint64_t hl_blockmap_indexed_usable(const hl_blockmap *map);
/* Verifies the invariants above; returns false with a reason in message. */
bool hl_blockmap_check(hl_blockmap *map, char *message, size_t capacity);


/* ================================================================ block patterns */

/* Byte `offset` of block `id`'s pattern: what the executor writes into every block
 * (outside any timed region) and the shadow model expects to find. Differs between
 * ids and along a block, so an overlap or a lost prefix shows. */
void hl_pattern_fill(void *dst, uint64_t id, size_t from, size_t to);
/* Only sampled offsets carry the pattern (fill writes no other byte, verify reads
 * none): all below 64 KiB, above that the first 64 bytes of every further 64 KiB. */
/* Compares bytes [from, to) of src (which holds offsets from..to) with the pattern.
 * Returns true if equal, else false with the first differing offset in *bad. */
bool hl_pattern_verify(const void *src, uint64_t id, size_t from, size_t to, size_t *bad);

/* ================================================================ clock */

/* Wall time in nanoseconds (CLOCK_MONOTONIC), for whole runs. */
uint64_t hl_clock_now_ns(void);
/* A cheap monotonic tick count for timing single operations: the CPU's invariant
 * time-stamp counter on x86-64, nanoseconds elsewhere. Only differences mean
 * anything; multiply one by hl_clock_ns_per_tick() for nanoseconds. */
uint64_t hl_clock_ticks(void);
/* Nanoseconds per tick. The first call calibrates (busy-waits about 5 ms). */
double hl_clock_ns_per_tick(void);
/* The same ticks, read for timing one short call (the latency mode): begin waits for
 * everything before it and keeps the call from starting early; end waits for the
 * call to finish and keeps what follows from starting early. Each costs more than
 * hl_clock_ticks; their pair's own cost is hl_clock_measure_overhead's. */
uint64_t hl_clock_ticks_begin(void);
uint64_t hl_clock_ticks_end(void);

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
 * the end of the stream (also after a stop). Any hook may be NULL. */
typedef struct hl_observer {
    const char *name;
    void *context;
    int (*before)(void *context, hl_exec *exec, const hl_op *op, uint64_t index);
    int (*after)(void *context, hl_exec *exec, const hl_result *result);
    int (*finish)(void *context, hl_exec *exec);
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
 * flight). NULL, NULL turns it off. */
void hl_exec_concurrent(hl_exec *exec, void (*unlock)(void *context), void (*lock)(void *context), void *context);
/* Sizes the executor's bookkeeping for a stream before it runs (the block map's
 * tables, touched), so a timed loop over it does not pay for growing them. */
void hl_exec_expect(hl_exec *exec, const hl_op *ops, size_t count);
void hl_exec_free(hl_exec *exec);
/* Registers an observer (up to 8); they run in registration order. */
void hl_exec_observe(hl_exec *exec, const hl_observer *observer);
/* Applies op (the index-th of its stream) to the backend, keeps the block map, writes
 * patterns, and runs the observers. Returns 0 to go on, 1 if an observer stopped the
 * stream, 2 if the stream ended here (result->stream_ended). */
int hl_exec_step(hl_exec *exec, const hl_op *op, uint64_t index);
/* A hint to call before stepping ops[index] of a stream of count: starts loading,
 * in two stages, the block-map slots and then the entries of the operations a few
 * steps ahead, so a replay over many live blocks waits less on memory. Changes
 * nothing observable; skipping it changes only the speed. */
void hl_exec_prefetch(hl_exec *exec, const hl_op *ops, size_t count, size_t index);
/* Differential runs (CONTRACT.md, "Differential rules"): frees id's block in the
 * backend if it is live there and retires the id (later operations on it skip).
 * Returns the backend's answer to the free (OK if there was nothing to free). */
hl_error hl_exec_retire(hl_exec *exec, uint64_t id);
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


/* ================================================================ shadow model */

/* A finding: which rule broke, where, and the reproducer written for it. */
typedef struct hl_finding {
    hl_rule rule;
    uint64_t index;       /* operation index (0-based) */
    uint64_t line;        /* its source line (text) or byte offset (binary) */
    bool has_other;       /* the finding involves a second block (OVERLAP) */
    uint64_t other_id;
    char message[600];    /* one line, without the location prefix */
} hl_finding;

typedef struct hl_shadow hl_shadow;

/* check_every: the backend's check paced by time (the default). A heap walk costs
 * O(heap) and a heap can hold far more free than live blocks, so no operation count
 * fits every backend; instead a check runs at least HL_CHECK_PACED_MIN operations
 * after the last one and once the time since it ended is 19 times what it took:
 * checks take at most about 5% of the run. */
#define HL_CHECK_PACED UINT64_MAX
#define HL_CHECK_PACED_MIN 4096u

/* The shadow model: an observer that checks every operation against the contract
 * (CONTRACT.md, "What the shadow model checks") and stops the stream at the first
 * divergence. Calls the backend's check every check_every operations exactly (0: only
 * at the end; HL_CHECK_PACED: paced by time), always once at the end, and verifies
 * every live block's contents at the end. */
hl_shadow *hl_shadow_new(uint64_t check_every);
void hl_shadow_free(hl_shadow *shadow);
hl_observer hl_shadow_observer(hl_shadow *shadow);
/* The divergence found, or NULL. */
const hl_finding *hl_shadow_finding(const hl_shadow *shadow);
/* While on, the checks that read the whole backend (stats against the model, the
 * backend's check) are left out after each operation: other threads' calls are in
 * flight, so the backend's counters legitimately run ahead of the model. The
 * threaded runner turns it off for operations that run alone; the end of the stream
 * checks both in any case. */
void hl_shadow_concurrent(hl_shadow *shadow, bool on);

/* A declared misuse detection that fired as the contract says: a pass, kept so a run
 * can show what the backend caught (which block, where, what). */
typedef struct hl_detection {
    uint64_t index;   /* operation index */
    uint64_t line;    /* its source line or byte offset */
    hl_error kind;    /* INVALID_POINTER ... USE_AFTER_FREE */
    uint64_t block;   /* the trace's block id */
    int64_t offset;   /* access misuse: the byte accessed, from the block's start */
} hl_detection;
#define HL_DETECTIONS_KEPT 32
/* Detections so far (all counted, the first HL_DETECTIONS_KEPT kept in *kept). */
uint64_t hl_shadow_detections(const hl_shadow *shadow, const hl_detection **kept);


/* ================================================================ backends by name */

/* One backend spec: `NAME[:key=value]...` (ARCHITECTURE.md, "One backend-spec
 * grammar"). For source=static the harness provides the caller buffer (size= bytes,
 * default 1M) from its private arena. */
typedef struct hl_spec {
    char *text;              /* as written, e.g. "bins:source=static:size=1M" */
    const hl_backend *backend;
    hl_option *options;
    size_t option_count;
    size_t static_size;      /* > 0: create gets a caller buffer of this size */
    bool external;           /* loaded from outside the tree (./libfoo.so, malloc:PREFIX@LIB):
                                always run isolated */
} hl_spec;

/* The built-in backends, in listing order (test builds add their test backends). */
const hl_backend *const *hl_registry(size_t *count);
/* The built-in backend called name, or NULL. */
const hl_backend *hl_registry_find(const char *name);
/* True for backends that exist only in test builds (never in `all`). */
bool hl_registry_is_test_only(const hl_backend *backend);
/* The peer backends are libraries opened at run time; Debian's jemalloc uses
 * initial-exec TLS and loads only if glibc reserved static TLS room at process start
 * (allocators/peers.c). Call first thing in main: unless GLIBC_TUNABLES already has
 * glibc.rtld.optional_static_tls, re-executes the program (argv, /proc/self/exe) once
 * with =16384 added. Returns only if nothing was needed or the exec failed (then only
 * jemalloc's create fails, saying why). */
void hl_registry_reserve_tls(char **argv);

/* Parses a comma-separated list of specs; `refs` expands to the reference backends,
 * `all` to every built-in backend. Returns 0 with an arena array, or -1 with diag
 * naming the unknown backend, the bad option syntax, or a version mismatch. */
int hl_spec_parse_list(const char *list, hl_spec **out, size_t *count, hl_diag *diag);
/* Creates an instance of spec. Returns NULL with diag holding the backend's reason
 * (unknown option, bad value, not available). destroy with hl_spec_destroy. */
hl_heap *hl_spec_create(const hl_spec *spec, hl_diag *diag);
void hl_spec_destroy(const hl_spec *spec, hl_heap *heap);


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
    /* the observer's running state */
    uint64_t until_point, peak_read;
    double sum_footprint, sum_live, sum_usable, sum_requested;
} hl_fragmentation;

/* The timeline period for a stream of ops operations: 1 up to HL_TIMELINE_POINTS - 1
 * operations, then the smallest period that keeps the points under that. */
uint64_t hl_fragmentation_period(uint64_t ops);
/* An observer that fills *f over a stream of about ops operations (a longer one
 * keeps its first points and the last). The measures are set by its finish hook. */
hl_observer hl_fragmentation_observer(hl_fragmentation *f, uint64_t ops);

/* ================================================================ runs */

typedef struct hl_run_options {
    bool shadow;               /* attach the shadow model */
    uint64_t check_every;      /* backend check period (shadow only); 0: at the end; HL_CHECK_PACED */
    bool isolate;              /* run in a forked child (hl_run) */
    bool threads;              /* a trace of several threads on real threads, where the
                                  backend declares HL_FEATURE_THREAD_SAFE (threads.c) */
    bool latency;              /* time each call (fenced) into per-kind histograms;
                                  with shadow off, patterns off (latency.c) */
    double timeout_seconds;    /* isolated: an operation taking longer is a HANG */
    volatile uint64_t *progress; /* if set, the count of completed operations */
    /* if set, called with done / total every 65536 operations (in-process runs) or
     * about once a second (isolated runs, from the parent) */
    void (*on_progress)(void *context, uint64_t done, uint64_t total);
    void *progress_context;
} hl_run_options;

/* What one (backend, trace) run did: plain data, so it crosses a process boundary. */
typedef struct hl_run_summary {
    char backend[200];
    char backend_version[200]; /* "heaplab VERSION" for the reference backends; a foreign
                                  one's describe source (its library and version) */
    char trace[400];
    uint64_t ops, sent, skipped, failures;
    uint64_t elapsed_ns;       /* wall time of the operation loop, observers included */
    uint64_t backend_ns;       /* sum of the backend calls alone, if timed */
    bool backend_timed;        /* runs without the shadow time each call */
    bool stream_ended;         /* stopped early without a finding */
    uint64_t ended_at;
    char ended_reason[200];
    bool found;
    hl_finding finding;
    uint64_t detections;       /* declared misuse detections that fired (passes) */
    hl_detection detected[HL_DETECTIONS_KEPT]; /* the first of them */
    uint32_t threads;          /* real threads the run used; 0: serialised in trace order */
    uint32_t trace_threads;    /* distinct threads in the trace */
    hl_latency latency;        /* per-call latencies (options->latency) */
    hl_fragmentation fragmentation;
    uint64_t rss_start_bytes;  /* isolated runs: the child's resident set as it started */
    uint64_t rss_peak_bytes;   /* and its peak (getrusage maxrss): the footprint's cross-check */
    bool setup_failed;         /* the instance could not be made (bad option: usage) */
    char setup_error[600];
} hl_run_summary;

/* Runs trace on a fresh instance of spec, in-process or (options->isolate) in a
 * forked child whose crash or hang becomes a CRASH / HANG finding at the operation it
 * was in. Returns 0 clean, 1 a finding, 2 the instance could not be made. */
int hl_run(const hl_spec *spec, const hl_trace *trace, const hl_run_options *options,
           hl_run_summary *summary);

/* Writes a reproducer for summary's finding into dir: the trace's prefix up to the
 * failing operation, restricted to the block ids the finding names when that still
 * reproduces the same rule (checked by replaying it), else the whole prefix.
 * Returns 0 with the file's path in path, or -1 with diag. */
int hl_repro_write(const hl_spec *spec, const hl_trace *trace, const hl_run_summary *summary,
                   const hl_run_options *options, const char *dir, char *path, size_t capacity,
                   hl_diag *diag);


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
 * alone with nothing in flight. The shadow (may be NULL) is already observing exec.
 * Preconditions: the backend declares HL_FEATURE_THREAD_SAFE; the trace passes
 * hl_trace_check. options->progress (if set) gets the count of the gap-free prefix
 * of completed operations, options->on_progress (if set) is called with it every
 * 65536 operations. Returns 0 when every operation ran, 1 when an observer
 * stopped the stream or 2 when it ended (operation *stopped_at; other threads' later
 * operations may have run), or -1 with diag when a thread could not start. */
int hl_threads_run(hl_exec *exec, hl_shadow *shadow, const hl_op *ops, size_t count, unsigned threads,
                   const hl_run_options *options, uint64_t *stopped_at, hl_diag *diag);

/* ================================================================ differential runs */

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
} hl_diff_summary;

/* Steps an executor per spec over trace in lockstep, each under its own shadow model,
 * and compares what the contract says must agree: the outcome (success or the error)
 * of every operation except usable_size and misuse, which each backend answers as it
 * declares. A failed alloc or realloc that another backend served (OUT_OF_MEMORY,
 * UNSUPPORTED, CAPACITY: legal anywhere) retires the id everywhere; a one-sided
 * failure of enter_scope or promote ends the comparison there. Returns 0 clean, 1 a
 * finding (first difference or contract break), 2 setup failure. In process. */
int hl_diff(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every, hl_diff_summary *summary);
/* hl_diff in a forked child, so a backend that crashes is a CRASH finding (with
 * operation index trace->count: where is not known) and one that runs longer than
 * timeout seconds (0: no limit) a HANG, never the end of the caller. */
int hl_diff_isolated(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t check_every,
                     double timeout, hl_diff_summary *summary);

/* ================================================================ shrinking */

typedef struct hl_shrink_options {
    uint64_t check_every;    /* heap check period of each run (0: at the end; the fuzzer's) */
    double timeout;          /* a run without an answer this long is a HANG (0: no limit) */
    bool progress;           /* a progress line on stderr about once a second */
} hl_shrink_options;

typedef struct hl_shrink_result {
    size_t before, after;    /* operations */
    uint64_t runs;           /* candidate traces run */
    double seconds;
    hl_diff_summary finding; /* what the smallest trace shows */
} hl_shrink_result;

/* Minimises trace while it shows the same rule on the same backend as it does first
 * (harness/shrink.c: delta debugging over operations, then sizes, alignments and
 * touched ranges). Every run is isolated (hl_diff_isolated). Returns 0 with *out the
 * smallest trace found (consistent; free with hl_trace_free), 1 when trace shows no
 * finding on these backends, 2 on a setup failure (r->finding.setup_error). */
int hl_shrink(const hl_spec *specs, size_t count, const hl_trace *trace, const hl_shrink_options *options,
              hl_trace *out, hl_shrink_result *r);

/* ================================================================ results */

/* The results document: {schema_version, machine, build, results: [...]}, one result
 * per (backend, trace) run. The report (reports/) reads exactly this. */
#define HL_RESULTS_SCHEMA_VERSION 2
/* heaplab's own version (the results document, --version) */
#define HL_VERSION "0.1.0"

typedef struct hl_results hl_results;
hl_results *hl_results_new(void);
/* Adds one run; repro is the reproducer's path or NULL. */
void hl_results_add(hl_results *results, const hl_run_summary *summary, const char *repro);
/* The document as indented JSON (arena string; hl_mem_free it). */
char *hl_results_json(hl_results *results);
void hl_results_free(hl_results *results);
/* True when this build runs under sanitizers (its timings and footprints are marked). */
bool hl_build_sanitized(void);

#endif /* HL_HARNESS_H */
