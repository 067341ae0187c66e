/* sandbox.c: the seccomp filter code from outside the tree runs under (hl_isolate.h,
 * "sandbox"). A contract plugin or a malloc-style library is loaded only in an
 * isolated child (spec.c); there, just before it is loaded, this file installs a
 * filter that lets through everything an allocator and heaplab's own child need
 * (memory management, threads, reading files, /proc and /sys, the shared page to the
 * parent, stderr) and refuses what a buggy allocator must not do to the machine:
 *   - opening a file for writing or creating one (open, openat with O_WRONLY,
 *     O_RDWR, O_CREAT or O_TRUNC; creat; openat2, whose flags a filter cannot see),
 *     and changing files by name (unlink, rename, mkdir, chmod, truncate, ...);
 *   - sockets; running a program (execve); making a process (fork, vfork, clone
 *     without CLONE_THREAD); signals to any process but its own; ptrace and reading
 *     or writing another process's memory; administering the machine (mount, ...).
 * A refused call is not failed quietly: it raises SIGSYS (SECCOMP_RET_TRAP), whose
 * handler here publishes the call's number, arguments and path in the child's watch
 * and ends the child, and the parent reports the finding SANDBOX naming the call
 * (hl_isolated_finding). clone3 alone is answered ENOSYS: its flags sit in memory a
 * filter cannot read, and glibc then makes its threads with clone, which is checked.
 * The filter keeps the speculative-store-bypass mitigation off (SCMP_FLTATR_CTL_SSB),
 * which seccomp would otherwise turn on for the whole child and slow the timed runs.
 * It guards against buggy code, not hostile code: a plugin can still write into the
 * shared page and forge a clean result. */
#include "hl_run.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static bool disabled;   /* --no-sandbox: inherited by every child */
static hl_watch *armed; /* in an isolated child: its watch (hl_sandbox_arm) */
static bool installed;  /* this process is under the filter */

/* In a sanitizer build, LeakSanitizer checks for leaks when a process exits by exit()
 * (a library that calls it): its tracer is a clone without CLONE_THREAD that ptraces
 * the threads, both refused. Under the filter the check is off (the runtime asks). */
#if defined(__SANITIZE_ADDRESS__)
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void) { return installed; }
#endif

void hl_sandbox_disable(void) { disabled = true; }
bool hl_sandbox_disabled(void) { return disabled; }
void hl_sandbox_arm(hl_watch *watch) { armed = watch; }

/* What each refused call is, and which argument (if any) holds a path to show. */
typedef struct refused {
    int nr;
    int8_t path_arg; /* -1: none */
    const char *what;
} refused;

#define FILES "changes files"
#define PROCS "makes processes or runs programs"
#define SIGNALS "signals or inspects another process"
#define NET "opens sockets"
#define ADMIN "administers the machine"
static const refused table[] = {
    {SCMP_SYS(open), 0, "opens a file for writing or creating"},
    {SCMP_SYS(openat), 1, "opens a file for writing or creating"},
    {SCMP_SYS(creat), 0, "creates a file"},
    {SCMP_SYS(openat2), 1, "opens a file with openat2 (its flags cannot be checked)"},
    {SCMP_SYS(open_by_handle_at), -1, "opens a file by handle"},
    {SCMP_SYS(unlink), 0, FILES}, {SCMP_SYS(unlinkat), 1, FILES}, {SCMP_SYS(rename), 0, FILES},
    {SCMP_SYS(renameat), 1, FILES}, {SCMP_SYS(renameat2), 1, FILES}, {SCMP_SYS(mkdir), 0, FILES},
    {SCMP_SYS(mkdirat), 1, FILES}, {SCMP_SYS(rmdir), 0, FILES}, {SCMP_SYS(link), 0, FILES},
    {SCMP_SYS(linkat), 1, FILES}, {SCMP_SYS(symlink), 1, FILES}, {SCMP_SYS(symlinkat), 2, FILES},
    {SCMP_SYS(chmod), 0, FILES}, {SCMP_SYS(fchmodat), 1, FILES}, {SCMP_SYS(chown), 0, FILES},
    {SCMP_SYS(lchown), 0, FILES}, {SCMP_SYS(fchownat), 1, FILES}, {SCMP_SYS(truncate), 0, FILES},
    {SCMP_SYS(mknod), 0, FILES}, {SCMP_SYS(mknodat), 1, FILES}, {SCMP_SYS(utimes), 0, FILES},
    {SCMP_SYS(utimensat), 1, FILES}, {SCMP_SYS(setxattr), 0, FILES}, {SCMP_SYS(removexattr), 0, FILES},
    {SCMP_SYS(socket), -1, NET}, {SCMP_SYS(socketpair), -1, NET}, {SCMP_SYS(connect), -1, NET},
    {SCMP_SYS(bind), -1, NET}, {SCMP_SYS(listen), -1, NET}, {SCMP_SYS(accept), -1, NET},
    {SCMP_SYS(accept4), -1, NET},
    {SCMP_SYS(execve), 0, PROCS}, {SCMP_SYS(execveat), 1, PROCS}, {SCMP_SYS(fork), -1, PROCS},
    {SCMP_SYS(vfork), -1, PROCS}, {SCMP_SYS(clone), -1, "makes a process (clone without CLONE_THREAD)"},
    {SCMP_SYS(kill), -1, "signals another process"}, {SCMP_SYS(tgkill), -1, "signals another process"},
    {SCMP_SYS(tkill), -1, "signals a thread by id (tkill)"}, {SCMP_SYS(rt_sigqueueinfo), -1, "signals another process"},
    {SCMP_SYS(rt_tgsigqueueinfo), -1, "signals another process"}, {SCMP_SYS(pidfd_open), -1, SIGNALS},
    {SCMP_SYS(pidfd_send_signal), -1, SIGNALS}, {SCMP_SYS(pidfd_getfd), -1, SIGNALS},
    {SCMP_SYS(ptrace), -1, SIGNALS}, {SCMP_SYS(process_vm_readv), -1, SIGNALS},
    {SCMP_SYS(process_vm_writev), -1, SIGNALS}, {SCMP_SYS(kcmp), -1, SIGNALS},
    {SCMP_SYS(io_uring_setup), -1, "sets up io_uring (which would open files past the filter)"},
    {SCMP_SYS(mount), 1, ADMIN}, {SCMP_SYS(umount2), 0, ADMIN}, {SCMP_SYS(pivot_root), 0, ADMIN},
    {SCMP_SYS(chroot), 0, ADMIN}, {SCMP_SYS(swapon), 0, ADMIN}, {SCMP_SYS(swapoff), 0, ADMIN},
    {SCMP_SYS(reboot), -1, ADMIN}, {SCMP_SYS(kexec_load), -1, ADMIN}, {SCMP_SYS(kexec_file_load), -1, ADMIN},
    {SCMP_SYS(init_module), -1, ADMIN}, {SCMP_SYS(finit_module), -1, ADMIN}, {SCMP_SYS(delete_module), -1, ADMIN},
    {SCMP_SYS(settimeofday), -1, ADMIN}, {SCMP_SYS(clock_settime), -1, ADMIN}, {SCMP_SYS(sethostname), -1, ADMIN},
    {SCMP_SYS(setdomainname), -1, ADMIN}, {SCMP_SYS(bpf), -1, ADMIN}, {SCMP_SYS(perf_event_open), -1, ADMIN},
};
#define TABLE_COUNT (sizeof table / sizeof table[0])

static const refused *find(int nr)
{
    for (size_t i = 0; i < TABLE_COUNT; i++)
        if (table[i].nr == nr && nr >= 0) return &table[i];
    return NULL;
}

/* The arguments of the interrupted call, from the signal's context. */
static void arguments(void *context, uint64_t args[6])
{
    ucontext_t *uc = context;
#if defined(__x86_64__)
    const greg_t *g = uc->uc_mcontext.gregs;
    uint64_t a[6] = {(uint64_t)g[REG_RDI], (uint64_t)g[REG_RSI], (uint64_t)g[REG_RDX],
                     (uint64_t)g[REG_R10], (uint64_t)g[REG_R8],  (uint64_t)g[REG_R9]};
#elif defined(__aarch64__)
    const unsigned long long *r = uc->uc_mcontext.regs;
    uint64_t a[6] = {r[0], r[1], r[2], r[3], r[4], r[5]};
#else
    (void)uc;
    uint64_t a[6] = {0, 0, 0, 0, 0, 0};
#endif
    memcpy(args, a, sizeof a);
}

/* SIGSYS from the filter: publish the call and end the child. Only stores and the
 * exit_group system call (which the filter allows). */
static void on_refused(int signal, siginfo_t *info, void *context)
{
    (void)signal;
    hl_watch *w = armed;
    if (w) {
        uint64_t args[6];
        arguments(context, args);
        for (int i = 0; i < 6; i++) w->refused_args[i] = args[i];
        w->refused = info->si_syscall + 1; /* before the path: a bad pointer still leaves the call */
        const refused *r = find(info->si_syscall);
        if (r && r->path_arg >= 0 && args[r->path_arg]) {
            const char *path = (const char *)(uintptr_t)args[r->path_arg];
            size_t i = 0;
            for (; i + 1 < sizeof w->refused_path && path[i]; i++) w->refused_path[i] = path[i];
            w->refused_path[i] = '\0';
        }
        w->beat++;
    }
    syscall(SYS_exit_group, 128 + SIGSYS);
}

static int add(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned count, const struct scmp_arg_cmp *cmp)
{
    if (nr < 0) return 0; /* not a system call on this architecture */
    return seccomp_rule_add_array(ctx, action, nr, count, cmp);
}

/* One argument comparison (libseccomp's SCMP_A* macros leave datum_b implicit). */
static struct scmp_arg_cmp compare(unsigned arg, enum scmp_compare op, uint64_t a, uint64_t b)
{
    return (struct scmp_arg_cmp){.arg = arg, .op = op, .datum_a = a, .datum_b = b};
}

/* The filter for a child whose process id is self. 0, or a negative errno. */
static int build(scmp_filter_ctx ctx, pid_t self)
{
    int rc = 0;
    const uint32_t trap = SCMP_ACT_TRAP;
    /* opens that write or create: one rule per flag (the rules of a call are or-ed) */
    static const uint64_t writing[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC};
    for (size_t i = 0; i < sizeof writing / sizeof writing[0]; i++) {
        struct scmp_arg_cmp open_flags = compare(1, SCMP_CMP_MASKED_EQ, writing[i], writing[i]);
        struct scmp_arg_cmp openat_flags = compare(2, SCMP_CMP_MASKED_EQ, writing[i], writing[i]);
        rc = rc ? rc : add(ctx, trap, SCMP_SYS(open), 1, &open_flags);
        rc = rc ? rc : add(ctx, trap, SCMP_SYS(openat), 1, &openat_flags);
    }
    /* processes: clone for a thread only */
    struct scmp_arg_cmp not_thread = compare(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
    rc = rc ? rc : add(ctx, trap, SCMP_SYS(clone), 1, &not_thread);
    rc = rc ? rc : add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
    /* signals: to itself only, by its process id (raise and abort use tgkill with it;
     * 0, its process group, is refused too: libseccomp cannot test one argument twice) */
    struct scmp_arg_cmp other = compare(0, SCMP_CMP_NE, (uint64_t)self, 0);
    rc = rc ? rc : add(ctx, trap, SCMP_SYS(kill), 1, &other);
    rc = rc ? rc : add(ctx, trap, SCMP_SYS(tgkill), 1, &other);
    rc = rc ? rc : add(ctx, trap, SCMP_SYS(rt_sigqueueinfo), 1, &other);
    rc = rc ? rc : add(ctx, trap, SCMP_SYS(rt_tgsigqueueinfo), 1, &other);
    /* everything else in the table: always */
    for (size_t i = 0; i < TABLE_COUNT && !rc; i++) {
        int nr = table[i].nr;
        if (nr == SCMP_SYS(open) || nr == SCMP_SYS(openat) || nr == SCMP_SYS(clone) || nr == SCMP_SYS(kill) ||
            nr == SCMP_SYS(tgkill) || nr == SCMP_SYS(rt_sigqueueinfo) || nr == SCMP_SYS(rt_tgsigqueueinfo))
            continue;
        rc = add(ctx, trap, nr, 0, NULL);
    }
    return rc;
}

static int install(void)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) return -ENOMEM;
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1); /* threads the child already has */
    if (rc == 0) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1); /* not every kernel knows it */
    if (rc == 0) rc = build(ctx, getpid());
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_refused;
    action.sa_flags = SA_SIGINFO;
    sigfillset(&action.sa_mask);
    if (rc == 0 && sigaction(SIGSYS, &action, NULL) != 0) rc = -errno;
    if (rc == 0) rc = seccomp_load(ctx);
    seccomp_release(ctx);
    return rc;
}

hl_sandbox_state hl_sandbox_enter(void)
{
    hl_watch *w = armed;
    hl_sandbox_state state;
    if (installed) state = HL_SANDBOX_ON;
    else if (!w) return HL_SANDBOX_NONE; /* not in an isolated child: nothing to report to */
    else if (disabled) state = HL_SANDBOX_OFF;
    else {
        int rc = install();
        installed = rc == 0;
        state = installed ? HL_SANDBOX_ON : HL_SANDBOX_UNAVAILABLE;
        if (!installed) w->sandbox_errno = -rc;
    }
    if (w) w->sandbox = state;
    return state;
}

void hl_sandbox_why(hl_sandbox_state state, uint32_t error, char *out, size_t capacity)
{
    switch (state) {
    case HL_SANDBOX_ON: snprintf(out, capacity, "a seccomp filter"); break;
    case HL_SANDBOX_OFF: snprintf(out, capacity, "--no-sandbox"); break;
    case HL_SANDBOX_UNAVAILABLE:
        snprintf(out, capacity, "a seccomp filter cannot be installed here: %s", strerror((int)error));
        break;
    default: snprintf(out, capacity, "its code never started, so whether it would run sandboxed is not known"); break;
    }
}

void hl_sandbox_describe(const hl_watch *watch, char *out, size_t capacity)
{
    int nr = (int)watch->refused - 1;
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    const refused *r = find(nr);
    char detail[200] = "";
    if (r && r->path_arg >= 0 && watch->refused_path[0])
        snprintf(detail, sizeof detail, " \"%s\"", (const char *)watch->refused_path);
    if (nr == SCMP_SYS(open) || nr == SCMP_SYS(openat))
        snprintf(detail + strlen(detail), sizeof detail - strlen(detail), " flags 0x%" PRIx64,
                 watch->refused_args[nr == SCMP_SYS(open) ? 1 : 2]);
    else if (nr == SCMP_SYS(kill) || nr == SCMP_SYS(tgkill) || nr == SCMP_SYS(rt_sigqueueinfo) ||
             nr == SCMP_SYS(rt_tgsigqueueinfo))
        snprintf(detail + strlen(detail), sizeof detail - strlen(detail), " pid %" PRId64,
                 (int64_t)(int32_t)watch->refused_args[0]);
    else if (nr == SCMP_SYS(clone))
        snprintf(detail + strlen(detail), sizeof detail - strlen(detail), " flags 0x%" PRIx64, watch->refused_args[0]);
    snprintf(out, capacity, "system call %s%s: it %s, which heaplab's sandbox refuses (--no-sandbox runs it unconfined)",
             name ? name : "?", detail, r ? r->what : "is refused");
    free(name);
}
