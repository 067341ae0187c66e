/* preload.c: the recorder, an LD_PRELOAD library (build/libheaplab-record.so, built
 * without sanitizers: an ASan .so cannot be preloaded into an uninstrumented program).
 * `heaplab record` starts the program with it. It wraps malloc, calloc, realloc,
 * reallocarray, free, posix_memalign, aligned_alloc, memalign, valloc, pvalloc and
 * malloc_usable_size and writes each call, with its thread, as one line of a heaplab
 * text trace.
 *
 *   - It never allocates through the malloc it records: its tables and its output
 *     live in mmap'd memory, numbers are formatted by hand, and calls made while the
 *     real functions are being looked up (dlsym may call calloc) are served from a
 *     static bootstrap buffer, never recorded and never freed.
 *   - One lock orders everything: the record of an alloc is written after the real
 *     call returns, the record of a free before the real free runs, and a realloc is
 *     recorded under the lock it ran under, so the trace's order is one that really
 *     happened and addresses become block ids without a race. (One ordered buffer
 *     under the lock, rather than per-thread buffers merged later: simpler, and a
 *     record can never follow a lost one.)
 *   - The output file is mapped MAP_SHARED and every record is written into the
 *     mapping: the kernel holds it even if the program aborts, is killed or execs,
 *     with nothing to flush. Space is reserved with posix_fallocate a step at a time
 *     (256 KiB, halved down to a page when that does not fit), so every byte written
 *     into the mapping has its block: a store can never fault (a file grown with
 *     ftruncate is sparse, and on a full disk the store that needs a block dies of
 *     SIGBUS). At a normal exit the `end` marker is written and the file cut to its
 *     length, else `heaplab record` cuts the zero bytes after the last record.
 *   - When no more space can be reserved (a full disk, a quota, a file size limit,
 *     which is checked before each step: the kernel ends a program that passes it
 *     with SIGXFSZ) recording stops, never the program: a record is written only whole, with room
 *     for one more line always reserved behind it, and that room takes the line
 *     STOPPED ("# recording stopped here: why"); the trace then ends without `end`
 *     (a cut tail: it is not the whole run), the file is cut to its length, one line
 *     on stderr names the file and the reason, and every later call goes straight to
 *     the real function.
 *   - Files: HEAPLAB_RECORD_OUT names the trace. The process `heaplab record` started
 *     writes OUT; another process (a fork, or a program the recorded one started)
 *     writes OUT.<pid>; the n-th image after exec in one process OUT.<pid>.<n> (the
 *     next name, taken with O_EXCL, when the one before is this process's own trace
 *     from an earlier image). A name that cannot be created for any other reason
 *     (a folder, a read-only disk) is never replaced by another: that process records
 *     nothing and says so on stderr. A forked child's file opens with an alloc of each
 *     block live at the fork, so its frees of inherited blocks replay.
 *     HEAPLAB_RECORD_FORKS=0 records nothing in forked children. */
#define _GNU_SOURCE
#include "hl_core.h"

#include <dlfcn.h>
#include <malloc.h> /* memalign, pvalloc, malloc_usable_size */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))
#define GROW ((off_t)256 << 10)   /* file growth step: held ahead of the records at most */
#define PAGE ((off_t)4096)         /* the smallest step tried before recording stops */
#define WINDOW ((size_t)64 << 30)  /* address space reserved for the mapping */
#define NONE UINT64_MAX

/* ---------------------------------------------------------------- the real functions */

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static size_t (*real_usable)(void *);

static hl_boot boot;  /* what dlsym allocates while the real functions are looked up */
static TLS int busy; /* inside the recorder on this thread: pass straight through */

static void look_up(void)
{
    static bool done;
    if (done) return;
    busy++;
    *(void **)&real_malloc = dlsym(RTLD_NEXT, "malloc");
    *(void **)&real_free = dlsym(RTLD_NEXT, "free");
    *(void **)&real_calloc = dlsym(RTLD_NEXT, "calloc");
    *(void **)&real_realloc = dlsym(RTLD_NEXT, "realloc");
    *(void **)&real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    *(void **)&real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    *(void **)&real_memalign = dlsym(RTLD_NEXT, "memalign");
    *(void **)&real_valloc = dlsym(RTLD_NEXT, "valloc");
    *(void **)&real_pvalloc = dlsym(RTLD_NEXT, "pvalloc");
    *(void **)&real_usable = dlsym(RTLD_NEXT, "malloc_usable_size");
    done = true;
    busy--;
}

/* ---------------------------------------------------------------- state, under the lock */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool recording;      /* a file is open and the end not yet written */

typedef struct entry {
    uintptr_t addr;         /* 0: empty slot; 1: a deleted one */
    uint64_t id, size;
} entry;
static entry *table;        /* open addressing, live blocks by address */
static size_t table_cap, table_used, table_dead;
static uint64_t next_id = 1;

typedef struct thread_slot {
    pid_t tid;
    uint32_t index;
} thread_slot;
static thread_slot threads[4096];
static uint32_t thread_count;

static int fd = -1;
static char *out;           /* the mapping of the file */
static size_t out_len, out_cap;

static void *map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    madvise(p, bytes, MADV_HUGEPAGE); /* a random probe per call: spare it the TLB miss */
    return p;
}

/* Fibonacci hashing: the top bits of the product (its low bits would only mix the
 * address's low bits, and blocks share those). */
static size_t slot_of(uintptr_t addr, size_t cap)
{
    return (size_t)(((uint64_t)addr * 0x9e3779b97f4a7c15ULL) >> (64 - __builtin_ctzll((unsigned long long)cap)));
}

static entry *find(uintptr_t addr)
{
    if (!table) return NULL;
    for (size_t i = slot_of(addr, table_cap);; i = (i + 1) & (table_cap - 1)) {
        if (table[i].addr == addr) return &table[i];
        if (table[i].addr == 0) return NULL;
    }
}

static void insert(uintptr_t addr, uint64_t id, uint64_t size);

static bool grow_table(void)
{
    size_t cap = table_cap ? (table_used - table_dead > table_cap / 4 ? table_cap * 2 : table_cap) : 4096;
    entry *old = table;
    size_t old_cap = table_cap;
    entry *fresh = map(cap * sizeof *fresh);
    if (!fresh) return false;
    table = fresh, table_cap = cap, table_used = table_dead = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].addr > 1) insert(old[i].addr, old[i].id, old[i].size);
    if (old) munmap(old, old_cap * sizeof *old);
    return true;
}

static void insert(uintptr_t addr, uint64_t id, uint64_t size)
{
    if ((table_used + 1) * 2 > table_cap && !grow_table()) return; /* live and deleted: half full at most */
    entry *e = find(addr);
    if (!e) {
        size_t i = slot_of(addr, table_cap);
        while (table[i].addr > 1) i = (i + 1) & (table_cap - 1);
        if (table[i].addr == 1) table_dead--;
        else table_used++;
        e = &table[i];
    }
    *e = (entry){addr, id, size};
}

static void erase(entry *e)
{
    size_t next = (size_t)(e - table + 1) & (table_cap - 1);
    if (table[next].addr == 0) { /* the end of a probe chain: no tombstone needed */
        e->addr = 0;
        table_used--;
        return;
    }
    e->addr = 1;
    table_dead++;
}

static TLS uint32_t my_index; /* this thread's index + 1 (0: not known yet) */

/* The trace's number for this thread: 0, 1, 2... in order of first record. A system
 * call (gettid) once per thread, then a thread-local read. */
static uint32_t thread_index(void)
{
    if (my_index) return my_index - 1;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    uint32_t index = 0;
    for (uint32_t i = 0; i < thread_count && !index; i++)
        if (threads[i].tid == tid) index = threads[i].index + 1;
    if (!index && thread_count < sizeof threads / sizeof threads[0]) {
        threads[thread_count] = (thread_slot){tid, thread_count};
        index = ++thread_count;
    }
    my_index = index ? index : 1;
    return my_index - 1;
}

/* ---------------------------------------------------------------- output */

/* The comment that ends a trace whose recording stopped, before the reason; `heaplab
 * record` looks for it (STOPPED in cli/cmd_record.c). */
#define STOPPED "# recording stopped here: "
#define TOO_BIG (-1)      /* a reason: the file reached WINDOW */
#define HEADER_MAX 1200   /* the header's bytes at most (the command line is cut to 1023) */

/* One record: fields are strings or numbers; a line is at most ~200 bytes. */
typedef struct line {
    char text[256];
    size_t n;
} line;

/* Kept reserved behind the last record: room for the STOPPED line (or `end`). */
#define RESERVE sizeof(((line *)0)->text)

static char path[4096];   /* the file this image writes, once named */
static uint64_t written;  /* operation records in it */

static void append(char *to, size_t capacity, size_t *n, const char *s)
{
    while (*s && *n < capacity) to[(*n)++] = *s++;
}

static void add_text(line *l, const char *s) { append(l->text, sizeof l->text, &l->n, s); }

static void add_number(line *l, uint64_t v)
{
    char digits[24];
    int k = 0;
    do digits[k++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (k && l->n < sizeof l->text) l->text[l->n++] = digits[--k];
}

/* An errno value's text, from glibc's table: strerror may translate, and allocate. */
static void add_error(line *l, int e)
{
    const char *s = e == TOO_BIG ? NULL : strerrordesc_np(e);
    if (s) add_text(l, s);
    else add_text(l, "error "), add_number(l, (uint64_t)e);
}

/* Why no more space could be reserved, in words. */
static void add_reason(line *l, int e)
{
    if (e == TOO_BIG) {
        add_text(l, "the trace reached the recorder's limit of 64 GiB");
        return;
    }
    add_text(l, e == ENOSPC   ? "the disk was full ("
                : e == EDQUOT ? "the disk quota was used up ("
                : e == EFBIG  ? "the file size limit was reached ("
                              : "its file could not grow (");
    add_error(l, e), add_text(l, ")");
}

/* One line on stderr, written whole with one write (stdio may allocate):
 * "heaplab record: PATH: WHAT: WHY; THEN". */
static void tell(const char *what, const line *why, const char *then)
{
    static char note[sizeof path + 512]; /* under the lock */
    size_t n = 0;
    line text = *why;
    text.text[text.n < sizeof text.text ? text.n : sizeof text.text - 1] = '\0';
    append(note, sizeof note - 1, &n, "heaplab record: ");
    append(note, sizeof note - 1, &n, path);
    append(note, sizeof note - 1, &n, ": ");
    append(note, sizeof note - 1, &n, what);
    append(note, sizeof note - 1, &n, text.text);
    append(note, sizeof note - 1, &n, then);
    note[n++] = '\n';
    if (write(STDERR_FILENO, note, n) < 0) { /* no stderr: the trace says it all the same */ }
}

/* Makes room for n more bytes and RESERVE behind them, reserving blocks with
 * posix_fallocate a step at a time (halved down to a page when a step does not fit).
 * A step past the file size limit (RLIMIT_FSIZE) is not tried: the kernel would end
 * the program with SIGXFSZ. Returns 0, or why not (an errno value or TOO_BIG). */
static int reserve(size_t n)
{
    off_t step = GROW;
    while (out_len + n + RESERVE > out_cap) {
        if (out_cap + (size_t)step > WINDOW) return TOO_BIG;
        struct rlimit limit;
        int e = getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
                        out_cap + (size_t)step > limit.rlim_cur
                    ? EFBIG
                    : posix_fallocate(fd, (off_t)out_cap, step);
        if (e == 0) out_cap += (size_t)step;
        else if (e == EINTR) continue;
        else if (step > PAGE) step /= 2;
        else return e;
    }
    return 0;
}

static void close_output(void)
{
    recording = false;
    if (ftruncate(fd, (off_t)out_len) != 0) { /* `heaplab record` trims the zeros all the same */ }
    munmap(out, WINDOW);
    close(fd);
    out = NULL, fd = -1;
}

/* No more space: the STOPPED line goes into the room kept for it, the file is cut to
 * its length, stderr says so, and the program runs on unrecorded. */
static void stop(int e)
{
    line l = {.n = 0}, why = {.n = 0};
    add_reason(&why, e);
    add_text(&l, STOPPED), add_text(&l, why.text), add_text(&l, "; the program ran on unrecorded\n");
    memcpy(out + out_len, l.text, l.n); /* l.n <= RESERVE, kept free behind every record */
    out_len += l.n;
    close_output();
    line what = {.n = 0};
    add_text(&what, "recording stopped after "), add_number(&what, written), add_text(&what, " operations: ");
    what.text[what.n < sizeof what.text ? what.n : sizeof what.text - 1] = '\0';
    tell(what.text, &why, "; the program runs on unrecorded");
}

/* Writes n bytes whole, or stops recording (nothing of them written). */
static bool put(const char *s, size_t n)
{
    if (!recording) return false;
    int e = reserve(n);
    if (e) {
        stop(e);
        return false;
    }
    memcpy(out + out_len, s, n);
    out_len += n;
    return true;
}

static void emit(line *l, bool thread)
{
    if (thread) add_text(l, " t="), add_number(l, thread_index());
    add_text(l, "\n");
    if (put(l->text, l->n)) written++;
}

static void emit_alloc(uint64_t id, uint64_t size, uint64_t align, const char *fail)
{
    line l = {.n = 0};
    add_text(&l, "alloc "), add_number(&l, id), add_text(&l, " "), add_number(&l, size);
    if (align) add_text(&l, " align="), add_number(&l, align);
    if (fail) add_text(&l, " fail="), add_text(&l, fail);
    emit(&l, true);
}

static void emit_id(const char *kind, uint64_t id)
{
    line l = {.n = 0};
    add_text(&l, kind), add_number(&l, id);
    emit(&l, true);
}

static const char top[] = "heaplab-trace 1\n#@recorder=heaplab record\n#@pid=";

/* Whether the regular file at name is this process's trace from an earlier image
 * (exec keeps the pid): its header names this pid. */
static bool earlier_image(const char *name, const char *pid)
{
    struct stat st;
    if (lstat(name, &st) != 0 || !S_ISREG(st.st_mode)) return false;
    line want = {.n = 0};
    add_text(&want, top), add_text(&want, pid), add_text(&want, "\n");
    char head[sizeof want.text];
    int f = open(name, O_RDONLY | O_CLOEXEC);
    ssize_t n = f >= 0 ? read(f, head, want.n) : -1;
    if (f >= 0) close(f);
    return n == (ssize_t)want.n && memcmp(head, want.text, want.n) == 0;
}

/* Creates the file this image writes: OUT for the first image of the process heaplab
 * record started, OUT.<pid> for the first of any other, OUT.<pid>.<n> after exec.
 * Returns its descriptor, or -1 with *error (0: there is nothing to record to). */
static int open_output(bool root, int *error)
{
    const char *base = getenv("HEAPLAB_RECORD_OUT");
    *error = 0;
    if (!base) return -1;
    line pid = {.n = 0};
    add_number(&pid, (uint64_t)getpid());
    pid.text[pid.n] = '\0';
    for (unsigned n = 0; n < 10000; n++) {
        line number = {.n = 0};
        add_number(&number, n);
        number.text[number.n] = '\0';
        size_t length = 0;
        append(path, sizeof path - 1, &length, base);
        if (!root || n) append(path, sizeof path - 1, &length, "."), append(path, sizeof path - 1, &length, pid.text);
        if (n) append(path, sizeof path - 1, &length, "."), append(path, sizeof path - 1, &length, number.text);
        path[length] = '\0';
        if (length == sizeof path - 1) return *error = ENAMETOOLONG, -1;
        int f = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (f >= 0) return f;
        *error = errno;
        if (*error != EEXIST) return -1;
        if (!earlier_image(path, pid.text)) { /* never another name for this one */
            struct stat st;
            if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) *error = EISDIR;
            return -1;
        }
    }
    return -1;
}

static void header(void)
{
    put(top, sizeof top - 1);
    line l = {.n = 0};
    add_number(&l, (uint64_t)getpid());
    add_text(&l, "\n#@program=");
    put(l.text, l.n);
    int f = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    char cmd[1024];
    ssize_t n = f >= 0 ? read(f, cmd, sizeof cmd - 1) : -1;
    if (f >= 0) close(f);
    for (ssize_t i = 0; i < n; i++)
        if (cmd[i] == '\0' || cmd[i] == '\n') cmd[i] = ' ';
    while (n > 0 && cmd[n - 1] == ' ') n--;
    if (n > 0) put(cmd, (size_t)n);
    put("\n", 1);
    /* Python's own allocator takes small objects past malloc unless this says otherwise:
     * the summary says so when it does not */
    const char *python_malloc = getenv("PYTHONMALLOC");
    if (python_malloc && strlen(python_malloc) < 64 && !strpbrk(python_malloc, "\n\r")) {
        put("#@env.pythonmalloc=", 19);
        put(python_malloc, strlen(python_malloc));
        put("\n", 1);
    }
}

/* Opens this image's file and writes its header; on failure leaves no file and says
 * why on stderr. */
static bool start(bool root)
{
    int e;
    line why = {.n = 0};
    fd = open_output(root, &e);
    if (fd < 0) {
        if (e) add_error(&why, e), tell("cannot create it: ", &why, "; this process is not recorded");
        return false;
    }
    out_len = out_cap = 0, written = 0;
    out = mmap(NULL, WINDOW, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    const char *what = "cannot map it: ";
    if (out == MAP_FAILED) add_error(&why, errno);
    else if ((e = reserve(HEADER_MAX)) != 0) add_reason(&why, e), what = "cannot reserve space: ", munmap(out, WINDOW);
    if (why.n) {
        close(fd);
        unlink(path);
        out = NULL, fd = -1;
        tell(what, &why, "; this process is not recorded");
        return false;
    }
    recording = true;
    header();
    return true;
}

static void finish(void)
{
    pthread_mutex_lock(&lock);
    if (recording) { /* `end` goes into the room kept behind the last record */
        memcpy(out + out_len, "end\n", 4);
        out_len += 4;
        close_output();
    }
    pthread_mutex_unlock(&lock);
}

/* A forked child: its own file, opening with the blocks live at the fork. */
static void at_fork_prepare(void) { pthread_mutex_lock(&lock); }
static void at_fork_parent(void) { pthread_mutex_unlock(&lock); }
static void at_fork_child(void)
{
    bool was = recording;
    recording = false;
    if (out) munmap(out, WINDOW);
    if (fd >= 0) close(fd);
    out = NULL, fd = -1;
    thread_count = 0;
    my_index = 0; /* the forking thread is the child's only one: it becomes t=0 */
    const char *forks = getenv("HEAPLAB_RECORD_FORKS");
    if (was && !(forks && forks[0] == '0') && start(false)) {
        for (size_t i = 0; i < table_cap; i++)
            if (table[i].addr > 1) emit_alloc(table[i].id, table[i].size, 0, NULL);
    }
    pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void recorder_init(void)
{
    look_up();
    const char *root = getenv("HEAPLAB_RECORD_ROOT");
    bool is_root = root && (pid_t)strtol(root, NULL, 10) == getpid();
    pthread_mutex_lock(&lock);
    busy++;
    start(is_root);
    busy--;
    pthread_mutex_unlock(&lock);
    pthread_atfork(at_fork_prepare, at_fork_parent, at_fork_child);
}

__attribute__((destructor)) static void recorder_fini(void) { finish(); }

/* ---------------------------------------------------------------- the wrappers */

#define ENTER() (look_up(), busy++ == 0 && recording)
#define LEAVE() (busy--)

static void record_alloc(void *p, uint64_t size, uint64_t align, const char *fail_if_null)
{
    pthread_mutex_lock(&lock);
    uint64_t id = next_id++;
    if (p) insert((uintptr_t)p, id, size);
    emit_alloc(id, size, align, p ? NULL : fail_if_null);
    pthread_mutex_unlock(&lock);
}

EXPORT void *malloc(size_t n)
{
    if (!real_malloc && busy) return hl_boot_alloc(&boot, n);
    if (!ENTER()) return LEAVE(), real_malloc(n);
    void *p = real_malloc(n);
    record_alloc(p, n, 0, "OUT_OF_MEMORY");
    LEAVE();
    return p;
}

EXPORT void *calloc(size_t n, size_t m)
{
    if (!real_calloc && busy) return hl_boot_alloc(&boot, n * m); /* dlsym's small requests */
    if (!ENTER()) return LEAVE(), real_calloc(n, m);
    void *p = real_calloc(n, m);
    size_t bytes;
    record_alloc(p, __builtin_mul_overflow(n, m, &bytes) ? UINT64_MAX : bytes, 0, "OUT_OF_MEMORY");
    LEAVE();
    return p;
}

EXPORT void free(void *p)
{
    if (!p || hl_boot_owns(&boot, p)) return;
    if (!ENTER()) {
        LEAVE();
        real_free(p);
        return;
    }
    pthread_mutex_lock(&lock);
    entry *e = find((uintptr_t)p);
    if (e) { /* recorded before the real free runs: no one can get p before this line */
        emit_id("free ", e->id);
        erase(e);
    }
    pthread_mutex_unlock(&lock);
    real_free(p);
    LEAVE();
}

/* realloc runs under the lock, so the move and its record are one step for others. */
static void *do_realloc(void *p, size_t n, bool overflow)
{
    pthread_mutex_lock(&lock);
    entry *e = find((uintptr_t)p);
    void *q = overflow ? (errno = ENOMEM, NULL) : real_realloc(p, n);
    if (e && n == 0 && !overflow) { /* glibc: realloc(p, 0) frees p */
        emit_id("free ", e->id);
        erase(e);
    } else if (e) {
        line l = {.n = 0};
        add_text(&l, "realloc "), add_number(&l, e->id), add_text(&l, " "), add_number(&l, overflow ? UINT64_MAX : n);
        if (!q) add_text(&l, " fail=OUT_OF_MEMORY");
        emit(&l, true);
        if (q) {
            uint64_t id = e->id;
            erase(e);
            insert((uintptr_t)q, id, n);
        }
    }
    pthread_mutex_unlock(&lock);
    return q;
}

EXPORT void *realloc(void *p, size_t n)
{
    if (hl_boot_owns(&boot, p)) { /* a bootstrap block: move it out, unrecorded */
        void *q = malloc(n);
        if (q) memcpy(q, p, n < hl_boot_tail(&boot, p) ? n : hl_boot_tail(&boot, p));
        return q;
    }
    if (!p) return malloc(n);
    if (!ENTER()) return LEAVE(), real_realloc(p, n);
    void *q = do_realloc(p, n, false);
    LEAVE();
    return q;
}

EXPORT void *reallocarray(void *p, size_t n, size_t m)
{
    size_t bytes;
    bool overflow = __builtin_mul_overflow(n, m, &bytes);
    if (!p && !overflow) return malloc(bytes);
    if (!p || !ENTER()) {
        if (p) LEAVE();
        if (overflow) return errno = ENOMEM, NULL;
        return real_realloc(p, bytes);
    }
    void *q = do_realloc(p, bytes, overflow);
    LEAVE();
    return q;
}

EXPORT int posix_memalign(void **res, size_t align, size_t n)
{
    if (!ENTER()) return LEAVE(), real_posix_memalign(res, align, n);
    int rc = real_posix_memalign(res, align, n);
    record_alloc(rc == 0 ? *res : NULL, n, align, rc == EINVAL ? "INVALID_ARGUMENT" : "OUT_OF_MEMORY");
    LEAVE();
    return rc;
}

static void *aligned(void *(*real)(size_t, size_t), size_t align, size_t n)
{
    if (!ENTER()) return LEAVE(), real(align, n);
    void *p = real(align, n);
    record_alloc(p, n, align, errno == EINVAL ? "INVALID_ARGUMENT" : "OUT_OF_MEMORY");
    LEAVE();
    return p;
}

EXPORT void *aligned_alloc(size_t align, size_t n) { return look_up(), aligned(real_aligned_alloc, align, n); }
EXPORT void *memalign(size_t align, size_t n) { return look_up(), aligned(real_memalign, align, n); }

EXPORT void *valloc(size_t n)
{
    if (!ENTER()) return LEAVE(), real_valloc(n);
    void *p = real_valloc(n);
    record_alloc(p, n, (uint64_t)sysconf(_SC_PAGESIZE), "OUT_OF_MEMORY");
    LEAVE();
    return p;
}

EXPORT void *pvalloc(size_t n)
{
    if (!ENTER()) return LEAVE(), real_pvalloc(n);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    void *p = real_pvalloc(n);
    record_alloc(p, n ? (n + page - 1) & ~(page - 1) : page, page, "OUT_OF_MEMORY");
    LEAVE();
    return p;
}

EXPORT size_t malloc_usable_size(void *p)
{
    if (!p || hl_boot_owns(&boot, p)) return 0;
    if (!ENTER()) return LEAVE(), real_usable(p);
    size_t n = real_usable(p);
    pthread_mutex_lock(&lock);
    entry *e = find((uintptr_t)p);
    if (e) emit_id("usable ", e->id);
    pthread_mutex_unlock(&lock);
    LEAVE();
    return n;
}
