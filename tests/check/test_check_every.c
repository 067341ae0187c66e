/* test_check_every.c: the heap-check period's names read back as what they name
 * (a reproducer's heaplab.check_every must replay in the mode it was found in). */
#include "hl_check.h"
#include "unit.h"

#include <string.h>

TEST(every_mode_and_count_reads_back)
{
    const uint64_t values[] = {HL_CHECK_PACED, HL_CHECK_DEEP, HL_CHECK_UNTOUCHED, 0, 1, 4096, HL_CHECK_UNTOUCHED - 1};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char buf[32];
        uint64_t back = 12345;
        const char *name = hl_check_every_name(values[i], buf, sizeof buf);
        CHECK(hl_check_every_parse(name, &back));
        CHECK_EQ(back, values[i]);
    }
    char buf[32];
    CHECK(strcmp(hl_check_every_name(HL_CHECK_DEEP, buf, sizeof buf), "deep") == 0);
    CHECK(strcmp(hl_check_every_name(HL_CHECK_UNTOUCHED, buf, sizeof buf), "untouched") == 0);
    CHECK(strcmp(hl_check_every_name(HL_CHECK_PACED, buf, sizeof buf), "paced") == 0);
    CHECK(strcmp(hl_check_every_name(64, buf, sizeof buf), "64") == 0);
}

TEST(other_text_is_refused)
{
    uint64_t out;
    CHECK(!hl_check_every_parse("Deep", &out));
    CHECK(!hl_check_every_parse("", &out));
    CHECK(!hl_check_every_parse("often", &out));
    CHECK(!hl_check_every_parse("18446744073709551613", &out)); /* HL_CHECK_UNTOUCHED's value as a count */
}

TEST(only_the_deeper_modes_are_explained)
{
    CHECK(strstr(hl_check_every_explain(HL_CHECK_DEEP), "contents") != NULL);
    CHECK(strstr(hl_check_every_explain(HL_CHECK_UNTOUCHED), "nothing written") != NULL);
    CHECK(hl_check_every_explain(HL_CHECK_PACED) == NULL);
    CHECK(hl_check_every_explain(100) == NULL);
}

int main(void)
{
    RUN(every_mode_and_count_reads_back);
    RUN(other_text_is_refused);
    RUN(only_the_deeper_modes_are_explained);
    return unit_summary();
}
