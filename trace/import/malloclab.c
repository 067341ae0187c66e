/* malloclab.c: the CMU malloc-lab trace (.rep): a header of one number a line (the
 * suggested heap size, the number of ids, the number of operations, the weight; some
 * variants leave the weight out, told apart by whether the fourth line is a number
 * alone; the 2016 edition's four are the weight, the ids, the operations and the
 * most bytes live, kept by position under the same metadata keys), then one
 * operation a line:
 *
 *   a ID SIZE     allocate block ID
 *   r ID SIZE     reallocate it (SIZE 0: free it, glibc semantics)
 *   f ID          free it
 *
 * Ids are the trace's own and kept. The traces recorded from real programs hold
 * the null pointer too, read with glibc's semantics:
 *   - `f -1` is free(NULL): dropped, and counted (stats->null_frees);
 *   - `r ID SIZE` of an id not live (never allocated, or freed) is realloc(NULL,
 *     SIZE): an alloc of ID, SIZE 0 included (realloc(NULL, 0) is malloc(0), a live
 *     block of size 0).
 * Any other negative id (`f -2`, `a -1`, `r -1 8`) is bad input, as is an `a` of an
 * id still live. An `a ID` without SIZE (29,924 lines of the published alaska.rep)
 * gets the SIZE of the last a or r line, as CMU's mdriver reads it (its
 * fscanf("%u %u") leaves the size variable as it was), and is counted
 * (stats->carried_sizes); an `a` without SIZE before any request is bad input. A free of
 * an id not live is skipped and counted, as in every importer. Blank lines and trailing
 * white space are allowed. A last operation line without a line break that does not
 * parse was cut (a cut tail, hl_import); one that parses is kept, as .rep files are
 * often written without a last line break. */
#include "importer.h"

#include <stdio.h>

static const char *const header_names[] = {"suggested heap size", "number of ids", "number of operations",
                                           "weight"};

/* True if [s, e) is one number alone, into *value. */
static bool number_alone(const char *s, const char *e, uint64_t *value)
{
    const char *p = s, *tok;
    size_t len;
    return hl_import_token(&p, e, &tok, &len) && hl_import_number(tok, len, value) &&
           !hl_import_token(&p, e, &tok, &len);
}

static int field(hl_importer *im, char c, const char **p, const char *e, const char *label, uint64_t *out)
{
    const char *tok;
    size_t len;
    if (!hl_import_token(p, e, &tok, &len)) return hl_import_fail(im, "%c: missing %s", c, label);
    if (!hl_import_number(tok, len, out))
        return hl_import_fail(im, "%c: %s '%s' is not a number", c, label, hl_show(tok, len).text);
    return 0;
}

/* The ID field: a number, or a negative one (a '-' and a number) into *negative. */
static int id_field(hl_importer *im, char c, const char **p, const char *e, uint64_t *id, bool *negative)
{
    const char *tok;
    size_t len;
    if (!hl_import_token(p, e, &tok, &len)) return hl_import_fail(im, "%c: missing ID", c);
    *negative = len > 1 && tok[0] == '-';
    if (!hl_import_number(tok + *negative, len - *negative, id))
        return hl_import_fail(im, "%c: ID '%s' is not a number", c, hl_show(tok, len).text);
    return 0;
}

static int operation(hl_importer *im, const char *s, const char *e)
{
    const char *p = s, *tok;
    size_t len;
    hl_import_token(&p, e, &tok, &len); /* the line is not blank */
    char c = len == 1 ? tok[0] : '\0';
    if (c != 'a' && c != 'r' && c != 'f')
        return hl_import_fail(im, "unknown operation '%s' (a ID SIZE, r ID SIZE or f ID)",
                              hl_show(tok, len).text);
    uint64_t id, size = 0, live;
    bool negative = false;
    if (id_field(im, c, &p, e, &id, &negative) != 0) return -1;
    const char *before_size = p;
    if (c == 'a' && !hl_import_token(&before_size, e, &tok, &len)) { /* `a ID`: mdriver's reading */
        if (!im->has_last_size) return hl_import_fail(im, "a: missing SIZE (and no earlier request to carry it from)%s", "");
        size = im->last_size;
        im->stats->carried_sizes++;
    } else if (c != 'f' && field(im, c, &p, e, "SIZE", &size) != 0) {
        return -1;
    }
    if (c != 'f') im->last_size = size, im->has_last_size = true;
    if (hl_import_token(&p, e, &tok, &len))
        return hl_import_fail(im, "%c: extra field '%s'", c, hl_show(tok, len).text);
    if (negative && c == 'f' && id == 1) { /* f -1: free(NULL) */
        im->stats->null_frees++;
        return 0;
    }
    if (negative)
        return hl_import_fail(im, "%c: id -%llu is negative (ids are 0 or more; -1 only in 'f -1', free(NULL))", c,
                              (unsigned long long)id);
    if (id == UINT64_MAX) return hl_import_fail(im, "%c: id %llu is too large", c, (unsigned long long)id);
    bool is_live = hl_u64map_find(&im->live, id + 1, &live);
    if (c == 'a' && is_live) return hl_import_fail(im, "a: id %llu is already live", (unsigned long long)id);
    if (c == 'a' || (c == 'r' && !is_live)) { /* a, or r of an id not live: realloc(NULL, SIZE) */
        *hl_u64map_put(&im->live, id + 1, NULL) = 1;
        im->stats->blocks++;
        hl_import_push(im, HL_OP_ALLOC, id, size, 1, HL_E_OK);
    } else if (c == 'r' && size > 0) {
        hl_import_push(im, HL_OP_REALLOC, id, size, 1, HL_E_OK);
    } else if (!is_live) { /* f of an id not live */
        im->stats->unknown_frees++;
    } else { /* f, or r to size 0 */
        hl_u64map_remove(&im->live, id + 1);
        hl_import_push(im, HL_OP_FREE, id, 0, 1, HL_E_OK);
    }
    return 0;
}

int hl_import_malloclab(hl_importer *im)
{
    const char *s, *e;
    unsigned header = 0;
    uint64_t value;
    while (hl_import_line(im, &s, &e)) {
        if (hl_import_skip_spaces(s, e) == e) continue; /* blank */
        if (header < 4) {
            bool number = number_alone(s, e, &value);
            if (header < 3 && !number)
                return hl_import_fail(im, "malloclab header: expected the %s (a number alone), not '%s'",
                                      header_names[header], hl_show(s, (size_t)(e - s)).text);
            if (number) {
                char key[64], text[24];
                snprintf(key, sizeof key, "import.malloclab.%s", header == 0   ? "heap_size"
                                                                  : header == 1 ? "ids"
                                                                  : header == 2 ? "ops"
                                                                                : "weight");
                snprintf(text, sizeof text, "%llu", (unsigned long long)value);
                hl_trace_set_meta(im->trace, key, text);
                header++;
                continue;
            }
            header = 4; /* no weight: this line is the first operation */
        }
        if (operation(im, s, e) != 0) {
            if (!im->unterminated) return -1;
            return hl_import_cut(im, im->line, "no line break at its end, and it does not parse");
        }
    }
    if (header < 3) {
        if (im->line == 0) im->line = 1;
        return hl_import_fail(im, "malloclab header missing: the file ends before the %s", header_names[header]);
    }
    return 0;
}
