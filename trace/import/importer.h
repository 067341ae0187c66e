/* importer.h: internal to the importers of foreign allocation logs (trace/import/):
 * the state one import keeps, line reading, number parsing, and the operations an
 * importer emits by address (the address -> id map lives here). The public entry
 * point is hl_import in hl_import.h. */
#ifndef HL_IMPORTER_H
#define HL_IMPORTER_H

#include "hl_import.h"

typedef struct hl_importer {
    const char *path;
    hl_trace *trace;
    hl_import_stats *stats;
    hl_diag *diag;
    const char *next, *end; /* the unread bytes */
    uint64_t line;          /* the current line, 1-based */
    bool unterminated;      /* the current line has no line break: the input ends inside it */
    uint64_t next_id;       /* the next block id to hand out */
    hl_u64map live;         /* address -> id of each block live in the log */
    hl_u64map unknown_seen; /* hash of an unknown function's name -> its index in stats->unknown */
    bool has_thread;        /* the thread of the operations emitted now */
    uint32_t thread;
    uint64_t last_size;     /* malloclab: the SIZE of the last a or r (see malloclab.c) */
    bool has_last_size;
} hl_importer;

/* The importers: each reads every line through hl_import_line. 0, or -1 with the diag
 * set by hl_import_fail. */
int hl_import_mtrace(hl_importer *im);
int hl_import_malloclab(hl_importer *im);
int hl_import_logalloc(hl_importer *im);
int hl_import_valgrind(hl_importer *im);

/* The next line without its line break and trailing white space into [*s, *e);
 * false at the end of the input. Counts im->line, sets im->unterminated. */
bool hl_import_line(hl_importer *im, const char **s, const char **e);
/* Sets the diag to "<path>:<line>: <problem>"; returns -1. */
int hl_import_fail(hl_importer *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The log ends inside the record at line (why: what is missing): a cut tail. The record
 * is left out; hl_import sets the trace's cut_tail and the warning. Returns 0: the
 * importer returns it, as the input ends there. */
int hl_import_cut(hl_importer *im, uint64_t line, const char *why);
/* A call of a function the importer does not know: counted and named in the stats. */
void hl_import_unknown(hl_importer *im, const char *name, size_t length);

/* Skips spaces and tabs. */
const char *hl_import_skip_spaces(const char *s, const char *e);
/* The next token of [*p, e) (bytes up to a space or tab) into tok/len; false at e. */
bool hl_import_token(const char **p, const char *e, const char **tok, size_t *len);
/* A number: decimal, or hexadecimal after 0x / 0X. false if it is not one or does not
 * fit in 64 bits. */
bool hl_import_number(const char *s, size_t n, uint64_t *out);
/* An address: a number as above, or "(nil)" (0). */
bool hl_import_address(const char *s, size_t n, uint64_t *out);

/* A call as logalloc and valgrind print it: NAME(ARG, ...) [= RESULT]. */
#define HL_IMPORT_MAX_ARGS 3
typedef struct hl_import_call {
    const char *name;
    size_t name_length;
    unsigned args;
    const char *arg[HL_IMPORT_MAX_ARGS]; /* each trimmed of spaces */
    size_t arg_length[HL_IMPORT_MAX_ARGS];
    const char *result; /* after `=`, trimmed; NULL if there is none */
    size_t result_length;
    const char *rest;   /* without a result: what follows `)` (spaces skipped) */
} hl_import_call;
/* True if [s, e) starts with an identifier and `(`: its name into *name and *length. */
bool hl_import_call_name(const char *s, const char *e, const char **name, size_t *length);
/* Parses the call at [s, e) (hl_import_call_name was true). 0, or -1 with the diag set
 * (no `)`, too many arguments, a result of more than one token). */
int hl_import_call_parse(hl_importer *im, const char *s, const char *e, hl_import_call *call);
/* True if the call's name is word. */
bool hl_import_call_is(const hl_import_call *call, const char *word);
/* Checks the call has `count` arguments: 0, or -1 with the diag set. */
int hl_import_call_args(hl_importer *im, const hl_import_call *call, unsigned count);
/* Argument i (or the result, i == HL_IMPORT_MAX_ARGS) as a number / an address named
 * label in the message: 0, or -1 with the diag set (missing result included). */
int hl_import_call_number(hl_importer *im, const hl_import_call *call, unsigned i, const char *label,
                          uint64_t *out);
int hl_import_call_address(hl_importer *im, const hl_import_call *call, unsigned i, const char *label,
                           uint64_t *out);
/* NUM * SIZE of calloc: 0, or -1 with the diag set when the product overflows. */
int hl_import_calloc_size(hl_importer *im, uint64_t num, uint64_t size, uint64_t *out);

/* The operations, by address (0 is NULL). Each records the current thread.
 * alloc: a served alloc (addr != 0) or a failed one (addr 0, fail=OUT_OF_MEMORY). */
void hl_import_alloc(hl_importer *im, uint64_t addr, uint64_t size, uint64_t align);
/* free: free(NULL) is dropped, an address not live is counted and skipped. */
void hl_import_free(hl_importer *im, uint64_t addr);
/* realloc(old, size) that returned new_addr, with glibc's semantics (see hl_import). */
void hl_import_realloc(hl_importer *im, uint64_t old, uint64_t size, uint64_t new_addr);
/* Appends an operation of the given kind, id and size (the current thread, align 1). */
void hl_import_push(hl_importer *im, hl_op_kind kind, uint64_t id, uint64_t size, uint64_t align,
                    hl_error fail);


#endif
