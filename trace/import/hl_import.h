/* hl_import.h: foreign allocation logs made into traces (trace/import/). */
#ifndef HL_IMPORT_H
#define HL_IMPORT_H

#include "hl_trace.h"

/* ================================================================ importing foreign logs */

/* How many distinct unknown functions hl_import_stats names (the first ones seen). */
#define HL_IMPORT_UNKNOWN_NAMES 8

/* What an import made and what it had to leave out (zeroed by hl_import). */
typedef struct hl_import_stats {
    uint64_t ops;              /* operations in the trace */
    uint64_t blocks;           /* allocations the log shows served (each a block id) */
    uint64_t unknown_frees;    /* frees of addresses (ids) not live in the log: skipped */
    uint64_t unknown_reallocs; /* reallocs of addresses not live in the log: recorded as allocs */
    uint64_t live_again;       /* allocations at an address still live in the log (its free
                                  was not logged): the earlier block is left live */
    uint64_t unknown_calls;    /* valgrind: calls of functions the importer does not know
                                  (reallocarray, malloc_zone_malloc...): skipped */
    uint64_t unknown_functions; /* how many distinct functions those calls named */
    struct {
        char name[68];         /* as hl_show prints it */
        uint64_t calls;
    } unknown[HL_IMPORT_UNKNOWN_NAMES]; /* the first unknown functions, in order of appearance */
    uint64_t unaddressed;      /* valgrind: allocations logged without their address
                                  (posix_memalign since valgrind 3.21): skipped */
    uint64_t cut_line;         /* 0, or the line of the record the log ends inside (a cut
                                  tail: see hl_import): that record was left out */
    hl_diag cut_warning;       /* when cut_line: "<path>:<line>: warning: ... (cut tail) ..." */
    uint64_t warnings;         /* the sum of the five counts above, plus 1 for a cut tail */
    uint64_t null_frees;       /* malloclab's `f -1` (free(NULL)): dropped, not a warning (the
                                  other formats drop free(NULL) uncounted) */
    uint64_t carried_sizes;    /* malloclab's `a ID` without SIZE: the last request's size
                                  carried, as CMU's mdriver reads it (alaska.rep) */
} hl_import_stats;

/* The formats hl_import reads, as a list for messages. */
#define HL_IMPORT_FORMATS "mtrace, malloclab, logalloc, valgrind"
/* True if format is one of HL_IMPORT_FORMATS. */
bool hl_import_known(const char *format);

/* Converts the foreign allocation log at path into a trace of alloc, free and realloc
 * operations. format is one of HL_IMPORT_FORMATS: `mtrace` (glibc MALLOC_TRACE output),
 * `malloclab` (CMU malloc-lab .rep), `logalloc` (Mozilla logalloc text), `valgrind`
 * (--trace-malloc=yes; C++17 aligned new and delete included). The contract, for every
 * format:
 *   - the importer allocates the ids: 1, 2, ... in the order of the allocations, each
 *     address mapped to its block's id while it is live (malloclab keeps its own ids);
 *     a realloc that moves keeps the id;
 *   - free(NULL) is dropped; realloc(NULL, n) is an alloc; realloc(p, 0) that returned
 *     NULL is a free of p (glibc semantics); malloclab writes NULL as id -1 in `f -1`
 *     (counted, stats->null_frees) and as an id not live in `r ID SIZE`;
 *   - a call that returned NULL (size > 0) is recorded with fail=OUT_OF_MEMORY: an alloc
 *     under a fresh id no address maps to, a realloc leaving its block as it was;
 *   - a free of an address not live in the log (never allocated, or a double free) is
 *     skipped and counted (stats->unknown_frees), a realloc of one is recorded as an
 *     alloc (stats->unknown_reallocs): the result always passes hl_trace_check;
 *   - thread ids, where the format has them (logalloc), become t=;
 *   - valgrind: a call of a function the importer does not know is skipped, counted and
 *     named (stats->unknown_*); so is an allocation logged without its address;
 *   - a cut tail is no error, as for traces (hl_trace_read): when the log ends inside a
 *     record, the complete records are imported, the cut one is left out, out->cut_tail
 *     is set, the metadata import.cut_tail names its line, and stats->cut_line and
 *     stats->cut_warning ("<path>:<line>: warning: ...") say so. The log ends inside a
 *     record when its last line has no line break and holds a record (mtrace, logalloc,
 *     valgrind: these tools end every record with one, so such a line is cut even if
 *     it parses, a number in it may be cut short; malloclab files are often written by
 *     hand without a last line break, so there only a last line that does not parse),
 *     or (mtrace) when it ends after a realloc's `<` line without its `>` (glibc writes
 *     them as two records). A missing `= End` is not a cut: glibc writes it only in
 *     muntrace(), which most programs never call. A record that does not parse anywhere
 *     else stays bad input.
 * Returns 0 with *out (hl_trace_free it; out->path is path) and *stats, or -1 with diag
 * and *out empty: "<path>:<line>: <problem>" for a line that does not parse (a line
 * with the format's prefix and a bad number, a missing field, a malloclab header
 * missing...), "<path>: cannot open: ..." or "unknown import format ...". */
int hl_import(const char *format, const char *path, hl_trace *out, hl_diag *diag, hl_import_stats *stats);
/* The same on size bytes in memory (a fuzzer's input), named path in messages. */
int hl_import_memory(const char *format, const char *path, const char *bytes, size_t size, hl_trace *out,
                     hl_diag *diag, hl_import_stats *stats);

#endif /* HL_IMPORT_H */
