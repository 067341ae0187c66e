/* contract.c: the names and texts of the contract's tables (errors, rules, stats). */
#include "heaplab.h"

static const char *const error_names[] = {
#define X(name, text) #name,
    HL_ERRORS(X)
#undef X
};
static const char *const error_texts[] = {
#define X(name, text) text,
    HL_ERRORS(X)
#undef X
};
static const char *const rule_names[] = {
#define X(name, text) #name,
    HL_RULES(X)
#undef X
};
static const char *const rule_texts[] = {
#define X(name, text) text,
    HL_RULES(X)
#undef X
};
static const char *const stat_op_names[] = {
#define X(name) #name,
    HL_STAT_OPS(X)
#undef X
};

static bool same(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

const char *hl_error_name(hl_error e) { return (unsigned)e < HL_E_COUNT ? error_names[e] : "?"; }
const char *hl_error_text(hl_error e) { return (unsigned)e < HL_E_COUNT ? error_texts[e] : "?"; }
hl_error hl_error_from_name(const char *name)
{
    for (unsigned i = 0; i < HL_E_COUNT; i++)
        if (same(error_names[i], name)) return (hl_error)i;
    return HL_E_COUNT;
}

const char *hl_rule_name(hl_rule r) { return (unsigned)r < HL_RULE_COUNT ? rule_names[r] : "?"; }
const char *hl_rule_text(hl_rule r) { return (unsigned)r < HL_RULE_COUNT ? rule_texts[r] : "?"; }
hl_rule hl_rule_from_name(const char *name)
{
    for (unsigned i = 0; i < HL_RULE_COUNT; i++)
        if (same(rule_names[i], name)) return (hl_rule)i;
    return HL_RULE_COUNT;
}

const char *hl_stat_op_name(hl_stat_op op)
{
    return (unsigned)op < HL_STAT_OP_COUNT ? stat_op_names[op] : "?";
}
