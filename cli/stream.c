/* stream.c: the first pass over a trace that replay streams (cli.h,
 * hl_cli_stream_trace). One read of the file checks it (the trace checker), counts
 * what a run sizes itself by and, for the measure path, compiles its plan; the
 * operations themselves are not kept: each run reads them from the file again
 * (check/replay.c). Memory: the checker's view, O(ids), never an operation record per
 * operation. A file that cannot be read twice (a pipe, a device) and a trace that will
 * run on real threads are read whole instead. The measure path's plan is compiled
 * from the file again when a timed run needs it and dropped before the next checking
 * run (hl_cli_plan), so the two never hold their memory at once. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct first_pass {
    hl_op_sink check;
    hl_u64map threads;     /* thread keys of the concurrent kinds */
    uint64_t ops, allocs, max_id;
    bool scoped;
} first_pass;

static int take(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    first_pass *p = context;
    if (p->ops >= hl_trace_max_ops()) {
        const char *where = trace->form == HL_TRACE_BINARY ? "byte" : "line";
        snprintf(diag->message, sizeof diag->message,
                 "%s: %s %llu: more than %llu operations, the most heaplab replays in one run (--max-ops N raises "
                 "it)", trace->path, where, (unsigned long long)op->line, (unsigned long long)hl_trace_max_ops());
        return -1;
    }
    if (p->check.take(p->check.context, trace, op, diag) != 0) return -1;
    p->ops++;
    if (op->kind == HL_OP_ALLOC) {
        p->allocs++;
        if (op->id > p->max_id) p->max_id = op->id;
    }
    p->scoped |= hl_op_scoped((hl_op_kind)op->kind);
    if (hl_threads_op_concurrent((hl_op_kind)op->kind))
        hl_u64map_put(&p->threads, op->has_thread ? op->thread : UINT64_MAX, NULL);
    return 0;
}

static bool regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int hl_cli_stream_trace(const char *path, bool threads, hl_trace *trace)
{
    if (!regular_file(path)) return hl_cli_read_trace(path, trace);
    hl_diag diag, warning;
    warning.message[0] = '\0';
    hl_trace_checker *checker = hl_trace_checker_new();
    first_pass p = {.check = hl_trace_checker_sink(checker)};
    hl_op_sink sink = {take, &p};
    int read = hl_trace_scan(path, trace, &sink, NULL, &diag, &warning);
    hl_trace_checker_free(checker);
    size_t thread_count = p.threads.count;
    hl_u64map_free(&p.threads);
    if (read != 0) return hl_cli_input_error(&diag);
    if (warning.message[0]) fprintf(stderr, "heaplab: %s\n", warning.message);
    if (threads && thread_count > 1) { /* real threads step a trace held whole */
        hl_trace_free(trace);
        return hl_trace_read(path, trace, &diag, NULL) == 0 ? 0 : hl_cli_input_error(&diag);
    }
    trace->streamed = true;
    trace->count = p.ops;
    trace->allocs = p.allocs;
    trace->max_id = p.max_id;
    trace->scoped = p.scoped;
    trace->threads = (uint32_t)thread_count;
    return 0;
}

typedef struct prefix {
    hl_trace *into;
    uint64_t count;
} prefix;

static int keep_prefix(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    (void)trace, (void)diag;
    prefix *p = context;
    hl_trace_push(p->into, op);
    return p->into->count == p->count ? HL_SINK_STOP : 0;
}

/* The first count operations of a streamed trace, read again, with its path, form
 * and metadata. */
static int trace_prefix(const hl_trace *trace, uint64_t count, hl_trace *out, hl_diag *diag)
{
    memset(out, 0, sizeof *out);
    out->path = hl_mem_strdup(trace->path);
    out->form = trace->form;
    for (size_t i = 0; i < trace->meta_count; i++) hl_trace_set_meta(out, trace->meta[i].key, trace->meta[i].value);
    prefix p = {out, count < trace->count ? count : trace->count};
    hl_op_sink sink = {keep_prefix, &p};
    if (p.count && hl_trace_rescan(trace, &sink, diag) != 0) return hl_trace_free(out), -1;
    return 0;
}

const hl_trace *hl_cli_finding_trace(const hl_trace *trace, const hl_finding *finding, hl_trace *held,
                                     hl_diag *diag)
{
    memset(held, 0, sizeof *held);
    if (!trace->streamed) return trace;
    return trace_prefix(trace, finding->index + 1, held, diag) == 0 ? held : NULL;
}

static int plan_take(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    (void)trace, (void)diag;
    hl_plan_take(context, op);
    return 0;
}

const hl_plan *hl_cli_plan_get(hl_cli_plan *p, const hl_null_cost **null_cost, hl_diag *diag)
{
    if (!p->built) {
        if (!p->trace->streamed) {
            hl_plan_build(p->trace, &p->plan);
        } else {
            hl_plan_builder *builder = hl_plan_begin(&p->plan);
            hl_op_sink sink = {plan_take, builder};
            int read = hl_trace_rescan(p->trace, &sink, diag);
            hl_plan_end(builder);
            if (read != 0) {
                hl_plan_free(&p->plan);
                return NULL;
            }
        }
        p->built = true;
    }
    if (!p->costed) { /* heaplab's own cost on this trace: once */
        p->null_cost = hl_speed_null_cost(&p->plan, p->isolate, p->timeout);
        p->costed = true;
    }
    *null_cost = &p->null_cost;
    return &p->plan;
}

void hl_cli_plan_drop(hl_cli_plan *p)
{
    if (p->built) hl_plan_free(&p->plan);
    p->built = false;
}

static int stop_at_first(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    (void)context, (void)trace, (void)op, (void)diag;
    return HL_SINK_STOP; /* the metadata comes before any operation */
}

bool hl_cli_finding_check_every(const hl_trace *trace, uint64_t *check_every)
{
    const char *text = hl_trace_meta(trace, "heaplab.check_every");
    return text && hl_check_every_parse(text, check_every);
}

int hl_cli_finding_backends(const char *command, char **paths, size_t path_count, char **backends, hl_rule *rule,
                            uint64_t *check_every)
{
    *backends = NULL;
    *rule = HL_RULE_COUNT;
    for (size_t t = 0; t < path_count; t++) {
        hl_trace head;
        hl_diag diag;
        hl_op_sink sink = {stop_at_first, NULL};
        if (hl_trace_scan(paths[t], &head, &sink, NULL, &diag, NULL) != 0) return hl_cli_input_error(&diag);
        const char *named = hl_trace_meta(&head, "heaplab.backend"), *rule_name = hl_trace_meta(&head, "heaplab.rule");
        hl_rule this_rule = rule_name ? hl_rule_from_name(rule_name) : HL_RULE_COUNT;
        int rc = 0;
        if (!named)
            rc = hl_cli_usage_error(command, "--backends LIST is required (%s names no backend: it is not a "
                                            "reproducer heaplab wrote)", paths[t]);
        else if (*backends && (strcmp(*backends, named) != 0 || this_rule != *rule))
            rc = hl_cli_usage_error(command, "--backends LIST is required (%s was written for %s, %s for %s)",
                                    paths[t], named, paths[0], *backends);
        else if (!*backends) {
            *backends = hl_mem_strdup(named);
            *rule = this_rule;
            if (check_every) hl_cli_finding_check_every(&head, check_every);
        }
        hl_trace_free(&head);
        if (rc) return rc;
    }
    return 0;
}
