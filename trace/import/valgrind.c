/* valgrind.c: valgrind's --trace-malloc=yes log, one call a line after `--PID--`, as
 * its malloc replacements print it (MALLOC_TRACE in coregrind/m_replacemalloc/
 * vg_replace_malloc.c: the name, the arguments, then ` = RESULT` once the call returned):
 *
 *   --PID-- malloc(N) = 0xP                  also __builtin_new, _Znwm, ... (C++ new)
 *   --PID-- calloc(N,M) = 0xP                size N * M (overflow: bad input)
 *   --PID-- realloc(0xP,N) = 0xQ
 *   --PID-- realloc(0x0,N)malloc(N) = 0xP    realloc of NULL, logged as the malloc (<= 3.20)
 *   --PID-- realloc(0xP,0)...                size 0 and no block: a free of P
 *   --PID-- memalign(al A, size N) = 0xP     also aligned_alloc
 *   --PID-- _ZnwmSt11align_val_t(size N, al A) = 0xP
 *                                            C++17 aligned new, new[] and their nothrow
 *                                            forms (_Znam..., ...RKSt9nothrow_t, 32-bit
 *                                            _Znwj...): the size first, then the alignment
 *   --PID-- free(0xP)                        also cfree and every delete: _ZdlPv, sized
 *                                            _ZdlPvm, aligned _ZdlPvSt11align_val_t, ...
 *                                            (valgrind prints the address alone)
 *
 * Sizes are decimal, addresses 0x... (0x0: the call failed). A nothrow aligned new whose
 * alignment is not a power of two returns NULL without printing ` = RESULT` (3.22), so
 * the next call follows on the same line: it is a failed alloc (INVALID_ARGUMENT) and
 * the call after it is read too. posix_memalign's line carries no address (valgrind >=
 * 3.21 prints `posix_memalign(al A, size N)` alone): skipped and counted. A call of a
 * function this file does not know (reallocarray, malloc_zone_malloc...) is skipped and
 * counted by name; malloc_usable_size, malloc_size and mallinfo are known and no
 * allocation (malloc_usable_size(0x0) prints no result either: a call may follow it).
 * `==PID==` lines (the tool's reports), other `--PID--` lines (`Reading syms
 * from ...`, -v -v output such as `summarise_context(loc_start = 0x10): ...`, which is
 * not in the shape of a call) and lines of the program's own output are skipped.
 * A last line without a line break that starts a call was cut while being written: a
 * cut tail (hl_import). */
#include "importer.h"

#include <string.h>

typedef enum call_kind {
    CALL_MALLOC,      /* NAME(N) = 0xP */
    CALL_VALLOC,      /* the same, page aligned */
    CALL_NEW_ALIGNED, /* NAME(size N, al A) = 0xP */
    CALL_MEMALIGN,    /* NAME(al A, size N) = 0xP */
    CALL_CALLOC,      /* calloc(N,M) = 0xP */
    CALL_REALLOC,     /* realloc(0xP,N) = 0xQ */
    CALL_FREE,        /* NAME(0xP) */
    CALL_QUERY,       /* no allocation: skipped */
} call_kind;

static const struct {
    const char *name;
    call_kind kind;
} functions[] = {
    {"malloc", CALL_MALLOC},
    {"builtin_new", CALL_MALLOC}, /* operator new of gcc 2.96, unmangled */
    {"__builtin_new", CALL_MALLOC},
    {"__builtin_vec_new", CALL_MALLOC},
    {"_Znwm", CALL_MALLOC},
    {"_Znam", CALL_MALLOC},
    {"_Znwj", CALL_MALLOC},
    {"_Znaj", CALL_MALLOC},
    {"_ZnwmRKSt9nothrow_t", CALL_MALLOC},
    {"_ZnamRKSt9nothrow_t", CALL_MALLOC},
    {"_ZnwjRKSt9nothrow_t", CALL_MALLOC},
    {"_ZnajRKSt9nothrow_t", CALL_MALLOC},
    {"valloc", CALL_VALLOC},
    {"_ZnwmSt11align_val_t", CALL_NEW_ALIGNED},
    {"_ZnamSt11align_val_t", CALL_NEW_ALIGNED},
    {"_ZnwjSt11align_val_t", CALL_NEW_ALIGNED},
    {"_ZnajSt11align_val_t", CALL_NEW_ALIGNED},
    {"_ZnwmSt11align_val_tRKSt9nothrow_t", CALL_NEW_ALIGNED},
    {"_ZnamSt11align_val_tRKSt9nothrow_t", CALL_NEW_ALIGNED},
    {"_ZnwjSt11align_val_tRKSt9nothrow_t", CALL_NEW_ALIGNED},
    {"_ZnajSt11align_val_tRKSt9nothrow_t", CALL_NEW_ALIGNED},
    {"memalign", CALL_MEMALIGN},
    {"aligned_alloc", CALL_MEMALIGN},
    {"posix_memalign", CALL_MEMALIGN},
    {"calloc", CALL_CALLOC},
    {"realloc", CALL_REALLOC},
    {"free", CALL_FREE},
    {"cfree", CALL_FREE},
    {"__builtin_delete", CALL_FREE},
    {"__builtin_vec_delete", CALL_FREE},
    {"_ZdlPv", CALL_FREE},
    {"_ZdaPv", CALL_FREE},
    {"_ZdlPvm", CALL_FREE},
    {"_ZdaPvm", CALL_FREE},
    {"_ZdlPvj", CALL_FREE},
    {"_ZdaPvj", CALL_FREE},
    {"_ZdlPvRKSt9nothrow_t", CALL_FREE},
    {"_ZdaPvRKSt9nothrow_t", CALL_FREE},
    {"_ZdlPvSt11align_val_t", CALL_FREE},
    {"_ZdaPvSt11align_val_t", CALL_FREE},
    {"_ZdlPvmSt11align_val_t", CALL_FREE},
    {"_ZdaPvmSt11align_val_t", CALL_FREE},
    {"_ZdlPvjSt11align_val_t", CALL_FREE},
    {"_ZdaPvjSt11align_val_t", CALL_FREE},
    {"_ZdlPvSt11align_val_tRKSt9nothrow_t", CALL_FREE},
    {"_ZdaPvSt11align_val_tRKSt9nothrow_t", CALL_FREE},
    {"malloc_usable_size", CALL_QUERY},
    {"malloc_size", CALL_QUERY},
    {"dlmalloc_usable_size", CALL_QUERY},
    {"mallinfo", CALL_QUERY},
};
#define FUNCTION_COUNT (sizeof functions / sizeof functions[0])

/* The kind of the function name, or false if this file does not know it. */
static bool known(const char *name, size_t length, call_kind *kind)
{
    for (size_t i = 0; i < FUNCTION_COUNT; i++)
        if (strlen(functions[i].name) == length && memcmp(functions[i].name, name, length) == 0)
            return *kind = functions[i].kind, true;
    return false;
}

/* Argument i as a number, with a label word before it allowed ("al 16", "size 100"). */
static int labelled(hl_importer *im, hl_import_call *c, unsigned i, const char *label, uint64_t *out)
{
    const char *space = c->arg[i] ? memchr(c->arg[i], ' ', c->arg_length[i]) : NULL;
    if (space) {
        const char *s = hl_import_skip_spaces(space, c->arg[i] + c->arg_length[i]);
        c->arg_length[i] -= (size_t)(s - c->arg[i]);
        c->arg[i] = s;
    }
    return hl_import_call_number(im, c, i, label, out);
}

/* Imports the known call c of [.., e); *next is set to a call that follows it on the same
 * line (its result was not printed), else NULL. */
static int call(hl_importer *im, hl_import_call *c, call_kind kind, const char *e, const char **next)
{
    enum { R = HL_IMPORT_MAX_ARGS };
    uint64_t a = 0, b = 0, result = 0, size = 0;
    const char *name;
    size_t length;
    *next = NULL;
    switch (kind) {
    case CALL_MALLOC:
    case CALL_VALLOC:
        if (hl_import_call_args(im, c, 1) || labelled(im, c, 0, "size", &a) ||
            hl_import_call_address(im, c, R, "result (= ADDRESS)", &result))
            return -1;
        hl_import_alloc(im, result, a, kind == CALL_VALLOC ? 4096 : 1);
        return 0;
    case CALL_NEW_ALIGNED:
        if (hl_import_call_args(im, c, 2) || labelled(im, c, 0, "size", &a) || labelled(im, c, 1, "alignment", &b))
            return -1;
        if (!c->result && (b == 0 || (b & (b - 1)) != 0)) { /* NULL returned unlogged */
            hl_import_push(im, HL_OP_ALLOC, im->next_id++, a, b, HL_E_INVALID_ARGUMENT);
            if (c->rest && hl_import_call_name(c->rest, e, &name, &length)) *next = c->rest;
            return 0;
        }
        if (hl_import_call_address(im, c, R, "result (= ADDRESS)", &result)) return -1;
        hl_import_alloc(im, result, a, b);
        return 0;
    case CALL_MEMALIGN:
        if (hl_import_call_args(im, c, 2) || labelled(im, c, 0, "alignment", &a) || labelled(im, c, 1, "size", &b))
            return -1;
        if (!c->result && hl_import_call_is(c, "posix_memalign")) { /* no address logged */
            im->stats->unaddressed++;
            return 0;
        }
        if (hl_import_call_address(im, c, R, "result (= ADDRESS)", &result)) return -1;
        hl_import_alloc(im, result, b, a);
        return 0;
    case CALL_CALLOC:
        if (hl_import_call_args(im, c, 2) || labelled(im, c, 0, "count", &a) || labelled(im, c, 1, "size", &b) ||
            hl_import_calloc_size(im, a, b, &size) || hl_import_call_address(im, c, R, "result (= ADDRESS)", &result))
            return -1;
        hl_import_alloc(im, result, size, 1);
        return 0;
    case CALL_REALLOC:
        if (hl_import_call_args(im, c, 2) || hl_import_call_address(im, c, 0, "old address", &a) ||
            labelled(im, c, 1, "size", &b))
            return -1;
        if (!c->result && c->rest && hl_import_call_name(c->rest, e, &name, &length)) {
            hl_import_call inner; /* realloc(0x0,N)malloc(N) = 0xP, realloc(0xP,0)free(0xP) */
            if (hl_import_call_parse(im, c->rest, e, &inner) != 0) return -1;
            if (inner.result && hl_import_call_address(im, &inner, R, "result (= ADDRESS)", &result)) return -1;
        } else if (c->result || b != 0 || a == 0) {
            if (hl_import_call_address(im, c, R, "result (= ADDRESS)", &result)) return -1;
        }
        hl_import_realloc(im, a, b, result);
        return 0;
    case CALL_FREE:
        if (hl_import_call_args(im, c, 1) || hl_import_call_address(im, c, 0, "address", &a)) return -1;
        hl_import_free(im, a);
        return 0;
    case CALL_QUERY: /* malloc_usable_size(0x0) returns before printing ` = SIZE` */
        if (!c->result && c->rest && hl_import_call_name(c->rest, e, &name, &length)) *next = c->rest;
        return 0;
    }
    return 0;
}

/* True if [p, e) is in the shape MALLOC_TRACE prints a call in: NAME(ARGS) with no `=`
 * or `(` in ARGS, then the end, `= RESULT` (one token), or the next call, into *next
 * (else NULL). valgrind's -v -v output (`summarise_context(loc_start = 0x10): ...`) is
 * not. */
static bool traced(const char *p, const char *e, size_t name_length, const char **next)
{
    const char *open = p + name_length, *close = memchr(open, ')', (size_t)(e - open)), *tok, *name;
    size_t length;
    if (!close) return false;
    for (const char *q = open + 1; q < close; q++)
        if (*q == '=' || *q == '(') return false;
    const char *q = hl_import_skip_spaces(close + 1, e);
    *next = NULL;
    if (q == e) return true;
    if (*q == '=') {
        q++;
        return hl_import_token(&q, e, &tok, &length) && !hl_import_token(&q, e, &tok, &length);
    }
    if (!hl_import_call_name(q, e, &name, &length)) return false;
    *next = q;
    return true;
}

/* The calls of one line, from p: the first, and any that follows it unterminated. */
static int calls(hl_importer *im, const char *p, const char *e)
{
    while (p) {
        hl_import_call c;
        call_kind kind;
        hl_import_call_name(p, e, &c.name, &c.name_length); /* true: the caller or *next checked */
        const char *next = NULL;
        if (known(c.name, c.name_length, &kind)) {
            if (hl_import_call_parse(im, p, e, &c) != 0 || call(im, &c, kind, e, &next) != 0) return -1;
        } else if (traced(p, e, c.name_length, &next)) {
            hl_import_unknown(im, c.name, c.name_length);
        }
        p = next;
    }
    return 0;
}

/* The length of a `--PID--` (or `--PID:TID--`) prefix at [s, e), or 0. */
static size_t prefix(const char *s, const char *e)
{
    if (e - s < 5 || s[0] != '-' || s[1] != '-') return 0;
    const char *p = s + 2;
    while (p < e && ((*p >= '0' && *p <= '9') || *p == ':')) p++;
    if (p == s + 2 || e - p < 2 || p[0] != '-' || p[1] != '-') return 0;
    return (size_t)(p + 2 - s);
}

int hl_import_valgrind(hl_importer *im)
{
    const char *s, *e;
    while (hl_import_line(im, &s, &e)) {
        size_t n = prefix(s, e);
        if (n == 0) continue; /* ==PID== reports, the program's output, blank lines */
        const char *p = hl_import_skip_spaces(s + n, e), *name;
        size_t length;
        if (!hl_import_call_name(p, e, &name, &length)) continue; /* Reading syms from ... */
        if (im->unterminated) return hl_import_cut(im, im->line, "no line break at its end");
        if (calls(im, p, e) != 0) return -1;
    }
    return 0;
}
