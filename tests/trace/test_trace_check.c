/* test_trace_check.c: the trace consistency rules (CONTRACT.md, "Operations in
 * traces"), on traces built in memory. */
#include "hl_check.h"
#include "unit.h"
#include "unit_op.h"

#include <string.h>

static hl_trace trace;

static void begin(void)
{
    hl_trace_free(&trace);
    memset(&trace, 0, sizeof trace);
    trace.path = hl_mem_strdup("t.trace");
    trace.form = HL_TRACE_TEXT;
}

static void add(hl_op_kind kind, uint64_t id, uint64_t size, uint32_t scope)
{
    hl_op op = unit_op(kind, id, size);
    op.scope = scope;
    op.line = trace.count + 2;
    hl_trace_push(&trace, &op);
}

static const char *problem(void)
{
    static hl_diag diag;
    diag.message[0] = '\0';
    return hl_trace_check(&trace, &diag) == 0 ? NULL : diag.message;
}

TEST(consistent_traces_pass)
{
    begin();
    add(HL_OP_ALLOC, 1, 16, 0);
    add(HL_OP_SCOPE_ENTER, 0, 0, 4);
    add(HL_OP_ALLOC, 2, 32, 0);
    add(HL_OP_SCOPE_ENTER, 0, 0, 5);
    add(HL_OP_ALLOC, 3, 8, 0);
    add(HL_OP_PROMOTE, 3, 4, 5);  /* 3 survives in scope 4 */
    add(HL_OP_TOUCH, 3, 4, 0);    /* offset 0, len 4 (size field) */
    add(HL_OP_SCOPE_EXIT, 0, 0, 4);
    add(HL_OP_DOUBLE_FREE, 3, 0, 0); /* freed by the exit */
    add(HL_OP_ALLOC, 2, 64, 0);   /* a freed id may be used again */
    add(HL_OP_FREE_ALL, 0, 0, 0);
    add(HL_OP_ALLOC, 1, 16, 0);
    CHECK(problem() == NULL);
}

TEST(each_inconsistency_is_named)
{
    begin();
    add(HL_OP_FREE, 7, 0, 0);
    CHECK_STR(problem(), "t.trace:2: free: block id 7 was never allocated");
    begin();
    add(HL_OP_ALLOC, 1, 16, 0);
    add(HL_OP_ALLOC, 1, 16, 0);
    CHECK_STR(problem(), "t.trace:3: alloc: block id 1 is already live");
    begin();
    add(HL_OP_SCOPE_ENTER, 0, 0, 1);
    add(HL_OP_ALLOC, 1, 16, 0);
    add(HL_OP_SCOPE_EXIT, 0, 0, 1);
    add(HL_OP_USABLE, 1, 0, 0);
    CHECK_STR(problem(), "t.trace:5: usable: block id 1 is not live");
    begin();
    add(HL_OP_SCOPE_EXIT, 0, 0, 3);
    CHECK_STR(problem(), "t.trace:2: scope_exit: scope 3 is not open");
    begin();
    add(HL_OP_SCOPE_ENTER, 0, 0, 3);
    add(HL_OP_SCOPE_ENTER, 0, 0, 3);
    CHECK_STR(problem(), "t.trace:3: scope_enter: scope 3 is already open");
    begin();
    add(HL_OP_ALLOC, 1, 16, 0);
    add(HL_OP_SCOPE_ENTER, 0, 0, 2);
    add(HL_OP_PROMOTE, 1, 8, 2);
    CHECK_STR(problem(), "t.trace:4: promote: block id 1 is not in scope 2 or a scope inside it");
    begin();
    add(HL_OP_SCOPE_ENTER, 0, 0, 2);
    add(HL_OP_ALLOC, 1, 16, 0);
    add(HL_OP_PROMOTE, 1, 17, 2);
    CHECK_STR(problem(), "t.trace:4: promote: n 17 exceeds block id 1's size 16");
    begin();
    add(HL_OP_ALLOC, 1, 16, 0);
    add(HL_OP_DOUBLE_FREE, 1, 0, 0);
    CHECK_STR(problem(), "t.trace:3: double_free: block id 1 is live (a double free needs a freed block)");
    begin();
    add(HL_OP_ALLOC, 1, 16, 0);
    add(HL_OP_FREE_INVALID, 1, 0, 0);
    CHECK_STR(problem(), "t.trace:3: free_invalid: offset 0 is the block itself, not an invalid pointer");
    begin();
    add(HL_OP_ALLOC, 1, 16, 0);
    add(HL_OP_FREE_LAYOUT, 1, 16, 0);
    trace.ops[1].align = 1;
    CHECK_STR(problem(), "t.trace:3: free_layout: layout (16, 1) is block id 1's own layout");
    begin(); /* an alignment that is not a power of two is remembered exactly */
    add(HL_OP_ALLOC, 1, 16, 0);
    trace.ops[0].align = 24;
    add(HL_OP_FREE_LAYOUT, 1, 16, 0);
    trace.ops[1].align = 24;
    CHECK_STR(problem(), "t.trace:3: free_layout: layout (16, 24) is block id 1's own layout");
    begin();
    add(HL_OP_ALLOC, 1 << 30, 16, 0); /* a hashed id: the same view */
    trace.ops[0].align = 24;
    add(HL_OP_FREE_LAYOUT, 1 << 30, 16, 0);
    trace.ops[1].align = 8;
    CHECK(problem() == NULL);
    begin();
    add(HL_OP_ALLOC, 1, 16, 0);
    add(HL_OP_FREE, 1, 0, 0);
    add(HL_OP_AFTER_FREE, 1, 0, 0);
    trace.ops[2].offset = 16;
    CHECK_STR(problem(), "t.trace:4: after_free: offset 16 is outside the freed block's 16 bytes");
    begin();
    add(HL_OP_ALLOC, 1, 16, 0);
    add(HL_OP_FREE, 1, 0, 0);
    trace.ops[1].expect_fail = HL_E_OUT_OF_MEMORY;
    CHECK_STR(problem(), "t.trace:3: free: fail= is only allowed on alloc, realloc, scope_enter and promote");
}

TEST(recorded_failures_change_nothing)
{
    begin();
    add(HL_OP_ALLOC, 1, 16, 0);
    trace.ops[0].expect_fail = HL_E_OUT_OF_MEMORY;
    add(HL_OP_FREE, 1, 0, 0); /* the alloc failed: id 1 is not live */
    CHECK_STR(problem(), "t.trace:3: free: block id 1 is not live");
    begin();
    add(HL_OP_ALLOC, 1, 16, 0);
    add(HL_OP_REALLOC, 1, 64, 0);
    trace.ops[1].expect_fail = HL_E_OUT_OF_MEMORY;
    add(HL_OP_TOUCH, 1, 32, 0); /* size is still 16 */
    CHECK(problem() != NULL);
}

TEST(binary_positions_are_byte_offsets)
{
    begin();
    trace.form = HL_TRACE_BINARY;
    add(HL_OP_FREE, 7, 0, 0);
    trace.ops[0].line = 123;
    CHECK_STR(problem(), "t.trace: byte 123: free: block id 7 was never allocated");
}

/* ---- hl_trace_repair: drops, in one pass, exactly what a removal left inconsistent */

static void read_text(const char *text, hl_trace *out)
{
    hl_diag diag;
    CHECK(hl_trace_read_memory("t", text, strlen(text), out, &diag, NULL) == 0);
}

TEST(a_consistent_trace_is_left_alone)
{
    hl_trace t;
    read_text("heaplab-trace 1\nalloc 1 64\ntouch 1 0 64 w\nscope_enter 1\nalloc 2 8\nscope_exit 1\nfree 1\nend\n", &t);
    CHECK(hl_trace_repair(&t) == 0 && t.count == 6);
    hl_trace_free(&t);
}

TEST(what_a_removed_alloc_and_scope_leave_behind_goes)
{
    hl_trace t;
    hl_diag diag;
    /* as a shrinker leaves it: `alloc 1 64` and `scope_enter 1` removed */
    read_text("heaplab-trace 1\ntouch 1 0 64 w\nalloc 2 8\nfree 1\nrealloc 2 4\ntouch 2 0 8 r\n"
              "promote 1 2 4\nscope_exit 1\nfree 2\ndouble_free 2\nafter_free 2 3\nafter_free 2 6\nend\n",
              &t);
    CHECK(hl_trace_check(&t, &diag) != 0);
    /* dropped: touch 1, free 1, touch 2 past its new size 4, promote and exit of a
     * scope never opened, after_free at 6 (past 4 bytes) */
    CHECK(hl_trace_repair(&t) == 6);
    CHECK(t.count == 5);
    CHECK(t.ops[0].kind == HL_OP_ALLOC && t.ops[1].kind == HL_OP_REALLOC && t.ops[2].kind == HL_OP_FREE);
    CHECK(t.ops[3].kind == HL_OP_DOUBLE_FREE && t.ops[4].kind == HL_OP_AFTER_FREE);
    CHECK(hl_trace_check(&t, &diag) == 0);
    hl_trace_free(&t);
}

/* The checker's own view of live ids over a long trace: thousands of ids reused at
 * one level (its list is compacted as entries go stale), an id freed and allocated
 * again inside a scope, a promote out of a nested scope, and free_all. */
TEST(its_own_view_holds_over_reuse_promote_and_free_all)
{
    begin();
    for (uint64_t round = 0; round < 50; round++)
        for (uint64_t id = 1; id <= 200; id++) {
            add(HL_OP_ALLOC, id, 8 + round, 0);
            if (id % 7) add(HL_OP_FREE, id, 0, 0);
        }
    CHECK(problem() != NULL); /* ids 7, 14, ... stay live: round 1 allocates a live id */
    begin();
    for (uint64_t round = 0; round < 50; round++) {
        for (uint64_t id = 1; id <= 200; id++) add(HL_OP_ALLOC, id, 8 + round, 0);
        for (uint64_t id = 1; id <= 200; id++)
            if (id % 7 || round < 49) add(HL_OP_FREE, id, 0, 0);
    }
    CHECK(problem() == NULL); /* 28 ids live at level 0 */
    add(HL_OP_SCOPE_ENTER, 0, 0, 1);
    add(HL_OP_ALLOC, 1000, 64, 0);
    add(HL_OP_FREE, 1000, 0, 0);
    add(HL_OP_ALLOC, 1000, 32, 0); /* again, at the same level */
    add(HL_OP_SCOPE_ENTER, 0, 0, 2);
    add(HL_OP_ALLOC, 2000, 16, 0);
    add(HL_OP_ALLOC, 2001, 16, 0);
    add(HL_OP_PROMOTE, 2000, 8, 2); /* to scope 1, which then ends scope 2 */
    add(HL_OP_FREE, 2000, 0, 0);
    CHECK(problem() == NULL);
    add(HL_OP_FREE, 2001, 0, 0); /* freed with scope 2 */
    CHECK(problem() != NULL && strstr(problem(), "block id 2001 is not live"));
    trace.count--;
    add(HL_OP_SCOPE_EXIT, 0, 0, 1);
    add(HL_OP_FREE, 1000, 0, 0); /* freed with scope 1 (once: the stale entry is not counted) */
    CHECK(problem() != NULL && strstr(problem(), "block id 1000 is not live"));
    trace.count--;
    add(HL_OP_FREE, 7, 0, 0); /* still live at level 0 */
    add(HL_OP_FREE_ALL, 0, 0, 0);
    add(HL_OP_FREE, 14, 0, 0);
    CHECK(problem() != NULL && strstr(problem(), "block id 14 is not live"));
    trace.count--;
    add(HL_OP_ALLOC, 14, 8, 0); /* free_all freed it: allocating it again is fine */
    add(HL_OP_AFTER_FREE, 7, 3, 0);
    CHECK(problem() == NULL);
}

int main(void)
{
    RUN(consistent_traces_pass);
    RUN(each_inconsistency_is_named);
    RUN(recorded_failures_change_nothing);
    RUN(binary_positions_are_byte_offsets);
    RUN(a_consistent_trace_is_left_alone);
    RUN(what_a_removed_alloc_and_scope_leave_behind_goes);
    RUN(its_own_view_holds_over_reuse_promote_and_free_all);
    hl_trace_free(&trace);
    return unit_summary();
}
