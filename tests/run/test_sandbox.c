/* test_sandbox.c: the seccomp filter an isolated child puts around code from outside
 * the tree (run/sandbox.c). Each misdeed runs in an hl_isolate child after
 * hl_sandbox_enter: the refused ones end the child with the call named in its watch
 * (and become SANDBOX findings, the file never created); what allocators and
 * heaplab's own child need (reading files, threads, signals to itself, mmap) goes
 * through. Outside an isolated child, and after hl_sandbox_disable, nothing is
 * installed. */
#include "hl_run.h"
#include "unit.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char scratch[64];

typedef enum misdeed { WRITE_FILE, READ_FILE, THREAD, SIGNAL_SELF, SIGNAL_PARENT, FORK, SOCKET, EXEC, UNLINK, MMAP } misdeed;

static void *nothing(void *arg) { return arg; }

/* The child: the filter, then one deed; returns 0 when the deed went through. */
static int body(void *context, hl_watch *watch, void *result)
{
    (void)watch;
    (void)result;
    misdeed what = *(misdeed *)context;
    if (hl_sandbox_enter() != HL_SANDBOX_ON) return 7;
    switch (what) {
    case WRITE_FILE: {
        int fd = open(scratch, O_WRONLY | O_CREAT, 0600);
        return fd >= 0 ? 0 : 5;
    }
    case READ_FILE: {
        int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
        return fd >= 0 ? close(fd), 0 : 5;
    }
    case THREAD: {
        pthread_t t;
        return pthread_create(&t, NULL, nothing, NULL) == 0 && pthread_join(t, NULL) == 0 ? 0 : 5;
    }
    case SIGNAL_SELF: return kill(getpid(), 0) == 0 ? 0 : 5;
    case SIGNAL_PARENT: return kill(getppid(), 0) == 0 ? 0 : 5;
    case FORK: {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        return 0;
    }
    case SOCKET: return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 5;
    case EXEC: {
        char *argv[] = {"/bin/true", NULL};
        execv(argv[0], argv);
        return 5;
    }
    case UNLINK: return unlink(scratch) == 0 ? 0 : 5;
    case MMAP: {
        void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED || mprotect(p, 4096, PROT_NONE) != 0 || madvise(p, 1 << 20, MADV_DONTNEED) != 0) return 5;
        return munmap(p, 1 << 20) == 0 ? 0 : 5;
    }
    }
    return 6;
}

static hl_isolated run(misdeed what, int *rc)
{
    hl_isolation iso = {.timeout = 10};
    hl_isolated how;
    *rc = hl_isolate(body, &what, NULL, 0, &iso, &how);
    return how;
}

/* The deed ended the child, refused: the watch names nr, and the finding is SANDBOX. */
static void refused(misdeed what, long nr, const char *said)
{
    int rc;
    hl_isolated how = run(what, &rc);
    CHECK(how.end != HL_ISOLATED_RETURNED);
    CHECK_EQ(how.watch.refused, nr + 1);
    CHECK_EQ(how.watch.sandbox, HL_SANDBOX_ON);
    hl_finding f;
    hl_isolated_finding(&how, "lib.so", 10, &f);
    CHECK_STR(hl_rule_name(f.rule), "SANDBOX");
    if (!strstr(f.message, said)) fprintf(stderr, "message: %s\n", f.message);
    CHECK(strstr(f.message, said) != NULL);
    CHECK(strstr(f.message, "lib.so made system call ") != NULL);
}

static void allowed(misdeed what)
{
    int rc;
    hl_isolated how = run(what, &rc);
    CHECK_EQ(how.end, HL_ISOLATED_RETURNED);
    CHECK_EQ(rc, 0);
    CHECK_EQ(how.watch.refused, 0);
    CHECK_EQ(how.watch.sandbox, HL_SANDBOX_ON);
}

TEST(a_file_opened_for_writing_is_refused_and_never_created)
{
    refused(WRITE_FILE, SYS_openat, "openat \"");
    struct stat st;
    CHECK(stat(scratch, &st) != 0); /* not created */
    int rc;
    hl_isolated how = run(WRITE_FILE, &rc);
    char text[400];
    hl_sandbox_describe(&how.watch, text, sizeof text);
    CHECK(strstr(text, scratch) != NULL);          /* the path */
    CHECK(strstr(text, "flags 0x41") != NULL);     /* O_WRONLY | O_CREAT */
    CHECK(strstr(text, "opens a file for writing or creating") != NULL);
}

TEST(files_are_changed_by_name_never)
{
    int fd = open(scratch, O_WRONLY | O_CREAT, 0600); /* made here, outside the sandbox */
    CHECK(fd >= 0);
    close(fd);
    refused(UNLINK, SYS_unlink, "changes files");
    struct stat st;
    CHECK(stat(scratch, &st) == 0); /* still there */
    unlink(scratch);
}

TEST(processes_programs_sockets_and_other_processes_are_refused)
{
    refused(FORK, SYS_clone, "clone flags 0x");
    refused(EXEC, SYS_execve, "execve \"/bin/true\"");
    refused(SOCKET, SYS_socket, "opens sockets");
    refused(SIGNAL_PARENT, SYS_kill, "signals another process");
}

TEST(what_an_allocator_needs_goes_through)
{
    allowed(READ_FILE);   /* /proc and /sys */
    allowed(THREAD);      /* clone3 is ENOSYS, glibc falls back to clone with CLONE_THREAD */
    allowed(SIGNAL_SELF); /* raise and abort */
    allowed(MMAP);
}

TEST(outside_an_isolated_child_nothing_is_installed)
{
    CHECK_EQ(hl_sandbox_enter(), HL_SANDBOX_NONE);
    int fd = open(scratch, O_WRONLY | O_CREAT, 0600); /* this process is not confined */
    CHECK(fd >= 0);
    close(fd);
    unlink(scratch);
}

TEST(no_sandbox_lets_everything_through)
{
    hl_sandbox_disable(); /* last: for the rest of this process */
    CHECK(hl_sandbox_disabled());
    int rc;
    misdeed what = WRITE_FILE;
    hl_isolation iso = {.timeout = 10};
    hl_isolated how;
    rc = hl_isolate(body, &what, NULL, 0, &iso, &how);
    CHECK_EQ(rc, 7); /* hl_sandbox_enter said OFF */
    CHECK_EQ(how.watch.sandbox, HL_SANDBOX_OFF);
    char why[200];
    hl_sandbox_why((hl_sandbox_state)how.watch.sandbox, how.watch.sandbox_errno, why, sizeof why);
    CHECK_STR(why, "--no-sandbox");
}

int main(void)
{
    snprintf(scratch, sizeof scratch, "/tmp/heaplab-sandbox-test-%d", (int)getpid());
    unlink(scratch);
    RUN(a_file_opened_for_writing_is_refused_and_never_created);
    RUN(files_are_changed_by_name_never);
    RUN(processes_programs_sockets_and_other_processes_are_refused);
    RUN(what_an_allocator_needs_goes_through);
    RUN(outside_an_isolated_child_nothing_is_installed);
    RUN(no_sandbox_lets_everything_through);
    unlink(scratch);
    return unit_summary();
}
