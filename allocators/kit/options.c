/* options.c: create's option parsing, driven by the backend's option_docs and the rule
 * of each row (hl_kit.h): the unknown-key message lists the keys from the docs, and a
 * bad value's message says what the rule accepts, so neither is ever retyped. */
#include "hl_kit.h"

#include <stdio.h>
#include <string.h>

const char *const hl_option_flag_words[] = {"0", "1", NULL};
const char *const hl_source_kind_words[] = {"os", "static", "linear", NULL};
_Static_assert(HL_SOURCE_OS == 0 && HL_SOURCE_STATIC == 1 && HL_SOURCE_LINEAR == 2,
               "hl_source_kind_words lists the kinds in enum order");

/* v with the largest suffix that divides it exactly (the syntax the parser reads). */
static void format_size(char *out, size_t capacity, uint64_t v)
{
    static const char suffixes[] = "GMK";
    for (int i = 0; i < 3; i++) {
        unsigned shift = 30u - 10u * (unsigned)i;
        if (v && v % (1ull << shift) == 0) {
            snprintf(out, capacity, "%llu%c", (unsigned long long)(v >> shift), suffixes[i]);
            return;
        }
    }
    snprintf(out, capacity, "%llu", (unsigned long long)v);
}

/* What the rule accepts, as the tail of "expected ...". */
static void expectation(const hl_option_rule *rule, char *out, size_t capacity)
{
    char low[32], high[32];
    switch (rule->kind) {
    case HL_OPTION_SIZE:
        format_size(low, sizeof low, rule->min);
        format_size(high, sizeof high, rule->max);
        if (rule->flags & HL_OPTION_POWER_OF_TWO) snprintf(out, capacity, "a power of two from %s to %s", low, high);
        else if (rule->max == UINT64_MAX) snprintf(out, capacity, "a size of at least %s: digits with an optional K, M or G suffix", low);
        else snprintf(out, capacity, "a size from %s to %s", low, high);
        return;
    case HL_OPTION_COUNT:
        if (rule->max == UINT64_MAX) snprintf(out, capacity, "a count >= %llu", (unsigned long long)rule->min);
        else snprintf(out, capacity, "a count from %llu to %llu", (unsigned long long)rule->min, (unsigned long long)rule->max);
        return;
    case HL_OPTION_WORD: {
        size_t used = 0;
        out[0] = 0;
        for (size_t i = 0; rule->words[i] && used < capacity; i++) {
            const char *glue = i == 0 ? "" : rule->words[i + 1] ? ", " : " or ";
            used += (size_t)snprintf(out + used, capacity - used, "%s%s", glue, rule->words[i]);
        }
        return;
    }
    case HL_OPTION_TEXT:
        snprintf(out, capacity, "any text");
        return;
    }
}

static void store(void *settings, const hl_option_rule *rule, uint64_t value)
{
    unsigned char *field = (unsigned char *)settings + rule->offset;
    switch (rule->width) {
    case 1: { uint8_t v = (uint8_t)value; memcpy(field, &v, 1); break; }
    case 2: { uint16_t v = (uint16_t)value; memcpy(field, &v, 2); break; }
    case 4: { uint32_t v = (uint32_t)value; memcpy(field, &v, 4); break; }
    default: memcpy(field, &value, 8); break;
    }
}

/* Parses value by rule into settings; false if the rule does not accept it. */
static bool apply(void *settings, const hl_option_rule *rule, const char *value)
{
    uint64_t number = 0;
    switch (rule->kind) {
    case HL_OPTION_SIZE:
    case HL_OPTION_COUNT:
        if (!hl_source_parse_size(value, &number) || number < rule->min || number > rule->max) return false;
        if ((rule->flags & HL_OPTION_POWER_OF_TWO) && !hl_is_power_of_two((size_t)number)) return false;
        store(settings, rule, number);
        return true;
    case HL_OPTION_WORD:
        for (size_t i = 0; rule->words[i]; i++)
            if (strcmp(rule->words[i], value) == 0) return store(settings, rule, i), true;
        return false;
    case HL_OPTION_TEXT:
        memcpy((unsigned char *)settings + rule->offset, &value, sizeof value);
        return true;
    }
    return false;
}

static hl_error unknown(const hl_config *config, const char *name, const hl_option_doc *docs, const char *key)
{
    char known[512];
    size_t used = 0;
    known[0] = 0;
    for (size_t i = 0; docs && docs[i].key && used < sizeof known; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", docs[i].key);
    if (used) hl_config_say(config, "%s: unknown option '%s' (known: %s)", name, key, known);
    else hl_config_say(config, "%s: unknown option '%s' (%s has none)", name, key, name);
    return HL_E_INVALID_ARGUMENT;
}

hl_error hl_options_apply(const hl_config *config, const char *name, const hl_option_doc *docs,
                          const hl_option_rule *rules, void *settings)
{
    for (size_t i = 0; i < config->option_count; i++) {
        const char *key = config->options[i].key, *value = config->options[i].value;
        size_t row = 0;
        while (docs && docs[row].key && strcmp(docs[row].key, key) != 0) row++;
        if (!docs || !docs[row].key) return unknown(config, name, docs, key);
        if (!apply(settings, &rules[row], value)) {
            char expected[256];
            expectation(&rules[row], expected, sizeof expected);
            hl_config_say(config, "%s: %s='%s' (expected %s)", name, key, value, expected);
            return HL_E_INVALID_ARGUMENT;
        }
    }
    return HL_E_OK;
}
