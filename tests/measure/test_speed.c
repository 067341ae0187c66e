/* test_speed.c: the measure path (plan.c, speed.c): what a trace compiles to (slots,
 * layouts, what is not run, the leftovers), and what the timed loop does with a
 * backend: the calls it makes (counted by a recording backend over libc), the first
 * byte it writes, what it skips after a failure, the hints the instance gets. */
#include "hl_check.h"
#include "backends.h"
#include "unit.h"

#include <dlfcn.h>
#include <stdlib.h>

static hl_trace parse(const char *text)
{
    hl_trace t;
    hl_diag d, w;
    if (hl_trace_read_memory("test.trace", text, strlen(text), &t, &d, &w) != 0) {
        fprintf(stderr, "parse: %s\n", d.message);
        memset(&t, 0, sizeof t);
    }
    return t;
}

TEST(plan_gives_dense_slots_and_layouts)
{
    hl_trace t = parse("heaplab-trace 1\n"
                       "alloc 70 16\n"
                       "alloc 9 100 align=64\n"
                       "realloc 70 40\n"
                       "free 9\n"
                       "free 70\n"
                       "alloc 9 8\n"
                       "end\n");
    hl_plan p;
    hl_plan_build(&t, &p);
    CHECK_EQ(p.count, 6);
    CHECK_EQ(p.block_slots, 2);
    CHECK_EQ(p.steps[0].kind, HL_STEP_ALLOC);
    CHECK_EQ(p.steps[0].slot, 0);
    CHECK_EQ(p.steps[1].slot, 1);
    CHECK_EQ(p.steps[1].align_log2, 6);
    CHECK_EQ(p.steps[2].kind, HL_STEP_REALLOC);
    CHECK_EQ(p.steps[2].size, 40);
    CHECK_EQ(p.steps[2].aux, 16); /* the old size */
    CHECK_EQ(p.steps[3].kind, HL_STEP_FREE);
    CHECK_EQ(p.steps[3].size, 100); /* free carries the block's layout */
    CHECK_EQ(p.steps[3].align_log2, 6);
    CHECK_EQ(p.steps[4].size, 40); /* after the realloc */
    CHECK_EQ(p.steps[5].slot, 1);  /* an id keeps its slot */
    CHECK_EQ(p.steps[5].align_log2, 0);
    CHECK_EQ(sizeof(hl_step), 16);
    CHECK_EQ(p.wide_count, 0);
    CHECK_EQ(p.leftover_count, 1); /* id 9 */
    CHECK_EQ(p.leftovers[0].slot, 1);
    CHECK_EQ(p.leftovers[0].size, 8);
    CHECK(!p.scoped);
    CHECK_EQ(p.not_run, 0);
    hl_plan_free(&p);
    hl_trace_free(&t);
}

TEST(plan_leaves_out_failures_and_misuse)
{
    hl_trace t = parse("heaplab-trace 1\n"
                       "alloc 1 16\n"
                       "alloc 2 1G fail=OUT_OF_MEMORY\n"
                       "realloc 1 2G fail=OUT_OF_MEMORY\n"
                       "double_free 3\n"
                       "free 1\n"
                       "end\n");
    hl_plan p;
    hl_plan_build(&t, &p);
    CHECK_EQ(p.count, 2);
    CHECK_EQ(p.not_run, 3);
    CHECK_EQ(p.steps[1].kind, HL_STEP_FREE);
    CHECK_EQ(p.steps[1].size, 16); /* the failed realloc changed nothing */
    hl_plan_free(&p);
    hl_trace_free(&t);
}

TEST(plan_keeps_values_past_32_bits_in_wide_steps)
{
    /* 16-byte steps hold sizes below 2^32 - 1 in place; larger ones, and a realloc
     * whose old size is larger, go to wides and read back exactly */
    hl_trace t = parse("heaplab-trace 1\n"
                       "alloc 1 16\n"
                       "alloc 2 8G\n"
                       "realloc 2 24\n"
                       "alloc 3 4294967295\n"
                       "free 1\n"
                       "end\n");
    hl_plan p;
    hl_plan_build(&t, &p);
    CHECK_EQ(p.count, 5);
    CHECK_EQ(p.steps[0].size, 16);
    CHECK_EQ(p.steps[1].size, HL_STEP_WIDE);
    CHECK_EQ(hl_step_size(&p, &p.steps[1]), 8ull << 30);
    CHECK_EQ(p.steps[2].size, HL_STEP_WIDE); /* the old size does not fit */
    CHECK_EQ(hl_step_size(&p, &p.steps[2]), 24);
    CHECK_EQ(hl_step_aux(&p, &p.steps[2]), 8ull << 30);
    CHECK_EQ(hl_step_size(&p, &p.steps[3]), 4294967295ull);
    CHECK_EQ(hl_step_size(&p, &p.steps[4]), 16);
    CHECK_EQ(p.wide_count, 4); /* the three steps and the leftover free of id 3 */
    CHECK_EQ(p.leftover_count, 2); /* ids 2 and 3: the wide one stays wide */
    CHECK_EQ(hl_step_size(&p, &p.leftovers[0]), 24);
    CHECK_EQ(hl_step_size(&p, &p.leftovers[1]), 4294967295ull);
    hl_plan_free(&p);
    hl_trace_free(&t);
}

TEST(plan_with_scopes_is_scoped)
{
    hl_trace t = parse("heaplab-trace 1\n"
                       "scope_enter 1\n"
                       "alloc 1 16\n"
                       "alloc 2 32\n"
                       "promote 1 2 8\n"
                       "scope_exit 1\n"
                       "free 2\n"
                       "end\n");
    hl_plan p;
    hl_plan_build(&t, &p);
    CHECK(p.scoped);
    CHECK_EQ(p.scope_slots, 1);
    CHECK_EQ(p.steps[3].kind, HL_STEP_PROMOTE);
    CHECK_EQ(p.extras[p.steps[3].aux].old_size, 32);
    CHECK_EQ(p.steps[5].size, 8); /* promoted: the block is n bytes now */
    hl_plan_free(&p);
    hl_trace_free(&t);
}

/* ---------------------------------------------------------------- the loop */

static hl_backend recording;
static uint64_t calls[3], direct_calls[3], first_bytes_ok, first_bytes_seen;
static bool offer_direct; /* recording's describe offers recording_direct (else none) */
static uint32_t hints_seen;
static bool fail_next_alloc_of_size_77;

static hl_error recording_create(const hl_config *config, hl_heap **out)
{
    hints_seen = config->hints;
    return hl_backend_libc()->create(config, out);
}
static hl_addr recording_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    calls[0]++;
    if (fail_next_alloc_of_size_77 && layout.size == 77) return *error = HL_E_OUT_OF_MEMORY, 0;
    return hl_backend_libc()->alloc(h, layout, caps, error);
}
static hl_error recording_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    calls[1]++;
    if (layout.size) first_bytes_seen++, first_bytes_ok += *(unsigned char *)block == 1;
    return hl_backend_libc()->free(h, block, layout);
}
static hl_addr recording_realloc(hl_heap *h, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    calls[2]++;
    return hl_backend_libc()->realloc(h, block, old, size, error);
}

/* its own entry points: glibc's (libc's table calls glibc's own, not the process's
 * malloc, which is ASan's in this build), counted; sizes up to 1 MiB, C's promise by
 * size up to 16 */
static void *glibc_entry(const char *name)
{
    void *found = dlsym(dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD), name);
    CHECK(found != NULL);
    return found;
}
static void *direct_malloc(size_t size)
{
    void *(*f)(size_t) = (void *(*)(size_t))glibc_entry("__libc_malloc");
    return direct_calls[0]++, f(size);
}
static void direct_free(void *block)
{
    void (*f)(void *) = (void (*)(void *))glibc_entry("__libc_free");
    direct_calls[1]++, f(block);
}
static void *direct_realloc(void *block, size_t size)
{
    void *(*f)(void *, size_t) = (void *(*)(void *, size_t))glibc_entry("__libc_realloc");
    return direct_calls[2]++, f(block, size);
}
static const hl_direct recording_direct = {direct_malloc, direct_free, direct_realloc, 1 << 20, 4, true};

static void recording_describe(const hl_heap *h, hl_info *info)
{
    hl_backend_libc()->describe(h, info);
    info->direct = offer_direct ? &recording_direct : NULL;
}

static hl_spec recording_spec(void)
{
    recording = *hl_backend_libc();
    recording.create = recording_create;
    recording.describe = recording_describe;
    offer_direct = false;
    memset(direct_calls, 0, sizeof direct_calls);
    recording.alloc = recording_alloc;
    recording.free = recording_free;
    recording.realloc = recording_realloc;
    memset(calls, 0, sizeof calls);
    first_bytes_ok = first_bytes_seen = 0;
    return (hl_spec){.text = "recording", .label = "recording", .backend = &recording};
}

/* Runs the measure loop over TEXT's trace on the recording backend (offering its own
 * entry points when DIRECT) with options O: the counts are in calls and direct_calls. */
static hl_speed measure_recording(const char *text, bool direct, hl_speed_options o)
{
    hl_trace t = parse(text);
    hl_plan p;
    hl_plan_build(&t, &p);
    hl_spec spec = recording_spec();
    offer_direct = direct;
    hl_speed s;
    CHECK_EQ(hl_speed_run(&spec, &p, &o, &s), 0);
    hl_plan_free(&p);
    hl_trace_free(&t);
    return s;
}

TEST(loop_makes_the_trace_calls_and_writes_first_bytes)
{
    hl_speed s = measure_recording("heaplab-trace 1\n"
                                   "alloc 1 16\nalloc 2 24\nrealloc 1 48\nfree 2\nalloc 3 0\nfree 3\n"
                                   "end\n",
                                   false, (hl_speed_options){false, 10, false});
    CHECK(s.ran);
    CHECK(!s.measured); /* 6 steps: far too few to be a measure */
    CHECK_EQ(hl_speed_ns_per_op(&s), 0);
    CHECK(hl_build_sanitized() ? s.warm_passes == 1 : s.warm_passes >= 3);
    /* per pass: 3 allocs, 1 realloc, 2 frees in the stream and 1 leftover (id 1) */
    uint64_t passes = 1 + s.warm_passes;
    CHECK_EQ(calls[0], 3 * passes);
    CHECK_EQ(calls[2], 1 * passes);
    CHECK_EQ(calls[1], 3 * passes);
    CHECK_EQ(first_bytes_ok, first_bytes_seen); /* every block of size > 0 had its first byte written */
    CHECK_EQ(first_bytes_seen, 2 * passes);
    CHECK_EQ(s.calls, 6);
    CHECK_EQ(hints_seen, HL_HINT_ONE_THREAD | HL_HINT_NO_STATS | HL_HINT_CALLER_FREES);
}

TEST(loop_skips_the_steps_of_a_failed_alloc)
{
    fail_next_alloc_of_size_77 = true;
    /* isolated: the counts come back through the result */
    hl_speed s = measure_recording("heaplab-trace 1\n"
                                   "alloc 1 77\nrealloc 1 100\nfree 1\nalloc 2 8\nfree 2\n"
                                   "end\n",
                                   false, (hl_speed_options){true, 10, false});
    fail_next_alloc_of_size_77 = false;
    CHECK(s.ran);
    CHECK_EQ(s.failed, 1);
    CHECK_EQ(s.skipped, 2);
    CHECK_EQ(s.calls, 3);
}

TEST(scoped_plan_keeps_the_tracker)
{
    hl_speed s = measure_recording("heaplab-trace 1\n"
                                   "scope_enter 1\nalloc 1 16\nscope_exit 1\nalloc 2 8\nfree_all\n"
                                   "end\n",
                                   false, (hl_speed_options){false, 10, false});
    CHECK(s.ran);
    CHECK_EQ(s.failed, 0); /* the adapter served the scopes: it was not told CALLER_FREES */
    CHECK_EQ(hints_seen, HL_HINT_ONE_THREAD | HL_HINT_NO_STATS);
}

/* A backend that offers its own entry points gets them called for every step they
 * serve as the table would (no caps, size 1 .. max_size, alignment within the
 * promise) and every free; the table for the rest; table_only: the table for all. */
TEST(loop_calls_direct_entry_points_where_they_fit)
{
    static const char trace[] = "heaplab-trace 1\n"
                                "alloc 1 16\n"               /* direct */
                                "alloc 2 4 align=8\n"        /* table: malloc(4) promises 4 */
                                "alloc 3 0\n"                /* table: size 0 */
                                "alloc 4 100 align=64\n"     /* table: beyond 16 */
                                "alloc 5 2M\n"               /* table: beyond max_size */
                                "realloc 1 48\n"             /* direct */
                                "realloc 4 200\n"            /* table: its alignment 64 */
                                "alloc 6 8 align=8\n"        /* direct: 8 <= 8 */
                                "free 1\nfree 2\nfree 3\nfree 4\nfree 5\nfree 6\n"
                                "end\n";
    hl_speed s = measure_recording(trace, true, (hl_speed_options){false, 10, false});
    CHECK(s.ran);
    CHECK(s.direct);
    CHECK_EQ(s.failed, 0);
    uint64_t passes = 1 + s.warm_passes;
    CHECK_EQ(direct_calls[0], 2 * passes);
    CHECK_EQ(calls[0], 4 * passes);
    CHECK_EQ(direct_calls[2], 1 * passes);
    CHECK_EQ(calls[2], 1 * passes);
    CHECK_EQ(direct_calls[1], 6 * passes); /* every free */
    CHECK_EQ(calls[1], 0);
    /* table_only: not one direct call */
    s = measure_recording(trace, true, (hl_speed_options){false, 10, .table_only = true});
    CHECK(!s.direct);
    CHECK_EQ(direct_calls[0] + direct_calls[1] + direct_calls[2], 0);
    CHECK_EQ(calls[0], 6 * (1 + s.warm_passes));
}

TEST(null_backend_does_nothing_and_runs)
{
    /* a touch far longer than its buffer: no view, nothing written (ASan watches) */
    hl_trace t = parse("heaplab-trace 1\nalloc 1 16 align=4096\nalloc 2 200000\ntouch 2 0 200000 w\nfree 1\nfree 2\nend\n");
    hl_plan p;
    hl_plan_build(&t, &p);
    hl_speed s;
    hl_speed_options o = {false, 10, false};
    CHECK_EQ(hl_speed_run(hl_speed_null_spec(), &p, &o, &s), 0);
    CHECK(s.ran);
    CHECK(s.direct); /* its own entry points, where they fit */
    CHECK_EQ(s.failed, 0);
    o.table_only = true;
    CHECK_EQ(hl_speed_run(hl_speed_null_spec(), &p, &o, &s), 0);
    CHECK(s.ran && !s.direct);
    CHECK_EQ(s.failed, 0);
    hl_plan_free(&p);
    hl_trace_free(&t);
}

int main(void)
{
    RUN(plan_gives_dense_slots_and_layouts);
    RUN(plan_keeps_values_past_32_bits_in_wide_steps);
    RUN(plan_leaves_out_failures_and_misuse);
    RUN(plan_with_scopes_is_scoped);
    RUN(loop_makes_the_trace_calls_and_writes_first_bytes);
    RUN(loop_skips_the_steps_of_a_failed_alloc);
    RUN(scoped_plan_keeps_the_tracker);
    RUN(loop_calls_direct_entry_points_where_they_fit);
    RUN(null_backend_does_nothing_and_runs);
    return unit_summary();
}
