/* hl_isolate.h: what a run reports (findings, detections) and the one isolation
 * primitive every command runs backends through (run/isolate.c). Part of run/'s
 * interface: hl_run.h includes it. */
#ifndef HL_ISOLATE_H
#define HL_ISOLATE_H

#include "hl_trace.h"

/* ================================================================ findings */

/* A finding: which rule broke, where, and the reproducer written for it. */
typedef struct hl_finding {
    hl_rule rule;
    uint64_t index;       /* operation index (0-based) */
    uint64_t line;        /* its source line (text) or byte offset (binary) */
    bool has_other;       /* the finding involves a second block (OVERLAP) */
    uint64_t other_id;
    bool teardown;        /* it came while the leftover blocks were freed (index: the
                             stream's length), freeing block teardown_id */
    uint64_t teardown_id;
    char message[600];    /* one line, without the location prefix */
} hl_finding;

/* A declared misuse detection that fired as the contract says: a pass, kept so a run
 * can show what the backend caught (which block, where, what). */
typedef struct hl_detection {
    uint64_t index;   /* operation index */
    uint64_t line;    /* its source line or byte offset */
    hl_error kind;    /* INVALID_POINTER ... USE_AFTER_FREE */
    uint64_t block;   /* the trace's block id */
    int64_t offset;   /* access misuse: the byte accessed, from the block's start */
    uint8_t op_kind;  /* the operation's hl_op_kind */
} hl_detection;
#define HL_DETECTIONS_KEPT 32

/* ================================================================ isolation */

/* Where a run is: what an isolated child publishes as it goes (run/isolate.c), so a
 * death or a silence can be named. */
typedef enum hl_phase {
    HL_PHASE_SETUP,    /* making the instances */
    HL_PHASE_STREAM,   /* stepping operations: op is the operation in flight */
    HL_PHASE_END,      /* the observers' final checks (op: the stream's length) */
    HL_PHASE_TEARDOWN, /* freeing the leftover blocks in id order: block is in flight */
    HL_PHASE_DONE
} hl_phase;

typedef struct hl_watch {
    volatile uint64_t beat;      /* moves with every step: the hang timer's progress */
    volatile uint64_t op;        /* the operation index in flight (0-based) */
    volatile uint64_t block;     /* teardown: the block id being freed */
    volatile uint64_t completed; /* operations completed, for progress lines */
    volatile uint32_t lane;      /* which lane's backend is being called */
    volatile uint32_t phase;     /* hl_phase */
    volatile uint32_t published; /* the result area holds a complete answer (teardown
                                    may still crash after it) */
    volatile uint32_t sandbox;   /* hl_sandbox_state: set when code from outside the tree
                                    is about to load in the child (hl_sandbox_enter) */
    volatile uint32_t sandbox_errno; /* HL_SANDBOX_UNAVAILABLE: why seccomp_load failed */
    volatile int32_t refused;    /* 0, or 1 + the number of the system call the sandbox
                                    refused (the child ended there: a SANDBOX finding) */
    volatile uint64_t refused_args[6];
    volatile char refused_path[128]; /* the call's path argument, if it has one */
} hl_watch;

/* Marks lane about to step operation op (watch may be NULL: not isolated). */
void hl_watch_step(hl_watch *watch, uint32_t lane, uint64_t op);
void hl_watch_phase(hl_watch *watch, hl_phase phase);

typedef enum hl_isolated_end {
    HL_ISOLATED_RETURNED, /* the body returned; the result area holds its answer */
    HL_ISOLATED_CRASHED,  /* the child died of a signal */
    HL_ISOLATED_EXITED,   /* the child exited or stopped before the body returned */
    HL_ISOLATED_HUNG,     /* its watch did not move for the timeout: killed */
    HL_ISOLATED_STOPPED,  /* the caller's stop hook asked for the end: killed */
    HL_ISOLATED_INTERRUPTED, /* heaplab was interrupted (hl_interrupted): killed */
    HL_ISOLATED_FAILED    /* no child could be made (error says why) */
} hl_isolated_end;

typedef struct hl_isolation {
    double timeout; /* seconds without a beat before the child is a HANG; 0: never */
    /* if set, called about once a second from the parent with the child's watch */
    void (*tick)(void *context, const hl_watch *watch);
    /* if set, asked at every poll (about every millisecond): true kills the child */
    bool (*stop)(void *context, const hl_watch *watch);
    void *context;
    /* the parent's poll period in milliseconds; 0: 1 ms. A timed run asks for a long
     * one: a parent waking every millisecond on the child's core takes its time */
    long poll_ms;
} hl_isolation;

/* How an isolated body ended, and where the child was (its last watch). */
typedef struct hl_isolated {
    hl_isolated_end end;
    int signal;      /* CRASHED: the signal; EXITED with stopped: the stop signal */
    int status;      /* EXITED: the exit status */
    bool stopped;
    bool published;  /* the body published its answer before the child ended:
                        result was copied back */
    hl_watch watch;
    char error[200]; /* FAILED */
} hl_isolated;

/* Runs body(context, watch, result) in a forked child, its own process group, with
 * watch and a copy of the result_size bytes at result in memory shared with this
 * process. The body publishes where it is through the watch (hl_watch_step) and
 * leaves its answer in result (setting watch->published once it is complete, if
 * it has more to do after that). Returns the body's return value with result copied
 * back when it returned; else -1 with out->end saying how the child ended (the
 * process group is killed in every case), result copied back only if published. Used by every
 * command that runs a backend out of process; never inside a fuzzing engine's
 * target (the engine isolates). */
int hl_isolate(int (*body)(void *context, hl_watch *watch, void *result), void *context, void *result,
               size_t result_size, const hl_isolation *options, hl_isolated *out);
/* The CRASH or HANG finding for an isolated run that did not return, naming backend
 * (the lane's) and the operation (index) or, in teardown, the block being freed. */
void hl_isolated_finding(const hl_isolated *out, const char *backend, double timeout, hl_finding *f);

/* ================================================================ sandbox */

/* Code from outside the tree (a contract plugin, a malloc-style library) runs only in
 * an isolated child, and there under a seccomp filter installed just before it is
 * loaded (run/sandbox.c says what it refuses and why). A refused system call ends the
 * child and becomes the finding SANDBOX naming the call (hl_isolated_finding). */
typedef enum hl_sandbox_state {
    HL_SANDBOX_NONE,        /* no code from outside the tree ran in the child */
    HL_SANDBOX_ON,          /* it ran under the filter */
    HL_SANDBOX_OFF,         /* --no-sandbox: it ran unconfined */
    HL_SANDBOX_UNAVAILABLE  /* the filter could not be installed: it ran unconfined */
} hl_sandbox_state;
/* --no-sandbox: no filter in this process's children from now on. */
void hl_sandbox_disable(void);
bool hl_sandbox_disabled(void);
/* Called by hl_isolate in its child: the watch a refusal is published in. */
void hl_sandbox_arm(hl_watch *watch);
/* Before code from outside the tree loads (hl_spec_create): in an isolated child,
 * installs the filter once (later calls change nothing) unless disabled, and records
 * the state in the child's watch. Outside an isolated child (a fuzzing engine's
 * target) it does nothing and returns HL_SANDBOX_NONE. */
hl_sandbox_state hl_sandbox_enter(void);
/* Why a child ran as it did (its watch's sandbox and sandbox_errno), one line:
 * "a seccomp filter", "--no-sandbox", "a seccomp filter cannot be installed here: ...". */
void hl_sandbox_why(hl_sandbox_state state, uint32_t error, char *out, size_t capacity);
/* The refused call of a watch with refused != 0, one line: its name, path or flags,
 * and what it would have done. */
void hl_sandbox_describe(const hl_watch *watch, char *out, size_t capacity);

/* ================================================================ interruption */

/* Ctrl-C (SIGINT) and SIGTERM end heaplab and everything it started, leaving nothing
 * half-written (isolate.c; README "Interrupting heaplab"). Once hl_interrupt_install
 * has run (main, for every command but record, whose program gets the terminal's
 * signals itself):
 *   - every process heaplab forks gets PR_SET_PDEATHSIG, so it ends when heaplab ends,
 *     even by SIGKILL: an isolated child (whose process group holds whatever the
 *     backend forked) SIGKILL, any other SIGTERM (a forked heaplab, a fuzzing job, ends
 *     its own children in turn; the report's renderer ends);
 *   - a signal ends heaplab at once: the process groups being watched
 *     (hl_interrupt_watch) are killed with SIGKILL, the scratch folder
 *     (hl_interrupt_scratch) is removed, one line says so on stderr, and heaplab exits
 *     with status 128 + the signal (130 for SIGINT, 143 for SIGTERM);
 *   - except in graceful mode (hl_interrupt_graceful), where the first signal is only
 *     noted (hl_interrupted): an isolated run in progress is killed and ends
 *     HL_ISOLATED_INTERRUPTED, later ones end so without starting, and the command
 *     finishes with what it has; a second signal ends heaplab at once as above.
 * The child of any fork starts with nothing watched, no scratch folder, not graceful
 * and not interrupted. */
void hl_interrupt_install(void);
/* On or off; a signal noted while on stays noted. */
void hl_interrupt_graceful(bool on);
/* 0, or the signal noted in graceful mode (SIGINT or SIGTERM). */
int hl_interrupted(void);
/* Watches process group `group` (a child made its group's leader) until unwatched;
 * at most 16 at once (more are not watched: their PR_SET_PDEATHSIG still ends them). */
void hl_interrupt_watch(int group);
void hl_interrupt_unwatch(int group);
/* The folder (at most PATH_MAX bytes) removed with everything in it if a signal ends
 * heaplab, `final` the name it was being built for (named in the message); NULL: none.
 * The strings are copied. */
void hl_interrupt_scratch(const char *folder, const char *final);
/* Removes folder and everything in it, 16 levels of folders deep at most (what lies
 * deeper stays, and so do the folders holding it); symbolic links are removed, never
 * followed. Async-signal-safe (the signal handler uses it). Returns 0 (also when folder
 * is not there), or an errno value for the first thing it could not remove (it goes on
 * with the rest). */
int hl_remove_tree(const char *folder);

#endif /* HL_ISOLATE_H */
