/* test_source.c: the three memory sources. */
#include "hl_source.h"
#include "unit.h"

#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

static hl_source_config config_of(hl_source_kind kind)
{
    hl_source_config c;
    hl_source_config_init(&c);
    c.kind = kind;
    return c;
}

TEST(os_commits_on_demand_and_reports_it)
{
    hl_source_config c = config_of(HL_SOURCE_OS);
    c.size = 1 << 20;
    hl_source s;
    char why[200];
    CHECK_EQ(hl_source_open(&s, &c, NULL, 0, 100, why, sizeof why), HL_E_OK);
    /* os pages commit in steps of at least 64 KiB (one mprotect per step) */
    CHECK_EQ(s.committed, 65536);
    CHECK_EQ(s.origin, (hl_addr)s.host);
    CHECK(hl_source_host(&s, s.origin + 65500, 36) != NULL);
    CHECK(hl_source_host(&s, s.origin + 65500, 37) == NULL);
    CHECK_EQ(hl_source_commit(&s, 70000), HL_E_OK);
    CHECK_EQ(s.committed, 131072);
    memset(s.host, 1, s.committed); /* really writable */
    CHECK_EQ(hl_source_commit(&s, (1 << 20) + 1), HL_E_OUT_OF_MEMORY);
    CHECK_EQ(s.committed, 131072);
    CHECK_EQ(s.peak, 131072);
    CHECK_EQ(hl_source_commit(&s, 1 << 20), HL_E_OK); /* the step stops at the reservation */
    CHECK_EQ(s.committed, 1 << 20);
    CHECK_EQ(hl_source_protect(&s, 0, 4096, HL_PROT_R), HL_E_OK);
    CHECK_EQ(hl_source_protect(&s, 0, 4096, HL_PROT_RW), HL_E_OK);
    CHECK_EQ(hl_source_protect(&s, 1 << 20, 1, HL_PROT_R), HL_E_INVALID_ARGUMENT);
    hl_source_close(&s);
}

/* Committed pages are made resident at commit (one madvise per step), not faulted in
 * one by one at first touch: mincore says they are in memory before any write. */
TEST(os_commit_makes_pages_resident)
{
    hl_source_config c = config_of(HL_SOURCE_OS);
    c.size = 1 << 20;
    hl_source s;
    char why[200];
    CHECK_EQ(hl_source_open(&s, &c, NULL, 0, 100, why, sizeof why), HL_E_OK);
    CHECK_EQ(hl_source_commit(&s, 200000), HL_E_OK);
    size_t pages = s.committed / 4096;
    unsigned char *resident = calloc(pages, 1);
    CHECK_EQ(mincore(s.host, s.committed, resident), 0);
    size_t in = 0;
    for (size_t i = 0; i < pages; i++) in += resident[i] & 1;
    CHECK_EQ(in, pages);
    free(resident);
    hl_source_close(&s);
}

TEST(os_huge_pages_fall_back_to_advice)
{
    hl_source_config c = config_of(HL_SOURCE_OS);
    c.size = 8 << 20;
    c.huge = true;
    hl_source s;
    char why[200];
    CHECK_EQ(hl_source_open(&s, &c, NULL, 0, 4096, why, sizeof why), HL_E_OK);
    /* MAP_HUGETLB needs reserved huge pages (none here); the advice path runs */
    CHECK(strcmp(s.huge, "MAP_HUGETLB") == 0 || strcmp(s.huge, "MADV_HUGEPAGE") == 0);
    hl_source_close(&s);
}

TEST(static_buffer_ends_where_the_buffer_does)
{
    static unsigned char buffer[8192] __attribute__((aligned(16)));
    hl_source_config c = config_of(HL_SOURCE_STATIC);
    hl_source s;
    char why[200];
    CHECK_EQ(hl_source_open(&s, &c, NULL, 0, 0, why, sizeof why), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(why, "needs a caller buffer") != NULL);
    CHECK_EQ(hl_source_open(&s, &c, buffer, sizeof buffer, 100, why, sizeof why), HL_E_OK);
    CHECK(s.host == buffer);
    CHECK_EQ(hl_source_commit(&s, 8192), HL_E_OK);
    CHECK_EQ(hl_source_commit(&s, 8193), HL_E_OUT_OF_MEMORY);
    CHECK_EQ(hl_source_protect(&s, 0, 16, HL_PROT_R), HL_E_UNSUPPORTED);
    hl_source_close(&s);
}

TEST(linear_memory_is_wasm32)
{
    hl_source_config c = config_of(HL_SOURCE_LINEAR);
    c.max_pages = 3;
    hl_source s;
    char why[200];
    CHECK_EQ(hl_source_open(&s, &c, NULL, 0, 1, why, sizeof why), HL_E_OK);
    CHECK_EQ(s.origin, 0);
    CHECK_EQ(s.heap_base, 1024);
    CHECK_EQ(s.page, 65536);
    CHECK_EQ(s.committed, 65536);
    CHECK_EQ(hl_source_grow_pages(&s, 1), 1); /* the old page count */
    CHECK_EQ(hl_source_grow_pages(&s, 1), 2);
    CHECK_EQ(hl_source_grow_pages(&s, 1), -1); /* past max_pages: nothing changes */
    CHECK_EQ(s.committed, 3 * 65536);
    unsigned char *host = s.host;
    CHECK(hl_source_host(&s, 1024, 16) == host + 1024); /* memory never moves */
    CHECK(hl_source_host(&s, 3 * 65536 - 1, 2) == NULL);
    hl_source_close(&s);
}

/* Pages of [p, p + len) resident now (mincore). */
static size_t resident_pages(const unsigned char *p, size_t len)
{
    size_t pages = len / 4096, count = 0;
    unsigned char *vec = malloc(pages);
    if (mincore((void *)p, len, vec) != 0) return SIZE_MAX;
    for (size_t i = 0; i < pages; i++) count += vec[i] & 1;
    free(vec);
    return count;
}

/* A 32 MiB commit is resident at once (one system call, not 8192 faults), except
 * under HL_HINT_SPARSE, where 1 MiB of it is; either way all of it is committed. */
TEST(os_commits_resident_unless_sparse)
{
    for (int sparse = 0; sparse <= 1; sparse++) {
        hl_source_config c = config_of(HL_SOURCE_OS);
        c.size = 64 << 20;
        c.sparse = sparse;
        hl_source s;
        char why[200];
        CHECK_EQ(hl_source_open(&s, &c, NULL, 0, 4096, why, sizeof why), HL_E_OK);
        size_t before = s.committed;
        CHECK_EQ(hl_source_commit(&s, 32u << 20), HL_E_OK);
        CHECK(s.committed >= 32u << 20);
        size_t resident = resident_pages(s.host + before, s.committed - before);
        if (sparse) CHECK_EQ(resident, (1u << 20) / 4096);
        else CHECK_EQ(resident, (s.committed - before) / 4096);
        memset(s.host, 1, s.committed); /* committed either way */
        hl_source_close(&s);
    }
}

int main(void)
{
    RUN(os_commits_on_demand_and_reports_it);
    RUN(os_commit_makes_pages_resident);
    RUN(os_huge_pages_fall_back_to_advice);
    RUN(static_buffer_ends_where_the_buffer_does);
    RUN(linear_memory_is_wasm32);
    RUN(os_commits_resident_unless_sparse);
    return unit_summary();
}
