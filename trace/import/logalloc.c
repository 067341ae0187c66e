/* logalloc.c: Mozilla's logalloc text log (memory/replace/logalloc), one call a line:
 *
 *   PID TID malloc(SIZE)=0xADDR
 *   PID TID calloc(NUM,SIZE)=0xADDR            size NUM * SIZE (overflow: bad input)
 *   PID TID realloc(0xOLD,SIZE)=0xNEW
 *   PID TID memalign(ALIGN,SIZE)=0xADDR        also posix_memalign, aligned_alloc
 *   PID TID valloc(SIZE)=0xADDR                aligned to a 4 KiB page
 *   PID TID free(0xADDR)
 *
 * TID becomes the operation's thread (t=); PID is not kept. A result of 0x0 (or
 * (nil)) is a call that failed. jemalloc_* calls (statistics, purges) are not
 * allocations and are skipped; any other function is bad input. logalloc writes each
 * call with its line break in one write: a last line without one was cut (a cut tail,
 * hl_import), even if it parses. */
#include "importer.h"

#include <string.h>

static int call(hl_importer *im, const hl_import_call *c)
{
    uint64_t a = 0, b = 0, result = 0, size = 0;
    enum { R = HL_IMPORT_MAX_ARGS };
    if (hl_import_call_is(c, "malloc") || hl_import_call_is(c, "valloc")) {
        if (hl_import_call_args(im, c, 1) || hl_import_call_number(im, c, 0, "SIZE", &a) ||
            hl_import_call_address(im, c, R, "result (=ADDRESS)", &result))
            return -1;
        hl_import_alloc(im, result, a, hl_import_call_is(c, "valloc") ? 4096 : 1);
    } else if (hl_import_call_is(c, "calloc")) {
        if (hl_import_call_args(im, c, 2) || hl_import_call_number(im, c, 0, "NUM", &a) ||
            hl_import_call_number(im, c, 1, "SIZE", &b) || hl_import_calloc_size(im, a, b, &size) ||
            hl_import_call_address(im, c, R, "result (=ADDRESS)", &result))
            return -1;
        hl_import_alloc(im, result, size, 1);
    } else if (hl_import_call_is(c, "memalign") || hl_import_call_is(c, "posix_memalign") ||
               hl_import_call_is(c, "aligned_alloc")) {
        if (hl_import_call_args(im, c, 2) || hl_import_call_number(im, c, 0, "ALIGN", &a) ||
            hl_import_call_number(im, c, 1, "SIZE", &b) ||
            hl_import_call_address(im, c, R, "result (=ADDRESS)", &result))
            return -1;
        hl_import_alloc(im, result, b, a);
    } else if (hl_import_call_is(c, "realloc")) {
        if (hl_import_call_args(im, c, 2) || hl_import_call_address(im, c, 0, "old ADDRESS", &a) ||
            hl_import_call_number(im, c, 1, "SIZE", &b) ||
            hl_import_call_address(im, c, R, "result (=ADDRESS)", &result))
            return -1;
        hl_import_realloc(im, a, b, result);
    } else if (hl_import_call_is(c, "free")) {
        if (hl_import_call_args(im, c, 1) || hl_import_call_address(im, c, 0, "ADDRESS", &a)) return -1;
        hl_import_free(im, a);
    } else if (!(c->name_length > 9 && memcmp(c->name, "jemalloc_", 9) == 0)) {
        return hl_import_fail(im, "unknown function '%s'", hl_show(c->name, c->name_length).text);
    }
    return 0;
}

int hl_import_logalloc(hl_importer *im)
{
    const char *s, *e;
    while (hl_import_line(im, &s, &e)) {
        const char *p = s, *tok;
        size_t len;
        if (!hl_import_token(&p, e, &tok, &len)) continue; /* blank */
        if (im->unterminated) return hl_import_cut(im, im->line, "no line break at its end");
        uint64_t pid, tid;
        if (!hl_import_number(tok, len, &pid))
            return hl_import_fail(im, "expected PID TID FUNCTION(ARGS)[=RESULT], not '%s'",
                                  hl_show(s, (size_t)(e - s)).text);
        if (!hl_import_token(&p, e, &tok, &len) || !hl_import_number(tok, len, &tid))
            return hl_import_fail(im, "missing thread id after the process id (PID TID FUNCTION(ARGS))");
        if (tid > UINT32_MAX)
            return hl_import_fail(im, "thread id %llu does not fit in 32 bits", (unsigned long long)tid);
        p = hl_import_skip_spaces(p, e);
        const char *name;
        size_t name_length;
        if (!hl_import_call_name(p, e, &name, &name_length))
            return hl_import_fail(im, "expected FUNCTION(ARGS) after the thread id, not '%s'",
                                  hl_show(p, (size_t)(e - p)).text);
        hl_import_call c;
        if (hl_import_call_parse(im, p, e, &c) != 0) return -1;
        if (c.rest && c.rest != e)
            return hl_import_fail(im, "%s: extra text '%s'", hl_show(c.name, c.name_length).text,
                                  hl_show(c.rest, (size_t)(e - c.rest)).text);
        im->has_thread = true;
        im->thread = (uint32_t)tid;
        if (call(im, &c) != 0) return -1;
    }
    return 0;
}
