/* test_outfile.c: files written whole or not at all (core/outfile.c): a committed
 * file appears complete under its name; an aborted one, or one whose writes did not
 * fit (a file-size limit stands in for a full disk), leaves the name as it was and no
 * temporary file behind. */
#include "hl_check.h"
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void fresh_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/hl-outfile-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

/* the names in dir, but . and .. */
static int entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.' || (e->d_name[1] && e->d_name[1] != '.');
    if (d) closedir(d);
    return n;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static bool holds(const char *path, const char *text)
{
    char buf[256] = {0};
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(text) && memcmp(buf, text, n) == 0;
}

static void clean(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

TEST(commit_puts_the_whole_file_in_place)
{
    fresh_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/out.trace", dir);
    put(path, "old\n");
    hl_outfile out;
    CHECK_EQ(hl_outfile_open(&out, path, "w"), 0);
    fputs("new\n", out.f);
    CHECK(holds(path, "old\n")); /* not until the commit */
    CHECK_EQ(entries(), 2);      /* the old file and the temporary one */
    CHECK_EQ(hl_outfile_commit(&out), 0);
    CHECK(holds(path, "new\n"));
    CHECK_EQ(entries(), 1);
    CHECK_EQ(hl_outfile_write(path, "again\n", 6), 0);
    CHECK(holds(path, "again\n"));
    CHECK_EQ(entries(), 1);
    clean();
}

TEST(abort_leaves_the_name_as_it_was)
{
    fresh_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/out.trace", dir);
    hl_outfile out;
    CHECK_EQ(hl_outfile_open(&out, path, "w"), 0);
    fputs("half", out.f);
    hl_outfile_abort(&out);
    CHECK_EQ(entries(), 0);
    CHECK(access(path, F_OK) != 0);
    clean();
}

TEST(a_write_that_does_not_fit_leaves_nothing)
{
    fresh_dir();
    char path[128];
    snprintf(path, sizeof path, "%s/out.trace", dir);
    put(path, "old\n");
    struct rlimit was;
    CHECK_EQ(getrlimit(RLIMIT_FSIZE, &was), 0);
    struct rlimit limit = {4096, was.rlim_max}; /* the soft limit: it can be raised again */
    signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails with EFBIG instead */
    CHECK_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
    static char big[65536];
    memset(big, 'x', sizeof big);
    CHECK_EQ(hl_outfile_write(path, big, sizeof big), EFBIG);
    hl_outfile out; /* the same through a stream: the error comes at the flush */
    CHECK_EQ(hl_outfile_open(&out, path, "w"), 0);
    for (int i = 0; i < 16; i++) fwrite(big, 1, 4096, out.f);
    CHECK_EQ(hl_outfile_commit(&out), EFBIG);
    CHECK_EQ(setrlimit(RLIMIT_FSIZE, &was), 0);
    signal(SIGXFSZ, SIG_DFL);
    CHECK(holds(path, "old\n"));
    CHECK_EQ(entries(), 1);
    clean();
}

TEST(a_name_that_cannot_be_taken_is_an_error)
{
    fresh_dir();
    /* the final name is a folder: the rename fails, the temporary file goes */
    CHECK_EQ(hl_outfile_write(dir, "x", 1), EISDIR);
    char path[128];
    snprintf(path, sizeof path, "%s/no/such/folder/out.trace", dir);
    CHECK_EQ(hl_outfile_write(path, "x", 1), ENOENT);
    CHECK_EQ(entries(), 0);
    clean();
}

int main(void)
{
    RUN(commit_puts_the_whole_file_in_place);
    RUN(abort_leaves_the_name_as_it_was);
    RUN(a_write_that_does_not_fit_leaves_nothing);
    RUN(a_name_that_cannot_be_taken_is_an_error);
    return unit_summary();
}
