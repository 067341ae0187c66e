/* call.c: the call syntax logalloc and valgrind share, `NAME(ARG, ...) [= RESULT]`,
 * split in place into name, arguments and result, and their numbers read with
 * messages naming the call. */
#include "importer.h"

#include <string.h>

static bool ident_start(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool ident_byte(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

bool hl_import_call_name(const char *s, const char *e, const char **name, size_t *length)
{
    if (s == e || !ident_start(*s)) return false;
    const char *t = s;
    while (t < e && ident_byte(*t)) t++;
    if (t == e || *t != '(') return false;
    *name = s;
    *length = (size_t)(t - s);
    return true;
}

static void trim(const char **s, const char **e)
{
    *s = hl_import_skip_spaces(*s, *e);
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t')) (*e)--;
}

int hl_import_call_parse(hl_importer *im, const char *s, const char *e, hl_import_call *call)
{
    memset(call, 0, sizeof *call);
    hl_import_call_name(s, e, &call->name, &call->name_length);
    const char *open = s + call->name_length, *close = memchr(open, ')', (size_t)(e - open));
    if (!close) return hl_import_fail(im, "%s: missing ')'", hl_show(call->name, call->name_length).text);
    const char *a = open + 1;
    if (hl_import_skip_spaces(a, close) != close) {
        for (;;) {
            const char *comma = memchr(a, ',', (size_t)(close - a)), *stop = comma ? comma : close;
            if (call->args == HL_IMPORT_MAX_ARGS)
                return hl_import_fail(im, "%s: more than %d arguments",
                                      hl_show(call->name, call->name_length).text, HL_IMPORT_MAX_ARGS);
            const char *as = a, *ae = stop;
            trim(&as, &ae);
            call->arg[call->args] = as;
            call->arg_length[call->args++] = (size_t)(ae - as);
            if (!comma) break;
            a = comma + 1;
        }
    }
    const char *p = hl_import_skip_spaces(close + 1, e);
    if (p < e && *p == '=') {
        const char *rs = p + 1, *re = e;
        trim(&rs, &re);
        const char *tok, *q = rs;
        size_t len;
        if (hl_import_token(&q, re, &tok, &len) && hl_import_token(&q, re, &tok, &len))
            return hl_import_fail(im, "%s: extra text after the result: '%s'",
                                  hl_show(call->name, call->name_length).text, hl_show(tok, len).text);
        call->result = rs;
        call->result_length = (size_t)(re - rs);
    } else {
        call->rest = p;
    }
    return 0;
}

bool hl_import_call_is(const hl_import_call *call, const char *word)
{
    return strlen(word) == call->name_length && memcmp(call->name, word, call->name_length) == 0;
}

int hl_import_call_args(hl_importer *im, const hl_import_call *call, unsigned count)
{
    if (call->args == count) return 0;
    return hl_import_fail(im, "%s: expected %u argument%s, found %u",
                          hl_show(call->name, call->name_length).text, count, count == 1 ? "" : "s",
                          call->args);
}

static int value(hl_importer *im, const hl_import_call *call, unsigned i, const char *label, bool address,
                 uint64_t *out)
{
    hl_shown shown = hl_show(call->name, call->name_length);
    const char *name = shown.text;
    const char *s = i < HL_IMPORT_MAX_ARGS ? call->arg[i] : call->result;
    size_t n = i < HL_IMPORT_MAX_ARGS ? call->arg_length[i] : call->result_length;
    if (!s) return hl_import_fail(im, "%s: missing %s", name, label);
    if (n == 0) return hl_import_fail(im, "%s: empty %s", name, label);
    if (address ? hl_import_address(s, n, out) : hl_import_number(s, n, out)) return 0;
    return hl_import_fail(im, "%s: %s '%s' is not a number", name, label, hl_show(s, n).text);
}

int hl_import_call_number(hl_importer *im, const hl_import_call *call, unsigned i, const char *label,
                          uint64_t *out)
{
    return value(im, call, i, label, false, out);
}

int hl_import_call_address(hl_importer *im, const hl_import_call *call, unsigned i, const char *label,
                           uint64_t *out)
{
    return value(im, call, i, label, true, out);
}

int hl_import_calloc_size(hl_importer *im, uint64_t num, uint64_t size, uint64_t *out)
{
    if (size != 0 && num > UINT64_MAX / size)
        return hl_import_fail(im, "calloc: %llu * %llu overflows 64 bits", (unsigned long long)num,
                              (unsigned long long)size);
    *out = num * size;
    return 0;
}
