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
/* The form readers, on a whole file's bytes (the magic already recognised). */
int hl_trace_read_text(const char *path, const char *bytes, size_t size, hl_trace *out,
                       hl_diag *diag, hl_diag *warning);
int hl_trace_read_binary(const char *path, const unsigned char *bytes, size_t size,
                         hl_trace *out, hl_diag *diag, hl_diag *warning);
/* Checks that every operation can be written (kind and expect_fail inside their
 * tables, alloc caps inside HL_CAP_ALL) and every metadata entry within the limits;
 * -1 with diag (may be NULL) naming the first that cannot. */
int hl_trace_check_writable(const hl_trace *trace, hl_diag *diag);

/* zstd (trace_zstd.c). True when bytes start with a zstd frame's magic. */
bool hl_zstd_is(const void *bytes, size_t size);
/* Decompresses size bytes into *out (heaplab memory, NUL-terminated; hl_mem_free it),
 * at most limit bytes (0: the 1 GiB cap) and stops there quietly. A stream that ends
 * early sets *cut and keeps what decompressed. Returns 0, or -1 with diag for a
 * damaged stream or one past the cap. */
int hl_zstd_inflate(const char *name, const void *bytes, size_t size, size_t limit, char **out, size_t *out_size,
                    bool *cut, hl_diag *diag);
/* Writes bytes compressed (one zstd frame) to path. Returns 0, or -1 with diag. */
int hl_zstd_write_file(const char *path, const void *bytes, size_t size, hl_diag *diag);

#endif
