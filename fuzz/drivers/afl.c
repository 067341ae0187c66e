/* afl.c: the AFL++ persistent-mode target (`make fuzz-afl`): test cases arrive in
 * shared memory, 10,000 per process before AFL++ forks a fresh one. Built without
 * afl-cc (as `make test` does) it reads one input from stdin, so the same file runs
 * a crash AFL++ saved. A finding aborts (AFL++ records a crash). */
#include "common.h"

#include <unistd.h>

#ifndef __AFL_FUZZ_TESTCASE_LEN
static uint8_t stdin_buf[1 << 20];
static ssize_t stdin_len;
#define __AFL_FUZZ_INIT() void unused_afl_fuzz_init(void)
#define __AFL_INIT() ((void)0)
#define __AFL_FUZZ_TESTCASE_BUF stdin_buf
#define __AFL_FUZZ_TESTCASE_LEN stdin_len
#define __AFL_LOOP(x) ((stdin_len = read_all(0, stdin_buf, sizeof stdin_buf)) >= 0 && !stdin_done++)
static int stdin_done;
static ssize_t read_all(int fd, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    for (ssize_t got; len < cap && (got = read(fd, buf + len, cap - len)) > 0;) len += (size_t)got;
    return (ssize_t)len;
}
void unused_afl_fuzz_init(void);
#endif

__AFL_FUZZ_INIT();

int main(void)
{
    static hl_fuzz_target target;
    target_from_environment(&target);
    __AFL_INIT();
    const uint8_t *buf = __AFL_FUZZ_TESTCASE_BUF;
    hl_diff_summary s;
    while (__AFL_LOOP(10000)) run_or_abort(&target, buf, (size_t)__AFL_FUZZ_TESTCASE_LEN, &s);
    return 0;
}
