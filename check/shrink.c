/* shrink.c: heaplab's one minimiser: a finding's trace made as small as it goes while
 * it still shows the same rule on the same backend (heaplab shrink, and every
 * reproducer replay and report write, repro.c). Passes, cheapest first:
 *   1. the prefix up to the operation the finding names: what follows cannot matter
 *      (after each success the candidate is cut there again);
 *   2. delta debugging over block ids: all the ids the finding does not name dropped
 *      at once, then in halving chunks, each drop kept when the rule still shows (an
 *      allocator's state depends on blocks the finding does not name: a free list's
 *      order, a bump pointer); a promote of a dropped block becomes the scope_exit it
 *      implies;
 *   3. delta debugging (Zeller's ddmin, complements) over the operations;
 *   4. each size, alignment and touched range made as small as it will go; then 3
 *      again.
 * Every candidate is repaired first (hl_trace_repair drops what removing an alloc or
 * a scope left dangling) and runs in a forked child (hl_diff_isolated), so a crash or
 * a hang reproduces as itself. A budget of runs and seconds (options) stops it early
 * with the smallest trace found so far. */
#include "hl_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct state {
    const hl_spec *specs;
    size_t count;
    const hl_shrink_options *o;
    const char *path;
    hl_rule rule;
    char backend[200];
    hl_op *ops;        /* the smallest reproducing trace so far */
    size_t n;
    hl_shrink_result *r;
    uint64_t started, shown;
} state;

static void progress(state *st)
{
    if (!st->o->progress) return;
    uint64_t now = hl_clock_now_ns();
    if (now - st->shown < 1000000000ull) return;
    st->shown = now;
    fprintf(stderr, "shrink: %zu -> %zu operations, %llu runs, %.1f s\n", st->r->before, st->n,
            (unsigned long long)st->r->runs, (double)(now - st->started) * 1e-9);
}

static bool out_of_budget(const state *st)
{
    if (st->o->max_runs && st->r->runs >= st->o->max_runs) return true;
    return st->o->max_seconds > 0 && (double)(hl_clock_now_ns() - st->started) * 1e-9 >= st->o->max_seconds;
}

/* Runs ops[0..n) (a fresh copy, repaired); when it shows the same finding it becomes
 * the current trace, cut after the finding's operation, and true is returned. Past
 * the budget it runs nothing and returns false. */
static bool try_ops(state *st, const hl_op *ops, size_t n)
{
    if (out_of_budget(st)) return false;
    hl_trace t = {.path = (char *)st->path, .form = HL_TRACE_TEXT, .count = n, .capacity = n ? n : 1};
    t.ops = hl_mem_alloc(t.capacity * sizeof *t.ops);
    memcpy(t.ops, ops, n * sizeof *t.ops);
    hl_trace_repair(&t);
    hl_diff_summary s;
    st->r->runs++;
    int rc = hl_diff_isolated(st->specs, st->count, &t, st->o->check_every, st->o->timeout, &s);
    progress(st);
    bool same = rc == 1 && s.found && s.finding.rule == st->rule && strcmp(s.backend, st->backend) == 0;
    if (!same) {
        hl_mem_free(t.ops);
        return false;
    }
    if (s.finding.index + 1 < t.count) t.count = (size_t)s.finding.index + 1;
    hl_mem_free(st->ops);
    st->ops = t.ops;
    st->n = t.count;
    st->r->finding = s;
    return true;
}

static bool names_block(hl_op_kind kind)
{
    return kind != HL_OP_SCOPE_ENTER && kind != HL_OP_SCOPE_EXIT && kind != HL_OP_FREE_ALL;
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Pass 2: delta debugging over the block ids the finding does not name. */
static void shrink_block_ids(state *st)
{
    if (!st->n) return;
    const hl_op *at = &st->ops[st->n - 1]; /* the current trace ends at the finding's operation */
    if (!names_block((hl_op_kind)at->kind) || st->r->finding.finding.teardown) return;
    uint64_t named = at->id, other = st->r->finding.finding.other_id;
    bool has_other = st->r->finding.finding.has_other;
    uint64_t *ids = hl_mem_alloc(st->n * sizeof *ids);
    size_t count = 0;
    for (size_t i = 0; i < st->n; i++)
        if (names_block((hl_op_kind)st->ops[i].kind) && st->ops[i].id != named && !(has_other && st->ops[i].id == other))
            ids[count++] = st->ops[i].id;
    qsort(ids, count, sizeof *ids, by_id);
    size_t unique = 0;
    for (size_t i = 0; i < count; i++)
        if (!unique || ids[unique - 1] != ids[i]) ids[unique++] = ids[i];
    count = unique;
    hl_u64map dropped = {0};
    hl_op *scratch = hl_mem_alloc(st->n * sizeof *scratch);
    for (size_t chunk = count; chunk >= 1 && !out_of_budget(st); chunk /= 2) {
        for (size_t start = 0; start < count && !out_of_budget(st); start += chunk) {
            size_t stop = start + chunk < count ? start + chunk : count, newly = 0;
            hl_u64map trial = {0};
            for (size_t i = start; i < stop; i++)
                if (!hl_u64map_find(&dropped, ids[i], NULL)) hl_u64map_put(&trial, ids[i], NULL), newly++;
            if (newly) {
                size_t n = 0;
                for (size_t i = 0; i < st->n; i++) {
                    hl_op op = st->ops[i];
                    if (names_block((hl_op_kind)op.kind) && hl_u64map_find(&trial, op.id, NULL)) {
                        if (op.kind != HL_OP_PROMOTE) continue;
                        op.kind = HL_OP_SCOPE_EXIT; /* the same scopes close; the block was not needed */
                        op.id = op.size = 0;
                        op.expect_fail = HL_E_OK;
                    }
                    scratch[n++] = op;
                }
                if (try_ops(st, scratch, n))
                    for (size_t i = start; i < stop; i++) hl_u64map_put(&dropped, ids[i], NULL);
            }
            hl_u64map_free(&trial);
        }
        if (chunk == 1) break;
    }
    st->r->ids_before = count;
    st->r->ids_dropped = dropped.count;
    hl_u64map_free(&dropped);
    hl_mem_free(scratch);
    hl_mem_free(ids);
}

/* ddmin over the operations: remove one of `parts` chunks at a time; on success go on
 * with fewer parts, else with twice as many, until a part is one operation. */
static void shrink_operations(state *st)
{
    size_t parts = 2;
    hl_op *scratch = hl_mem_alloc((st->n ? st->n : 1) * sizeof *scratch);
    while (st->n >= 2 && !out_of_budget(st)) {
        size_t chunk = (st->n + parts - 1) / parts;
        bool reduced = false;
        for (size_t start = 0; start < st->n && !reduced; start += chunk) {
            size_t end = start + chunk < st->n ? start + chunk : st->n;
            memcpy(scratch, st->ops, start * sizeof *scratch);
            memcpy(scratch + start, st->ops + end, (st->n - end) * sizeof *scratch);
            reduced = try_ops(st, scratch, st->n - (end - start));
        }
        if (reduced) parts = parts > 2 ? parts - 1 : 2;
        else if (parts >= st->n) break;
        else parts = parts * 2 < st->n ? parts * 2 : st->n;
    }
    hl_mem_free(scratch);
}

/* Tries smaller values for one field of operation i: 0 (or 1 for an alignment), then
 * halves. Returns true when the field changed. */
static bool shrink_field(state *st, size_t i, size_t offset, uint64_t floor)
{
    bool changed = false;
    for (int round = 0; round < 64 && i < st->n; round++) {
        uint64_t value;
        memcpy(&value, (const char *)&st->ops[i] + offset, sizeof value);
        if (value <= floor) break;
        uint64_t candidates[2] = {floor, floor + (value - floor) / 2}, tried = value;
        bool better = false;
        for (int c = 0; c < 2 && !better; c++) {
            if (candidates[c] >= value || candidates[c] == tried) continue;
            tried = candidates[c];
            hl_op *copy = hl_mem_alloc(st->n * sizeof *copy);
            memcpy(copy, st->ops, st->n * sizeof *copy);
            memcpy((char *)&copy[i] + offset, &candidates[c], sizeof candidates[c]);
            better = try_ops(st, copy, st->n);
            hl_mem_free(copy);
        }
        if (!better) break;
        changed = true;
    }
    return changed;
}

static void shrink_sizes(state *st)
{
    for (int pass = 0; pass < 3; pass++) {
        bool changed = false;
        for (size_t i = 0; i < st->n; i++) {
            hl_op_kind kind = (hl_op_kind)st->ops[i].kind;
            if (kind == HL_OP_ALLOC || kind == HL_OP_REALLOC || kind == HL_OP_PROMOTE || kind == HL_OP_TOUCH)
                changed |= shrink_field(st, i, offsetof(hl_op, size), 0);
            if (i < st->n && (kind == HL_OP_TOUCH || kind == HL_OP_AFTER_FREE || kind == HL_OP_OVERFLOW ||
                              kind == HL_OP_UNDERFLOW))
                changed |= shrink_field(st, i, offsetof(hl_op, offset), 0);
            if (i < st->n && kind == HL_OP_ALLOC) changed |= shrink_field(st, i, offsetof(hl_op, align), 1);
        }
        if (!changed) break;
    }
}

int hl_shrink(const hl_spec *specs, size_t count, const hl_trace *trace, const hl_shrink_options *o,
              hl_trace *out, hl_shrink_result *r)
{
    memset(r, 0, sizeof *r);
    r->before = trace->count;
    state st = {specs, count, o, trace->path, HL_RULE_COUNT, "", NULL, 0, r, hl_clock_now_ns(), hl_clock_now_ns()};
    int rc = hl_diff_isolated(specs, count, trace, o->check_every, o->timeout, &r->finding);
    r->runs = 1;
    if (rc == 2) return 2;
    if (rc != 1) return 1;
    if (o->want_rule && r->finding.finding.rule != o->rule) return 1;
    st.rule = r->finding.finding.rule;
    snprintf(st.backend, sizeof st.backend, "%s", r->finding.backend);
    st.n = r->finding.finding.index + 1 < trace->count ? (size_t)r->finding.finding.index + 1 : trace->count;
    st.ops = hl_mem_alloc((st.n ? st.n : 1) * sizeof *st.ops);
    memcpy(st.ops, trace->ops, st.n * sizeof *st.ops);
    shrink_block_ids(&st);
    shrink_operations(&st);
    if (!o->keep_values) {
        shrink_sizes(&st);
        shrink_operations(&st); /* smaller sizes can make more operations unnecessary */
    }
    memset(out, 0, sizeof *out);
    out->path = hl_mem_strdup(trace->path);
    out->form = HL_TRACE_TEXT;
    out->ops = st.ops;
    out->count = out->capacity = st.n;
    r->after = st.n;
    r->seconds = (double)(hl_clock_now_ns() - st.started) * 1e-9;
    return 0;
}
