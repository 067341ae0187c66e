/* hl_shim.h: the run shim (libheaplab-serve.so, `heaplab run`): what the driver
 * (cli/cmd_run.c) and the shim agree on, and the serving core's interface to the
 * shim's entry points (preload.c) and its fault catcher (fault.c).
 *
 * The shim serves a program's whole malloc family from one instance of one backend,
 * stepped through the run layer's one executor (a lane fed by the program's calls,
 * hl_lanes.h): the calls become operations (alloc, free, realloc, usable and the
 * free misuse kinds), so `--check` is the shadow model watching that lane with what
 * applies to memory the program owns (no patterns, no contents), and a finding's
 * reproducer is the operations so far, a trace like any other.
 *
 * Depends on check/ (the shadow, reproducer metadata), run/ (specs, lanes), trace/,
 * core/ and the contract. */
#ifndef HL_SHIM_H
#define HL_SHIM_H

#include "hl_check.h"

#include <stdint.h>

/* ---------------------------------------------------------------- the driver's side */

/* The environment `heaplab run` gives the program (and the programs it starts). */
#define HL_SHIM_ENV_BACKEND "HEAPLAB_RUN_BACKEND"   /* the backend spec, as given */
#define HL_SHIM_ENV_CHECK "HEAPLAB_RUN_CHECK"       /* unset: no checks; else the check period
                                                       (hl_check_every_name's text) */
#define HL_SHIM_ENV_ON_LIMIT "HEAPLAB_RUN_ON_LIMIT" /* "stop" (the default) or "null" */
#define HL_SHIM_ENV_REPORTS "HEAPLAB_RUN_REPORTS"   /* folder: each process writes PID.report */
#define HL_SHIM_ENV_FINDINGS "HEAPLAB_RUN_FINDINGS" /* folder for reproducers */
/* The status a process the shim ended exits with (its report says why). */
#define HL_SHIM_EXIT 86

/* A report (REPORTS/PID.report): lines "key=value", key one of
 *   kind       clean | finding | misuse | fault | limit | setup
 *   program    the process's command line (cut to 200 bytes)
 *   calls      the operations it stepped
 *   message    one line: what happened (for all but clean)
 *   reproducer the reproducer trace written (findings and misuse, with --check)
 * An image writes one when it starts serving (clean, calls 0), again at a normal exit
 * (clean, its calls) and replaces it with any other kind when the shim ends it. The driver prints each message and takes its exit status from the
 * kinds (finding, misuse, fault: 1; limit, setup: 2). */

/* ---------------------------------------------------------------- the serving core */

/* Every function below runs under the shim's one lock (preload.c), on a thread that
 * is not already inside the shim. */

/* Makes the instance named by the environment. Returns false when there is nothing to
 * serve from (HL_SHIM_ENV_BACKEND unset: the program runs on the real malloc); a spec
 * that cannot be made ends the process with a setup report. */
bool hl_serve_start(void);
/* A block of size bytes aligned to align (a power of two) for the program, or NULL
 * with errno ENOMEM (a request no backend could serve, or a limit reached with
 * on-limit null) or EINVAL (align is refused by the contract). zero: calloc's zeroing.
 * what names the C call in messages ("malloc", "calloc", ...). */
void *hl_serve_alloc(size_t size, size_t align, bool zero, const char *what);
/* Frees p when it is the backend's memory: true. false: p is not (a pointer from
 * before the shim took over, or one the real malloc served): the caller passes it on. */
bool hl_serve_free(void *p);
/* realloc of p, the backend's: true with *out (NULL with errno on failure, p intact).
 * false: p is not the backend's. size 0 frees p (glibc's realloc) and *out is NULL. */
bool hl_serve_realloc(void *p, size_t size, void **out);
/* malloc_usable_size of p, the backend's: true with *out. */
bool hl_serve_usable(void *p, size_t *out);
/* The process is exiting normally: the final checks (with --check) and the report. */
void hl_serve_exit(void);
/* In a forked child, before it runs on: its own report and reproducer names. */
void hl_serve_forked(void);

/* A fault at addr (the faulting instruction at pc) in a signal handler: when addr is
 * the backend's memory, reports the access (OVERFLOW, UNDERFLOW or USE_AFTER_FREE of a
 * block, with its size and the offset) and ends the process; otherwise returns. May
 * be called without the lock (the faulting thread may hold it). */
void hl_serve_fault(uintptr_t addr, uintptr_t pc);
/* A fault while the faulting thread was inside the shim (the backend's own code):
 * reports the backend's CRASH at the call in flight and ends the process. */
__attribute__((noreturn)) void hl_serve_crash(int sig, uintptr_t addr);
/* Installs the SIGSEGV/SIGBUS catcher (fault.c) that calls hl_serve_crash or
 * hl_serve_fault. */
void hl_shim_catch_faults(void);
/* True while this thread runs shim code (preload.c): its own calls go to the real
 * malloc, and a fault is the backend's. */
bool hl_shim_inside(void);
/* For a fault's report, on a thread outside the shim: marks the thread inside (what
 * the report allocates comes from the real malloc) and takes the lock when no other
 * thread's call is in flight within about 100 ms (true), so the tables are read whole;
 * false: read them as they are. The process ends after the report either way. */
bool hl_shim_quiesce(void);

#endif /* HL_SHIM_H */
