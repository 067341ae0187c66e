/* test_inprocess.c: the in-process engines' memory of the inputs their kept instances
 * served (fuzz/inprocess.c). `rotter` (tests/backends/faulty.c) counts its calls over
 * its instance's life, free_all included, and its heap check fails from the 5000th:
 * state that outlives free_all. An input of 1,200 operations alone is clean; the fifth
 * such input on kept instances breaks. The finding is explained as needing the inputs
 * before it and written whole as a reproducer trace that shows it again on fresh
 * instances in a fresh process. */
#include "hl_fuzz.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TEST(a_finding_that_needs_the_inputs_before_it_is_written_whole)
{
    hl_trace input = {0};
    for (uint64_t id = 1; id <= 600; id++) {
        hl_op alloc = {.kind = HL_OP_ALLOC, .id = id, .size = 24, .align = 1};
        hl_op free_it = {.kind = HL_OP_FREE, .id = id, .size = 24, .align = 1};
        hl_trace_push(&input, &alloc);
        hl_trace_push(&input, &free_it);
    }
    size_t len;
    uint8_t *bytes = hl_fuzz_encode(&input, &len);

    hl_fuzz_target t;
    hl_diag diag;
    CHECK_EQ(hl_fuzz_target_open(&t, "diff", "rotter", &diag), 0);
    t.fresh_every = HL_FUZZ_FRESH_EVERY;
    t.check_every = 1;
    hl_fuzz_kept kept = {0};
    hl_diff_summary s;
    int rc = 0;
    for (int n = 0; n < 10 && rc == 0; n++) rc = hl_fuzz_target_run_kept(&t, &kept, bytes, len, &s);
    CHECK_EQ(rc, 1);
    CHECK(s.found && s.finding.rule == HL_RULE_CHECK_FAILED);
    CHECK_EQ(kept.count, 5); /* 4 x 1,201 calls, then the 5th input's 196th */

    char dir[] = "/tmp/heaplab-inprocess-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char said[4096] = "";
    FILE *out = fmemopen(said, sizeof said - 1, "w");
    int how = hl_fuzz_kept_explain(&t, &kept, &s, dir, 30, out);
    fclose(out);
    CHECK_EQ(how, 2);
    CHECK(strstr(said, "the input alone does not show it") != NULL);
    char *path = strstr(said, "written: ");
    CHECK(path != NULL);
    if (path) {
        path += strlen("written: ");
        *strchr(path, ' ') = '\0';
        hl_trace trace;
        CHECK_EQ(hl_trace_read(path, &trace, &diag, NULL), 0);
        CHECK_EQ(strcmp(hl_trace_meta(&trace, "heaplab.backend"), "rotter"), 0);
        CHECK_EQ(strcmp(hl_trace_meta(&trace, "heaplab.rule"), "CHECK_FAILED"), 0);
        CHECK_EQ(trace.count, 5 * (input.count + 1)); /* each input's operations and its free_all */
        hl_diff_summary again;
        CHECK_EQ(hl_diff_isolated(t.specs, t.count, &trace, t.check_every, 30, &again), 1);
        CHECK(again.found && again.finding.rule == HL_RULE_CHECK_FAILED);
        hl_trace_free(&trace);
        unlink(path);
    }
    rmdir(dir);
    /* the control: the input alone on fresh instances is clean */
    hl_fuzz_target_forget(&t);
    CHECK_EQ(hl_fuzz_target_run_kept(&t, &kept, bytes, len, &s), 0);
    CHECK_EQ(kept.count, 1); /* fresh instances: the kept inputs start again */
    hl_fuzz_kept_free(&kept);
    hl_fuzz_target_forget(&t);
    hl_mem_free(bytes);
    hl_trace_free(&input);
}

int main(void)
{
    RUN(a_finding_that_needs_the_inputs_before_it_is_written_whole);
    return unit_summary();
}
