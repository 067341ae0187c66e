/* mtrace.c: glibc's mtrace log (MALLOC_TRACE=file), as glibc writes it:
 *
 *   = Start
 *   @ ./prog:[0x4005d4] + 0x1b68010 0x10     malloc (address, size in hex)
 *   @ ./prog:[0x4005e2] - 0x1b68010          free
 *   @ ./prog:[0x4005f0] < 0x1b68010          realloc: the old block...
 *   @ ./prog:[0x4005f0] > 0x1b68030 0x20     ...then the new one and its size
 *   @ ./prog:[0x400600] ! 0x1b68030 0x40     a realloc that failed (block unchanged)
 *   = End
 *
 * The caller (`@ file:[addr]`, `@ file:(fn+off)[addr]`, `@ [addr]`) is optional and
 * ignored. Addresses print as 0x... or (nil): `+ (nil) SIZE` is a failed malloc. A
 * realloc to size 0 is logged by glibc as a free. Lines starting with `=` are markers.
 *
 * A cut tail (hl_import): glibc ends every record with a line break and writes a
 * realloc as two records, `<` then `>`; a program killed while its trace stream was
 * buffered leaves the file cut anywhere. So a last line without a line break that holds
 * an operation (even one that parses: its last number may be cut short) or a `<` whose
 * `>` never came is the cut record. `= End` is written by muntrace() only (most
 * programs never call it): its absence is no cut. */
#include "importer.h"

#include <string.h>

/* Parses the ADDR [SIZE] fields after the operation character c. */
static int fields(hl_importer *im, char c, const char *p, const char *e, uint64_t *addr, uint64_t *size)
{
    const char *tok;
    size_t len;
    bool sized = c == '+' || c == '>' || c == '!';
    if (!hl_import_token(&p, e, &tok, &len)) return hl_import_fail(im, "'%c': missing address", c);
    if (!hl_import_address(tok, len, addr))
        return hl_import_fail(im, "'%c': address '%s' is not a number", c, hl_show(tok, len).text);
    if (sized) {
        if (!hl_import_token(&p, e, &tok, &len)) return hl_import_fail(im, "'%c': missing size", c);
        if (!hl_import_number(tok, len, size))
            return hl_import_fail(im, "'%c': size '%s' is not a number", c, hl_show(tok, len).text);
    }
    if (hl_import_token(&p, e, &tok, &len))
        return hl_import_fail(im, "'%c': extra field '%s'", c, hl_show(tok, len).text);
    return 0;
}

int hl_import_mtrace(hl_importer *im)
{
    const char *s, *e;
    if (!hl_import_line(im, &s, &e) || (size_t)(e - s) != 7 || memcmp(s, "= Start", 7) != 0) {
        if (im->line == 0) im->line = 1;
        return hl_import_fail(im, "first line must be '= Start' (glibc mtrace output)");
    }
    bool pending = false; /* a '<' waits for its '>' */
    uint64_t old = 0, pending_line = 0;
    while (hl_import_line(im, &s, &e)) {
        const char *p = hl_import_skip_spaces(s, e), *tok;
        size_t len;
        if (p == e || *p == '=') continue; /* blank, or a marker (= End) */
        if (im->unterminated) {
            if (pending) return hl_import_cut(im, pending_line, "its '>' line is cut, without a line break");
            return hl_import_cut(im, im->line, "no line break at its end");
        }
        if (*p == '@') { /* the caller: `@` and one token */
            p++;
            if (!hl_import_token(&p, e, &tok, &len)) return hl_import_fail(im, "'@' without a caller or operation");
            p = hl_import_skip_spaces(p, e);
        }
        char c = p < e ? *p : '\0';
        if (!strchr("+-<>!", c) || c == '\0' || (p + 1 < e && p[1] != ' ' && p[1] != '\t'))
            return hl_import_fail(im, "expected an operation (+ - < > !), not '%s'",
                                  hl_show(p, (size_t)(e - p)).text);
        if (pending && c != '>')
            return hl_import_fail(im, "'%c' after the realloc '<' of line %llu (expected its '>')", c,
                                  (unsigned long long)pending_line);
        uint64_t addr = 0, size = 0;
        if (fields(im, c, p + 1, e, &addr, &size) != 0) return -1;
        switch (c) {
        case '+': hl_import_alloc(im, addr, size, 1); break;
        case '-': hl_import_free(im, addr); break;
        case '<':
            pending = true;
            old = addr;
            pending_line = im->line;
            break;
        case '>':
            if (!pending) return hl_import_fail(im, "'>' without the realloc '<' before it");
            pending = false;
            hl_import_realloc(im, old, size, addr);
            break;
        default: hl_import_realloc(im, addr, size, 0); break; /* '!': a failed realloc */
        }
    }
    if (pending) return hl_import_cut(im, pending_line, "a realloc '<' whose '>' line is missing");
    return 0;
}
