/* fault.c: the fault catcher. A raw access that the backend's page protection makes
 * fault (guard's guard pages and quarantined pages) becomes a returned value instead
 * of the end of heaplab: hl_fault_run arms a SIGSEGV/SIGBUS handler that jumps back
 * out of the access with the faulting address. A fault outside an armed access is a
 * real crash: the handler puts the default action back and returns, the access
 * faults again, and the process dies as it would have (--isolate reports it).
 *
 * Off in sanitizer and fuzzer builds, whose runtimes own these signals (ASan reports
 * the SEGV itself; libFuzzer saves the input): there hl_fault_available is false and
 * a backend that detects access misuse by faulting does not declare it. */
#include "hl_run.h"

#include <setjmp.h>
#include <signal.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__) || defined(HL_NO_FAULT_CATCHER)
#define CATCHER 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define CATCHER 0
#endif
#endif
#ifndef CATCHER
#define CATCHER 1
#endif

bool hl_fault_available(void) { return CATCHER; }

#if !CATCHER
/* In sanitizer builds a backend's request ASan cannot serve (libc's malloc of 2^40
 * bytes) is OUT_OF_MEMORY, as it is without ASan, not an ASan abort. This file is
 * linked into every heaplab binary, so its definition overrides the runtime's. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
#endif

#if CATCHER
static sigjmp_buf *volatile armed; /* the access in flight, or NULL */
static volatile uintptr_t fault_address;
static bool installed;

static void on_fault(int sig, siginfo_t *info, void *context)
{
    (void)context;
    if (armed) {
        fault_address = (uintptr_t)info->si_addr;
        sigjmp_buf *env = armed;
        armed = NULL;
        siglongjmp(*env, 1);
    }
    signal(sig, SIG_DFL); /* not ours: fault again with the default action */
}

static void install(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, NULL);
    sigaction(SIGBUS, &action, NULL);
    installed = true;
}

bool hl_fault_run(void (*access)(void *context), void *context, uintptr_t *at)
{
    if (!installed) install();
    sigjmp_buf env;
    /* the mask is not saved: the handler runs with it unchanged (SA_NODEFER, an empty
     * sa_mask), so there is nothing to restore, and saving it cost a sigprocmask
     * system call for every pattern written or read on a faulting backend */
    if (sigsetjmp(env, 0)) {
        if (at) *at = fault_address;
        return false;
    }
    armed = &env;
    access(context);
    armed = NULL;
    return true;
}
#else
bool hl_fault_run(void (*access)(void *context), void *context, uintptr_t *at)
{
    (void)at;
    access(context);
    return true;
}
#endif
