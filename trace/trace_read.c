/* trace_read.c: reading a trace, a window at a time. The file (or a buffer, or what
 * a zstd stream decompresses to) is read into a window of WINDOW bytes, which the
 * form's reader (trace_text.c, trace_binary.c, chosen by magic) parses; the bytes of
 * a line or record the window ends inside move to its start and the next bytes
 * follow them. So memory is bounded by what the caller keeps, not by the file:
 *
 *   - hl_trace_scan hands each operation to a sink and keeps none (validate and
 *     convert stream: a trace of any length costs a window, and a zstd bomb costs
 *     what it decompresses to only in time);
 *   - hl_trace_read keeps them, at most hl_trace_max_ops() of them (--max-ops): one
 *     more is bad input naming the file and line, never an allocation that fails.
 *
 * A pipe or a device named as a trace is read the same way (a stream of zeros or
 * random bytes fails its magic at once; an endless trace meets the operation cap). */
#include "hl_trace.h"
#include "trace_form.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WINDOW ((size_t)1 << 20) /* trace bytes held at a time; a text line may not be longer */
#define PACKED ((size_t)128 << 10) /* compressed bytes read at a time */
#define PEEK 16u                 /* bytes that tell the form */

/* ---------------------------------------------------------------- the operation cap */

static uint64_t max_ops; /* 0: not set yet (the default) */

uint64_t hl_trace_default_max_ops(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE); /* a syscall: not per operation */
    uint64_t memory = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : (uint64_t)4 << 30;
    return memory / 4 / sizeof(hl_op);
}

void hl_trace_set_max_ops(uint64_t n) { max_ops = n; }

uint64_t hl_trace_max_ops(void)
{
    if (!max_ops) max_ops = hl_trace_default_max_ops();
    return max_ops;
}

/* hl_trace_read's sink: keeps the operation, up to the cap. */
static int keep(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    (void)trace;
    hl_trace *t = context; /* the trace being read */
    if (t->count >= hl_trace_max_ops()) {
        const char *where = t->form == HL_TRACE_BINARY ? "byte" : "line";
        return hl_trace_fail(diag,
                    "%s: %s %llu: more than %llu operations, the most heaplab keeps in memory (--max-ops N raises "
                    "it; each costs %zu bytes; validate and convert stream a trace of any length)",
                    t->path, where, (unsigned long long)op->line, (unsigned long long)hl_trace_max_ops(),
                    sizeof *op);
    }
    hl_trace_push(t, op);
    return 0;
}

/* ---------------------------------------------------------------- where bytes come from */

typedef struct input {
    const char *name;
    int fd;                           /* -1: from memory */
    const unsigned char *memory;
    size_t memory_size, memory_pos;
    hl_unzstd *unzstd;                /* a compressed trace: its decompressor */
    unsigned char *packed;            /* compressed bytes not yet decompressed */
    size_t packed_size, packed_pos;
    bool raw_end;                     /* the file (buffer) is used up */
    size_t window;                    /* the window's size: WINDOW, or less for a small input */
} input;

/* Up to capacity of the file's own bytes; 0 at its end, -1 with diag on an error. */
static long raw_bytes(input *in, void *out, size_t capacity, hl_diag *diag)
{
    if (in->fd < 0) {
        size_t n = in->memory_size - in->memory_pos < capacity ? in->memory_size - in->memory_pos : capacity;
        memcpy(out, in->memory + in->memory_pos, n);
        in->memory_pos += n;
        return (long)n;
    }
    for (;;) {
        ssize_t n = read(in->fd, out, capacity);
        if (n >= 0) return (long)n;
        if (errno != EINTR) return hl_trace_fail(diag, "%s: cannot read: %s", in->name, strerror(errno));
    }
}

/* Up to capacity of the trace's bytes (decompressed for a compressed trace); 0 at the
 * end, -1 with diag. */
static long trace_bytes(input *in, unsigned char *out, size_t capacity, hl_diag *diag)
{
    if (!in->unzstd) return raw_bytes(in, out, capacity, diag);
    for (;;) {
        if (in->packed_pos == in->packed_size && !in->raw_end) {
            long n = raw_bytes(in, in->packed, PACKED, diag);
            if (n < 0) return -1;
            in->raw_end = n == 0;
            in->packed_size = (size_t)n;
            in->packed_pos = 0;
        }
        size_t before = in->packed_pos;
        long got = hl_unzstd_step(in->unzstd, in->packed, in->packed_size, &in->packed_pos, out, capacity, in->name,
                                  diag);
        if (got != 0) return got;
        if (in->raw_end || in->packed_pos == before) return 0; /* over (a cut stream: the reader sees no end) */
    }
}

/* Fills buf[*have, capacity) from the trace until it is full or the trace is over
 * (*end). 0, or -1 with diag. */
static int fill(input *in, unsigned char *buf, size_t capacity, size_t *have, bool *end, hl_diag *diag)
{
    while (*have < capacity && !*end) {
        long n = trace_bytes(in, buf + *have, capacity - *have, diag);
        if (n < 0) return -1;
        if (n == 0) *end = true;
        *have += (size_t)n;
    }
    return 0;
}

/* ---------------------------------------------------------------- the read */

static bool starts_with(const void *bytes, size_t size, const char *prefix)
{
    size_t n = strlen(prefix);
    return size >= n && memcmp(bytes, prefix, n) == 0;
}

/* A whole (short) file that is the beginning of a magic: cut inside its header. */
static bool is_start_of(const void *bytes, size_t size, const char *magic, size_t magic_length)
{
    return size < magic_length && memcmp(bytes, magic, size) == 0;
}

/* Which form the first bytes (all of a shorter file) are: 't', 'b', or 0 with diag. */
static int form_of(const char *name, const unsigned char *bytes, size_t size, hl_diag *diag)
{
    if (size == 0) return hl_trace_fail(diag, "%s: empty file, not a trace", name), 0;
    if (starts_with(bytes, size, HL_TRACE_TEXT_PREFIX)) return 't';
    if (starts_with(bytes, size, HL_TRACE_BINARY_PREFIX) ||
        is_start_of(bytes, size, HL_TRACE_BINARY_MAGIC, HL_TRACE_BINARY_HEADER))
        return 'b';
    if (is_start_of(bytes, size, HL_TRACE_TEXT_MAGIC, strlen(HL_TRACE_TEXT_MAGIC)))
        return hl_trace_fail(diag, "%s: cut inside its header ('%.*s' is the start of the first line '%s')", name, (int)size,
                    (const char *)bytes, HL_TRACE_TEXT_MAGIC),
               0;
    return hl_trace_fail(diag, "%s: not a heaplab trace (wrong magic)", name), 0;
}

/* Reads the first PEEK bytes of the trace into buf (*have of them; *end: that was all),
 * decompressing when the file starts with a zstd frame (in->unzstd is then set and
 * the bytes peeked from the file become the decompressor's first input). 0, or -1
 * with diag: a read error, a stream compressed twice or one cut before any byte. */
static int peek(input *in, unsigned char *buf, size_t *have, bool *end, hl_diag *diag)
{
    if (fill(in, buf, PEEK, have, end, diag) != 0) return -1;
    if (!hl_zstd_is(buf, *have)) return 0;
    in->unzstd = hl_unzstd_new();
    if (!in->unzstd) return hl_trace_fail(diag, "%s: cannot start zstd decompression", in->name);
    in->packed = hl_mem_alloc(PACKED);
    memcpy(in->packed, buf, *have);
    in->packed_size = *have;
    in->raw_end = *end;
    *have = 0;
    *end = false;
    if (fill(in, buf, PEEK, have, end, diag) != 0) return -1;
    if (hl_zstd_is(buf, *have)) return hl_trace_fail(diag, "%s: compressed twice", in->name);
    if (*have == 0 && hl_unzstd_inside_frame(in->unzstd))
        return hl_trace_fail(diag, "%s: the zstd stream ends before any byte of the trace", in->name);
    return 0;
}

/* Reads the trace from in into out (metadata, form, cut_tail), its operations to sink;
 * *taken: how many the sink took. Frees out on failure. */
static int scan(input *in, hl_trace *out, const hl_op_sink *sink, uint64_t *taken, hl_diag *diag, hl_diag *warning)
{
    if (warning) warning->message[0] = '\0';
    unsigned char *window = hl_mem_alloc(in->window);
    size_t have = 0;
    bool end = false;
    int rc = peek(in, window, &have, &end, diag);
    if (rc == 0 && in->unzstd) {
        in->window = WINDOW; /* what it decompresses to may be larger than the file */
        window = hl_mem_realloc(window, WINDOW);
    }
    int form = rc == 0 ? form_of(in->name, window, have, diag) : 0;
    hl_reader reader = {.out = out, .sink = sink};
    while (form) {
        if (fill(in, window, in->window, &have, &end, diag) != 0) break;
        size_t used;
        rc = form == 't' ? hl_trace_feed_text(&reader, (const char *)window, have, end, &used, diag)
                         : hl_trace_feed_binary(&reader, window, have, end, &used, diag);
        if (rc != 0 || end) break;
        if (used == 0 && have == in->window) {
            rc = hl_trace_fail(diag, "%s:%llu: line longer than %zu bytes: not a trace line", in->name,
                      (unsigned long long)reader.line + 1, in->window);
            break;
        }
        memmove(window, window + used, have - used);
        have -= used;
    }
    if (reader.stopped) rc = 0, end = true; /* the sink had what it wanted */
    if (form && rc == 0 && !end) rc = -1; /* fill failed */
    if (!form) rc = -1;
    hl_mem_free(window);
    hl_mem_free(in->packed);
    hl_unzstd_free(in->unzstd);
    if (rc != 0) {
        hl_trace_free(out);
        return -1;
    }
    out->stopped = reader.stopped;
    if (!reader.seen_end && !reader.stopped) {
        out->cut_tail = true;
        hl_trace_cut_warning(warning, out->path, (size_t)reader.ops);
    }
    if (taken) *taken = reader.ops;
    return 0;
}

static int open_input(const char *path, input *in, hl_diag *diag)
{
    *in = (input){.name = path, .fd = open(path, O_RDONLY | O_CLOEXEC)};
    if (in->fd < 0) return hl_trace_fail(diag, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(in->fd);
        return hl_trace_fail(diag, "%s: cannot open: %s", path, strerror(EISDIR));
    }
    /* a small file gets a small window (one that has grown since is read in pieces) */
    bool small = S_ISREG(st.st_mode) && (uint64_t)st.st_size < WINDOW / 2;
    in->window = small ? (size_t)st.st_size + 65536 : WINDOW;
    return 0;
}

static void start(hl_trace *out, const char *name)
{
    memset(out, 0, sizeof *out);
    out->path = hl_mem_strdup(name);
}

int hl_trace_scan(const char *path, hl_trace *out, const hl_op_sink *sink, uint64_t *taken, hl_diag *diag,
                  hl_diag *warning)
{
    input in;
    start(out, path);
    if (open_input(path, &in, diag) != 0) return hl_trace_free(out), -1;
    int rc = scan(&in, out, sink, taken, diag, warning);
    close(in.fd);
    return rc;
}

typedef struct recount {
    const hl_op_sink *sink;
    uint64_t expected, seen;
} recount;

static int recount_take(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    recount *r = context;
    if (r->seen++ == r->expected)
        return hl_trace_fail(diag, "%s: has more operations than when it was first read", trace->path);
    return r->sink->take(r->sink->context, trace, op, diag);
}

int hl_trace_rescan(const hl_trace *first, const hl_op_sink *sink, hl_diag *diag)
{
    recount r = {sink, first->count, 0};
    hl_op_sink counting = {recount_take, &r};
    hl_trace again;
    diag->message[0] = '\0';
    int rc = hl_trace_scan(first->path, &again, &counting, NULL, diag, NULL);
    if (rc == 0) {
        if (!again.stopped && r.seen != first->count)
            rc = hl_trace_fail(diag, "%s: has fewer operations than when it was first read", first->path);
        hl_trace_free(&again);
    }
    if (rc != 0) {
        static const char changed[] = " (it changed since it was first read)";
        size_t n = strlen(diag->message), room = sizeof diag->message - sizeof changed;
        memcpy(diag->message + (n < room ? n : room), changed, sizeof changed);
    }
    return rc;
}

int hl_trace_read(const char *path, hl_trace *out, hl_diag *diag, hl_diag *warning)
{
    const hl_op_sink keeper = {keep, out};
    return hl_trace_scan(path, out, &keeper, NULL, diag, warning);
}

int hl_trace_read_memory(const char *name, const void *bytes, size_t size, hl_trace *out, hl_diag *diag,
                         hl_diag *warning)
{
    const hl_op_sink keeper = {keep, out};
    input in = {.name = name, .fd = -1, .memory = bytes, .memory_size = size};
    in.window = size < WINDOW ? size + PEEK : WINDOW;
    start(out, name);
    return scan(&in, out, &keeper, NULL, diag, warning);
}

bool hl_trace_has_magic(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return false;
    input in;
    hl_diag ignored;
    if (open_input(path, &in, &ignored) != 0) return false;
    unsigned char head[PEEK];
    size_t have = 0;
    bool end = false;
    bool is_trace = peek(&in, head, &have, &end, &ignored) == 0;
    hl_mem_free(in.packed);
    hl_unzstd_free(in.unzstd);
    close(in.fd);
    return is_trace && (starts_with(head, have, HL_TRACE_TEXT_PREFIX) || starts_with(head, have, HL_TRACE_BINARY_PREFIX));
}
