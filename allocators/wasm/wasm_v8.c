/* wasm_v8.c: the `wasm-v8` backend: a heaplab allocator module (default the real one,
 * build/heaplab-alloc.min.wasm) run by V8 in a Node.js process of its own, driven over
 * a socket by allocators/wasm/v8_runner.mjs (installed as build/heaplab-v8-runner.mjs).
 * A lane whose backend lives in another process: each operation is one request and one
 * answer (v8_runner.mjs gives the protocol). The operations are wasm_adapter.h's, as
 * for `wasm` and `wasm-module`, so all three are compared offset for offset (group
 * wasm32-core), error for error and page for page.
 *
 * Its memory lives in V8: mem_view gives no bytes (NULL) and the backend declares
 * REMOTE_MEMORY, so the shadow model writes no patterns and checks no contents for it.
 * The runner checks them instead: it fills every new block with a pattern, verifies it
 * before a free, a realloc or a promote and verifies the kept prefix after them, and
 * says which byte of which block changed. What is not checked here: the bytes of a
 * block a mem_copy wrote into, and a heap walk (check reports the runner's findings
 * and its traps, not the core's invariants: `wasm-module` walks the same module).
 *
 * Failures: a seed 001 trap is the operation's error (as in wasm-module); any other
 * trap, a changed byte, or the runner ending fails the operation and is check's
 * report from then on. A runner that has ended fails every later operation; heaplab
 * never stops for it (the socket never raises SIGPIPE). Not thread-safe. */
#include "backends.h"
#include "hl_kit.h"
#include "hl_source.h"
#include "wasm_core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAGIC 0x68387638u /* the runner's hello */
enum { OP_ALLOC, OP_FREE, OP_REALLOC, OP_USABLE, OP_COPY, OP_ENTER, OP_EXIT, OP_PROMOTE, OP_FREE_ALL };
enum { RETURNED, TRAPPED, FAULTED, CHANGED };

struct hl_heap {
    int fd; /* the socket to the runner */
    pid_t pid;
    hl_stats stats;
    uint32_t pages, live_blocks, live_bytes; /* from the latest answer */
    bool lean;                                          /* the module is lean (the runner's hello) */
    uint32_t aux[2];                                    /* its extra words (v8_runner.mjs) */
    uint32_t made, made_usable; /* the block the latest answer made, and its usable size */
    char fault[240];                                    /* the first fault, "" while none */
};

/* ---------------------------------------------------------------- the runner */

static void note_fault(hl_heap *h, const char *what)
{
    if (!h->fault[0]) snprintf(h->fault, sizeof h->fault, "%s", what);
}

/* Sends or receives len bytes. A receive polls first (SPIN tries without blocking,
 * 1-2 ms at most) before it sleeps: the answer usually comes within microseconds, and
 * a sleep and wake-up costs tens of them on an idle machine. The runner blocks (it
 * never spins: polling on both sides made a loaded machine three times slower).
 * Measured on 125k operations (git-log, sqlite-index) beside wasm and wasm-module:
 * 3.8 s idle and 6.9 s beside two busy loops, against 8.2 s and 4.0 s with no polling. */
#define SPIN 2000
static bool transfer(int fd, void *buffer, size_t len, bool out)
{
    unsigned char *p = buffer;
    int spins = 0;
    while (len) {
        ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, spins < SPIN ? MSG_DONTWAIT : 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !out) {
            spins++;
            continue;
        }
        if (n <= 0) return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* One request: the answer's result, or `fallback` if the call trapped (expected: a
 * seed 001 failure) or the runner is gone. */
static uint32_t request(hl_heap *h, uint32_t op, uint32_t a, uint32_t b, uint32_t c, uint32_t fallback)
{
    if (h->fd < 0) return fallback;
    uint32_t req[4] = {op, a, b, c}, ans[9];
    h->made = 0;
    if (!transfer(h->fd, req, sizeof req, true) || !transfer(h->fd, ans, sizeof ans, false)) {
        note_fault(h, "the V8 runner ended (its stderr says why)");
        close(h->fd);
        h->fd = -1;
        return fallback;
    }
    h->pages = ans[2];
    h->live_blocks = ans[3];
    h->live_bytes = ans[4];
    h->aux[0] = ans[7];
    h->aux[1] = ans[8];
    if (ans[1] == RETURNED && (op == OP_ALLOC || op == OP_REALLOC || op == OP_PROMOTE)) {
        h->made = ans[0];
        h->made_usable = ans[7];
    }
    char what[160];
    switch (ans[1]) {
    case RETURNED: return ans[0];
    case TRAPPED: return fallback;
    case FAULTED:
        snprintf(what, sizeof what, "the module trapped in V8 (operation %u; the runner's stderr has the message)", op);
        note_fault(h, what);
        return fallback;
    default:
        snprintf(what, sizeof what, "byte %u of the block at %#x changed (the runner's content check, operation %u)", ans[6],
                 ans[5], op);
        note_fault(h, what);
        return ans[0];
    }
}

/* ---------------------------------------------------------------- the engine */

static uint32_t eng_alloc(hl_heap *h, uint32_t size, uint32_t align) { return request(h, OP_ALLOC, size, align, 0, 0); }
static uint32_t eng_free(hl_heap *h, uint32_t ptr, uint32_t size, uint32_t align)
{
    return request(h, OP_FREE, ptr, size, align, HLWC_INVALID_POINTER);
}
static uint32_t eng_realloc(hl_heap *h, uint32_t ptr, uint32_t old_size, uint32_t new_size)
{
    return request(h, OP_REALLOC, ptr, old_size, new_size, 0);
}
/* one request: the usable size, the size and the align come in one answer; the
 * usable size of the block the latest request made needs none */
static uint32_t eng_block(hl_heap *h, uint32_t ptr, uint32_t *size, uint32_t *align)
{
    if (!size && !align && ptr && ptr == h->made) return h->made_usable;
    uint32_t usable = request(h, OP_USABLE, ptr, 0, 0, 0);
    if (usable && size) *size = h->aux[0];
    if (usable && align) *align = h->aux[1];
    return usable;
}
static int eng_copy(hl_heap *h, uint32_t dst, uint32_t src, uint32_t n) { return request(h, OP_COPY, dst, src, n, 0) ? 0 : -1; }
static uint32_t eng_enter(hl_heap *h) { return request(h, OP_ENTER, 0, 0, 0, 0); }
static int eng_exit(hl_heap *h, uint32_t handle) { return request(h, OP_EXIT, handle, 0, 0, 0) ? 0 : -1; }
static uint32_t eng_promote(hl_heap *h, uint32_t handle, uint32_t ptr, uint32_t n) { return request(h, OP_PROMOTE, handle, ptr, n, 0); }
static void eng_free_all(hl_heap *h) { (void)request(h, OP_FREE_ALL, 0, 0, 0, 0); }
static void eng_live(const hl_heap *h, uint32_t *blocks, uint32_t *bytes) /* every answer carries them */
{
    *blocks = h->live_blocks;
    *bytes = h->live_bytes;
}
static uint64_t eng_footprint(const hl_heap *h) { return (uint64_t)h->pages * HL_LINEAR_PAGE; }

#include "wasm_adapter.h"

/* ---------------------------------------------------------------- lifecycle */

typedef struct v8_settings {
    const char *module, *runner, *node;
} v8_settings;

#define V8_OPTIONS(X)                                                                                              \
    X("module", "heaplab-alloc.min.wasm beside heaplab", "the .wasm module to run (it must export what "         \
      "allocators/wasm/guest/exports.c does)", HL_OPTION_TEXT, module, 0, 0, NULL, 0)                               \
    X("runner", "heaplab-v8-runner.mjs beside heaplab", "the runner script (allocators/wasm/v8_runner.mjs)",      \
      HL_OPTION_TEXT, runner, 0, 0, NULL, 0)                                                                         \
    X("node", "node", "the Node.js executable (on PATH unless a path)", HL_OPTION_TEXT, node, 0, 0, NULL, 0)

#define HL_SETTINGS v8_settings
static const hl_option_doc option_docs[] = {V8_OPTIONS(HL_OPTION_DOC){NULL, NULL, NULL}};
static const hl_option_rule option_rules[] = {V8_OPTIONS(HL_OPTION_RULE)};

/* name beside the running program or in a folder above it, up to 4 (build/heaplab,
 * build/asan/heaplab, build/asan/tests/allocators/test_x): the path in out, or false */
static bool beside_heaplab(const char *name, char *out, size_t capacity)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return false;
    exe[n] = '\0';
    for (int up = 0; up < 4; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash) return false;
        *slash = '\0';
        int n_out = snprintf(out, capacity, "%s/%s", exe, name);
        if (n_out > 0 && (size_t)n_out < capacity && access(out, R_OK) == 0) return true;
    }
    return false;
}

static hl_error v8_create(const hl_config *config, hl_heap **out)
{
    v8_settings settings = {NULL, NULL, "node"};
    if (hl_options_apply(config, "wasm-v8", option_docs, option_rules, &settings) != HL_E_OK) return HL_E_INVALID_ARGUMENT;
    char module[PATH_MAX], runner[PATH_MAX];
    if (settings.module) snprintf(module, sizeof module, "%s", settings.module);
    else if (!beside_heaplab("heaplab-alloc.min.wasm", module, sizeof module))
        return hl_config_say(config, "wasm-v8: %s", "no heaplab-alloc.min.wasm beside heaplab: run `make wasm`, or give module=PATH"),
               HL_E_UNSUPPORTED;
    if (settings.runner) snprintf(runner, sizeof runner, "%s", settings.runner);
    else if (!beside_heaplab("heaplab-v8-runner.mjs", runner, sizeof runner))
        return hl_config_say(config, "wasm-v8: %s", "no heaplab-v8-runner.mjs beside heaplab: run `make wasm`, or give runner=PATH"),
               HL_E_UNSUPPORTED;
    if (access(module, R_OK) != 0) return hl_config_say(config, "wasm-v8: cannot read the module %s", module), HL_E_INVALID_ARGUMENT;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return hl_config_say(config, "wasm-v8: socketpair: %s", strerror(errno)), HL_E_OUT_OF_MEMORY;
    char *argv[] = {(char *)settings.node, runner, module, NULL};
    pid_t pid = fork();
    if (pid == 0) { /* the child: the socket is the runner's fd 3; its stdout goes to stderr */
        if (fds[1] == 3) fcntl(3, F_SETFD, 0);
        else dup2(fds[1], 3);
        dup2(2, 1);
        execvp(argv[0], argv);
        static const char why[] = "wasm-v8: cannot run node (give node=PATH)\n";
        ssize_t ignored = write(2, why, sizeof why - 1);
        (void)ignored;
        _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return hl_config_say(config, "wasm-v8: fork: %s", strerror(errno)), HL_E_OUT_OF_MEMORY;
    }
    uint32_t hello[4];
    if (!transfer(fds[0], hello, sizeof hello, false) || hello[0] != MAGIC) {
        close(fds[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        return hl_config_say(config, "wasm-v8: the V8 runner did not start (%s %s %s exited %d; its stderr says why)",
                             settings.node, runner, module, WIFEXITED(status) ? WEXITSTATUS(status) : -1),
               HL_E_UNSUPPORTED;
    }
    hl_heap *h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED) {
        close(fds[0]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return hl_config_say(config, "wasm-v8: %s", "no memory for the instance"), HL_E_OUT_OF_MEMORY;
    }
    h->fd = fds[0];
    h->pid = pid;
    h->pages = hello[2];
    h->lean = hello[3] == 1;
    (void)request(h, OP_USABLE, 0, 0, 0, 0); /* the module builds its heap on its first call: now */
    note_footprint(h);
    *out = h;
    return HL_E_OK;
}

static void v8_destroy(hl_heap *h)
{
    if (h->fd >= 0) close(h->fd); /* the runner ends at the end of its input */
    int status;
    while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR) {
    }
    munmap(h, sizeof *h);
}

static void v8_describe(const hl_heap *h, hl_info *info)
{
    wasm_describe_as(info, "wasm-v8");
    if (h->lean) { /* as wasm-lean declares: no checks, no scopes, realloc always moves */
        info->features = HL_FEATURE_LINEAR_MEMORY | HL_FEATURE_OFFSET_EXACT;
        info->offset_exact_group = "wasm32-lean";
        info->misuse = 0;
    }
    info->features |= HL_FEATURE_REMOTE_MEMORY;
}

static void *v8_mem_view(hl_heap *h, hl_addr addr, size_t len)
{
    (void)h, (void)addr, (void)len;
    return NULL; /* the memory is in V8 (REMOTE_MEMORY) */
}

static hl_error v8_check(hl_heap *h, char *message, size_t capacity)
{
    if (!h->fault[0]) return HL_E_OK;
    snprintf(message, capacity, "wasm-v8: %s", h->fault);
    return HL_E_CORRUPTED;
}

const hl_backend *hl_backend_wasm_v8(void)
{
    static const hl_backend table = {
        sizeof(hl_backend), HL_CONTRACT_VERSION, "wasm-v8", HL_CLASS_REFERENCE,
        "the wasm backend's real module run by V8 in a Node.js process, over a socket (make wasm)",
        option_docs, v8_create, v8_destroy, v8_describe, wasm_alloc, wasm_free, wasm_realloc, wasm_usable_size,
        v8_mem_view, wasm_mem_copy, wasm_enter_scope, wasm_exit_scope, wasm_promote, wasm_free_all, NULL, NULL, NULL,
        NULL, wasm_stats, v8_check};
    return &table;
}
