/* unit.h: the C unit tests' tiny runner. Each test file defines its test functions
 * with TEST(name), lists them in main via RUN(name), and ends with
 * `return unit_summary();`, which prints "N passed, M failed" and returns non-zero
 * when any check failed. CHECK* record a failure with file:line and keep going. */
#ifndef HL_UNIT_H
#define HL_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_passed, unit_failed;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
            unit_failed_checks++;                                                       \
        }                                                                               \
    } while (0)

#define CHECK_EQ(a, b)                                                                  \
    do {                                                                                \
        uint64_t unit_a = (uint64_t)(a), unit_b = (uint64_t)(b);                        \
        if (unit_a != unit_b) {                                                         \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (0x%" PRIx64 " vs 0x%" PRIx64 ")\n", \
                    __FILE__, __LINE__, #a, #b, unit_a, unit_b);                        \
            unit_failed_checks++;                                                       \
        }                                                                               \
    } while (0)

#define CHECK_STR(a, b)                                                                 \
    do {                                                                                \
        const char *unit_sa = (a), *unit_sb = (b);                                      \
        if (!unit_sa || !unit_sb || strcmp(unit_sa, unit_sb) != 0) {                    \
            fprintf(stderr, "%s:%d: CHECK_STR failed: \"%s\" vs \"%s\"\n", __FILE__,    \
                    __LINE__, unit_sa ? unit_sa : "(null)", unit_sb ? unit_sb : "(null)"); \
            unit_failed_checks++;                                                       \
        }                                                                               \
    } while (0)

#define TEST(name) static void name(void)

#define RUN(name)                                                                       \
    do {                                                                                \
        int unit_before = unit_failed_checks;                                           \
        name();                                                                         \
        if (unit_failed_checks == unit_before) {                                        \
            unit_passed++;                                                              \
        } else {                                                                        \
            unit_failed++;                                                              \
            fprintf(stderr, "FAILED %s\n", #name);                                      \
        }                                                                               \
    } while (0)

static inline int unit_summary(void)
{
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}

#endif
