/* valgrind.c: valgrind's --trace-malloc=yes log, one call a line after `--PID--`:
 *
 *   --PID-- malloc(N) = 0xP                  also __builtin_new, _Znwm, ... (C++ new)
 *   --PID-- calloc(N,M) = 0xP                size N * M (overflow: bad input)
 *   --PID-- realloc(0xP,N) = 0xQ
 *   --PID-- realloc(0x0,N)malloc(N) = 0xP    realloc of NULL, logged as the malloc
 *   --PID-- realloc(0xP,0)...                size 0 and no block: a free of P
 *   --PID-- memalign(al A, size N) = 0xP     also memalign(A,N), aligned_alloc
 *   --PID-- free(0xP)                        also cfree, __builtin_delete, _ZdlPv, ...
 *
 * Sizes are decimal, addresses 0x... (0x0: the call failed). `==PID==` lines (the
 * tool's reports), other `--PID--` lines (`Reading syms from ...`, calls that are no
 * allocation, such as malloc_usable_size) and lines of the program's own output are
 * skipped. posix_memalign's line carries no address (valgrind does not log it): skipped. */
#include "importer.h"

#include <string.h>

static bool named(const hl_import_call *c, const char *const *names)
{
    for (; *names; names++)
        if (hl_import_call_is(c, *names)) return true;
    return false;
}

static const char *const alloc_names[] = {"malloc", "__builtin_new", "__builtin_vec_new", "_Znwm", "_Znam",
                                          "_Znwj", "_Znaj", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", NULL};
static const char *const free_names[] = {"free", "cfree", "__builtin_delete", "__builtin_vec_delete", "_ZdlPv",
                                         "_ZdaPv", "_ZdlPvm", "_ZdaPvm", "_ZdlPvRKSt9nothrow_t",
                                         "_ZdaPvRKSt9nothrow_t", NULL};
static const char *const align_names[] = {"memalign", "aligned_alloc", "posix_memalign", NULL};
static const char *const other_names[] = {"calloc", "realloc", "valloc", NULL};

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

static int call(hl_importer *im, hl_import_call *c, const char *e)
{
    enum { R = HL_IMPORT_MAX_ARGS };
    uint64_t a = 0, b = 0, result = 0, size = 0;
    if (named(c, alloc_names) || hl_import_call_is(c, "valloc")) {
        if (hl_import_call_args(im, c, 1) || labelled(im, c, 0, "size", &a) ||
            hl_import_call_address(im, c, R, "result (= ADDRESS)", &result))
            return -1;
        hl_import_alloc(im, result, a, hl_import_call_is(c, "valloc") ? 4096 : 1);
    } else if (named(c, free_names)) {
        if (hl_import_call_args(im, c, 1) || hl_import_call_address(im, c, 0, "address", &a)) return -1;
        hl_import_free(im, a);
    } else if (hl_import_call_is(c, "calloc")) {
        if (hl_import_call_args(im, c, 2) || labelled(im, c, 0, "count", &a) || labelled(im, c, 1, "size", &b) ||
            hl_import_calloc_size(im, a, b, &size) || hl_import_call_address(im, c, R, "result (= ADDRESS)", &result))
            return -1;
        hl_import_alloc(im, result, size, 1);
    } else if (named(c, align_names)) {
        if (hl_import_call_args(im, c, 2) || labelled(im, c, 0, "alignment", &a) || labelled(im, c, 1, "size", &b))
            return -1;
        if (!c->result && hl_import_call_is(c, "posix_memalign")) return 0; /* no address logged */
        if (hl_import_call_address(im, c, R, "result (= ADDRESS)", &result)) return -1;
        hl_import_alloc(im, result, b, a);
    } else { /* realloc */
        if (hl_import_call_args(im, c, 2) || hl_import_call_address(im, c, 0, "old address", &a) ||
            labelled(im, c, 1, "size", &b))
            return -1;
        const char *name;
        size_t length;
        if (!c->result && c->rest && hl_import_call_name(c->rest, e, &name, &length)) {
            hl_import_call inner; /* realloc(0x0,N)malloc(N) = 0xP, realloc(0xP,0)free(0xP) */
            if (hl_import_call_parse(im, c->rest, e, &inner) != 0) return -1;
            if (inner.result && hl_import_call_address(im, &inner, R, "result (= ADDRESS)", &result)) return -1;
        } else if (c->result || b != 0 || a == 0) {
            if (hl_import_call_address(im, c, R, "result (= ADDRESS)", &result)) return -1;
        }
        hl_import_realloc(im, a, b, result);
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
        hl_import_call c;
        c.name = name;
        c.name_length = length;
        if (!named(&c, alloc_names) && !named(&c, free_names) && !named(&c, align_names) && !named(&c, other_names))
            continue; /* not an allocation call */
        if (hl_import_call_parse(im, p, e, &c) != 0 || call(im, &c, e) != 0) return -1;
    }
    return 0;
}
