/* op.c: the operation-kind table (HL_OP_KINDS) and the positional fields of each
 * kind, which the text and binary trace forms both follow (traces/FORMAT.md). */
#include "hl_trace.h"

#include <string.h>

static const char *const op_names[HL_OP_COUNT] = {
#define HL_OP_NAME(name, word) word,
    HL_OP_KINDS(HL_OP_NAME)
#undef HL_OP_NAME
};

const char *hl_op_name(hl_op_kind kind)
{
    return (unsigned)kind < HL_OP_COUNT ? op_names[kind] : "?";
}

hl_op_kind hl_op_from_name(const char *word, size_t n)
{
    for (unsigned k = 0; k < HL_OP_COUNT; k++)
        if (strlen(op_names[k]) == n && memcmp(op_names[k], word, n) == 0) return (hl_op_kind)k;
    return HL_OP_COUNT;
}

bool hl_op_is_misuse(hl_op_kind kind)
{
    return kind >= HL_OP_DOUBLE_FREE && kind < HL_OP_COUNT;
}

#define ID HL_FIELD_ID
#define SIZE HL_FIELD_SIZE
#define ALIGN HL_FIELD_ALIGN
#define OFFSET HL_FIELD_OFFSET
#define SCOPE HL_FIELD_SCOPE
#define RW HL_FIELD_RW

/* Indexed by kind; the order of the fields is their order in both forms. */
static const hl_op_fields op_fields[HL_OP_COUNT] = {
    [HL_OP_ALLOC] = {2, {ID, SIZE}, {"ID", "SIZE"}, "alloc ID SIZE [align=N] [caps=C]"},
    [HL_OP_FREE] = {1, {ID}, {"ID"}, "free ID"},
    [HL_OP_REALLOC] = {2, {ID, SIZE}, {"ID", "NEWSIZE"}, "realloc ID NEWSIZE"},
    [HL_OP_USABLE] = {1, {ID}, {"ID"}, "usable ID"},
    [HL_OP_TOUCH] = {4, {ID, OFFSET, SIZE, RW}, {"ID", "OFFSET", "LEN", "r|w"}, "touch ID OFFSET LEN r|w"},
    [HL_OP_SCOPE_ENTER] = {1, {SCOPE}, {"S"}, "scope_enter S"},
    [HL_OP_SCOPE_EXIT] = {1, {SCOPE}, {"S"}, "scope_exit S"},
    [HL_OP_PROMOTE] = {3, {SCOPE, ID, SIZE}, {"S", "ID", "N"}, "promote S ID N"},
    [HL_OP_FREE_ALL] = {0, {0}, {NULL}, "free_all"},
    [HL_OP_DOUBLE_FREE] = {1, {ID}, {"ID"}, "double_free ID"},
    [HL_OP_FREE_INVALID] = {2, {ID, OFFSET}, {"ID", "OFFSET"}, "free_invalid ID OFFSET"},
    [HL_OP_FREE_LAYOUT] = {3, {ID, SIZE, ALIGN}, {"ID", "SIZE", "ALIGN"}, "free_layout ID SIZE ALIGN"},
    [HL_OP_OVERFLOW] = {2, {ID, OFFSET}, {"ID", "J"}, "overflow ID J"},
    [HL_OP_UNDERFLOW] = {2, {ID, OFFSET}, {"ID", "J"}, "underflow ID J"},
    [HL_OP_AFTER_FREE] = {2, {ID, OFFSET}, {"ID", "OFFSET"}, "after_free ID OFFSET"},
};

#undef ID
#undef SIZE
#undef ALIGN
#undef OFFSET
#undef SCOPE
#undef RW

const hl_op_fields *hl_op_fields_of(hl_op_kind kind)
{
    return (unsigned)kind < HL_OP_COUNT ? &op_fields[kind] : NULL;
}

bool hl_op_same(const hl_op *a, const hl_op *b)
{
    if (a->kind != b->kind || a->expect_fail != b->expect_fail || a->has_thread != b->has_thread)
        return false;
    if (a->has_thread && a->thread != b->thread) return false;
    const hl_op_fields *fields = hl_op_fields_of((hl_op_kind)a->kind);
    if (!fields) return false;
    if (a->kind == HL_OP_ALLOC && (a->align != b->align || a->caps != b->caps)) return false;
    for (unsigned i = 0; i < fields->count; i++) {
        bool same = true;
        switch ((hl_op_field)fields->field[i]) {
        case HL_FIELD_ID: same = a->id == b->id; break;
        case HL_FIELD_SIZE: same = a->size == b->size; break;
        case HL_FIELD_ALIGN: same = a->align == b->align; break;
        case HL_FIELD_OFFSET: same = a->offset == b->offset; break;
        case HL_FIELD_SCOPE: same = a->scope == b->scope; break;
        case HL_FIELD_RW: same = (a->write != 0) == (b->write != 0); break;
        }
        if (!same) return false;
    }
    return true;
}

bool hl_op_scoped(hl_op_kind kind)
{
    return kind == HL_OP_SCOPE_ENTER || kind == HL_OP_SCOPE_EXIT || kind == HL_OP_PROMOTE || kind == HL_OP_FREE_ALL;
}
