/* serve.c: the run shim's serving core (hl_shim.h). One instance of the backend the
 * environment names, one lane over it (hl_lanes.h), and the program's calls stepped
 * through that lane as operations: each block the program holds is a block id, its
 * host address the key of `live`.
 *
 *   - Ids: a freed block's id is used again (the block map keeps an entry per id, so
 *     a long run's bookkeeping follows its live blocks, not its calls); with --check
 *     only after 65536 later frees, so a double free of a block freed since still
 *     names it (and the DOUBLE_FREE operation goes to the backend when it declares the
 *     kind, the shadow judging the answer).
 *   - --check: the shadow model on the lane, untouched (no patterns written, no
 *     contents read: the bytes are the program's), with the backend's heap check paced
 *     or every N calls and once at exit; every call kept as an operation (64 bytes,
 *     up to LOG_MAX) for the reproducer.
 *   - Limits: a refusal of a request the machine could serve (CAPACITY, the memory
 *     source used up, an alignment the backend does not serve) ends the program with a
 *     report naming the limit (on-limit null: the call returns NULL with ENOMEM, as a
 *     malloc out of memory does); a request larger than the machine's memory gets NULL
 *     with ENOMEM as it would from glibc.
 *   - Bookkeeping memory is heaplab's private arena (core/), never the backend's. */
#include "hl_shim.h"
#include "hl_lanes.h"
#include "hl_source.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ID_DELAY 65536u           /* --check: frees before a freed block's id is used again */
#define LOG_MAX ((size_t)1 << 24) /* --check: operations kept for the reproducer */
#define RECENT 1024u              /* the latest frees, for a fault's "freed block" */

typedef struct spare {
    uint64_t id;
    uintptr_t host; /* where the block was */
} spare;

typedef struct recent_free {
    uintptr_t host;
    uint64_t size, id, call;
    bool moved; /* left by a realloc that moved the block */
} recent_free;

static struct {
    bool started;
    hl_spec spec;
    hl_lanes *lanes;
    hl_lane *lane;
    hl_exec *exec;
    hl_info info;
    hl_shadow *shadow;
    uint64_t check_every;
    bool check, on_limit_null;
    bool linear;      /* addresses are offsets: host = addr + delta */
    bool delta_known;
    uintptr_t delta;
    size_t page;
    uint64_t machine_bytes; /* a request larger than this gets NULL, as from glibc (hl_os_memory) */
    hl_u64map live;   /* host pointer -> id */
    hl_u64map freed;  /* --check: host pointer -> id of the block freed there last */
    spare *spares;    /* freed ids, oldest first (a ring) */
    size_t spare_head, spare_count, spare_capacity;
    uint64_t next_id;
    uint64_t calls;       /* operations stepped: the next one's index */
    uint64_t calls_before; /* a forked child: the parent's, before the fork */
    hl_trace log;     /* --check: the operations so far */
    bool log_full;
    recent_free recent[RECENT];
    unsigned recent_next;
} S;

/* ---------------------------------------------------------------- reports */

/* The process's command line, spaces for NULs, cut to fit. */
static void program_line(char *out, size_t capacity)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, out, capacity - 1) : -1;
    if (fd >= 0) close(fd);
    if (n < 0) n = 0;
    for (ssize_t i = 0; i < n; i++)
        if (out[i] == '\0' || out[i] == '\n') out[i] = ' ';
    while (n > 0 && out[n - 1] == ' ') n--;
    out[n] = '\0';
}

/* This image's report file (hl_shim.h): PID.report, or PID.N.report for the N-th image
 * exec'd in one process (exec keeps the pid); chosen at its first write. */
static char report_path[4096];

static int open_report(void)
{
    const char *dir = getenv(HL_SHIM_ENV_REPORTS);
    if (!dir) return -1;
    if (report_path[0]) return open(report_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    for (int n = 0; n < 1000; n++) {
        if (n) snprintf(report_path, sizeof report_path, "%s/%d.%d.report", dir, (int)getpid(), n);
        else snprintf(report_path, sizeof report_path, "%s/%d.report", dir, (int)getpid());
        int fd = open(report_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

/* Writes this image's report: whole, with one write. */
static void write_report(const char *kind, const char *message, const char *reproducer)
{
    static char text[4096], program[256];
    program_line(program, sizeof program);
    int n = snprintf(text, sizeof text, "kind=%s\nprogram=%s\ncalls=%" PRIu64 "\n", kind, program,
                     S.calls - S.calls_before);
    if (message && n < (int)sizeof text) n += snprintf(text + n, sizeof text - (size_t)n, "message=%s\n", message);
    if (reproducer && n < (int)sizeof text)
        n += snprintf(text + n, sizeof text - (size_t)n, "reproducer=%s\n", reproducer);
    if (n > (int)sizeof text - 1) n = (int)sizeof text - 1;
    int fd = open_report();
    if (fd >= 0) {
        if (write(fd, text, (size_t)n) != n) { /* the driver then has no report of this process */ }
        close(fd);
    }
    if (message && fd < 0) { /* no driver to tell: say it here */
        n = snprintf(text, sizeof text, "heaplab run: %s\n", message);
        if (write(STDERR_FILENO, text, (size_t)(n < (int)sizeof text ? n : (int)sizeof text - 1)) < 0) {}
    }
}

/* Writes the operations so far as a reproducer (with --check), its metadata naming
 * the backend, the rule and the call (rule HL_RULE_COUNT: the program's misuse, which
 * breaks no rule: its last operation shows it); the path into out, or "" when none. */
static void write_reproducer(const char *name, hl_rule rule, uint64_t index, char *out, size_t capacity)
{
    out[0] = '\0';
    const char *dir = getenv(HL_SHIM_ENV_FINDINGS);
    if (!S.check || S.log_full || !dir) return;
    char source[300], program[200];
    program_line(program, sizeof program);
    snprintf(source, sizeof source, "heaplab run: %s (pid %d)", program, (int)getpid());
    if (rule < HL_RULE_COUNT) {
        hl_repro_label(&S.log, &S.spec, 1, rule, index, source, S.check_every);
    } else {
        hl_trace_set_meta(&S.log, "heaplab.backend", S.spec.text);
        hl_trace_set_meta(&S.log, "heaplab.source", source);
        hl_repro_set_check_every(&S.log, S.check_every);
    }
    hl_diag diag;
    if (hl_make_folder(dir) != 0) return;
    snprintf(out, capacity, "%s/run-%s-%s-%d.trace", dir, S.spec.backend->name, name, (int)getpid());
    if (hl_trace_write(&S.log, HL_TRACE_TEXT, out, &diag) != 0) out[0] = '\0';
}

/* Ends the process: the report, then _exit (no atexit handler of the program runs: its
 * heap is not to be trusted any more). */
/* name: the rule's or the misuse's, for the reproducer's file name. */
__attribute__((noreturn)) static void end_with(const char *kind, const char *name, hl_rule rule, uint64_t index,
                                               const char *fmt, ...)
{
    static char message[1500], reproducer[4096];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    reproducer[0] = '\0';
    if (strcmp(kind, "finding") == 0 || strcmp(kind, "misuse") == 0)
        write_reproducer(name, rule, index, reproducer, sizeof reproducer);
    write_report(kind, message, reproducer[0] ? reproducer : NULL);
    _exit(HL_SHIM_EXIT);
}

/* ---------------------------------------------------------------- stepping */

static const hl_result *step(hl_op *op)
{
    uint64_t index = S.calls++;
    if (S.check && !S.log_full) {
        if (S.log.count >= LOG_MAX) S.log_full = true;
        else hl_trace_push(&S.log, op);
    }
    size_t lane = 0;
    if (hl_lanes_step_from(S.lanes, op, 1, index, 0, &lane) == 1) {
        const hl_finding *f = S.shadow ? hl_shadow_finding(S.shadow) : NULL;
        if (f)
            end_with("finding", hl_rule_name(f->rule), f->rule, f->index, "DIVERGENCE %s: call %" PRIu64 " (%s): %s: %s", S.spec.label, f->index,
                     hl_op_name((hl_op_kind)op->kind), hl_rule_name(f->rule), f->message);
    }
    return &S.lane->last;
}

/* The logged operation just stepped failed with e: the reproducer says so (fail=). */
static void logged_failure(hl_error e)
{
    if (S.check && !S.log_full && S.log.count) S.log.ops[S.log.count - 1].expect_fail = (uint8_t)e;
}

static uint64_t new_id(void)
{
    size_t delay = S.check ? ID_DELAY : 0;
    if (S.spare_count <= delay) return S.next_id++;
    spare s = S.spares[S.spare_head];
    S.spare_head = (S.spare_head + 1) % S.spare_capacity;
    S.spare_count--;
    uint64_t id = 0;
    if (S.check && hl_u64map_find(&S.freed, s.host, &id) && id == s.id) hl_u64map_remove(&S.freed, s.host);
    return s.id;
}

static void spare_id(uint64_t id, uintptr_t host)
{
    if (S.spare_count == S.spare_capacity) { /* grow the ring, oldest first again */
        size_t capacity = S.spare_capacity ? S.spare_capacity * 2 : 4096;
        spare *grown = hl_mem_alloc(capacity * sizeof *grown);
        for (size_t i = 0; i < S.spare_count; i++) grown[i] = S.spares[(S.spare_head + i) % S.spare_capacity];
        hl_mem_free(S.spares);
        S.spares = grown, S.spare_capacity = capacity, S.spare_head = 0;
    }
    S.spares[(S.spare_head + S.spare_count++) % S.spare_capacity] = (spare){id, host};
}

static void remember_free(uintptr_t host, uint64_t size, uint64_t id, bool moved)
{
    S.recent[S.recent_next++ % RECENT] = (recent_free){host, size, id, S.calls - 1, moved};
}

/* ---------------------------------------------------------------- addresses */

static void *host_of(hl_addr addr, size_t size)
{
    if (!S.linear) return (void *)addr;
    if (!S.delta_known) {
        unsigned char *view = hl_exec_view(S.exec, addr, size ? size : 1);
        if (!view) return NULL;
        S.delta = (uintptr_t)view - addr;
        S.delta_known = true;
    }
    return (void *)(addr + S.delta);
}

/* True when p is a byte of the backend's memory. A library's (a foreign class) view
 * is any address: there only the blocks it handed out are known to be its own. */
static bool in_backend(uintptr_t p)
{
    if (S.info.backend_class == HL_CLASS_FOREIGN) return false;
    if (S.linear && (!S.delta_known || p < S.delta)) return false;
    return hl_exec_view(S.exec, p - (S.linear ? S.delta : 0), 1) != NULL;
}

static const hl_block *block_of(uint64_t id) { return hl_blockmap_find(hl_exec_blocks(S.exec), id); }

/* ---------------------------------------------------------------- start */

bool hl_serve_start(void)
{
    if (S.started) return true;
    const char *text = getenv(HL_SHIM_ENV_BACKEND);
    if (!text || !*text) return false;
    S.started = true;
    hl_diag diag;
    if (hl_spec_parse_unprobed(text, &S.spec, &diag) != 0) end_with("setup", NULL, HL_RULE_COUNT, 0, "%s", diag.message);
    const char *check = getenv(HL_SHIM_ENV_CHECK);
    S.check = check != NULL;
    if (S.check && !hl_check_every_parse(check, &S.check_every)) S.check_every = HL_CHECK_PACED;
    const char *limit = getenv(HL_SHIM_ENV_ON_LIMIT);
    S.on_limit_null = limit && strcmp(limit, "null") == 0;
    /* calls never overlap (one lock); no scope operation is ever sent and the instance
     * is never destroyed (so no block outlives a destroy); without --check nothing
     * reads the statistics */
    uint32_t hints = HL_HINT_ONE_THREAD | HL_HINT_CALLER_FREES | (S.check ? 0 : HL_HINT_NO_STATS);
    S.lanes = hl_lanes_open(&S.spec, 1, NULL, 0, true, hints, NULL, &diag);
    if (!S.lanes) end_with("setup", NULL, HL_RULE_COUNT, 0, "%s", diag.message);
    S.lane = hl_lanes_at(S.lanes, 0);
    S.exec = S.lane->exec;
    S.info = *hl_exec_info(S.exec);
    hl_exec_write_patterns(S.exec, false);
    hl_exec_time_calls(S.exec, HL_TIMING_OFF);
    if (S.check) {
        S.shadow = hl_shadow_new(S.check_every);
        hl_shadow_untouched(S.shadow);
        hl_observer observer = hl_shadow_observer(S.shadow);
        hl_exec_observe(S.exec, &observer);
    }
    S.linear = (S.info.features & HL_FEATURE_LINEAR_MEMORY) != 0;
    S.page = (size_t)sysconf(_SC_PAGESIZE);
    S.machine_bytes = hl_os_memory();
    S.next_id = 1;
    hl_shim_catch_faults();
    write_report("clean", NULL, NULL); /* rewritten at exit: a process that ends with _exit is still counted */
    return true;
}

void hl_serve_forked(void)
{
    report_path[0] = '\0'; /* the child's own report, named by its pid */
    S.calls_before = S.calls;  /* its calls; the indexes go on (the reproducer holds the parent's too) */
}

void hl_serve_exit(void)
{
    if (!S.started) return;
    if (S.check) {
        size_t lane = 0;
        if (hl_lanes_finish(S.lanes, S.calls, &lane)) {
            const hl_finding *f = hl_shadow_finding(S.shadow);
            end_with("finding", hl_rule_name(f->rule), f->rule, f->index, "DIVERGENCE %s: at exit, after %" PRIu64 " calls: %s: %s",
                     S.spec.label, S.calls, hl_rule_name(f->rule), f->message);
        }
    }
    write_report("clean", NULL, NULL);
}

/* ---------------------------------------------------------------- refusals */

static const char *hint_for(hl_error e)
{
    if (e == HL_E_CAPACITY && strcmp(S.spec.backend->name, "guard") == 0)
        return " (guard:sample=N guards one block in N and serves the rest from a bins sub-heap)";
    if (e == HL_E_OUT_OF_MEMORY && S.linear) return " (its linear memory is at max_pages: wasm:max_pages=N raises it)";
    if (e == HL_E_OUT_OF_MEMORY && S.info.source && strcmp(S.info.source, "static") == 0)
        return " (its static buffer is full: size= makes it larger)";
    if (e == HL_E_OUT_OF_MEMORY) return " (its memory source is used up: size= reserves more)";
    return "";
}

/* A backend's refusal of an allocation of size (align) for call what: NULL with errno,
 * or the end of the program at a limit. */
static void *refused(hl_error e, size_t size, size_t align, const char *what)
{
    logged_failure(e);
    errno = ENOMEM;
    if (e == HL_E_INVALID_ARGUMENT || size > S.machine_bytes || S.on_limit_null) return NULL;
    char limit[300] = "";
    if (e == HL_E_CAPACITY)
        snprintf(limit, sizeof limit, "its capacity of %" PRIu64 " live blocks is reached (the program holds %zu)",
                 S.info.max_live_blocks, S.live.count);
    else if (e == HL_E_UNSUPPORTED && align > S.info.max_align)
        snprintf(limit, sizeof limit, "it serves alignments up to %zu", S.info.max_align);
    else if (e == HL_E_OUT_OF_MEMORY)
        snprintf(limit, sizeof limit, "it cannot grow its memory (source %s) for %zu more bytes",
                 S.info.source ? S.info.source : "?", size);
    else
        snprintf(limit, sizeof limit, "%s", hl_error_text(e));
    end_with("limit", NULL, HL_RULE_COUNT, 0,
             "LIMIT %s: call %" PRIu64 ": %s(%zu bytes, align %zu) refused with %s: %s%s; the program was ended here "
             "(--on-limit null returns NULL instead)",
             S.spec.label, S.calls - 1, what, size, align, hl_error_name(e), limit, hint_for(e));
}

/* ---------------------------------------------------------------- the calls */

void *hl_serve_alloc(size_t size, size_t align, bool zero, const char *what)
{
    uint64_t id = new_id();
    hl_op op = {.kind = HL_OP_ALLOC, .id = id, .size = size, .align = align};
    const hl_result *r = step(&op);
    if (r->error != HL_E_OK || !r->addr) return refused(r->error, size, align, what);
    void *p = host_of(r->addr, size);
    *hl_u64map_put(&S.live, (uintptr_t)p, NULL) = id;
    if (S.check) hl_u64map_remove(&S.freed, (uintptr_t)p);
    if (zero) memset(p, 0, size);
    return p;
}

/* The latest of the recent frees of a block at p, or NULL. */
static const recent_free *recent_at(uintptr_t p)
{
    for (unsigned k = 0; k < RECENT && k < S.recent_next; k++) {
        const recent_free *f = &S.recent[(S.recent_next - 1 - k) % RECENT];
        if (f->host == p) return f;
    }
    return NULL;
}

/* True when p is where a block the backend served was freed (and nothing live is
 * there now): --check remembers every such address, the recent frees the latest. */
static bool freed_here(uintptr_t p)
{
    uint64_t id;
    return (S.check && hl_u64map_find(&S.freed, p, &id)) || recent_at(p);
}

/* True when the program hands back p, which is no live block, and p is the backend's
 * (a block freed before, or an address in its memory): a misuse. */
static bool misused(uintptr_t p) { return freed_here(p) || in_backend(p); }

/* The program handed back p, which is the backend's memory but no live block: a
 * double free (of a block freed here before) or an invalid free. Ends the program. */
__attribute__((noreturn)) static void misuse(uintptr_t p, const char *what)
{
    uint64_t id = 0, call = S.calls;
    if (S.check && hl_u64map_find(&S.freed, p, &id)) {
        const hl_block *b = block_of(id);
        uint64_t size = b ? b->size : 0;
        hl_op op = {.kind = HL_OP_DOUBLE_FREE, .id = id};
        const hl_result *r = step(&op); /* a backend that accepts it is the shadow's MISUSE_MISSED */
        char by[200];
        if (r->skipped) snprintf(by, sizeof by, "%s does not declare DOUBLE_FREE: heaplab's table caught it", S.spec.label);
        else snprintf(by, sizeof by, "%s detected it: %s", S.spec.label, hl_error_name(r->error));
        end_with("misuse", "DOUBLE_FREE", HL_RULE_COUNT, call,
                 "MISUSE %s: call %" PRIu64 " (%s): DOUBLE_FREE: the program freed 0x%" PRIxPTR
                 " again, block id %" PRIu64 " of %" PRIu64 " bytes already freed (%s)",
                 S.spec.label, call, what, p, id, size, by);
    }
    const recent_free *f = recent_at(p);
    if (f)
        end_with("misuse", "DOUBLE_FREE", HL_RULE_COUNT, call,
                 "MISUSE %s: call %" PRIu64 " (%s): DOUBLE_FREE: the program freed 0x%" PRIxPTR
                 " again, a block of %" PRIu64 " bytes %s at call %" PRIu64,
                 S.spec.label, call, what, p, f->size, f->moved ? "that realloc moved away" : "freed", f->call);
    end_with("misuse", "INVALID_POINTER", HL_RULE_COUNT, call,
             "MISUSE %s: call %" PRIu64 " (%s): INVALID_POINTER: the program freed 0x%" PRIxPTR
             ", which lies in %s's memory but is not a block it handed out%s",
             S.spec.label, call, what, p, S.spec.label, S.check ? "" : " (or a block freed long ago)");
}

/* Frees live block id at host p (size bytes). */
static void free_block(uintptr_t p, uint64_t id)
{
    const hl_block *b = block_of(id);
    uint64_t size = b ? b->size : 0;
    hl_op op = {.kind = HL_OP_FREE, .id = id};
    const hl_result *r = step(&op);
    if (r->error != HL_E_OK) /* without --check, or a backend that breaks the contract here */
        end_with("finding", "WRONG_ERROR", HL_RULE_WRONG_ERROR, S.calls - 1,
                 "DIVERGENCE %s: call %" PRIu64 " (free): WRONG_ERROR: the free of live block id %" PRIu64
                 " at 0x%" PRIxPTR " failed with %s",
                 S.spec.label, S.calls - 1, id, p, hl_error_name(r->error));
    hl_u64map_remove(&S.live, p);
    remember_free(p, size, id, false);
    if (S.check) *hl_u64map_put(&S.freed, p, NULL) = id;
    spare_id(id, p);
}

bool hl_serve_free(void *ptr)
{
    uintptr_t p = (uintptr_t)ptr;
    uint64_t id;
    if (hl_u64map_find(&S.live, p, &id)) {
        free_block(p, id);
        return true;
    }
    if (!misused(p)) return false;
    misuse(p, "free");
}

bool hl_serve_realloc(void *ptr, size_t size, void **out)
{
    uintptr_t p = (uintptr_t)ptr;
    uint64_t id;
    if (!hl_u64map_find(&S.live, p, &id)) {
        if (!misused(p)) return false;
        misuse(p, "realloc");
    }
    *out = NULL;
    if (size == 0) { /* glibc: realloc(p, 0) frees p */
        free_block(p, id);
        return true;
    }
    const hl_block *b = block_of(id);
    uint64_t old_size = b ? b->size : 0;
    size_t align = b ? hl_block_layout(b).align : 16;
    hl_op op = {.kind = HL_OP_REALLOC, .id = id, .size = size};
    const hl_result *r = step(&op);
    if (r->error != HL_E_OK || !r->addr) {
        refused(r->error, size, align, "realloc");
        return true; /* NULL, errno set, the block intact */
    }
    void *q = host_of(r->addr, size);
    if ((uintptr_t)q != p) {
        hl_u64map_remove(&S.live, p);
        *hl_u64map_put(&S.live, (uintptr_t)q, NULL) = id;
        remember_free(p, old_size, id, true);
        if (S.check) hl_u64map_remove(&S.freed, (uintptr_t)q);
    }
    *out = q;
    return true;
}

bool hl_serve_usable(void *ptr, size_t *out)
{
    uint64_t id;
    if (!hl_u64map_find(&S.live, (uintptr_t)ptr, &id)) {
        if (!misused((uintptr_t)ptr)) return false;
        misuse((uintptr_t)ptr, "malloc_usable_size");
    }
    hl_op op = {.kind = HL_OP_USABLE, .id = id};
    *out = step(&op)->usable;
    return true;
}

/* ---------------------------------------------------------------- faults */

void hl_serve_fault(uintptr_t a, uintptr_t pc)
{
    if (!S.started || !S.exec) return;
    char where[600] = "";
    Dl_info symbol;
    if (pc && dladdr((void *)pc, &symbol) && symbol.dli_fname) {
        /* addr2line's address: from the object's start, but an executable that is not
         * position-independent is linked at its own addresses */
        const unsigned char *elf = symbol.dli_fbase;
        uintptr_t at = elf && elf[16] == 2 /* e_type ET_EXEC */ ? pc : pc - (uintptr_t)symbol.dli_fbase;
        if (symbol.dli_sname)
            snprintf(where, sizeof where, "; the access at 0x%" PRIxPTR " in %s (%s+0x%" PRIxPTR ")", pc,
                     symbol.dli_fname, symbol.dli_sname, pc - (uintptr_t)symbol.dli_saddr);
        else
            snprintf(where, sizeof where, "; the access at 0x%" PRIxPTR " in %s (addr2line -f -e %s 0x%" PRIxPTR
                     " names the line)", pc, symbol.dli_fname, symbol.dli_fname, at);
    }
    /* the live blocks nearest below and above the address */
    uintptr_t below = 0, above = UINTPTR_MAX;
    uint64_t below_id = 0, above_id = 0;
    for (size_t i = 0; i < S.live.capacity; i++) {
        if (!S.live.used[i]) continue;
        uintptr_t k = (uintptr_t)S.live.keys[i];
        if (k <= a && k >= below) below = k, below_id = S.live.values[i];
        if (k > a && k < above) above = k, above_id = S.live.values[i];
    }
    const hl_block *b = below_id ? block_of(below_id) : NULL, *c = above_id ? block_of(above_id) : NULL;
    uint64_t usable = b ? (b->usable > b->size ? b->usable : b->size) : 0;
    uint64_t last = S.calls ? S.calls - 1 : 0;
    bool inside_live = b && a < below + (usable ? usable : 1);
    if (!inside_live && !in_backend(a)) return; /* not the backend's memory: the program's own fault */
    if (inside_live)
        end_with("finding", "ACCESS_FAULT", HL_RULE_ACCESS_FAULT, last,
                 "DIVERGENCE %s: after call %" PRIu64 ": ACCESS_FAULT: the program's access to byte %" PRIuPTR
                 " of live block id %" PRIu64 " (%" PRIu64 " bytes at 0x%" PRIxPTR ") faulted%s",
                 S.spec.label, last, a - below, below_id, b->size, below, where);
    for (unsigned k = 0; k < RECENT && k < S.recent_next; k++) {
        const recent_free *f = &S.recent[(S.recent_next - 1 - k) % RECENT];
        if (a >= f->host && a < f->host + (f->size ? f->size : 1))
            end_with("fault", NULL, HL_RULE_COUNT, 0,
                     "USE_AFTER_FREE %s: after call %" PRIu64 ": the program accessed byte %" PRIuPTR
                     " of a %" PRIu64 "-byte block %s at call %" PRIu64 " (0x%" PRIxPTR ")%s",
                     S.spec.label, last, a - f->host, f->size, f->moved ? "that realloc moved away" : "freed", f->call,
                     f->host, where);
    }
    /* past the end of the block below, or before the start of the one above: the nearer */
    uintptr_t past = b ? a - (below + usable) : UINTPTR_MAX, before = c ? above - a : UINTPTR_MAX;
    if (b && past <= before && past < S.page)
        end_with("fault", NULL, HL_RULE_COUNT, 0,
                 "OVERFLOW %s: after call %" PRIu64 ": the program accessed offset %" PRIuPTR " of a %" PRIu64
                 "-byte block (id %" PRIu64 " at 0x%" PRIxPTR ", usable size %" PRIu64 ")%s",
                 S.spec.label, last, a - below, b->size, below_id, below, usable, where);
    if (c && before < S.page)
        end_with("fault", NULL, HL_RULE_COUNT, 0,
                 "UNDERFLOW %s: after call %" PRIu64 ": the program accessed offset -%" PRIuPTR " of a %" PRIu64
                 "-byte block (id %" PRIu64 " at 0x%" PRIxPTR ")%s",
                 S.spec.label, last, before, c->size, above_id, above, where);
    end_with("fault", NULL, HL_RULE_COUNT, 0,
             "FAULT %s: after call %" PRIu64 ": the program accessed 0x%" PRIxPTR
             ", in the backend's memory but near no live block%s",
             S.spec.label, last, a, where);
}

void hl_serve_crash(int sig, uintptr_t a)
{
    uint64_t call = S.calls ? S.calls - 1 : 0;
    const hl_op *op = S.check && !S.log_full && S.log.count ? &S.log.ops[S.log.count - 1] : NULL;
    end_with("finding", "CRASH", HL_RULE_CRASH, call,
             "DIVERGENCE %s: call %" PRIu64 "%s%s%s: CRASH: the backend died of signal %d (%s) at 0x%" PRIxPTR
             " while serving it",
             S.spec.label, call, op ? " (" : "", op ? hl_op_name((hl_op_kind)op->kind) : "", op ? ")" : "", sig,
             sig == 11 ? "SIGSEGV" : sig == 7 ? "SIGBUS" : "a signal", a);
}
