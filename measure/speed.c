/* speed.c: the measure path's loop (hl_measure.h, "The measure path"). One instance,
 * the plan's steps in order, a slot array of addresses (0: absent), one clock read
 * before the first step and one after the last. The first pass is cold (the
 * allocator's first, the kernel's page faults for its fresh memory included: on a VM
 * they cost more than the allocator's code); then, every block freed after each,
 * warm passes (the steady state; their median is the figure ops/s reports). What the loop does besides the
 * backend's calls is what bench/yardstick.c does besides the allocator's: read the
 * step, load and store a slot, write the first byte of each block an alloc or realloc
 * returns. Every 4096 steps it publishes its progress to an isolated run's watch (a
 * store to shared memory), so a hang is seen and a crash is placed within 4096
 * operations.
 *
 * A step on an absent block (an earlier alloc failed: the backend could not follow)
 * is skipped and counted; a failed realloc frees the old block and leaves the slot
 * absent, so every later step stays consistent with the plan's layouts. */
#include "hl_measure.h"

#include <stdio.h>
#include <string.h>

#define CHUNK 4096u

typedef struct loop {
    const hl_backend *b;
    hl_heap *heap;
    hl_addr *slots;
    hl_scope *scopes;
    bool linear; /* addresses are offsets: the first byte is written through mem_view */
    const hl_direct *direct; /* the allocator's own entry points (hl_info.direct), or NULL */
    uint64_t skipped, failed;
} loop;

static void touch_first(loop *l, hl_addr block, uint64_t size)
{
    if (!size) return; /* a size-0 block has no byte to write */
    if (!l->linear) {
        *(volatile unsigned char *)block = 1;
        return;
    }
    unsigned char *p = l->b->mem_view(l->heap, block, 1);
    if (p) *(volatile unsigned char *)p = 1;
}

static void touch_range(loop *l, hl_addr block, const hl_step *s, uint64_t offset, uint64_t size)
{
    unsigned char *p = l->b->mem_view(l->heap, block + offset, size);
    if (!p) return;
    if (s->write) {
        memset(p, 0x5a, size);
    } else {
        unsigned sum = 0;
        for (uint64_t i = 0; i < size; i++) sum += ((volatile unsigned char *)p)[i];
        (void)sum;
    }
}

static inline hl_layout layout_of(const hl_step *s, uint64_t size)
{
    return (hl_layout){(size_t)size, (size_t)1 << s->align_log2};
}

/* The rarer kinds, out of the hot loop. */
static void other_step(loop *l, const hl_step *s, const hl_plan *plan)
{
    hl_error e = HL_E_OK;
    hl_addr *slot = &l->slots[s->slot];
    uint64_t size = hl_step_size(plan, s), aux = hl_step_aux(plan, s);
    switch ((hl_step_kind)s->kind) {
    case HL_STEP_USABLE:
        if (!*slot) return (void)l->skipped++;
        (void)l->b->usable_size(l->heap, *slot, layout_of(s, size));
        return;
    case HL_STEP_TOUCH:
        if (!*slot) return (void)l->skipped++;
        touch_range(l, *slot, s, aux, size);
        return;
    case HL_STEP_ENTER:
        if (l->b->enter_scope(l->heap, &l->scopes[s->slot]) != HL_E_OK) l->failed++;
        return;
    case HL_STEP_EXIT:
        if (l->b->exit_scope(l->heap, l->scopes[s->slot]) != HL_E_OK) l->failed++;
        return;
    case HL_STEP_PROMOTE: {
        const hl_step_extra *x = &plan->extras[aux];
        if (!*slot) return (void)l->skipped++;
        hl_addr a = l->b->promote(l->heap, l->scopes[x->scope_slot], *slot, layout_of(s, x->old_size),
                                  (size_t)size, &e);
        if (!a) l->failed++;
        *slot = a;
        return;
    }
    case HL_STEP_FREE_ALL:
        if (l->b->free_all(l->heap) != HL_E_OK) l->failed++;
        return;
    default: return;
    }
}

/* Steps [from, to) of plan: alloc, free and realloc inline, with the backend, its
 * heap, the slots and the counters in registers; the rest through other_step. LINEAR
 * is a constant where this is inlined (run_native, run_linear), so the native loop
 * does not test it. */
static inline __attribute__((always_inline)) void run_steps(loop *l, const hl_plan *plan, size_t from, size_t to,
                                                            bool linear, bool direct)
{
    const hl_backend *b = l->b;
    hl_heap *heap = l->heap;
    hl_addr *slots = l->slots;
    const hl_direct *d = l->direct;
    /* the direct calls' range: sizes 1 .. max, alignments up to 1 << log2 (or the
     * size's power of two where the promise goes by size), no caps */
    size_t max = direct ? d->max_size : 0;
    unsigned log2 = direct ? d->align_log2 : 0;
    bool by_size = direct && d->by_size;
#define DIRECT_FITS(s, n) \
    (direct && (n) - 1 < max && (s)->align_log2 <= log2 && !(s)->caps && (!by_size || ((uint64_t)1 << (s)->align_log2) <= (n)))
    uint64_t skipped = 0, failed = 0;
    hl_error e = HL_E_OK;
    const hl_step_wide *wides = plan->wides;
    for (const hl_step *s = plan->steps + from, *end = plan->steps + to; s < end; s++) {
        hl_addr *slot = &slots[s->slot];
        hl_addr a;
        uint64_t size = s->size;
        if (__builtin_expect(size == HL_STEP_WIDE, 0)) size = wides[s->aux].size;
        if (s->kind == HL_STEP_ALLOC) {
            if (DIRECT_FITS(s, size)) a = (hl_addr)d->malloc((size_t)size);
            else a = b->alloc(heap, layout_of(s, size), s->caps, &e);
            if (!a) failed++;
            else if (size && !linear) *(volatile unsigned char *)a = 1;
            else if (size) touch_first(l, a, size);
            *slot = a;
        } else if (s->kind == HL_STEP_FREE) {
            if (!*slot) {
                skipped++;
                continue;
            }
            if (direct) d->free((void *)*slot);
            else b->free(heap, *slot, layout_of(s, size));
            *slot = 0;
        } else if (s->kind == HL_STEP_REALLOC) {
            if (!*slot) {
                skipped++;
                continue;
            }
            uint64_t old = s->size != HL_STEP_WIDE ? s->aux : wides[s->aux].aux;
            if (DIRECT_FITS(s, size)) a = (hl_addr)d->realloc((void *)*slot, (size_t)size);
            else a = b->realloc(heap, *slot, layout_of(s, old), (size_t)size, &e);
            if (!a) {
                failed++;
                b->free(heap, *slot, layout_of(s, old));
            } else if (size && !linear) {
                *(volatile unsigned char *)a = 1;
            } else if (size) {
                touch_first(l, a, size);
            }
            *slot = a;
        } else {
            l->skipped += skipped, l->failed += failed;
            skipped = failed = 0;
            other_step(l, s, plan);
        }
    }
#undef DIRECT_FITS
    l->skipped += skipped;
    l->failed += failed;
}

static void run_native(loop *l, const hl_plan *plan, size_t from, size_t to)
{
    run_steps(l, plan, from, to, false, false);
}
static void run_linear(loop *l, const hl_plan *plan, size_t from, size_t to)
{
    run_steps(l, plan, from, to, true, false);
}
static void run_direct(loop *l, const hl_plan *plan, size_t from, size_t to)
{
    run_steps(l, plan, from, to, false, true);
}

/* Warm passes: at least WARM_MIN_PASSES, more until they add up to WARM_TOTAL_NS,
 * never more than WARM_MAX_PASSES, and no more once they add up to WARM_ENOUGH_NS
 * (a pass of a second or more is its own average: guard on a real trace takes 1.4 s
 * a pass, a peer a few ms); the figure is their median. A sanitized build (its times
 * measure the sanitizer: not comparable, and the report says so) makes one.
 * bench/yardstick.c follows the same rule. */
#define WARM_MIN_PASSES 3u
#define WARM_MAX_PASSES 50u
#define WARM_TOTAL_NS 20000000u
#define WARM_ENOUGH_NS 1000000000u

static uint64_t median(uint64_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++) /* insertion sort: n <= 50 */
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : 0;
}

/* After a pass: every block freed (the leftovers, or free_all where the plan has
 * scopes and the backend keeps its tracker), every slot absent. */
static void free_everything(loop *l, const hl_plan *plan)
{
    if (plan->scoped) {
        l->b->free_all(l->heap);
    } else {
        for (size_t i = 0; i < plan->leftover_count; i++) {
            const hl_step *s = &plan->leftovers[i];
            if (l->slots[s->slot]) l->b->free(l->heap, l->slots[s->slot], layout_of(s, hl_step_size(plan, s)));
        }
    }
    memset(l->slots, 0, (plan->block_slots + 1) * sizeof(hl_addr));
}

/* The run itself, in whichever process runs it: the plan twice, cold then warm. */
static int run_plan(const hl_spec *spec, const hl_plan *plan, bool table_only, hl_watch *watch, hl_speed *out)
{
    memset(out, 0, sizeof *out);
    out->steps = plan->count;
    out->not_run = plan->not_run;
    out->hints = HL_HINT_ONE_THREAD | HL_HINT_NO_STATS | (plan->scoped ? 0 : HL_HINT_CALLER_FREES);
    hl_diag diag = {0};
    hl_heap *heap = hl_spec_create_hinted(spec, out->hints, &diag);
    if (!heap) {
        snprintf(out->error, sizeof out->error, "%s", diag.message);
        return -1;
    }
    hl_info info;
    memset(&info, 0, sizeof info); /* a table built before hl_info.direct leaves it NULL */
    spec->backend->describe(heap, &info);
    bool linear = (info.features & HL_FEATURE_LINEAR_MEMORY) != 0;
    loop l = {spec->backend, heap, hl_mem_alloc((plan->block_slots + 1) * sizeof(hl_addr)),
              hl_mem_alloc((plan->scope_slots + 1) * sizeof(hl_scope)), linear, linear || table_only ? NULL : info.direct, 0, 0};
    out->direct = l.direct != NULL;
    memset(l.slots, 0, (plan->block_slots + 1) * sizeof(hl_addr));
    uint64_t warm[WARM_MAX_PASSES], warm_total = 0;
    unsigned passes = 0; /* warm ones */
    bool cold_done = false;
    for (;;) {
        hl_watch_phase(watch, HL_PHASE_STREAM);
        uint64_t start = hl_clock_now_ns();
        for (size_t at = 0; at < plan->count; at += CHUNK) {
            hl_watch_step(watch, 0, at);
            size_t end = plan->count - at < CHUNK ? plan->count : at + CHUNK;
            if (l.linear) run_linear(&l, plan, at, end);
            else if (l.direct) run_direct(&l, plan, at, end);
            else run_native(&l, plan, at, end);
        }
        uint64_t ns = hl_clock_now_ns() - start;
        hl_watch_phase(watch, HL_PHASE_TEARDOWN);
        free_everything(&l, plan);
        if (!cold_done) {
            out->cold_ns = ns;
            cold_done = true;
            continue;
        }
        warm[passes++] = ns;
        warm_total += ns;
        if (passes == WARM_MAX_PASSES || (passes >= WARM_MIN_PASSES && warm_total >= WARM_TOTAL_NS) ||
            warm_total >= WARM_ENOUGH_NS)
            break;
        if (hl_build_sanitized()) break; /* one warm pass: its figures are not comparable anyway */
    }
    out->warm_passes = passes;
    out->timed_ns = median(warm, passes);
    out->warm_total_ns = warm_total;
    hl_spec_destroy(spec, heap);
    hl_mem_free(l.slots);
    hl_mem_free(l.scopes);
    out->skipped = l.skipped / (1 + passes); /* of one pass (every pass makes the same calls) */
    out->calls = plan->count - plan->touches - out->skipped;
    out->failed = l.failed / (1 + passes);
    out->ran = true;
    out->measured = warm_total >= HL_SPEED_MIN_NS && out->steps >= HL_SPEED_MIN_STEPS;
    out->cold_measured = out->cold_ns >= HL_SPEED_MIN_NS && out->steps >= HL_SPEED_MIN_STEPS;
    hl_watch_phase(watch, HL_PHASE_DONE);
    return 0;
}

typedef struct isolated_run {
    const hl_spec *spec;
    const hl_plan *plan;
    bool table_only;
} isolated_run;

static int body(void *context, hl_watch *watch, void *result)
{
    isolated_run *r = context;
    return run_plan(r->spec, r->plan, r->table_only, watch, result);
}

int hl_speed_run(const hl_spec *spec, const hl_plan *plan, const hl_speed_options *options, hl_speed *out)
{
    if (!options->isolate) return run_plan(spec, plan, options->table_only, NULL, out);
    isolated_run r = {spec, plan, options->table_only};
    hl_isolation iso = {.timeout = options->timeout, .poll_ms = 100};
    hl_isolated how;
    memset(out, 0, sizeof *out);
    int rc = hl_isolate(body, &r, out, sizeof *out, &iso, &how);
    if (how.end == HL_ISOLATED_RETURNED) return rc;
    char where[80];
    if (how.watch.phase == HL_PHASE_TEARDOWN)
        snprintf(where, sizeof where, "while freeing the leftover blocks");
    else
        snprintf(where, sizeof where, "at or after step %llu", (unsigned long long)how.watch.op);
    memset(out, 0, sizeof *out);
    if (how.watch.refused) {
        char call[360];
        hl_sandbox_describe(&how.watch, call, sizeof call);
        snprintf(out->error, sizeof out->error, "the timed run ended %s: SANDBOX: it made %s", where, call);
        return -1;
    }
    switch (how.end) {
    case HL_ISOLATED_CRASHED:
        snprintf(out->error, sizeof out->error, "the timed run crashed (signal %d) %s", how.signal, where);
        break;
    case HL_ISOLATED_HUNG:
        snprintf(out->error, sizeof out->error, "the timed run made no progress for %.0f s %s", options->timeout,
                 where);
        break;
    case HL_ISOLATED_EXITED:
        snprintf(out->error, sizeof out->error, "the timed run's process ended (status %d) %s", how.status, where);
        break;
    default: snprintf(out->error, sizeof out->error, "the timed run could not start: %s", how.error); break;
    }
    return -1;
}

double hl_speed_ns_per_op(const hl_speed *speed)
{
    return speed->measured && speed->steps ? (double)speed->timed_ns / (double)speed->steps : 0;
}

hl_null_cost hl_speed_null_cost(const hl_plan *plan, bool isolate, double timeout)
{
    hl_null_cost cost = {0, 0};
    hl_speed speed;
    hl_speed_options options = {isolate, timeout, true};
    if (hl_speed_run(hl_speed_null_spec(), plan, &options, &speed) == 0) cost.table_ns = hl_speed_ns_per_op(&speed);
    options.table_only = false;
    if (hl_speed_run(hl_speed_null_spec(), plan, &options, &speed) == 0 && speed.direct)
        cost.direct_ns = hl_speed_ns_per_op(&speed);
    return cost;
}

void hl_speed_into(const hl_spec *spec, const hl_plan *plan, bool isolate, double timeout, const hl_null_cost *null,
                   hl_run_summary *summary)
{
    hl_speed_options options = {isolate || spec->external, timeout, false};
    hl_speed_run(spec, plan, &options, &summary->speed);
    summary->speed_on = true;
    summary->null_ns_per_op = summary->speed.direct ? null->direct_ns : null->table_ns;
}

double hl_speed_cold_ns_per_op(const hl_speed *speed)
{
    return speed->cold_measured && speed->steps ? (double)speed->cold_ns / (double)speed->steps : 0;
}
