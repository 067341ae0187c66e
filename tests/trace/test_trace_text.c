/* test_trace_text.c: the text form of a trace (traces/FORMAT.md): what parses to
 * what, every bad-input message with its line, the cut-tail rule, the writer. */
#include "hl_check.h"
#include "trace_form.h"
#include "unit.h"

#include <stdlib.h>

static hl_trace trace;
static hl_diag diag, warning;

/* Reads body (after the magic line) as "t.trace"; returns the reader's result. */
static int read_text(const char *text)
{
    hl_trace_free(&trace);
    diag.message[0] = warning.message[0] = '\0';
    return hl_trace_read_memory("t.trace", text, strlen(text), &trace, &diag, &warning);
}

static int read_body(const char *body)
{
    static char text[16384];
    snprintf(text, sizeof text, "heaplab-trace 1\n%s", body);
    return read_text(text);
}

/* The message a bad body gets (with "end\n" appended), or "(accepted)". */
static const char *error_of(const char *body)
{
    static char text[16384];
    snprintf(text, sizeof text, "%send\n", body);
    if (read_body(text) == 0) return "(accepted)";
    CHECK(trace.ops == NULL && trace.count == 0); /* nothing kept on error */
    return diag.message;
}

TEST(every_kind_parses_into_its_fields)
{
    CHECK_EQ(read_body("alloc 1 16\n"
                       "alloc 2 0 align=4096 caps=exec\n"
                       "free 1\n"
                       "realloc 2 100\n"
                       "usable 2\n"
                       "touch 2 8 16 w\n"
                       "touch 2 0 1 r\n"
                       "scope_enter 7\n"
                       "scope_exit 7\n"
                       "promote 4294967295 2 50\n"
                       "free_all\n"
                       "double_free 1\n"
                       "free_invalid 2 3\n"
                       "free_layout 2 64 8\n"
                       "overflow 2 1\n"
                       "underflow 2 2\n"
                       "after_free 1 15\n"
                       "end\n"),
             0);
    CHECK_EQ(trace.count, 17);
    CHECK(!trace.cut_tail);
    CHECK_STR(warning.message, "");
    CHECK_EQ(trace.form, HL_TRACE_TEXT);
    CHECK_STR(trace.path, "t.trace");
    const hl_op *o = trace.ops;
    CHECK_EQ(o[0].kind, HL_OP_ALLOC);
    CHECK_EQ(o[0].id, 1);
    CHECK_EQ(o[0].size, 16);
    CHECK_EQ(o[0].align, 1); /* omitted: 1 */
    CHECK_EQ(o[0].caps, HL_CAP_NONE);
    CHECK_EQ(o[0].expect_fail, HL_E_OK);
    CHECK_EQ(o[0].has_thread, 0);
    CHECK_EQ(o[0].line, 2);
    CHECK_EQ(o[1].align, 4096);
    CHECK_EQ(o[1].size, 0);
    CHECK_EQ(o[1].caps, HL_CAP_EXEC);
    CHECK_EQ(o[2].kind, HL_OP_FREE);
    CHECK_EQ(o[2].id, 1);
    CHECK_EQ(o[2].align, 1);
    CHECK_EQ(o[3].kind, HL_OP_REALLOC);
    CHECK_EQ(o[3].size, 100);
    CHECK_EQ(o[4].kind, HL_OP_USABLE);
    CHECK_EQ(o[5].kind, HL_OP_TOUCH);
    CHECK_EQ(o[5].offset, 8);
    CHECK_EQ(o[5].size, 16);
    CHECK_EQ(o[5].write, 1);
    CHECK_EQ(o[6].write, 0);
    CHECK_EQ(o[7].kind, HL_OP_SCOPE_ENTER);
    CHECK_EQ(o[7].scope, 7);
    CHECK_EQ(o[8].kind, HL_OP_SCOPE_EXIT);
    CHECK_EQ(o[9].kind, HL_OP_PROMOTE);
    CHECK_EQ(o[9].scope, UINT32_MAX);
    CHECK_EQ(o[9].id, 2);
    CHECK_EQ(o[9].size, 50);
    CHECK_EQ(o[10].kind, HL_OP_FREE_ALL);
    CHECK_EQ(o[11].kind, HL_OP_DOUBLE_FREE);
    CHECK_EQ(o[12].kind, HL_OP_FREE_INVALID);
    CHECK_EQ(o[12].offset, 3);
    CHECK_EQ(o[13].kind, HL_OP_FREE_LAYOUT);
    CHECK_EQ(o[13].size, 64);
    CHECK_EQ(o[13].align, 8);
    CHECK_EQ(o[14].kind, HL_OP_OVERFLOW);
    CHECK_EQ(o[14].offset, 1);
    CHECK_EQ(o[15].kind, HL_OP_UNDERFLOW);
    CHECK_EQ(o[15].offset, 2);
    CHECK_EQ(o[16].kind, HL_OP_AFTER_FREE);
    CHECK_EQ(o[16].offset, 15);
    CHECK_EQ(o[16].line, 18);
}

TEST(annotations_in_any_order_and_extreme_values)
{
    CHECK_EQ(read_body("alloc 18446744073709551615 18446744073709551615 fail=OUT_OF_MEMORY t=4294967295 "
                       "caps=dma+exec align=18446744073709551615\n"
                       "alloc 2 16 align=0 fail=INVALID_ARGUMENT\n"
                       "alloc 3 16 align=3\n"
                       "free 3 t=0\n"
                       "scope_enter 0 fail=OUT_OF_MEMORY\n"
                       "alloc 4 1 caps=none caps2=x\n"),
             -1);
    CHECK_STR(diag.message, "t.trace:7: unknown annotation 'caps2=x' (known: align=, caps=, fail=, t=)");
    CHECK_EQ(read_body("alloc 18446744073709551615 18446744073709551615 fail=OUT_OF_MEMORY t=4294967295 "
                       "caps=dma+exec align=18446744073709551615\n"
                       "alloc 2 16 align=0 fail=INVALID_ARGUMENT\n"
                       "alloc 3 16 align=3\n"
                       "free 3 t=0\n"
                       "scope_enter 0 fail=OUT_OF_MEMORY\n"
                       "end\n"),
             0);
    const hl_op *o = trace.ops;
    CHECK_EQ(o[0].id, UINT64_MAX);
    CHECK_EQ(o[0].size, UINT64_MAX);
    CHECK_EQ(o[0].align, UINT64_MAX);
    CHECK_EQ(o[0].caps, HL_CAP_EXEC | HL_CAP_DMA);
    CHECK_EQ(o[0].expect_fail, HL_E_OUT_OF_MEMORY);
    CHECK_EQ(o[0].has_thread, 1);
    CHECK_EQ(o[0].thread, UINT32_MAX);
    CHECK_EQ(o[1].align, 0); /* kept as written: the contract decides */
    CHECK_EQ(o[1].expect_fail, HL_E_INVALID_ARGUMENT);
    CHECK_EQ(o[2].align, 3);
    CHECK_EQ(o[3].has_thread, 1);
    CHECK_EQ(o[3].thread, 0);
    CHECK_EQ(o[4].expect_fail, HL_E_OUT_OF_MEMORY);
}

TEST(size_suffixes_are_binary_units)
{
    CHECK_EQ(read_body("alloc 1 4K align=4k\nalloc 2 1M\ntouch 2 1K 2k w\nalloc 3 2G\n"
                       "alloc 4 17179869183G\nend\n"),
             0);
    CHECK_EQ(trace.ops[0].size, 4096);
    CHECK_EQ(trace.ops[0].align, 4096);
    CHECK_EQ(trace.ops[1].size, 1048576);
    CHECK_EQ(trace.ops[2].offset, 1024);
    CHECK_EQ(trace.ops[2].size, 2048);
    CHECK_EQ(trace.ops[3].size, 2ull << 30);
    CHECK_EQ(trace.ops[4].size, 17179869183ull << 30);
    /* ids are plain decimal */
    CHECK_STR(error_of("alloc 1K 16\n"), "t.trace:2: alloc: ID '1K' is not a number");
    CHECK_STR(error_of("alloc 1 17179869184G\n"), "t.trace:2: alloc: SIZE 17179869184G does not fit in 64 bits");
}

TEST(comments_blank_lines_metadata_and_line_numbers)
{
    CHECK_EQ(read_text("heaplab-trace 1\r\n"
                       "#@description=a trace = with equals \r\n"
                       "#@heaplab.source=recorder-1.2_x\n"
                       "# a comment\n"
                       "\n"
                       "   \t\n"
                       "#@ not metadata: a comment\n"
                       "#@bad key=still a comment\n"
                       "  alloc   1\t16   # trailing comment\r\n"
                       "\tfree 1#not a comment start, so this would be a field\n"),
             -1);
    CHECK_STR(diag.message, "t.trace:10: free: ID '1#not' is not a number");
    CHECK_EQ(read_text("heaplab-trace 1\r\n"
                       "#@description=a trace = with equals \r\n"
                       "#@heaplab.source=recorder-1.2_x\n"
                       "#@empty=\n"
                       "# a comment\n"
                       "\n"
                       "   \t\n"
                       "#@ not metadata: a comment\n"
                       "  alloc   1\t16   # trailing comment\r\n"
                       "\tfree 1 #\n"
                       "end\n"
                       "# comments and blank lines may follow the end marker\n"
                       "\n"),
             0);
    CHECK_EQ(trace.count, 2);
    CHECK_EQ(trace.ops[0].line, 9);
    CHECK_EQ(trace.ops[1].line, 10);
    CHECK_EQ(trace.meta_count, 3);
    CHECK_STR(hl_trace_meta(&trace, "description"), "a trace = with equals "); /* rest of the line */
    CHECK_STR(hl_trace_meta(&trace, "heaplab.source"), "recorder-1.2_x");
    CHECK_STR(hl_trace_meta(&trace, "empty"), "");
    CHECK(hl_trace_meta(&trace, "missing") == NULL);
    CHECK_STR(trace.meta[0].key, "description"); /* file order */
}

TEST(each_bad_line_is_named_with_its_line)
{
    CHECK_STR(error_of("alloc 1 16\nalocc 2 16\n"), "t.trace:3: unknown operation 'alocc' (did you mean 'alloc'?)");
    CHECK_STR(error_of("frobnicate 2\n"), "t.trace:2: unknown operation 'frobnicate'");
    CHECK_STR(error_of("alloc 1\n"), "t.trace:2: alloc: missing field SIZE (usage: alloc ID SIZE [align=N] [caps=C])");
    CHECK_STR(error_of("touch 1 0 4\n"), "t.trace:2: touch: missing field r|w (usage: touch ID OFFSET LEN r|w)");
    CHECK_STR(error_of("promote 1\n"), "t.trace:2: promote: missing field ID (usage: promote S ID N)");
    CHECK_STR(error_of("free 1 2 3\n"), "t.trace:2: free: extra field '2' (usage: free ID)");
    CHECK_STR(error_of("free_all 1\n"), "t.trace:2: free_all: extra field '1' (usage: free_all)");
    CHECK_STR(error_of("alloc 1 abc\n"), "t.trace:2: alloc: SIZE 'abc' is not a number");
    CHECK_STR(error_of("alloc x 1\n"), "t.trace:2: alloc: ID 'x' is not a number");
    CHECK_STR(error_of("alloc -1 1\n"), "t.trace:2: alloc: ID '-1' is not a number");
    CHECK_STR(error_of("realloc 1 0x10\n"), "t.trace:2: realloc: NEWSIZE '0x10' is not a number");
    CHECK_STR(error_of("alloc 1 18446744073709551616\n"),
              "t.trace:2: alloc: SIZE 18446744073709551616 does not fit in 64 bits");
    CHECK_STR(error_of("free 99999999999999999999999\n"),
              "t.trace:2: free: ID 99999999999999999999999 does not fit in 64 bits");
    CHECK_STR(error_of("scope_enter 4294967296\n"), "t.trace:2: scope_enter: scope id 4294967296 does not fit in 32 bits");
    CHECK_STR(error_of("promote 4294967296 1 1\n"), "t.trace:2: promote: scope id 4294967296 does not fit in 32 bits");
    CHECK_STR(error_of("scope_exit s1\n"), "t.trace:2: scope_exit: scope id 's1' is not a number");
    CHECK_STR(error_of("free 1 t=4294967296\n"), "t.trace:2: free: thread id 4294967296 does not fit in 32 bits");
    CHECK_STR(error_of("free 1 t=main\n"), "t.trace:2: free: t=main: thread id is not a number");
    CHECK_STR(error_of("touch 1 0 4 x\n"), "t.trace:2: touch: access 'x' is neither r nor w");
    CHECK_STR(error_of("touch 1 0 4 rw\n"), "t.trace:2: touch: access 'rw' is neither r nor w");
    CHECK_STR(error_of("alloc 1 16 caps=rwx\n"), "t.trace:2: alloc: caps=rwx is not exec, dma, exec+dma or none");
    CHECK_STR(error_of("alloc 1 16 fail=NOPE\n"),
              "t.trace:2: alloc: fail=NOPE is not an error name (one of OUT_OF_MEMORY, INVALID_ARGUMENT, "
              "UNSUPPORTED, CAPACITY, INVALID_POINTER, DOUBLE_FREE, LAYOUT_MISMATCH, OVERFLOW, UNDERFLOW, "
              "USE_AFTER_FREE, CORRUPTED)");
    CHECK_STR(error_of("alloc 1 16 fail=out_of_memory\n"),
              "t.trace:2: alloc: fail=out_of_memory is not an error name (one of OUT_OF_MEMORY, INVALID_ARGUMENT, "
              "UNSUPPORTED, CAPACITY, INVALID_POINTER, DOUBLE_FREE, LAYOUT_MISMATCH, OVERFLOW, UNDERFLOW, "
              "USE_AFTER_FREE, CORRUPTED)");
    CHECK_STR(error_of("alloc 1 16 fail=OK\n"),
              "t.trace:2: alloc: fail=OK is not a failure (leave fail= out for an operation that succeeded)");
    CHECK_STR(error_of("alloc 1 16 colour=red\n"),
              "t.trace:2: unknown annotation 'colour=red' (known: align=, caps=, fail=, t=)");
    CHECK_STR(error_of("alloc 1 16 =5\n"), "t.trace:2: unknown annotation '=5' (known: align=, caps=, fail=, t=)");
    CHECK_STR(error_of("free 1 align=8\n"), "t.trace:2: free: annotation 'align=8' only applies to alloc");
    CHECK_STR(error_of("realloc 1 8 caps=exec\n"), "t.trace:2: realloc: annotation 'caps=exec' only applies to alloc");
    CHECK_STR(error_of("alloc 1 16 align=8 align=16\n"), "t.trace:2: alloc: annotation align= is given twice");
    CHECK_STR(error_of("alloc 1 16 align=\n"), "t.trace:2: alloc: align '' is not a number");
    CHECK_STR(error_of("alloc 1 16 align=18446744073709551616\n"),
              "t.trace:2: alloc: align 18446744073709551616 does not fit in 64 bits");
    CHECK_STR(error_of("alloc 1 16\n#@late=1\n"),
              "t.trace:3: metadata '#@late=...' after the first operation (metadata goes before the operations)");
    CHECK_STR(error_of("#@k=1\n#@k=2\n"), "t.trace:3: metadata key 'k' is given twice");
    CHECK_STR(error_of("end 1\n"), "t.trace:2: end: extra field '1' (the end marker is the word end alone)");
    hl_trace_free(&trace); /* a NUL byte inside a value is not the value's end */
    const char with_nul[] = "heaplab-trace 1\nalloc 1 16 fail=OUT_OF_MEMORY\0x\nend\n";
    CHECK_EQ(hl_trace_read_memory("t.trace", with_nul, sizeof with_nul - 1, &trace, &diag, &warning), -1);
    CHECK(strncmp(diag.message, "t.trace:2: alloc: fail=OUT_OF_MEMORY?x is not an error name", 58) == 0);
    /* the damaged line is in the middle: an error even though the tail is cut too */
    CHECK_EQ(read_body("alloc 1 16\nalloc 2 zz\nfree 1\nfre"), -1);
    CHECK_STR(diag.message, "t.trace:3: alloc: SIZE 'zz' is not a number");
    /* long or binary junk is shown shortened and printable */
    CHECK_STR(error_of("\x01\x02zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\n"),
              "t.trace:2: unknown operation '??zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...'");
}

TEST(metadata_limits)
{
    char body[6000];
    memset(body, 0, sizeof body);
    strcpy(body, "#@k=");
    memset(body + 4, 'v', HL_TRACE_META_VALUE_MAX + 1);
    strcat(body, "\n");
    CHECK_STR(error_of(body), "t.trace:2: metadata value of 'k' is 4097 bytes, longer than 4096");
    memset(body, 0, sizeof body);
    strcpy(body, "#@");
    memset(body + 2, 'k', HL_TRACE_META_KEY_MAX + 1);
    strcat(body, "=v\n");
    CHECK_STR(error_of(body), "t.trace:2: metadata key of 129 bytes is longer than 128");
}

TEST(magic_and_whole_file_errors)
{
    CHECK_EQ(read_text(""), -1);
    CHECK_STR(diag.message, "t.trace: empty file, not a trace");
    CHECK_EQ(read_text("hello world\nalloc 1 16\n"), -1);
    CHECK_STR(diag.message, "t.trace: not a heaplab trace (wrong magic)");
    CHECK_EQ(read_text("heaplab-trace 2\nalloc 1 16\nend\n"), -1);
    CHECK_STR(diag.message, "t.trace:1: unsupported trace version '2' (this heaplab reads version 1)");
    CHECK_EQ(read_text("heaplab-trace 1 beta\nend\n"), -1);
    CHECK_STR(diag.message, "t.trace:1: first line must be exactly 'heaplab-trace 1', not 'heaplab-trace 1 beta'");
    CHECK_EQ(read_text("heaplab-tr"), -1);
    CHECK_STR(diag.message, "t.trace: cut inside its header ('heaplab-tr' is the start of the first line 'heaplab-trace 1')");
    CHECK_EQ(read_text("# heaplab-trace 1\nend\n"), -1);
    CHECK_STR(diag.message, "t.trace: not a heaplab trace (wrong magic)");
    CHECK_EQ(read_body("alloc 1 16\nend\nfree 1\n"), -1);
    CHECK_STR(diag.message, "t.trace:4: content after the end marker (line 3)");
    CHECK_EQ(read_body("end\n\n#@k=v\n"), -1);
    CHECK_STR(diag.message, "t.trace:4: content after the end marker (line 2)");
    CHECK_EQ(read_body("end\nend"), -1); /* even cut short, content after end is content */
    CHECK_STR(diag.message, "t.trace:3: content after the end marker (line 2)");
}

TEST(cut_tail_keeps_the_complete_operations)
{
    /* no end marker */
    CHECK_EQ(read_body("alloc 1 16\nalloc 2 32\nfree 1\n"), 0);
    CHECK(trace.cut_tail);
    CHECK_EQ(trace.count, 3);
    CHECK_STR(warning.message,
              "t.trace: warning: trace ends without an end marker (cut tail); replaying the 3 complete operations");
    /* the last line is cut short: it does not parse and has no newline */
    CHECK_EQ(read_body("alloc 1 16\nalloc 2 32\nfree 1\nall"), 0);
    CHECK(trace.cut_tail);
    CHECK_EQ(trace.count, 3);
    CHECK_STR(warning.message,
              "t.trace: warning: trace ends without an end marker (cut tail); replaying the 3 complete operations");
    CHECK_EQ(read_body("alloc 1 16\nalloc 2"), 0);
    CHECK_EQ(trace.count, 1);
    CHECK_STR(warning.message,
              "t.trace: warning: trace ends without an end marker (cut tail); replaying the 1 complete operation");
    CHECK_EQ(read_body("alloc 1 16\nfree 1 t=12345678901"), 0); /* too large: cut inside the number */
    CHECK_EQ(trace.count, 1);
    CHECK_EQ(read_body("alloc 1 16\n#@ke"), 0); /* a cut line is dropped whatever it was */
    CHECK_EQ(trace.count, 1);
    /* a complete last line without newline counts */
    CHECK_EQ(read_body("alloc 1 16\nfree 1"), 0);
    CHECK(trace.cut_tail); /* still no end marker */
    CHECK_EQ(trace.count, 2);
    CHECK_EQ(trace.ops[1].kind, HL_OP_FREE);
    CHECK_EQ(read_body("alloc 1 16\nfree 1\nend"), 0);
    CHECK(!trace.cut_tail);
    CHECK_STR(warning.message, "");
    CHECK_EQ(trace.count, 2);
    /* only the magic line */
    CHECK_EQ(read_text("heaplab-trace 1"), 0);
    CHECK(trace.cut_tail);
    CHECK_EQ(trace.count, 0);
    CHECK_STR(warning.message,
              "t.trace: warning: trace ends without an end marker (cut tail); replaying the 0 complete operations");
    /* a bad line WITH its newline is damage, not a cut */
    CHECK_EQ(read_body("alloc 1 16\nall\n"), -1);
    CHECK_STR(diag.message, "t.trace:3: unknown operation 'all' (did you mean 'alloc'?)");
    /* a NULL warning is allowed */
    hl_trace_free(&trace);
    const char *text = "heaplab-trace 1\nalloc 1 1\n";
    CHECK_EQ(hl_trace_read_memory("t.trace", text, strlen(text), &trace, &diag, NULL), 0);
    CHECK(trace.cut_tail);
}

TEST(writer_output_is_canonical)
{
    CHECK_EQ(read_body("#@b=2\n#@a=one two\n"
                       "alloc 1 4K align=16 caps=dma+exec t=3 fail=OUT_OF_MEMORY\n"
                       "alloc 2 0 align=1 caps=none\n"
                       "touch 2 0 0 w\ntouch 2 0 0 r\n"
                       "promote 4 2 0\nfree_layout 2 3 0\nscope_exit 9 t=0\nfree_all\n"
                       "end\n"),
             0);
    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&text, &length);
    CHECK_EQ(hl_trace_write_text_stream(&trace, out), 0);
    fclose(out);
    CHECK_STR(text, "heaplab-trace 1\n"
                    "#@b=2\n"
                    "#@a=one two\n"
                    "alloc 1 4096 align=16 caps=exec+dma t=3 fail=OUT_OF_MEMORY\n"
                    "alloc 2 0\n"
                    "touch 2 0 0 w\n"
                    "touch 2 0 0 r\n"
                    "promote 4 2 0\n"
                    "free_layout 2 3 0\n"
                    "scope_exit 9 t=0\n"
                    "free_all\n"
                    "end\n");
    free(text); /* open_memstream's buffer is stdio's */
}

TEST(writer_refuses_what_it_cannot_write)
{
    hl_trace_free(&trace);
    hl_op op;
    memset(&op, 0, sizeof op);
    op.kind = HL_OP_COUNT;
    hl_trace_push(&trace, &op);
    FILE *out = fopen("/dev/null", "w");
    CHECK_EQ(hl_trace_write_text_stream(&trace, out), -1);
    trace.ops[0].kind = HL_OP_ALLOC;
    trace.ops[0].caps = 4;
    CHECK_EQ(hl_trace_write_text_stream(&trace, out), -1);
    CHECK_EQ(hl_trace_write_binary_stream(&trace, out), -1);
    trace.ops[0].caps = 0;
    trace.ops[0].expect_fail = HL_E_COUNT;
    CHECK_EQ(hl_trace_write_text_stream(&trace, out), -1);
    trace.ops[0].expect_fail = 0;
    CHECK_EQ(hl_trace_write_text_stream(&trace, out), 0);
    fclose(out);
    CHECK_EQ(hl_trace_check_writable(&trace, &diag), 0);
    trace.ops[0].kind = 200;
    CHECK_EQ(hl_trace_check_writable(&trace, &diag), -1);
    CHECK_STR(diag.message, "(trace): operation 0 has kind 200, outside the operation table");
}

/* Random edits of a valid text must never crash the reader (ASan watches). */
TEST(mutated_text_never_crashes)
{
    const char *seed = "heaplab-trace 1\n#@k=v\nalloc 1 16 align=8 caps=exec t=1\nrealloc 1 32 fail=OUT_OF_MEMORY\n"
                       "touch 1 0 16 w\nscope_enter 3\npromote 3 1 8\nfree_all\nend\n";
    size_t n = strlen(seed);
    char buffer[256];
    const char alphabet[] = "0123456789 =\n#@-+eKMGtrwalocfxe\r\t\xff";
    uint64_t state = 12345;
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(buffer, seed, n);
        size_t length = n;
        int edits = 1 + round % 4;
        for (int e = 0; e < edits; e++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(state >> 33) % length;
            unsigned what = (unsigned)(state >> 20) % 3;
            char c = alphabet[(state >> 40) % (sizeof alphabet - 1)];
            if (what == 0) buffer[at] = c;
            else if (what == 1 && length > 1) memmove(buffer + at, buffer + at + 1, --length - at);
            else if (length < sizeof buffer) {
                memmove(buffer + at + 1, buffer + at, length - at);
                buffer[at] = c;
                length++;
            }
        }
        if (round % 7 == 0) length = (size_t)(state >> 24) % (length + 1); /* cut anywhere */
        hl_trace_free(&trace);
        size_t lines = 1;
        for (size_t i = 0; i < length; i++) lines += buffer[i] == '\n';
        if (hl_trace_read_memory("m.trace", buffer, length, &trace, &diag, &warning) == 0) {
            accepted++;
            CHECK(trace.count < lines);
        } else {
            CHECK(strncmp(diag.message, "m.trace", 7) == 0);
        }
    }
    CHECK(accepted > 100);
}

TEST(a_large_trace_reads_in_one_pass)
{
    enum { OPS = 200000 };
    size_t capacity = (size_t)OPS * 24 + 64, length = 0;
    char *text = hl_mem_alloc(capacity);
    length += (size_t)snprintf(text, capacity, "heaplab-trace 1\n");
    for (unsigned i = 0; i < OPS / 2; i++)
        length += (size_t)snprintf(text + length, capacity - length, "alloc %u %u\nfree %u\n", i, i % 4096, i);
    length += (size_t)snprintf(text + length, capacity - length, "end\n");
    hl_trace_free(&trace);
    CHECK_EQ(hl_trace_read_memory("big.trace", text, length, &trace, &diag, &warning), 0);
    CHECK_EQ(trace.count, OPS);
    CHECK_EQ(trace.ops[OPS - 1].line, OPS + 1);
    CHECK_EQ(trace.ops[OPS - 2].size, (OPS / 2 - 1) % 4096);
    hl_mem_free(text);
}

int main(void)
{
    RUN(every_kind_parses_into_its_fields);
    RUN(annotations_in_any_order_and_extreme_values);
    RUN(size_suffixes_are_binary_units);
    RUN(comments_blank_lines_metadata_and_line_numbers);
    RUN(each_bad_line_is_named_with_its_line);
    RUN(metadata_limits);
    RUN(magic_and_whole_file_errors);
    RUN(cut_tail_keeps_the_complete_operations);
    RUN(writer_output_is_canonical);
    RUN(writer_refuses_what_it_cannot_write);
    RUN(mutated_text_never_crashes);
    RUN(a_large_trace_reads_in_one_pass);
    hl_trace_free(&trace);
    return unit_summary();
}
