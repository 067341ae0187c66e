/* isolate.c: heaplab's one isolation primitive (hl_run.h). A body runs in a forked
 * child in a process group of its own; it shares two things with the parent: a watch
 * (which lane is calling its backend, for which operation or teardown block, and a
 * beat that moves with every step) and the caller's result area. The parent waits,
 * shows progress, and classifies how the child ended: the body returned (the result
 * holds what it found), it died of a signal (CRASH), it exited or stopped without
 * the body returning (an exit by any means: exit, _exit, the parent half of a fork
 * that returns, SIGSTOP), or its beat stood still for the timeout (HANG). Either way
 * the whole process group is killed, so a backend's own children do not outlive it.
 * (A shared page rather than a pipe: one store per step instead of a system call, and
 * the last value survives the child's death just the same.)
 * Also heaplab's handling of SIGINT and SIGTERM (hl_isolate.h, "interruption"): the
 * isolated child is what outlives heaplab when nothing is done, being in a process
 * group of its own (the terminal's Ctrl-C does not reach it) and possibly hung. */
#include "hl_run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct shared {
    hl_watch watch;
    volatile int returned;       /* the body returned (set by the child just before _exit) */
    volatile pid_t returned_by;  /* by which process: a fork the backend made does not count */
    int rc;
    _Alignas(64) unsigned char result[]; /* the caller's answer, aligned for any type */
} shared;

/* In the isolated child: its shared page. A fork the backend makes (whose other
 * half may carry on as if it were the run) gets a private copy in its place, so only
 * the child itself publishes where the run is. */
static void *child_page;
static size_t child_page_size;

static void detach_from_page(void)
{
    if (child_page)
        mmap(child_page, child_page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static void ended_by(hl_isolated *out, int status)
{
    if (WIFSIGNALED(status)) {
        out->end = HL_ISOLATED_CRASHED;
        out->signal = WTERMSIG(status);
    } else if (WIFSTOPPED(status)) {
        out->end = HL_ISOLATED_EXITED;
        out->signal = WSTOPSIG(status);
        out->stopped = true;
    } else {
        out->end = HL_ISOLATED_EXITED;
        out->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
}

/* ---------------------------------------------------------------- interruption */

/* What the signal handler reads. Written by the main flow with plain stores of whole
 * words (a signal sees a slot either before or after); watched[i] 0 is a free slot. */
enum { WATCHED = 16 };
static volatile sig_atomic_t installed, graceful, noted, ending;
static volatile pid_t watched[WATCHED];
static char scratch[PATH_MAX], scratch_final[PATH_MAX];
static volatile sig_atomic_t has_scratch;
static volatile pid_t forking_parent; /* the pid of the process that is forking */

/* Empties the folder open at fd (depth: how many levels below may still be entered).
 * Async-signal-safe: getdents64, unlinkat, openat, close only. */
static int empty_folder(int fd, int depth)
{
    int first = 0;
    for (;;) {
        bool removed = false;
        char buffer[2048];
        ssize_t n;
        lseek(fd, 0, SEEK_SET);
        while ((n = getdents64(fd, buffer, sizeof buffer)) > 0) {
            for (ssize_t at = 0; at < n;) {
                struct dirent64 *entry = (struct dirent64 *)(buffer + at);
                at += entry->d_reclen;
                const char *name = entry->d_name;
                if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
                if (unlinkat(fd, name, 0) == 0) {
                    removed = true;
                    continue;
                }
                int e = errno;
                if ((e == EISDIR || e == EPERM) && depth > 0) {
                    int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                    if (sub >= 0) {
                        int inner = empty_folder(sub, depth - 1);
                        close(sub);
                        if (inner && !first) first = inner;
                        if (unlinkat(fd, name, AT_REMOVEDIR) == 0) {
                            removed = true;
                            continue;
                        }
                    }
                    e = errno;
                }
                if (!first) first = e;
            }
        }
        if (n < 0 && !first) first = errno;
        if (!removed || n < 0) return first; /* a pass that removed nothing: what is left stays */
    }
}

int hl_remove_tree(const char *folder)
{
    int fd = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : errno;
    int first = empty_folder(fd, 16);
    close(fd);
    if (rmdir(folder) != 0 && !first) first = errno;
    return first;
}

static void say(const char *text) { (void)!write(2, text, strlen(text)); }

static void on_signal(int signal)
{
    if (graceful && !noted) {
        noted = signal;
        return;
    }
    if (ending) return; /* already on the way out */
    ending = 1;
    for (int i = 0; i < WATCHED; i++)
        if (watched[i] > 0) kill(-watched[i], SIGKILL);
    hl_outfile_remove_open(); /* a file being written: its temporary name goes too */
    say(signal == SIGINT ? "\nheaplab: SIGINT: stopped" : "\nheaplab: SIGTERM: stopped");
    if (has_scratch) {
        hl_remove_tree(scratch);
        say("; nothing written to ");
        say(scratch_final);
    }
    say("\n");
    _exit(128 + (noted ? noted : signal));
}

static void before_fork(void) { forking_parent = getpid(); }

/* The child of every fork: nothing of its parent's to kill or remove, and ends with
 * its parent (if that is already gone, at once). */
static void in_child(void)
{
    for (int i = 0; i < WATCHED; i++) watched[i] = 0;
    has_scratch = 0;
    hl_outfile_forget_open();
    graceful = 0;
    noted = 0;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != forking_parent) _exit(128 + SIGTERM);
}

void hl_interrupt_install(void)
{
    if (installed) return;
    installed = 1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART; /* a noted signal must not fail a write or a read */
    sigemptyset(&action.sa_mask);
    sigaddset(&action.sa_mask, SIGINT);
    sigaddset(&action.sa_mask, SIGTERM);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    pthread_atfork(before_fork, NULL, in_child);
}

void hl_interrupt_graceful(bool on) { graceful = on; }

int hl_interrupted(void) { return noted; }

void hl_interrupt_watch(int group)
{
    for (int i = 0; i < WATCHED; i++)
        if (watched[i] == 0) {
            watched[i] = group;
            return;
        }
}

void hl_interrupt_unwatch(int group)
{
    for (int i = 0; i < WATCHED; i++)
        if (watched[i] == group) watched[i] = 0;
}

void hl_interrupt_scratch(const char *folder, const char *final)
{
    has_scratch = 0;
    if (!folder) return;
    snprintf(scratch, sizeof scratch, "%s", folder);
    snprintf(scratch_final, sizeof scratch_final, "%s", final);
    has_scratch = 1;
}

/* ---------------------------------------------------------------- isolation */

int hl_isolate(int (*body)(void *context, hl_watch *watch, void *result), void *context, void *result,
               size_t result_size, const hl_isolation *options, hl_isolated *out)
{
    memset(out, 0, sizeof *out);
    if (noted) return out->end = HL_ISOLATED_INTERRUPTED, -1; /* finishing: nothing new starts */
    size_t size = sizeof(shared) + result_size;
    shared *page = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        snprintf(out->error, sizeof out->error, "cannot map a shared page: %s", strerror(errno));
        return out->end = HL_ISOLATED_FAILED, -1;
    }
    if (result_size) memcpy(page->result, result, result_size);
    static bool hooked; /* registered here, once: a registration in the child would
                           allocate in its heap (glibc's figures would see it) */
    if (!hooked) hooked = pthread_atfork(NULL, NULL, detach_from_page) == 0;
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(out->error, sizeof out->error, "cannot fork: %s", strerror(errno));
        munmap(page, size);
        return out->end = HL_ISOLATED_FAILED, -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        /* a backend may ignore SIGTERM; its own children are in this group and end by
         * their own PR_SET_PDEATHSIG or with the group */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(0);
        child_page = page;
        child_page_size = size;
        hl_sandbox_arm(&page->watch);
        pid_t self = getpid();
        int rc = body(context, &page->watch, page->result);
        if (getpid() == self) { /* not the other half of a fork the backend made */
            page->rc = rc;
            page->returned_by = self;
            page->returned = 1;
        }
        _exit(0);
    }
    setpgid(pid, pid); /* also from here: no race with a kill of the group */
    hl_interrupt_watch(pid);
    uint64_t beat = 0, moved = hl_clock_now_ns(), shown = moved;
#define SIGNATURE(w) ((w).beat + (w).op + (w).completed + (w).block + (w).phase)
    uint64_t timeout = options && options->timeout > 0 ? (uint64_t)(options->timeout * 1e9) : 0;
    int status = 0;
    long poll_ns = options && options->poll_ms > 0 ? options->poll_ms * 1000000L : 1000000L;
    struct timespec pause = {poll_ns / 1000000000L, poll_ns % 1000000000L};
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG | WUNTRACED);
        if (got == pid) {
            if (page->returned && page->returned_by == pid && WIFEXITED(status)) out->end = HL_ISOLATED_RETURNED;
            else ended_by(out, status);
            break;
        }
        if (got < 0 && errno != EINTR) {
            snprintf(out->error, sizeof out->error, "cannot wait for the child: %s", strerror(errno));
            out->end = HL_ISOLATED_FAILED;
            break;
        }
        uint64_t now = hl_clock_now_ns();
        if (SIGNATURE(page->watch) != beat) {
            beat = SIGNATURE(page->watch);
            moved = now;
        } else if (timeout && now - moved > timeout) {
            out->end = HL_ISOLATED_HUNG;
            break;
        }
        if (noted) {
            out->end = HL_ISOLATED_INTERRUPTED;
            break;
        }
        if (options && options->stop && options->stop(options->context, &page->watch)) {
            out->end = HL_ISOLATED_STOPPED;
            break;
        }
        if (options && options->tick && now - shown > 1000000000u) { /* the child cannot print */
            options->tick(options->context, &page->watch);
            shown = now;
        }
        nanosleep(&pause, NULL);
    }
    kill(-pid, SIGKILL); /* the child's group: whatever it forked goes with it */
    kill(pid, SIGKILL);
    if (out->end != HL_ISOLATED_RETURNED) waitpid(pid, &status, 0);
    hl_interrupt_unwatch(pid);
    out->watch = page->watch;
    bool returned = page->returned && page->returned_by == pid;
    int rc = returned ? page->rc : -1;
    out->published = returned || page->watch.published;
    if (out->published && result_size) memcpy(result, page->result, result_size);
    /* a child that returned and then died on its way out still answered */
    if (returned && out->end != HL_ISOLATED_HUNG && out->end != HL_ISOLATED_STOPPED &&
        out->end != HL_ISOLATED_INTERRUPTED)
        out->end = HL_ISOLATED_RETURNED;
    munmap(page, size);
    return out->end == HL_ISOLATED_RETURNED ? rc : -1;
}

void hl_isolated_finding(const hl_isolated *out, const char *backend, double timeout, hl_finding *f)
{
    memset(f, 0, sizeof *f);
    /* SIGSYS with nothing published: the filter's signal, forced on a thread that had
     * it blocked (which ends the process before the handler can say which call) */
    bool unnamed = out->end == HL_ISOLATED_CRASHED && out->signal == SIGSYS && out->watch.sandbox == HL_SANDBOX_ON;
    f->rule = out->watch.refused || unnamed ? HL_RULE_SANDBOX
              : out->end == HL_ISOLATED_HUNG ? HL_RULE_HANG
                                             : HL_RULE_CRASH;
    f->index = out->watch.op;
    char how[400];
    if (out->watch.refused) {
        char call[360];
        hl_sandbox_describe(&out->watch, call, sizeof call);
        snprintf(how, sizeof how, "made %s", call);
    } else if (unnamed) {
        snprintf(how, sizeof how, "made a system call heaplab's sandbox refuses, from a thread that blocks SIGSYS "
                                  "(so not named; --no-sandbox runs it unconfined)");
    } else if (out->end == HL_ISOLATED_HUNG)
        snprintf(how, sizeof how, "made no progress for %.1f s and was killed", timeout);
    else if (out->end == HL_ISOLATED_CRASHED)
        snprintf(how, sizeof how, "died of signal %d (%s)", out->signal, strsignal(out->signal));
    else if (out->end == HL_ISOLATED_INTERRUPTED)
        snprintf(how, sizeof how, "was killed: heaplab was interrupted");
    else if (out->stopped)
        snprintf(how, sizeof how, "was stopped by signal %d (%s)", out->signal, strsignal(out->signal));
    else
        snprintf(how, sizeof how, "ended its process (exit status %d) before the run was over", out->status);
    if (out->watch.phase == HL_PHASE_TEARDOWN) {
        f->teardown = true;
        f->teardown_id = out->watch.block;
        snprintf(f->message, sizeof f->message, "teardown: free of block id %" PRIu64 ": %s %s", out->watch.block,
                 backend, how);
    } else if (out->watch.phase == HL_PHASE_SETUP) {
        snprintf(f->message, sizeof f->message, "while its instance was made: %s %s", backend, how);
    } else if (out->watch.phase == HL_PHASE_END) {
        snprintf(f->message, sizeof f->message, "end of the stream (the final checks): %s %s", backend, how);
    } else {
        snprintf(f->message, sizeof f->message, "%s %s", backend, how);
    }
}

void hl_watch_step(hl_watch *watch, uint32_t lane, uint64_t op)
{
    if (!watch) return;
    watch->lane = lane;
    watch->op = op;
    watch->beat++;
}

void hl_watch_phase(hl_watch *watch, hl_phase phase)
{
    if (!watch) return;
    watch->phase = phase;
    watch->beat++;
}
