/* hl_trace.h: the trace layer. One currency, the operation (hl_op): trace files in
 * either form (text, binary, zstd-compressed), fuzz bytes, recorders and importers
 * all become hl_trace / hl_op streams, and nothing downstream knows where a stream
 * came from. Also the consistency check of a stream against itself.
 *
 * Depends on core/ and the contract's types only. */
#ifndef HL_TRACE_H
#define HL_TRACE_H

#include "hl_core.h"

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
/* True for scope_enter, scope_exit, promote and free_all (the kinds only a backend
 * that tracks its blocks can serve). */
bool hl_op_scoped(hl_op_kind kind);

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
    bool stopped;          /* hl_trace_scan: the sink ended the read (HL_SINK_STOP) */
    /* A trace replayed as a stream (replay on a regular file): its operations are not
     * held (ops is NULL); count, and what a run sizes itself by (allocs, the largest
     * block id, the threads of its concurrent kinds), come from a first pass over
     * path, which each run reads again (check/replay.c). */
    bool streamed;
    bool scoped;           /* has scope operations or free_all */
    uint64_t allocs, max_id;
    uint32_t threads;
} hl_trace;

/* Reads the trace at path, detecting the form by magic (never by name).
 * Returns 0 and fills *out (free with hl_trace_free), or -1 with diag set when the
 * file is missing, empty, has a wrong magic, does not parse, or a number does not
 * fit its field. A cut tail is not an error: the complete records are kept,
 * out->cut_tail is set and a warning naming the file is written into warning (if not
 * NULL; empty otherwise). Does not check consistency: see hl_trace_check. */
int hl_trace_read(const char *path, hl_trace *out, hl_diag *diag, hl_diag *warning);
/* What a trace reader hands each operation to, instead of keeping it. */
#define HL_SINK_STOP 1
typedef struct hl_op_sink {
    /* Takes one operation (op->line set) of trace (its path, form and metadata so
     * far): 0 to go on; HL_SINK_STOP to end the read there, not an error (the scan
     * returns 0 with what it read so far, the metadata included); or -1 with diag set,
     * and the read stops there, failed. */
    int (*take)(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag);
    void *context;
} hl_op_sink;
/* Reads the trace at path as hl_trace_read does (the same forms, errors and cut-tail
 * warning) but hands each operation to sink and keeps none: memory stays a window of
 * the file (1 MiB, and a decompressor's) whatever the trace's length. *out gets the
 * path, form, metadata and cut_tail (no operations; free it with hl_trace_free);
 * *taken (if not NULL) how many operations the sink took. Returns 0 (also when the
 * sink stopped the read: out->stopped), or -1 with diag (out freed). A pipe or a
 * device is read the same way. */
int hl_trace_scan(const char *path, hl_trace *out, const hl_op_sink *sink, uint64_t *taken, hl_diag *diag,
                  hl_diag *warning);
/* Reads a trace again from its file (first: what the first read of trace->path
 * found: its count), handing each operation to sink, for a front end that streams a
 * trace instead of holding it. The file must still hold first->count operations
 * (fewer when the sink stops the read). Returns 0, or -1 with diag: the sink's or
 * the read's error, or "<path>: has more (fewer) operations than when it was first
 * read", each followed by "(it changed since it was first read)". */
int hl_trace_rescan(const hl_trace *first, const hl_op_sink *sink, hl_diag *diag);
/* The most operations hl_trace_read and hl_trace_read_memory keep: one more is bad
 * input naming the file and line (not an allocation that fails). Set by --max-ops;
 * 0 restores the default, a quarter of the machine's memory at sizeof(hl_op) each. */
void hl_trace_set_max_ops(uint64_t n);
uint64_t hl_trace_max_ops(void);
uint64_t hl_trace_default_max_ops(void);
/* True if the file at path is a regular file starting with a trace magic (any form,
 * any version: "heaplab-trace " or "HLTRACE"). Reads at most 16 bytes. */
bool hl_trace_has_magic(const char *path);
/* Writes the trace in the given form, always ending with the end marker (a cut trace
 * is written complete). Returns 0, or -1 with diag: "<path>: cannot write: <reason>"
 * (I/O error), or an operation / metadata entry that cannot be written (see
 * hl_trace_check_writable). */
int hl_trace_write(const hl_trace *trace, hl_trace_form form, const char *path, hl_diag *diag);
/* Writes a trace an operation at a time (convert streams through it), whole or not at
 * all like hl_trace_write: open makes a temporary file beside path (compressing when
 * path ends in .zst); the sink takes each operation (writing the magic and the
 * trace's metadata before the first; an operation no form can hold is refused, diag
 * naming it); commit writes the end marker and renames the file into place, with the
 * metadata of trace when no operation came; abort (or a failed commit) leaves nothing.
 * Errors: -1 with diag "<path>: cannot write: <reason> (nothing written)". */
typedef struct hl_trace_writer hl_trace_writer;
int hl_trace_writer_open(hl_trace_writer **writer, const char *path, hl_trace_form form, hl_diag *diag);
hl_op_sink hl_trace_writer_sink(hl_trace_writer *writer);
int hl_trace_writer_commit(hl_trace_writer *writer, const hl_trace *trace, hl_diag *diag);
void hl_trace_writer_abort(hl_trace_writer *writer);
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
 * traces"), with the trace's own view of live ids and open scopes (trace_check.c):
 * frees/reallocs/touches/promotes only live ids outside misuse operations,
 * allocates no live id, names only open scopes. Returns 0, or -1 with diag naming
 * the file, line and problem. */
int hl_trace_check(const hl_trace *trace, hl_diag *diag);
/* hl_trace_check an operation at a time, for a trace read with hl_trace_scan (never
 * held whole): the checker's sink takes each operation in order and fails, with
 * hl_trace_check's message, at the first inconsistent one. Memory: the checker's view,
 * O(ids the trace names + scope depth), not O(operations). */
typedef struct hl_trace_checker hl_trace_checker;
hl_trace_checker *hl_trace_checker_new(void);
hl_op_sink hl_trace_checker_sink(hl_trace_checker *checker);
void hl_trace_checker_free(hl_trace_checker *checker);
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
 * it). Returns 0, or -1 with diag naming the file and the reason. A pipe or a device
 * is read up to HL_FILE_STREAM_MAX bytes: more is an error (/dev/zero is not read
 * forever). */
#define HL_FILE_STREAM_MAX ((size_t)256 << 20)
int hl_file_load(const char *path, char **bytes, size_t *size, hl_diag *diag);

/* Reads a trace from size bytes in memory (a fuzzer's input, a test's buffer),
 * exactly as hl_trace_read reads a file's contents; name is used in messages and as
 * out->path. bytes is not modified and not kept. */
int hl_trace_read_memory(const char *name, const void *bytes, size_t size, hl_trace *out,
                         hl_diag *diag, hl_diag *warning);
/* Writes the binary form to an open stream. Returns 0, or -1 (I/O error, or an
 * operation that cannot be written: a kind or expect_fail outside the tables). */
int hl_trace_write_binary_stream(const hl_trace *trace, FILE *out);

#endif /* HL_TRACE_H */
