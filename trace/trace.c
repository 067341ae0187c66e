/* trace.c: the in-memory trace (operations and metadata) and collecting trace files
 * from the paths a user names. The forms themselves live in trace_text.c and
 * trace_binary.c; traces/FORMAT.md describes both.
 *
 * Reading a trace file, a window at a time, is trace_read.c's; writing one,
 * trace_write.c's. */
#include "hl_trace.h"
#include "trace_form.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hl_trace_fail(hl_diag *diag, const char *fmt, ...)
{
    if (!diag) return -1;
    va_list args;
    va_start(args, fmt);
    vsnprintf(diag->message, sizeof diag->message, fmt, args);
    va_end(args);
    return -1;
}

/* ---------------------------------------------------------------- in-memory trace */

void hl_trace_reserve(hl_trace *trace, size_t n)
{
    if (trace->capacity - trace->count >= n) return;
    size_t capacity = trace->capacity ? trace->capacity : 64;
    while (capacity - trace->count < n) capacity *= 2; /* the arena refuses absurd sizes */
    trace->ops = hl_mem_realloc(trace->ops, capacity * sizeof *trace->ops);
    trace->capacity = capacity;
}

void hl_trace_push(hl_trace *trace, const hl_op *op)
{
    if (trace->count == trace->capacity) hl_trace_reserve(trace, 1);
    trace->ops[trace->count++] = *op;
}

bool hl_trace_meta_key_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static hl_meta *find_meta(const hl_trace *trace, const char *key, size_t key_length)
{
    for (size_t i = 0; i < trace->meta_count; i++)
        if (strlen(trace->meta[i].key) == key_length && memcmp(trace->meta[i].key, key, key_length) == 0)
            return &trace->meta[i];
    return NULL;
}

static void append_meta(hl_trace *trace, char *key, char *value)
{
    /* meta grows one entry at a time: metadata is a handful of lines */
    trace->meta = hl_mem_realloc(trace->meta, (trace->meta_count + 1) * sizeof *trace->meta);
    trace->meta[trace->meta_count].key = key;
    trace->meta[trace->meta_count].value = value;
    trace->meta_count++;
}

void hl_trace_set_meta(hl_trace *trace, const char *key, const char *value)
{
    size_t key_length = strnlen(key, HL_TRACE_META_KEY_MAX);
    char *clean_key = hl_mem_strndup(key_length ? key : "_", key_length ? key_length : 1);
    for (char *c = clean_key; *c; c++)
        if (!hl_trace_meta_key_byte((unsigned char)*c)) *c = '_';
    char *clean_value = hl_mem_strndup(value, HL_TRACE_META_VALUE_MAX);
    for (char *c = clean_value; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    hl_meta *old = find_meta(trace, clean_key, strlen(clean_key));
    if (old) {
        hl_mem_free(old->value);
        old->value = clean_value;
        hl_mem_free(clean_key);
    } else if (trace->meta_count < HL_TRACE_META_MAX) {
        append_meta(trace, clean_key, clean_value);
    } else {
        hl_mem_free(clean_key);
        hl_mem_free(clean_value);
    }
}

int hl_trace_add_meta(hl_trace *trace, const char *key, size_t key_length, const char *value,
                      size_t value_length, char *problem, size_t capacity)
{
    if (key_length == 0) {
        snprintf(problem, capacity, "metadata key is empty");
        return -1;
    }
    if (key_length > HL_TRACE_META_KEY_MAX) {
        snprintf(problem, capacity, "metadata key of %zu bytes is longer than %u", key_length,
                 HL_TRACE_META_KEY_MAX);
        return -1;
    }
    for (size_t i = 0; i < key_length; i++)
        if (!hl_trace_meta_key_byte((unsigned char)key[i])) {
            snprintf(problem, capacity, "metadata key has byte 0x%02x (allowed: letters, digits, '_', '.', '-')",
                     (unsigned char)key[i]);
            return -1;
        }
    if (value_length > HL_TRACE_META_VALUE_MAX) {
        snprintf(problem, capacity, "metadata value of '%.*s' is %zu bytes, longer than %u", (int)key_length, key,
                 value_length, HL_TRACE_META_VALUE_MAX);
        return -1;
    }
    for (size_t i = 0; i < value_length; i++)
        if (value[i] == '\n' || value[i] == '\r' || value[i] == '\0') {
            snprintf(problem, capacity, "metadata value of '%.*s' holds a line break or NUL byte",
                     (int)key_length, key);
            return -1;
        }
    if (find_meta(trace, key, key_length)) {
        snprintf(problem, capacity, "metadata key '%.*s' is given twice", (int)key_length, key);
        return -1;
    }
    if (trace->meta_count >= HL_TRACE_META_MAX) {
        snprintf(problem, capacity, "more than %u metadata entries", HL_TRACE_META_MAX);
        return -1;
    }
    append_meta(trace, hl_mem_strndup(key, key_length), hl_mem_strndup(value, value_length));
    return 0;
}

const char *hl_trace_meta(const hl_trace *trace, const char *key)
{
    hl_meta *meta = find_meta(trace, key, strlen(key));
    return meta ? meta->value : NULL;
}

void hl_trace_free(hl_trace *trace)
{
    for (size_t i = 0; i < trace->meta_count; i++) {
        hl_mem_free(trace->meta[i].key);
        hl_mem_free(trace->meta[i].value);
    }
    hl_mem_free(trace->meta);
    hl_mem_free(trace->ops);
    hl_mem_free(trace->path);
    memset(trace, 0, sizeof *trace);
}

void hl_trace_cut_warning(hl_diag *warning, const char *path, size_t count)
{
    if (!warning) return;
    snprintf(warning->message, sizeof warning->message,
             "%s: warning: trace ends without an end marker (cut tail); replaying the %zu complete operation%s",
             path, count, count == 1 ? "" : "s");
}

/* ---------------------------------------------------------------- numbers */

hl_number hl_parse_number(const char *text, size_t n, bool suffixes, uint64_t *out)
{
    unsigned shift = 0;
    size_t digits = n;
    if (suffixes && n > 0) {
        switch (text[n - 1]) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        default: break;
        }
        if (shift) digits--;
    }
    if (digits == 0) return HL_NUMBER_BAD;
    uint64_t value = 0;
    bool too_large = false;
    for (size_t i = 0; i < digits; i++) {
        unsigned d = (unsigned)(unsigned char)text[i] - '0';
        if (d > 9) return HL_NUMBER_BAD;
        if (value > (UINT64_MAX - d) / 10) too_large = true; /* keep scanning: "9...9x" is BAD */
        else value = value * 10 + d;
    }
    if (too_large || (shift && value > (UINT64_MAX >> shift))) return HL_NUMBER_TOO_LARGE;
    *out = value << shift;
    return HL_NUMBER_OK;
}

bool hl_parse_size(const char *text, uint64_t *out)
{
    uint64_t value;
    if (hl_parse_number(text, strlen(text), true, &value) != HL_NUMBER_OK) return false;
    *out = value;
    return true;
}

/* ---------------------------------------------------------------- reading */

hl_shown hl_show(const char *s, size_t n)
{
    hl_shown out;
    size_t k = 0;
    for (size_t i = 0; i < n && i < 60; i++) {
        unsigned char c = (unsigned char)s[i];
        out.text[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (n > 60) {
        memcpy(out.text + k, "...", 3);
        k += 3;
    }
    out.text[k] = '\0';
    return out;
}

int hl_file_load(const char *path, char **bytes, size_t *size, hl_diag *diag)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return hl_trace_fail(diag, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return hl_trace_fail(diag, "%s: cannot open: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return hl_trace_fail(diag, "%s: cannot open: %s", path, strerror(EISDIR));
    }
    size_t capacity = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    char *buffer = hl_mem_alloc(capacity);
    size_t length = 0;
    for (;;) {
        if (!S_ISREG(st.st_mode) && length >= HL_FILE_STREAM_MAX) { /* a device or a pipe without end */
            close(fd);
            hl_mem_free(buffer);
            return hl_trace_fail(diag, "%s: not a regular file, and longer than %zu MiB: the most read from a pipe or device",
                        path, HL_FILE_STREAM_MAX >> 20);
        }
        if (length == capacity) {
            capacity *= 2;
            buffer = hl_mem_realloc(buffer, capacity);
        }
        ssize_t n = read(fd, buffer + length, capacity - length);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            hl_mem_free(buffer);
            return hl_trace_fail(diag, "%s: cannot read: %s", path, strerror(e));
        }
        if (n == 0) break;
        length += (size_t)n;
    }
    close(fd);
    *bytes = buffer;
    *size = length;
    return 0;
}

/* ---------------------------------------------------------------- collecting */

typedef struct path_list {
    char **items;
    size_t count, capacity;
} path_list;

static void list_push(path_list *list, char *item)
{
    if (list->count == list->capacity) {
        list->capacity = list->capacity ? list->capacity * 2 : 16;
        list->items = hl_mem_realloc(list->items, list->capacity * sizeof *list->items);
    }
    list->items[list->count++] = item;
}

static void list_free(path_list *list)
{
    for (size_t i = 0; i < list->count; i++) hl_mem_free(list->items[i]);
    hl_mem_free(list->items);
    memset(list, 0, sizeof *list);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    size_t d = strlen(dir), n = strlen(name);
    bool slash = d > 0 && dir[d - 1] == '/';
    char *path = hl_mem_alloc(d + n + 2);
    memcpy(path, dir, d);
    if (!slash) path[d++] = '/';
    memcpy(path + d, name, n);
    return path;
}

/* 0 when the entry at path (lstat'ed into st) can be looked at: a regular file that
 * opens, or anything else that is not a file; else the errno (a link to nothing, a
 * file without read permission). st becomes what a link points to. */
static int unreadable(const char *path, struct stat *st)
{
    if (S_ISLNK(st->st_mode) && stat(path, st) != 0) return errno;
    if (!S_ISREG(st->st_mode)) return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    close(fd);
    return 0;
}

/* Adds the trace files under dir, depth first, each directory's entries in name
 * order. Hidden entries (a leading '.') are skipped; symbolic links to files are
 * followed, to directories not (no cycles). A file that cannot be read (no
 * permission, a link to nothing) stops the collection with bad input naming it:
 * skipping it would let a command report every trace checked when one was not. */
static int collect_dir(const char *dir, path_list *out, hl_diag *diag)
{
    DIR *d = opendir(dir);
    if (!d) return hl_trace_fail(diag, "%s: cannot open: %s", dir, strerror(errno));
    path_list names = {0};
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL)
        if (entry->d_name[0] != '.') list_push(&names, hl_mem_strdup(entry->d_name));
    closedir(d);
    if (names.count) qsort(names.items, names.count, sizeof *names.items, compare_names);
    int rc = 0;
    for (size_t i = 0; i < names.count && rc == 0; i++) {
        char *path = join(dir, names.items[i]);
        struct stat st;
        bool keep = false;
        if (lstat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                rc = collect_dir(path, out, diag);
            } else {
                int e = unreadable(path, &st);
                if (e) rc = hl_trace_fail(diag, "%s: cannot open: %s", path, strerror(e));
                else keep = S_ISREG(st.st_mode) && hl_trace_has_magic(path);
            }
        }
        if (keep) list_push(out, path);
        else hl_mem_free(path);
    }
    list_free(&names);
    return rc;
}

int hl_trace_collect(const char *const *paths, size_t count, char ***out_paths, size_t *out_count,
                     hl_diag *diag)
{
    path_list list = {0};
    *out_paths = NULL;
    *out_count = 0;
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            hl_trace_fail(diag, "%s: cannot open: %s", paths[i], strerror(errno));
            list_free(&list);
            return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
            list_push(&list, hl_mem_strdup(paths[i])); /* a named file is read whatever its magic */
            continue;
        }
        size_t before = list.count;
        if (collect_dir(paths[i], &list, diag) != 0 ||
            (list.count == before &&
             hl_trace_fail(diag, "%s: no trace in this directory (trace files are recognised by their magic, not their name)",
                  paths[i]) != 0)) {
            list_free(&list);
            return -1;
        }
    }
    *out_paths = list.items;
    *out_count = list.count;
    return 0;
}
