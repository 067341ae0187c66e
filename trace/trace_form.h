/* trace_form.h: internal to the trace readers and writers (trace.c, trace_text.c,
 * trace_binary.c) and their tests: magics, metadata limits and the shared parsing
 * helpers. The public trace API is in hl_trace.h. */
#ifndef HL_TRACE_FORM_H
#define HL_TRACE_FORM_H

#include "hl_trace.h"

#define HL_TRACE_TEXT_MAGIC "heaplab-trace 1"     /* the whole first line */
#define HL_TRACE_TEXT_PREFIX "heaplab-trace "     /* what has_magic looks for */
#define HL_TRACE_BINARY_MAGIC "HLTRACE\x01"       /* 7 bytes + version byte 1 */
#define HL_TRACE_BINARY_PREFIX "HLTRACE"          /* what has_magic looks for */
#define HL_TRACE_BINARY_HEADER 8u
/* Metadata limits, the same in both forms. hl_trace_set_meta enforces them too: it
 * turns key bytes outside [A-Za-z0-9_.-] into '_' (an empty key becomes "_") and line
 * breaks in a value into spaces, truncates to these lengths, and ignores new keys past
 * HL_TRACE_META_MAX entries, so every trace in memory can be written. */
#define HL_TRACE_META_KEY_MAX 128u
#define HL_TRACE_META_VALUE_MAX 4096u
#define HL_TRACE_META_MAX 1024u

/* The trace layer's one message writer: formats into diag (if not NULL) and returns -1. */
int hl_trace_fail(hl_diag *diag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Number parse results shared by the readers. */
typedef enum hl_number {
    HL_NUMBER_OK,
    HL_NUMBER_BAD,      /* not a decimal number (with optional suffix) */
    HL_NUMBER_TOO_LARGE /* does not fit in 64 bits */
} hl_number;
/* Parses the n bytes at text as a u64 decimal; with suffixes, an optional K/M/G
 * (binary units) may follow. */
hl_number hl_parse_number(const char *text, size_t n, bool suffixes, uint64_t *out);
/* True for a byte allowed in a metadata key. */
bool hl_trace_meta_key_byte(unsigned char c);
/* Appends a metadata entry as a reader found it: 0, or -1 with problem set (bad key
 * byte or length, value too long or holding a line break or NUL, a duplicate key, too
 * many entries). key/value need not be NUL-terminated. */
int hl_trace_add_meta(hl_trace *trace, const char *key, size_t key_length, const char *value,
                      size_t value_length, char *problem, size_t capacity);
/* Makes room for at least n more operations. */
void hl_trace_reserve(hl_trace *trace, size_t n);
/* The cut-tail warning for a trace of count complete operations. */
void hl_trace_cut_warning(hl_diag *warning, const char *path, size_t count);
/* The state of one read, across the pieces the form readers are fed (trace_read.c
 * feeds them; the readers never see a whole file). */
typedef struct hl_reader {
    hl_trace *out;           /* path, form, metadata, cut_tail: the operations go to sink */
    const hl_op_sink *sink;
    uint64_t ops;            /* operations the sink took */
    uint64_t line;           /* text: the last line read */
    uint64_t end_line;       /* text: the end marker's line */
    uint64_t offset;         /* binary: bytes used before this piece */
    bool started;            /* the magic was read */
    bool seen_end;           /* the end marker (record) was read */
    bool stopped;            /* the sink ended the read (HL_SINK_STOP) */
    char problem[480];
} hl_reader;
/* Parse the complete lines (records) at the start of bytes and hand each operation to
 * the sink; *used: the bytes they took (an incomplete last line or record is not
 * used: it comes again at the start of the next piece, after more bytes). last: no
 * bytes follow, so an incomplete line or record is the cut tail (dropped; the caller
 * marks the trace cut when the end marker is missing). Returns 0, or -1 with diag
 * naming the file and line (byte): a parse error, or the sink's refusal; -1 with
 * reader->stopped when the sink ended the read (not an error). */
int hl_trace_feed_text(hl_reader *reader, const char *bytes, size_t size, bool last, size_t *used, hl_diag *diag);
int hl_trace_feed_binary(hl_reader *reader, const unsigned char *bytes, size_t size, bool last, size_t *used,
                         hl_diag *diag);
/* Checks that every operation can be written (kind and expect_fail inside their
 * tables, alloc caps inside HL_CAP_ALL) and every metadata entry within the limits;
 * -1 with diag (may be NULL) naming the first that cannot. */
int hl_trace_check_writable(const hl_trace *trace, hl_diag *diag);

/* zstd (trace_zstd.c). True when bytes start with a zstd frame's magic. */
bool hl_zstd_is(const void *bytes, size_t size);
/* A streaming decompressor (heaplab's arena), for readers that never hold a whole
 * trace: step decompresses from in[*in_pos, in_size) into out (at most capacity
 * bytes), advances *in_pos, and returns the bytes written (0: it needs more input, or
 * the frames are over), or -1 with diag naming the file when the stream is damaged.
 * inside_frame: input that ends now ends inside a frame (a cut stream). */
typedef struct hl_unzstd hl_unzstd;
hl_unzstd *hl_unzstd_new(void); /* NULL when zstd cannot start */
void hl_unzstd_free(hl_unzstd *u);
long hl_unzstd_step(hl_unzstd *u, const void *in, size_t in_size, size_t *in_pos, void *out, size_t capacity,
                    const char *name, hl_diag *diag);
bool hl_unzstd_inside_frame(const hl_unzstd *u);
/* A FILE that compresses what is written to it (one zstd frame) onto under, which it
 * does not close; fclose ends the frame (EOF when anything failed). NULL with errno. */
FILE *hl_zstd_writer(FILE *under);

/* The forms' writers, a piece at a time: the magic and the metadata, one operation
 * (writable: see hl_trace_check_writable), the end marker after count operations.
 * Errors show in ferror(out). */
void hl_trace_text_head(const hl_trace *trace, FILE *out);
void hl_trace_text_op(const hl_op *op, FILE *out);
void hl_trace_text_tail(uint64_t count, FILE *out);
void hl_trace_binary_head(const hl_trace *trace, FILE *out);
void hl_trace_binary_op(const hl_op *op, FILE *out);
void hl_trace_binary_tail(uint64_t count, FILE *out);
/* An operation the forms can write: its kind and fail code inside their tables, alloc
 * caps inside exec+dma. */
bool hl_op_writable(const hl_op *op);

#endif
