/* check_every.c: the heap-check period's names, one place for the flag (--check-every),
 * a reproducer's metadata (heaplab.check_every) and the messages that name a mode. */
#include "hl_check.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct {
    uint64_t mode;
    const char *name, *explained;
} modes[] = {{HL_CHECK_PACED, "paced", NULL},
             {HL_CHECK_DEEP, "deep", "deep: every live block's contents too"},
             {HL_CHECK_UNTOUCHED, "untouched", "untouched: nothing written into the blocks"}};
#define MODE_COUNT (sizeof modes / sizeof *modes)

const char *hl_check_every_name(uint64_t check_every, char *buf, size_t capacity)
{
    for (size_t i = 0; i < MODE_COUNT; i++)
        if (modes[i].mode == check_every) return modes[i].name;
    snprintf(buf, capacity, "%" PRIu64, check_every);
    return buf;
}

bool hl_check_every_parse(const char *text, uint64_t *out)
{
    for (size_t i = 0; i < MODE_COUNT; i++)
        if (strcmp(text, modes[i].name) == 0) return *out = modes[i].mode, true;
    return hl_parse_size(text, out) && *out < HL_CHECK_UNTOUCHED;
}

const char *hl_check_every_explain(uint64_t check_every)
{
    for (size_t i = 0; i < MODE_COUNT; i++)
        if (modes[i].mode == check_every) return modes[i].explained;
    return NULL;
}
