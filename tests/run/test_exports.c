/* test_exports.c: the malloc families read from a library's ELF dynamic symbols (the
 * hint for a malloc-style library passed as a contract plugin), on glibc itself and on
 * files that are not libraries, or are cut short, which must give none and never crash. */
#include "hl_run.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GLIBC "/lib/x86_64-linux-gnu/libc.so.6"

static bool has(char (*prefixes)[HL_PREFIX_MAX], size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(prefixes[i], want) == 0) return true;
    return false;
}

TEST(glibc_exports_malloc_and_its_libc_family)
{
    char prefixes[16][HL_PREFIX_MAX];
    size_t n = hl_malloc_prefixes(GLIBC, prefixes, 16);
    CHECK(has(prefixes, n, ""));        /* malloc, free, realloc */
    CHECK(has(prefixes, n, "__libc_")); /* __libc_malloc, __libc_free, __libc_realloc */
    CHECK(!has(prefixes, n, "c"));      /* calloc has no cfree/crealloc family */
    CHECK_EQ(hl_malloc_prefixes(GLIBC, prefixes, 1), 1); /* at most `most` */
}

/* Copies the first `keep` bytes of GLIBC to path, then damages byte `at` (if below keep). */
static void write_copy(const char *path, size_t keep, size_t at)
{
    FILE *in = fopen(GLIBC, "rb"), *out = fopen(path, "wb");
    CHECK(in && out);
    for (size_t i = 0; i < keep; i++) {
        int c = fgetc(in);
        if (c == EOF) break;
        fputc(i == at ? c ^ 0xff : c, out);
    }
    fclose(in);
    fclose(out);
}

TEST(files_that_are_not_whole_libraries_give_none)
{
    char prefixes[4][HL_PREFIX_MAX];
    CHECK_EQ(hl_malloc_prefixes("/nonexistent/lib.so", prefixes, 4), 0);
    CHECK_EQ(hl_malloc_prefixes("traces/basic.trace", prefixes, 4), 0);
    char path[] = "/tmp/heaplab-test-exports-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    const size_t cuts[] = {0, 16, 64, 4096, 100000};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        write_copy(path, cuts[i], SIZE_MAX); /* the section headers are at the end: all cut off */
        CHECK_EQ(hl_malloc_prefixes(path, prefixes, 4), 0);
    }
    struct stat st;
    CHECK(stat(GLIBC, &st) == 0);
    size_t size = (size_t)st.st_size;
    srand(7);
    for (int round = 0; round < 200; round++) { /* one byte of the ELF header or the section headers
                                                   (at the end) damaged: any answer, no crash */
        write_copy(path, size, round % 2 ? (size_t)rand() % 64 : size - 1 - (size_t)rand() % 4096);
        (void)hl_malloc_prefixes(path, prefixes, 4);
    }
    unlink(path);
}

int main(void)
{
    RUN(glibc_exports_malloc_and_its_libc_family);
    RUN(files_that_are_not_whole_libraries_give_none);
    return unit_summary();
}
