/* test_trace.c: the trace as a whole: the op table, sizes, the in-memory trace and
 * its metadata, reading files (form by magic), collecting trace files from
 * directories, and lossless round trips text -> binary -> text for every shipped
 * trace and for a generated trace with every kind, annotation and extreme value. */
#include "hl_check.h"
#include "trace_form.h"
#include "unit.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void write_file(const char *name, const void *bytes, size_t size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fwrite(bytes, 1, size, f);
    fclose(f);
}

static void write_text(const char *name, const char *text) { write_file(name, text, strlen(text)); }

static const char *in_dir(const char *name)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char child[512];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        remove_tree(child);
    }
    closedir(d);
    rmdir(path);
}

TEST(op_table)
{
    CHECK_STR(hl_op_name(HL_OP_ALLOC), "alloc");
    CHECK_STR(hl_op_name(HL_OP_AFTER_FREE), "after_free");
    CHECK_STR(hl_op_name(HL_OP_COUNT), "?");
    CHECK_STR(hl_op_name((hl_op_kind)200), "?");
    for (unsigned k = 0; k < HL_OP_COUNT; k++) {
        const char *name = hl_op_name((hl_op_kind)k);
        CHECK_EQ(hl_op_from_name(name, strlen(name)), k);
        CHECK(hl_op_fields_of((hl_op_kind)k) != NULL);
        CHECK(strncmp(hl_op_fields_of((hl_op_kind)k)->usage, name, strlen(name)) == 0);
        CHECK_EQ(hl_op_is_misuse((hl_op_kind)k), k >= HL_OP_DOUBLE_FREE);
    }
    CHECK_EQ(hl_op_from_name("free_allx", 8), HL_OP_FREE_ALL); /* exactly n bytes */
    CHECK_EQ(hl_op_from_name("free_allx", 9), HL_OP_COUNT);
    CHECK_EQ(hl_op_from_name("fre", 3), HL_OP_COUNT);
    CHECK_EQ(hl_op_from_name("free\0x", 6), HL_OP_COUNT);
    CHECK_EQ(hl_op_from_name("", 0), HL_OP_COUNT);
    CHECK_EQ(hl_op_from_name("end", 3), HL_OP_COUNT); /* the end marker is not an operation */
    CHECK(!hl_op_is_misuse(HL_OP_COUNT));
    CHECK(hl_op_fields_of(HL_OP_COUNT) == NULL);
    /* hl_op_same compares what the kind uses */
    hl_op a, b;
    memset(&a, 0, sizeof a);
    a.kind = HL_OP_FREE;
    a.id = 5;
    b = a;
    b.size = 99; /* unused by free */
    b.line = 7;
    CHECK(hl_op_same(&a, &b));
    b.id = 6;
    CHECK(!hl_op_same(&a, &b));
    b = a;
    b.has_thread = 1;
    CHECK(!hl_op_same(&a, &b));
    a.kind = b.kind = HL_OP_ALLOC;
    b = a;
    b.caps = HL_CAP_DMA;
    CHECK(!hl_op_same(&a, &b));
}

TEST(parse_size)
{
    uint64_t v = 7;
    CHECK(hl_parse_size("0", &v) && v == 0);
    CHECK(hl_parse_size("4096", &v) && v == 4096);
    CHECK(hl_parse_size("4K", &v) && v == 4096);
    CHECK(hl_parse_size("4k", &v) && v == 4096);
    CHECK(hl_parse_size("1M", &v) && v == 1048576);
    CHECK(hl_parse_size("2G", &v) && v == (2ull << 30));
    CHECK(hl_parse_size("18446744073709551615", &v) && v == UINT64_MAX);
    CHECK(hl_parse_size("17179869183G", &v) && v == (17179869183ull << 30));
    v = 7;
    CHECK(!hl_parse_size("18446744073709551616", &v));
    CHECK(!hl_parse_size("17179869184G", &v));
    CHECK(!hl_parse_size("", &v));
    CHECK(!hl_parse_size("K", &v));
    CHECK(!hl_parse_size("-1", &v));
    CHECK(!hl_parse_size("+1", &v));
    CHECK(!hl_parse_size(" 1", &v));
    CHECK(!hl_parse_size("1 ", &v));
    CHECK(!hl_parse_size("1KB", &v));
    CHECK(!hl_parse_size("1T", &v));
    CHECK(!hl_parse_size("0x10", &v));
    CHECK(!hl_parse_size("99999999999999999999x", &v));
    CHECK_EQ(v, 7); /* untouched on failure */
    CHECK_EQ(hl_parse_number("99999999999999999999x", 21, false, &v), HL_NUMBER_BAD);
    CHECK_EQ(hl_parse_number("99999999999999999999", 20, false, &v), HL_NUMBER_TOO_LARGE);
    CHECK_EQ(hl_parse_number("12K", 3, false, &v), HL_NUMBER_BAD);
    CHECK_EQ(hl_parse_number("12K", 2, false, &v), HL_NUMBER_OK);
    CHECK_EQ(v, 12);
}

TEST(metadata_api)
{
    hl_trace t;
    memset(&t, 0, sizeof t);
    hl_trace_set_meta(&t, "a", "1");
    hl_trace_set_meta(&t, "b", "2");
    hl_trace_set_meta(&t, "a", "3"); /* replaces, keeps its place */
    CHECK_EQ(t.meta_count, 2);
    CHECK_STR(t.meta[0].key, "a");
    CHECK_STR(hl_trace_meta(&t, "a"), "3");
    CHECK_STR(hl_trace_meta(&t, "b"), "2");
    CHECK(hl_trace_meta(&t, "c") == NULL);
    hl_trace_set_meta(&t, "bad key/x", "line\nbreak\r");
    CHECK_STR(hl_trace_meta(&t, "bad_key_x"), "line break ");
    hl_trace_set_meta(&t, "", "empty key");
    CHECK_STR(hl_trace_meta(&t, "_"), "empty key");
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hl_trace_set_meta(&t, big, big);
    CHECK_EQ(strlen(t.meta[t.meta_count - 1].key), HL_TRACE_META_KEY_MAX);
    CHECK_EQ(strlen(t.meta[t.meta_count - 1].value), HL_TRACE_META_VALUE_MAX);
    for (unsigned i = 0; i < HL_TRACE_META_MAX + 10; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%u", i);
        hl_trace_set_meta(&t, key, "v");
    }
    CHECK_EQ(t.meta_count, HL_TRACE_META_MAX);
    hl_diag diag;
    CHECK_EQ(hl_trace_check_writable(&t, &diag), 0); /* whatever was set can be written */
    hl_trace_free(&t);
    CHECK(t.meta == NULL && t.meta_count == 0 && t.ops == NULL && t.path == NULL);
    hl_trace_free(&t); /* twice is fine */
}

TEST(push_grows)
{
    hl_trace t;
    memset(&t, 0, sizeof t);
    hl_op op;
    memset(&op, 0, sizeof op);
    for (unsigned i = 0; i < 1000; i++) {
        op.id = i;
        hl_trace_push(&t, &op);
    }
    CHECK_EQ(t.count, 1000);
    CHECK(t.capacity >= 1000);
    CHECK_EQ(t.ops[999].id, 999);
    hl_trace_free(&t);
}

TEST(reading_files)
{
    hl_trace t;
    hl_diag diag, warning;
    CHECK_EQ(hl_trace_read(in_dir("nope.trace"), &t, &diag, &warning), -1);
    char expected[300];
    snprintf(expected, sizeof expected, "%s: cannot open: No such file or directory", in_dir("nope.trace"));
    CHECK_STR(diag.message, expected);
    CHECK_EQ(hl_trace_read(dir, &t, &diag, &warning), -1);
    snprintf(expected, sizeof expected, "%s: cannot open: Is a directory", dir);
    CHECK_STR(diag.message, expected);
    write_text("empty.trace", "");
    CHECK_EQ(hl_trace_read(in_dir("empty.trace"), &t, &diag, &warning), -1);
    snprintf(expected, sizeof expected, "%s: empty file, not a trace", in_dir("empty.trace"));
    CHECK_STR(diag.message, expected);
    write_text("notes.trace", "hello world\nalloc 1 16\n");
    CHECK_EQ(hl_trace_read(in_dir("notes.trace"), &t, &diag, &warning), -1);
    snprintf(expected, sizeof expected, "%s: not a heaplab trace (wrong magic)", in_dir("notes.trace"));
    CHECK_STR(diag.message, expected);
    write_text("cut.trace", "heaplab-trace 1\nalloc 1 16\nalloc 2 32\nfree 1\nall");
    CHECK_EQ(hl_trace_read(in_dir("cut.trace"), &t, &diag, &warning), 0);
    snprintf(expected, sizeof expected,
             "%s: warning: trace ends without an end marker (cut tail); replaying the 3 complete operations",
             in_dir("cut.trace"));
    CHECK_STR(warning.message, expected);
    CHECK_STR(t.path, in_dir("cut.trace"));
    CHECK_EQ(t.count, 3);
    CHECK(t.cut_tail);
    /* a cut tail converts to a complete trace: the writer always ends with the marker */
    CHECK_EQ(hl_trace_write(&t, HL_TRACE_BINARY, in_dir("cut.bin"), &diag), 0);
    hl_trace_free(&t);
    CHECK_EQ(hl_trace_read(in_dir("cut.bin"), &t, &diag, &warning), 0);
    CHECK_EQ(t.form, HL_TRACE_BINARY);
    CHECK(!t.cut_tail);
    CHECK_STR(warning.message, "");
    CHECK_EQ(t.count, 3);
    /* the binary file cut inside its header */
    write_file("header.bin", "HLTRA", 5);
    CHECK_EQ(hl_trace_read(in_dir("header.bin"), &t, &diag, &warning), -1);
    snprintf(expected, sizeof expected, "%s: cut inside its header (5 of 8 bytes)", in_dir("header.bin"));
    CHECK_STR(diag.message, expected);
    /* writing somewhere impossible */
    hl_trace_free(&t);
    CHECK_EQ(hl_trace_write(&t, HL_TRACE_TEXT, "/nonexistent-dir/x.trace", &diag), -1);
    CHECK_STR(diag.message, "/nonexistent-dir/x.trace: cannot write: No such file or directory (nothing written)");
}

typedef struct counting {
    uint64_t taken, stop_after;
} counting;

static int count_take(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    (void)trace, (void)op, (void)diag;
    counting *c = context;
    return ++c->taken == c->stop_after ? HL_SINK_STOP : 0;
}

TEST(a_sink_stops_a_scan_and_a_rescan_sees_a_changed_file)
{
    static const char text[] = "heaplab-trace 1\n#@k=v\nalloc 1 16\nalloc 2 32\nfree 1\nfree 2\nend\n";
    for (int binary = 0; binary < 2; binary++) {
        write_text("four.trace", text);
        hl_trace t, first;
        hl_diag diag, warning;
        if (binary) { /* the same through the binary reader */
            CHECK_EQ(hl_trace_read(in_dir("four.trace"), &t, &diag, NULL), 0);
            CHECK_EQ(hl_trace_write(&t, HL_TRACE_BINARY, in_dir("four.trace"), &diag), 0);
            hl_trace_free(&t);
        }
        counting c = {0, 2};
        hl_op_sink sink = {count_take, &c};
        /* stopped after two: not an error, the metadata kept, no cut tail */
        CHECK_EQ(hl_trace_scan(in_dir("four.trace"), &t, &sink, NULL, &diag, &warning), 0);
        CHECK(t.stopped && !t.cut_tail);
        CHECK_STR(warning.message, "");
        CHECK_STR(hl_trace_meta(&t, "k"), "v");
        CHECK_EQ(c.taken, 2);
        hl_trace_free(&t);
        /* a rescan checks the count the first read found */
        CHECK_EQ(hl_trace_read(in_dir("four.trace"), &first, &diag, NULL), 0);
        c = (counting){0, 0};
        CHECK_EQ(hl_trace_rescan(&first, &sink, &diag), 0);
        CHECK_EQ(c.taken, 4);
        c = (counting){0, 1}; /* a sink that stops early is no short file */
        CHECK_EQ(hl_trace_rescan(&first, &sink, &diag), 0);
        first.count = 5; /* as if the file had lost an operation since */
        c = (counting){0, 0};
        CHECK_EQ(hl_trace_rescan(&first, &sink, &diag), -1);
        char expected[300];
        snprintf(expected, sizeof expected,
                 "%s: has fewer operations than when it was first read (it changed since it was first read)",
                 in_dir("four.trace"));
        CHECK_STR(diag.message, expected);
        first.count = 3; /* or gained one */
        CHECK_EQ(hl_trace_rescan(&first, &sink, &diag), -1);
        snprintf(expected, sizeof expected,
                 "%s: has more operations than when it was first read (it changed since it was first read)",
                 in_dir("four.trace"));
        CHECK_STR(diag.message, expected);
        hl_trace_free(&first);
    }
}

TEST(has_magic)
{
    write_text("text.trace", "heaplab-trace 1\nend\n");
    write_text("future.trace", "heaplab-trace 2\nend\n"); /* a trace, of a version this build rejects */
    write_file("bin.dat", "HLTRACE\x01\xff\x00", 10);
    write_text("readme.md", "# heaplab-trace 1\n");
    write_text("short", "heap");
    write_text("empty", "");
    CHECK(hl_trace_has_magic(in_dir("text.trace")));
    CHECK(hl_trace_has_magic(in_dir("future.trace")));
    CHECK(hl_trace_has_magic(in_dir("bin.dat")));
    CHECK(!hl_trace_has_magic(in_dir("readme.md")));
    CHECK(!hl_trace_has_magic(in_dir("short")));
    CHECK(!hl_trace_has_magic(in_dir("empty")));
    CHECK(!hl_trace_has_magic(in_dir("missing")));
    CHECK(!hl_trace_has_magic(dir));
}

TEST(collect)
{
    char root[128];
    snprintf(root, sizeof root, "%s/coll", dir);
    mkdir(root, 0755);
    char path[256];
#define MAKE(name, text)                                                                \
    do {                                                                                \
        snprintf(path, sizeof path, "%s/%s", root, name);                               \
        FILE *f = fopen(path, "wb");                                                    \
        fwrite(text, 1, sizeof text - 1, f);                                            \
        fclose(f);                                                                      \
    } while (0)
    snprintf(path, sizeof path, "%s/real", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/empty-sub", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/.hidden", root);
    mkdir(path, 0755);
    MAKE("b.trace", "heaplab-trace 1\nend\n");
    MAKE("a.trace", "heaplab-trace 1\nend\n");
    MAKE("FORMAT.md", "# the format\n");
    MAKE("z.bin", "HLTRACE\x01\xff\x00");
    MAKE("notes.trace", "not a trace\n");
    MAKE("real/x.trace", "heaplab-trace 1\nend\n");
    MAKE(".hidden/h.trace", "heaplab-trace 1\nend\n");
    snprintf(path, sizeof path, "%s/link.trace", root);
    CHECK_EQ(symlink("a.trace", path), 0);
    snprintf(path, sizeof path, "%s/loop", root);
    CHECK_EQ(symlink(".", path), 0); /* a directory link is not followed */

    char **paths = NULL;
    size_t count = 0;
    hl_diag diag;
    char explicit_file[256];
    snprintf(explicit_file, sizeof explicit_file, "%s/notes.trace", root);
    const char *args[] = {root, explicit_file};
    CHECK_EQ(hl_trace_collect(args, 2, &paths, &count, &diag), 0);
    CHECK_EQ(count, 6);
    const char *expected[] = {"a.trace", "b.trace", "link.trace", "real/x.trace", "z.bin", "notes.trace"};
    for (size_t i = 0; i < count && i < 6; i++) {
        char want[256];
        snprintf(want, sizeof want, "%s/%s", root, expected[i]);
        CHECK_STR(paths[i], want);
    }
    for (size_t i = 0; i < count; i++) hl_mem_free(paths[i]);
    hl_mem_free(paths);

    /* a trailing slash does not double */
    char slashed[256];
    snprintf(slashed, sizeof slashed, "%s/real/", root);
    const char *one[] = {slashed};
    CHECK_EQ(hl_trace_collect(one, 1, &paths, &count, &diag), 0);
    CHECK_EQ(count, 1);
    if (count == 1) {
        char want[256];
        snprintf(want, sizeof want, "%s/real/x.trace", root);
        CHECK_STR(paths[0], want);
    }

    /* a directory with no trace in it is bad input; so is a missing path */
    snprintf(path, sizeof path, "%s/empty-sub", root);
    MAKE("empty-sub/README.md", "no traces here\n");
    snprintf(path, sizeof path, "%s/empty-sub", root);
    const char *none[] = {path};
    CHECK_EQ(hl_trace_collect(none, 1, &paths, &count, &diag), -1);
    char want[512];
    snprintf(want, sizeof want,
             "%s: no trace in this directory (trace files are recognised by their magic, not their name)", path);
    CHECK_STR(diag.message, want);
    CHECK(paths == NULL && count == 0);
    char missing[256];
    snprintf(missing, sizeof missing, "%s/nope", root);
    const char *gone[] = {root, missing};
    CHECK_EQ(hl_trace_collect(gone, 2, &paths, &count, &diag), -1);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", missing);
    CHECK_STR(diag.message, want);
    CHECK(paths == NULL && count == 0);
    /* the shipped traces directory holds traces and FORMAT.md */
    const char *shipped[] = {"traces"};
    CHECK_EQ(hl_trace_collect(shipped, 1, &paths, &count, &diag), 0);
    CHECK(count >= 5);
    for (size_t i = 0; i < count; i++) CHECK(strstr(paths[i], "FORMAT") == NULL);
#undef MAKE
}

/* ---------------------------------------------------------------- round trips */

static void encode(const hl_trace *t, hl_trace_form form, char **bytes, size_t *size)
{
    FILE *out = open_memstream(bytes, size);
    CHECK_EQ(form == HL_TRACE_TEXT ? hl_trace_write_text_stream(t, out) : hl_trace_write_binary_stream(t, out), 0);
    fclose(out);
}

static bool same_ops_and_meta(const hl_trace *a, const hl_trace *b)
{
    bool same = a->count == b->count && a->meta_count == b->meta_count;
    for (size_t i = 0; same && i < a->count; i++) {
        hl_op x = a->ops[i], y = b->ops[i];
        same = hl_op_same(&x, &y);
        x.line = y.line = 0;
        same = same && memcmp(&x, &y, sizeof x) == 0; /* readers fill every field alike */
    }
    for (size_t i = 0; same && i < a->meta_count; i++)
        same = strcmp(a->meta[i].key, b->meta[i].key) == 0 && strcmp(a->meta[i].value, b->meta[i].value) == 0;
    return same;
}

/* text -> binary -> text: same operations and metadata, and the text written from the
 * binary is byte for byte the text written from the original. */
static void round_trip(const hl_trace *original)
{
    char *text1 = NULL, *binary = NULL, *text2 = NULL;
    size_t text1_size, binary_size, text2_size;
    hl_trace from_text, from_binary, again;
    hl_diag diag, warning;
    encode(original, HL_TRACE_TEXT, &text1, &text1_size);
    CHECK_EQ(hl_trace_read_memory("1.trace", text1, text1_size, &from_text, &diag, &warning), 0);
    encode(&from_text, HL_TRACE_BINARY, &binary, &binary_size);
    CHECK_EQ(hl_trace_read_memory("2.bin", binary, binary_size, &from_binary, &diag, &warning), 0);
    CHECK_EQ(from_binary.form, HL_TRACE_BINARY);
    CHECK(!from_binary.cut_tail);
    encode(&from_binary, HL_TRACE_TEXT, &text2, &text2_size);
    CHECK_EQ(hl_trace_read_memory("3.trace", text2, text2_size, &again, &diag, &warning), 0);
    CHECK(same_ops_and_meta(&from_text, &from_binary));
    CHECK(same_ops_and_meta(&from_text, &again));
    CHECK_EQ(from_text.count, original->count);
    for (size_t i = 0; i < original->count && i < from_text.count; i++)
        CHECK(hl_op_same(&original->ops[i], &from_text.ops[i]));
    CHECK(text1_size == text2_size && memcmp(text1, text2, text1_size) == 0);
    CHECK(binary_size < text1_size);
    hl_trace_free(&from_text);
    hl_trace_free(&from_binary);
    hl_trace_free(&again);
    free(text1);
    free(binary);
    free(text2);
}

TEST(shipped_traces_round_trip_and_are_consistent)
{
    const char *names[] = {"basic", "realloc", "scopes", "free_all", "misuse", "fail", "threads", "caps"};
    bool kinds[HL_OP_COUNT] = {false};
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        char path[128];
        snprintf(path, sizeof path, "traces/%s.trace", names[n]);
        hl_trace t;
        hl_diag diag, warning;
        int rc = hl_trace_read(path, &t, &diag, &warning);
        if (rc != 0) fprintf(stderr, "%s\n", diag.message);
        CHECK_EQ(rc, 0);
        CHECK(!t.cut_tail);
        CHECK(t.count > 5);
        CHECK(hl_trace_meta(&t, "description") != NULL);
        rc = hl_trace_check(&t, &diag);
        if (rc != 0) fprintf(stderr, "%s\n", diag.message);
        CHECK_EQ(rc, 0);
        for (size_t i = 0; i < t.count; i++) {
            kinds[t.ops[i].kind] = true;
            if (t.ops[i].kind == HL_OP_ALLOC || t.ops[i].kind == HL_OP_REALLOC) CHECK(t.ops[i].size <= (1u << 20));
        }
        round_trip(&t);
        hl_trace_free(&t);
    }
    for (unsigned k = 0; k < HL_OP_COUNT; k++) {
        if (!kinds[k]) fprintf(stderr, "no shipped trace has %s\n", hl_op_name((hl_op_kind)k));
        CHECK(kinds[k]);
    }
}

TEST(every_kind_annotation_and_extreme_value_round_trips)
{
    static const uint64_t values[] = {0, 1, 127, 128, 16383, 16384, UINT32_MAX, (uint64_t)UINT32_MAX + 1,
                                      UINT64_MAX - 1, UINT64_MAX};
    const size_t nv = sizeof values / sizeof values[0];
    hl_trace t;
    memset(&t, 0, sizeof t);
    hl_trace_set_meta(&t, "description", "generated: every kind x every annotation");
    hl_trace_set_meta(&t, "heaplab.source", "test_trace.c");
    hl_trace_set_meta(&t, "odd", " leading and trailing spaces, = and # inside ");
    hl_trace_set_meta(&t, "empty", "");
    unsigned n = 0;
    for (unsigned k = 0; k < HL_OP_COUNT; k++) {
        for (size_t v = 0; v < nv; v++) {
            for (unsigned variant = 0; variant < 4; variant++, n++) {
                hl_op op;
                memset(&op, 0, sizeof op);
                op.kind = (uint8_t)k;
                op.align = 1;
                op.id = values[v];
                op.size = values[(v + 1) % nv];
                op.offset = values[(v + 2) % nv];
                op.scope = (uint32_t)(values[v] > UINT32_MAX ? UINT32_MAX : values[v]);
                if (k == HL_OP_ALLOC || k == HL_OP_FREE_LAYOUT) op.align = values[(v + 3) % nv];
                if (k == HL_OP_ALLOC) op.caps = variant; /* none, exec, dma, exec+dma */
                if (k == HL_OP_TOUCH) op.write = variant & 1;
                op.has_thread = (variant & 1) != 0;
                op.thread = op.has_thread ? (uint32_t)(n * 2654435761u) : 0;
                op.expect_fail = (uint8_t)(variant >= 2 ? 1 + n % (HL_E_COUNT - 1) : HL_E_OK);
                if (k != HL_OP_ALLOC && k != HL_OP_FREE_LAYOUT) op.align = 1;
                if (k == HL_OP_FREE_ALL) op.id = op.size = op.offset = 0;
                hl_trace_push(&t, &op);
            }
        }
    }
    round_trip(&t);
    hl_trace_free(&t);
}

TEST(file_round_trip_through_both_forms)
{
    hl_trace t;
    hl_diag diag, warning;
    CHECK_EQ(hl_trace_read("traces/scopes.trace", &t, &diag, &warning), 0);
    CHECK_EQ(hl_trace_write(&t, HL_TRACE_BINARY, in_dir("scopes.bin"), &diag), 0);
    hl_trace b;
    CHECK_EQ(hl_trace_read(in_dir("scopes.bin"), &b, &diag, &warning), 0);
    CHECK_EQ(b.form, HL_TRACE_BINARY);
    CHECK(same_ops_and_meta(&t, &b));
    /* a message about an operation of a binary trace names its byte offset */
    CHECK(b.count > 0 && b.ops[0].line >= HL_TRACE_BINARY_HEADER);
    CHECK_EQ(hl_trace_write(&b, HL_TRACE_TEXT, in_dir("scopes.trace"), &diag), 0);
    hl_trace c;
    CHECK_EQ(hl_trace_read(in_dir("scopes.trace"), &c, &diag, &warning), 0);
    CHECK_EQ(c.form, HL_TRACE_TEXT);
    CHECK(same_ops_and_meta(&t, &c));
    hl_trace_free(&t);
    hl_trace_free(&b);
    hl_trace_free(&c);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/heaplab-test-trace-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(op_table);
    RUN(parse_size);
    RUN(metadata_api);
    RUN(push_grows);
    RUN(reading_files);
    RUN(has_magic);
    RUN(collect);
    RUN(shipped_traces_round_trip_and_are_consistent);
    RUN(every_kind_annotation_and_extreme_value_round_trips);
    RUN(file_round_trip_through_both_forms);
    RUN(a_sink_stops_a_scan_and_a_rescan_sees_a_changed_file);
    remove_tree(dir);
    return unit_summary();
}
