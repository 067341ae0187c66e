/* test_threads.c: threaded replay (threads.c) on the libc backend, the one built-in
 * backend that declares thread safety. An observer logs the order in which the
 * operations completed; the tests check each trace thread's order, each id's order
 * (a cross-thread free after its alloc, a reused id after its free), that operations
 * that must run alone did, that backend calls really overlapped, and that a finding
 * stops every thread. */
#include "hl_check.h"
#include "backends.h"
#include "unit.h"
#include "unit_op.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define MAX_OPS 20000

typedef struct order_log {
    uint64_t index[MAX_OPS];
    size_t count;
} order_log;

static int log_after(void *context, hl_exec *exec, const hl_result *result)
{
    (void)exec;
    order_log *log = context;
    if (log->count < MAX_OPS) log->index[log->count++] = result->index; /* under the runner's lock */
    return 0;
}

static hl_op op_of(hl_op_kind kind, uint64_t id, uint64_t size, uint32_t thread)
{
    hl_op op = unit_op(kind, id, size);
    op.has_thread = 1;
    op.thread = thread;
    return op;
}

/* Four threads. Each allocates a run of blocks; the next thread frees every other one
 * right after (a cross-thread free the trace puts just after its alloc), reallocs
 * cross threads too, ids are reused, and a free_all in the middle runs alone. */
static size_t build(hl_trace *trace)
{
    memset(trace, 0, sizeof *trace);
    trace->path = hl_mem_strdup("generated");
    uint64_t next = 1;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 600; i++) {
            uint32_t t = (uint32_t)(i % 4) + 1, other = t % 4 + 1;
            uint64_t id = next++;
            hl_op a = op_of(HL_OP_ALLOC, id, 16 + (uint64_t)(i * 13 % 500), t);
            hl_trace_push(trace, &a);
            if (i % 3 == 0) {
                hl_op r = op_of(HL_OP_REALLOC, id, 700 + (uint64_t)i, other);
                hl_trace_push(trace, &r);
            }
            hl_op u = op_of(HL_OP_USABLE, id, 0, t);
            hl_trace_push(trace, &u);
            if (i % 2 == 0) {
                hl_op f = op_of(HL_OP_FREE, id, 0, other);
                hl_trace_push(trace, &f);
                if (i % 4 == 0) { /* the id again, on a third thread */
                    hl_op again = op_of(HL_OP_ALLOC, id, 24, other % 4 + 1);
                    hl_trace_push(trace, &again);
                }
            }
        }
        if (round == 0) {
            hl_op all = op_of(HL_OP_FREE_ALL, 0, 0, 1);
            hl_trace_push(trace, &all);
        }
    }
    return trace->count;
}

static int run(const hl_backend *backend, const hl_trace *trace, order_log *log, hl_shadow **shadow_out,
               uint64_t *stopped_at)
{
    hl_config config;
    memset(&config, 0, sizeof config);
    hl_heap *heap = NULL;
    if (backend->create(&config, &heap) != HL_E_OK) return -2;
    hl_exec *exec = hl_exec_new(backend, heap, NULL);
    hl_exec_expect(exec, trace->ops, trace->count);
    hl_shadow *shadow = hl_shadow_new(0);
    hl_observer observer = hl_shadow_observer(shadow);
    hl_exec_observe(exec, &observer);
    hl_observer logger = {"log", log, NULL, log_after, NULL, NULL, NULL};
    hl_exec_observe(exec, &logger);
    hl_diag diag;
    int rc = hl_threads_run(exec, trace->ops, trace->count, 4, NULL, stopped_at, &diag);
    if (rc == 0 && hl_exec_finish(exec)) rc = 1;
    *shadow_out = shadow;
    hl_exec_free(exec);
    backend->destroy(heap);
    return rc;
}

TEST(counts_threads)
{
    hl_op ops[4] = {op_of(HL_OP_ALLOC, 1, 8, 7), op_of(HL_OP_ALLOC, 2, 8, 9), op_of(HL_OP_FREE, 1, 0, 7),
                    op_of(HL_OP_FREE_ALL, 0, 0, 3)};
    CHECK_EQ(hl_threads_count(ops, 4), 2); /* free_all runs alone: not a thread's */
    ops[2].has_thread = 0;
    CHECK_EQ(hl_threads_count(ops, 4), 3); /* no t= is a thread of its own */
    CHECK(hl_threads_op_concurrent(HL_OP_TOUCH));
    CHECK(!hl_threads_op_concurrent(HL_OP_PROMOTE));
}

static order_log log_buffer;

TEST(keeps_thread_and_id_order)
{
    hl_trace trace;
    size_t count = build(&trace);
    CHECK(count < MAX_OPS);
    for (int attempt = 0; attempt < 3; attempt++) {
        log_buffer.count = 0;
        hl_shadow *shadow = NULL;
        uint64_t stopped = 0;
        int rc = run(hl_backend_libc(), &trace, &log_buffer, &shadow, &stopped);
        CHECK_EQ(rc, 0);
        if (hl_shadow_finding(shadow)) fprintf(stderr, "finding: %s\n", hl_shadow_finding(shadow)->message);
        CHECK(!hl_shadow_finding(shadow));
        hl_shadow_free(shadow);
        CHECK_EQ(log_buffer.count, count);
        /* position of each operation in the completion order */
        static size_t at[MAX_OPS];
        for (size_t i = 0; i < count; i++) at[i] = SIZE_MAX;
        for (size_t k = 0; k < log_buffer.count; k++) at[log_buffer.index[k]] = k;
        size_t out_of_order = 0;
        for (size_t i = 0; i < count; i++) {
            CHECK(at[i] != SIZE_MAX);
            for (size_t j = i + 1; j < count && j < i + 64; j++) {
                const hl_op *a = &trace.ops[i], *b = &trace.ops[j];
                bool same_thread = a->thread == b->thread && hl_threads_op_concurrent((hl_op_kind)a->kind) &&
                                   hl_threads_op_concurrent((hl_op_kind)b->kind);
                bool same_id = a->kind != HL_OP_FREE_ALL && b->kind != HL_OP_FREE_ALL && a->id == b->id;
                bool alone = a->kind == HL_OP_FREE_ALL || b->kind == HL_OP_FREE_ALL;
                if ((same_thread || same_id || alone) && at[i] > at[j]) out_of_order++;
            }
        }
        CHECK_EQ(out_of_order, 0);
        /* the free_all: everything before it completed before it, nothing after it */
        for (size_t i = 0; i < count; i++)
            if (trace.ops[i].kind == HL_OP_FREE_ALL)
                for (size_t k = 0; k < count; k++) CHECK(k < i ? at[k] < at[i] : k == i || at[k] > at[i]);
    }
    hl_trace_free(&trace);
}

/* libc with an alloc that waits (up to 5 s) until two allocs are inside at once: if
 * the runner held its lock across backend calls, they never would be. */
static atomic_int inside, most_inside;
static hl_backend meeting;

static hl_addr meeting_alloc(hl_heap *heap, hl_layout layout, hl_caps caps, hl_error *error)
{
    int now = atomic_fetch_add(&inside, 1) + 1;
    int seen = atomic_load(&most_inside);
    while (now > seen && !atomic_compare_exchange_weak(&most_inside, &seen, now)) {}
    for (int i = 0; i < 5000 && atomic_load(&most_inside) < 2; i++) {
        struct timespec pause = {0, 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    hl_addr block = hl_backend_libc()->alloc(heap, layout, caps, error);
    atomic_fetch_sub(&inside, 1);
    return block;
}

TEST(backend_calls_overlap)
{
    meeting = *hl_backend_libc();
    meeting.alloc = meeting_alloc;
    hl_trace trace;
    memset(&trace, 0, sizeof trace);
    trace.path = hl_mem_strdup("meeting");
    for (uint64_t id = 1; id <= 8; id++) {
        hl_op a = op_of(HL_OP_ALLOC, id, 32, (uint32_t)(id % 2));
        hl_trace_push(&trace, &a);
    }
    log_buffer.count = 0;
    hl_shadow *shadow = NULL;
    uint64_t stopped = 0;
    CHECK_EQ(run(&meeting, &trace, &log_buffer, &shadow, &stopped), 0);
    CHECK(!hl_shadow_finding(shadow));
    CHECK(atomic_load(&most_inside) >= 2);
    hl_shadow_free(shadow);
    hl_trace_free(&trace);
}

/* libc whose 300th alloc reports a usable size below the size: the shadow's finding
 * must stop every thread and name that operation. */
static hl_backend liar;
static uint64_t lie_at;

static size_t liar_usable(hl_heap *heap, hl_addr block, hl_layout layout)
{
    (void)heap, (void)block;
    return layout.size == 4321 ? 1 : layout.size;
}

TEST(finding_stops_every_thread)
{
    liar = *hl_backend_libc();
    liar.usable_size = liar_usable;
    hl_trace trace;
    size_t count = build(&trace);
    for (size_t i = 0, n = 0; i < count; i++)
        if (trace.ops[i].kind == HL_OP_ALLOC && ++n == 300) {
            trace.ops[i].size = 4321;
            lie_at = i;
        }
    log_buffer.count = 0;
    hl_shadow *shadow = NULL;
    uint64_t stopped = 0;
    CHECK_EQ(run(&liar, &trace, &log_buffer, &shadow, &stopped), 1);
    CHECK(hl_shadow_finding(shadow) != NULL);
    if (hl_shadow_finding(shadow)) {
        CHECK_EQ(hl_shadow_finding(shadow)->rule, HL_RULE_USABLE_SIZE);
        CHECK_EQ(hl_shadow_finding(shadow)->index, lie_at);
    }
    CHECK_EQ(stopped, lie_at);
    CHECK(log_buffer.count < count);
    hl_shadow_free(shadow);
    hl_trace_free(&trace);
}

int main(void)
{
    RUN(counts_threads);
    RUN(keeps_thread_and_id_order);
    RUN(backend_calls_overlap);
    RUN(finding_stops_every_thread);
    return unit_summary();
}
