/* fault.c: the run shim's fault catcher. A SIGSEGV or SIGBUS is looked at once:
 *   - inside the shim (the backend's own code faulted): the backend's CRASH at the
 *     call in flight;
 *   - at an address of the backend's memory: the program's access past a block, before
 *     it or into a freed one, which guard's guard pages and quarantine make fault
 *     (hl_serve_fault names the block, its size and the offset);
 *   - anywhere else: not ours. The default action is put back and the handler
 *     returns: the access faults again and the program dies as it would have.
 * Another thread may be inside a call when the fault comes: the report waits up to
 * about 100 ms for the lock, so it reads the tables whole. A fault while reporting
 * one (tables caught mid-change) gives up: the program dies of it.
 * A program that installs its own handler later replaces this one (it owns its
 * signals); the shim does not fight it. */
#include "hl_shim.h"

#include <signal.h>
#include <ucontext.h>

static void on_fault(int sig, siginfo_t *info, void *context)
{
    uintptr_t addr = (uintptr_t)info->si_addr, pc = 0;
#if defined(__x86_64__)
    pc = (uintptr_t)((ucontext_t *)context)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    pc = (uintptr_t)((ucontext_t *)context)->uc_mcontext.pc;
#else
    (void)context;
#endif
    static volatile sig_atomic_t reporting; /* a fault while one is being reported: give up */
    if (reporting) {
        signal(sig, SIG_DFL);
        return;
    }
    reporting = 1;
    if (hl_shim_inside()) hl_serve_crash(sig, addr);
    hl_shim_quiesce(); /* never released: the process ends with the report, or of the fault */
    hl_serve_fault(addr, pc);
    signal(sig, SIG_DFL); /* not the backend's memory: fault again with the default action */
}

void hl_shim_catch_faults(void)
{
    struct sigaction action = {.sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER};
    sigemptyset(&action.sa_mask);
    const int faults[] = {SIGSEGV, SIGBUS};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) sigaction(faults[i], &action, NULL);
}
