/* ignore.c: known findings a run does not stop on (hl_check.h, hl_ignores):
 * `--ignore RULE@BACKEND`, BACKEND a backend's name (every spec of it) or a spec's
 * label, or a file of such lines ('#' starts a comment). */
#include "hl_check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int add_one(hl_ignores *ignores, const char *text, size_t n, const char *where, hl_diag *diag)
{
    const char *at = memchr(text, '@', n);
    char rule_name[64];
    size_t rule_length = at ? (size_t)(at - text) : 0;
    if (!at || rule_length == 0 || rule_length >= sizeof rule_name || at + 1 == text + n ||
        (size_t)(text + n - at - 1) >= sizeof ignores->items[0].backend)
        return snprintf(diag->message, sizeof diag->message, "%s'%.*s' is not RULE@BACKEND", where, (int)n, text),
               -1;
    memcpy(rule_name, text, rule_length);
    rule_name[rule_length] = '\0';
    hl_rule rule = hl_rule_from_name(rule_name);
    if (rule == HL_RULE_COUNT)
        return snprintf(diag->message, sizeof diag->message, "%sno rule is named '%s' (see the README's rule list)",
                        where, rule_name),
               -1;
    if (ignores->count == ignores->capacity) {
        ignores->capacity = ignores->capacity ? 2 * ignores->capacity : 8;
        ignores->items = hl_mem_realloc(ignores->items, ignores->capacity * sizeof *ignores->items);
    }
    hl_ignore *ig = &ignores->items[ignores->count++];
    ig->rule = rule;
    snprintf(ig->backend, sizeof ig->backend, "%.*s", (int)(text + n - at - 1), at + 1);
    return 0;
}

int hl_ignores_add(hl_ignores *ignores, const char *text, hl_diag *diag)
{
    if (strchr(text, '@')) return add_one(ignores, text, strlen(text), "", diag);
    FILE *f = fopen(text, "r");
    if (!f)
        return snprintf(diag->message, sizeof diag->message, "'%s' is not RULE@BACKEND, nor a file of them (%s)",
                        text, strerror(errno)),
               -1;
    char line[512], where[sizeof diag->message / 2];
    int rc = 0;
    for (unsigned number = 1; rc == 0 && fgets(line, sizeof line, f); number++) {
        size_t n = strcspn(line, "#\r\n");
        while (n && (line[n - 1] == ' ' || line[n - 1] == '\t')) n--;
        size_t start = strspn(line, " \t");
        if (start >= n) continue;
        snprintf(where, sizeof where, "%.200s:%u: ", text, number);
        rc = add_one(ignores, line + start, n - start, where, diag);
    }
    fclose(f);
    return rc;
}

bool hl_ignored(const hl_ignores *ignores, hl_rule rule, const hl_spec *spec)
{
    for (size_t i = 0; ignores && i < ignores->count; i++)
        if (ignores->items[i].rule == rule &&
            (strcmp(ignores->items[i].backend, spec->label) == 0 ||
             (spec->backend && strcmp(ignores->items[i].backend, spec->backend->name) == 0)))
            return true;
    return false;
}

void hl_ignores_free(hl_ignores *ignores)
{
    hl_mem_free(ignores->items);
    *ignores = (hl_ignores){0};
}
