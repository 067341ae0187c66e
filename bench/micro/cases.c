/* cases.c: the families, the case list (every family on every target) and the one
 * case prepared at a time (micro.h). One case at a time holds an instance: the peers
 * allow one instance a process, and a 1M-block live set is released before the next
 * case makes its own. */
#include "micro.h"

#include <stdio.h>

typedef enum kind { PAIR, REPLACE, SCOPE, CHAIN } kind;

typedef struct family {
    const char *name;
    kind kind;
    size_t size;  /* PAIR: the block size; REPLACE: the live blocks */
    size_t align; /* PAIR */
} family;

static const family families[] = {
    {"pair/16", PAIR, 16, MICRO_ALIGN},
    {"pair/32", PAIR, 32, MICRO_ALIGN},
    {"pair/64", PAIR, 64, MICRO_ALIGN},
    {"pair/128", PAIR, 128, MICRO_ALIGN},
    {"pair/64K", PAIR, 65536, MICRO_ALIGN},
    {"replace/10k", REPLACE, 10000, 0},
    {"replace/1M", REPLACE, 1000000, 0},
    {"scope/64", SCOPE, 0, 0},
    {"realloc/16-64K", CHAIN, 0, 0},
    {"aligned/4K", PAIR, 4096, 4096},
};
#define FAMILY_COUNT (sizeof families / sizeof families[0])
#define MAX_CASES (FAMILY_COUNT * 32)

static micro_case cases[MAX_CASES];
static size_t case_count;

const micro_case *micro_cases(size_t *count)
{
    if (!case_count) {
        size_t targets;
        micro_target *t = micro_targets(&targets);
        for (unsigned f = 0; f < FAMILY_COUNT; f++)
            for (size_t i = 0; i < targets && case_count < MAX_CASES; i++) {
                micro_case *c = &cases[case_count++];
                snprintf(c->name, sizeof c->name, "%s/%s", families[f].name, t[i].name);
                c->family = f;
                c->target = &t[i];
            }
    }
    *count = case_count;
    return cases;
}

static const micro_case *prepared;
static micro_live_set *live_set;

void micro_release(void)
{
    if (!prepared) return;
    micro_replace_release(live_set);
    live_set = NULL;
    micro_close(prepared->target);
    prepared = NULL;
}

const char *micro_prepare(const micro_case *c)
{
    if (c == prepared) return NULL;
    micro_release();
    const family *f = &families[c->family];
    /* the measure path's promises (measure/speed.c): one thread, no statistics read,
     * and every block freed by the body itself, but for the scope family */
    uint32_t hints = HL_HINT_ONE_THREAD | HL_HINT_NO_STATS | (f->kind == SCOPE ? 0 : HL_HINT_CALLER_FREES);
    const char *why = micro_open(c->target, hints);
    if (why) return why;
    if (f->kind == SCOPE) micro_scope_prepare();
    if (f->kind == REPLACE && !(live_set = micro_replace_prepare(c->target, (uint32_t)f->size, &why))) {
        micro_close(c->target);
        return why;
    }
    prepared = c;
    return NULL;
}

const char *micro_run(const micro_case *c, uint64_t iterations)
{
    if (c != prepared) return "the case was not prepared";
    const family *f = &families[c->family];
    switch (f->kind) {
    case PAIR: return micro_pair(c->target, f->size, f->align, iterations);
    case REPLACE: return micro_replace(live_set, iterations);
    case SCOPE: return micro_scope(c->target, iterations);
    case CHAIN: return micro_chain(c->target, iterations);
    }
    return "unknown family";
}
