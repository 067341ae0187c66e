/* test_shadow.c: the executor and the shadow model against a toy backend that can be
 * told to break one rule at a time. Every rule the shadow checks must fire on the
 * matching bug, and a clean toy must pass every trace here. */
#include "hl_check.h"
#include "unit.h"
#include "unit_op.h"

#include <stdlib.h>
#include <sys/mman.h>

enum toy_bug {
    BUG_NONE, BUG_NULL, BUG_ALIGN, BUG_OVERLAP, BUG_USABLE, BUG_SCRIBBLE, BUG_REALLOC_PREFIX,
    BUG_WRONG_ERROR, BUG_STATS, BUG_CHECK, BUG_MISUSE, BUG_FAILURE, BUG_OUTSIDE, BUG_SCOPE,
    BUG_BAD_ALIGN_OK, BUG_CAPS, BUG_PROMOTE_PREFIX, BUG_LIVE_BYTES, BUG_EXEC_SHARED, BUG_DMA_MISALIGNED
};

#define TOY_BLOCKS 256
#define TOY_MEMORY (1u << 20)

typedef struct toy_block {
    hl_addr addr;
    size_t size;
    uint32_t level;
    bool live;
} toy_block;

typedef struct toy {
    unsigned char *memory;
    size_t top;
    int bug;
    uint64_t allocs;
    toy_block blocks[TOY_BLOCKS];
    int count;
    uint32_t depth;
    hl_scope handles[16];
    hl_scope serial;
} toy;

static hl_error toy_create(const hl_config *config, hl_heap **out)
{
    toy *t = mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    t->memory = mmap(NULL, TOY_MEMORY, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    t->top = 64;
    for (size_t i = 0; i < config->option_count; i++)
        if (strcmp(config->options[i].key, "bug") == 0) t->bug = atoi(config->options[i].value);
    *out = (hl_heap *)t;
    return HL_E_OK;
}

static void toy_destroy(hl_heap *heap)
{
    toy *t = (toy *)heap;
    munmap(t->memory, TOY_MEMORY);
    munmap(t, sizeof *t);
}

static void toy_describe(const hl_heap *heap, hl_info *info)
{
    const toy *t = (const toy *)heap;
    memset(info, 0, sizeof *info);
    info->name = "toy";
    info->min_align = 8;
    info->max_align = 4096;
    info->source = "mmap";
    info->page_size = 4096;
    info->misuse = t->bug == BUG_MISUSE ? HL_MISUSE_BIT(HL_E_DOUBLE_FREE) : 0;
    /* the caps bugs: the whole memory is the region, and the toy ignores isolation */
    if (t->bug == BUG_EXEC_SHARED) info->features |= HL_FEATURE_CAP_EXEC;
    if (t->bug == BUG_DMA_MISALIGNED) info->features |= HL_FEATURE_CAP_DMA;
    info->exec_base = info->dma_base = (hl_addr)t->memory;
    info->exec_size = info->dma_size = TOY_MEMORY;
    info->cache_line = 64;
}

static toy_block *toy_find(toy *t, hl_addr addr)
{
    for (int i = 0; i < t->count; i++)
        if (t->blocks[i].addr == addr && t->blocks[i].live) return &t->blocks[i];
    return NULL;
}

static hl_addr toy_alloc(hl_heap *heap, hl_layout layout, hl_caps caps, hl_error *error)
{
    toy *t = (toy *)heap;
    t->allocs++;
    if (!hl_is_power_of_two(layout.align) && t->bug != BUG_BAD_ALIGN_OK) return *error = HL_E_INVALID_ARGUMENT, 0;
    if (caps && t->bug != BUG_CAPS && t->bug != BUG_EXEC_SHARED && t->bug != BUG_DMA_MISALIGNED)
        return *error = HL_E_UNSUPPORTED, 0;
    if (t->count == TOY_BLOCKS || layout.size > TOY_MEMORY / 2) return *error = HL_E_OUT_OF_MEMORY, 0;
    if (t->bug == BUG_NULL && t->allocs == 3) return *error = HL_E_OK, 0;
    size_t align = layout.align > 8 ? layout.align : 8;
    size_t at = (t->top + align - 1) & ~(align - 1);
    if (at + layout.size > TOY_MEMORY) return *error = HL_E_OUT_OF_MEMORY, 0;
    hl_addr addr = (hl_addr)(t->memory + at);
    if (t->bug == BUG_OVERLAP && t->allocs == 3 && t->count) addr = t->blocks[t->count - 1].addr;
    else t->top = at + layout.size + 8;
    if (t->bug == BUG_ALIGN && t->allocs == 2) addr += 4;
    if (t->bug == BUG_OUTSIDE && t->allocs == 2) addr = (hl_addr)(t->memory + TOY_MEMORY + 4096);
    t->blocks[t->count++] = (toy_block){addr, layout.size, t->depth, true};
    return addr;
}

static hl_error toy_free(hl_heap *heap, hl_addr block, hl_layout layout)
{
    toy *t = (toy *)heap;
    (void)layout;
    if (!block) return HL_E_OK;
    if (t->bug == BUG_WRONG_ERROR) return HL_E_INVALID_POINTER;
    toy_block *b = toy_find(t, block);
    if (!b) return t->bug == BUG_MISUSE ? HL_E_OK : HL_E_INVALID_POINTER;
    b->live = false;
    if (t->bug == BUG_SCRIBBLE)
        for (int i = 0; i < t->count; i++)
            if (t->blocks[i].live && t->blocks[i].size) ((unsigned char *)t->blocks[i].addr)[0] ^= 0x5a;
    return HL_E_OK;
}

static size_t toy_usable(hl_heap *heap, hl_addr block, hl_layout layout)
{
    (void)block;
    return ((toy *)heap)->bug == BUG_USABLE && layout.size ? layout.size - 1 : layout.size;
}

static void *toy_view(hl_heap *heap, hl_addr addr, size_t len)
{
    toy *t = (toy *)heap;
    hl_addr lo = (hl_addr)t->memory;
    if (addr < lo || addr + len > lo + TOY_MEMORY) return NULL;
    return (void *)addr;
}

static hl_error toy_copy(hl_heap *heap, hl_addr dst, hl_addr src, size_t n)
{
    (void)heap;
    for (size_t i = 0; i < n; i++) ((unsigned char *)dst)[i] = ((unsigned char *)src)[i];
    return HL_E_OK;
}

static hl_addr toy_realloc(hl_heap *heap, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    toy *t = (toy *)heap;
    toy_block *b = toy_find(t, block);
    if (t->bug == BUG_FAILURE) {
        ((unsigned char *)block)[0] ^= 1;
        return *error = HL_E_OUT_OF_MEMORY, 0;
    }
    uint32_t level = b->level;
    hl_addr fresh = toy_alloc(heap, (hl_layout){size, old.align}, 0, error);
    if (!fresh) return 0;
    t->blocks[t->count - 1].level = level;
    if (t->bug != BUG_REALLOC_PREFIX) memcpy((void *)fresh, (void *)block, old.size < size ? old.size : size);
    toy_find(t, block)->live = false;
    return fresh;
}

static hl_error toy_enter(hl_heap *heap, hl_scope *out)
{
    toy *t = (toy *)heap;
    t->handles[++t->depth] = ++t->serial;
    *out = t->serial;
    return HL_E_OK;
}

static uint32_t toy_level(toy *t, hl_scope handle)
{
    for (uint32_t l = t->depth; l > 0; l--)
        if (t->handles[l] == handle) return l;
    return 0;
}

static void toy_close(toy *t, uint32_t level)
{
    if (t->bug != BUG_SCOPE)
        for (int i = 0; i < t->count; i++)
            if (t->blocks[i].live && t->blocks[i].level >= level) t->blocks[i].live = false;
    t->depth = level - 1;
}

static hl_error toy_exit(hl_heap *heap, hl_scope handle)
{
    toy *t = (toy *)heap;
    uint32_t level = toy_level(t, handle);
    if (!level) return HL_E_INVALID_ARGUMENT;
    toy_close(t, level);
    return HL_E_OK;
}

static hl_addr toy_promote(hl_heap *heap, hl_scope handle, hl_addr block, hl_layout layout, size_t n,
                           hl_error *error)
{
    toy *t = (toy *)heap;
    uint32_t level = toy_level(t, handle);
    if (!level || !toy_find(t, block)) return *error = HL_E_INVALID_ARGUMENT, 0;
    uint32_t depth = t->depth;
    t->depth = level - 1;
    hl_addr fresh = toy_alloc(heap, (hl_layout){n, layout.align}, 0, error);
    t->depth = depth;
    if (!fresh) return 0;
    if (t->bug != BUG_PROMOTE_PREFIX) memcpy((void *)fresh, (void *)block, n);
    toy_close(t, level);
    return fresh;
}

static hl_error toy_free_all(hl_heap *heap)
{
    toy *t = (toy *)heap;
    t->count = 0;
    t->depth = 0;
    return HL_E_OK;
}

static void toy_stats(const hl_heap *heap, hl_stats *stats)
{
    const toy *t = (const toy *)heap;
    memset(stats, 0, sizeof *stats);
    for (int i = 0; i < t->count; i++)
        if (t->blocks[i].live) stats->live_blocks++, stats->live_bytes += t->blocks[i].size;
    if (t->bug == BUG_STATS && t->allocs >= 2) stats->live_blocks++;
    if (t->bug == BUG_LIVE_BYTES && t->allocs >= 2) stats->live_bytes += 3;
    stats->footprint = stats->peak_footprint = t->top;
}

static hl_error toy_check(hl_heap *heap, char *message, size_t capacity)
{
    if (((toy *)heap)->bug == BUG_CHECK) {
        snprintf(message, capacity, "toy: invented corruption");
        return HL_E_CORRUPTED;
    }
    return HL_E_OK;
}

static const hl_backend toy_backend = {
    sizeof(hl_backend), HL_CONTRACT_VERSION, "toy", HL_CLASS_REFERENCE, "a toy with switchable bugs", NULL,
    toy_create, toy_destroy, toy_describe, toy_alloc, toy_free, toy_realloc, toy_usable, toy_view, toy_copy,
    toy_enter, toy_exit, toy_promote, toy_free_all, NULL, NULL, NULL, NULL, toy_stats, toy_check};

/* ---------------------------------------------------------------- helpers */

static void push(hl_trace *trace, hl_op op)
{
    op.line = trace->count + 2;
    hl_trace_push(trace, &op);
}

/* alloc 1..4 (sizes 24, 40, 8, 100), free 2, realloc 1 to 200, usable 3, free 1, 3, 4 */
static void basic_trace(hl_trace *trace)
{
    memset(trace, 0, sizeof *trace);
    trace->path = hl_mem_strdup("basic.trace");
    uint64_t sizes[] = {24, 40, 8, 100};
    for (uint64_t id = 1; id <= 4; id++) push(trace, unit_op(HL_OP_ALLOC, id, sizes[id - 1]));
    push(trace, unit_op(HL_OP_FREE, 2, 0));
    push(trace, unit_op(HL_OP_REALLOC, 1, 200));
    push(trace, unit_op(HL_OP_USABLE, 3, 0));
    push(trace, unit_op(HL_OP_FREE, 1, 0));
    push(trace, unit_op(HL_OP_FREE, 3, 0));
    push(trace, unit_op(HL_OP_FREE, 4, 0));
}

static void scope_trace(hl_trace *trace)
{
    memset(trace, 0, sizeof *trace);
    trace->path = hl_mem_strdup("scope.trace");
    push(trace, unit_op(HL_OP_ALLOC, 1, 16));
    hl_op enter = unit_op(HL_OP_SCOPE_ENTER, 0, 0);
    enter.scope = 5;
    push(trace, enter);
    push(trace, unit_op(HL_OP_ALLOC, 2, 32));
    push(trace, unit_op(HL_OP_ALLOC, 3, 48));
    hl_op promote = unit_op(HL_OP_PROMOTE, 3, 20);
    promote.scope = 5;
    push(trace, promote);
    push(trace, unit_op(HL_OP_FREE, 3, 0));
    push(trace, unit_op(HL_OP_FREE, 1, 0));
}

static int run_toy(const hl_trace *trace, int bug, hl_run_summary *summary)
{
    char value[16];
    snprintf(value, sizeof value, "%d", bug);
    hl_option option = {"bug", value};
    hl_spec spec = {.text = "toy", .label = "toy", .backend = &toy_backend, .options = &option, .option_count = 1};
    hl_run_options options = {.shadow = true, .check_every = 1};
    hl_diag diag;
    if (hl_trace_check(trace, &diag) != 0) {
        fprintf(stderr, "test trace is inconsistent: %s\n", diag.message);
        return -1;
    }
    return hl_run(&spec, trace, &options, summary);
}

static void expect_rule(void (*make)(hl_trace *), int bug, hl_rule rule)
{
    hl_trace trace;
    make(&trace);
    hl_run_summary summary;
    int rc = run_toy(&trace, bug, &summary);
    CHECK_EQ(rc, 1);
    CHECK(summary.found);
    if (summary.finding.rule != rule)
        fprintf(stderr, "  bug %d: expected %s, got %s (%s)\n", bug, hl_rule_name(rule),
                hl_rule_name(summary.finding.rule), summary.finding.message);
    CHECK_EQ(summary.finding.rule, rule);
    CHECK_EQ(summary.finding.line, summary.finding.index < trace.count ? trace.ops[summary.finding.index].line : 0);
    hl_trace_free(&trace);
}

/* ---------------------------------------------------------------- tests */

TEST(clean_toy_passes)
{
    hl_trace trace;
    hl_run_summary summary;
    basic_trace(&trace);
    CHECK_EQ(run_toy(&trace, BUG_NONE, &summary), 0);
    CHECK(!summary.found);
    CHECK_EQ(summary.ops, trace.count);
    CHECK_EQ(summary.fragmentation.peak_live_blocks, 4);
    CHECK_EQ(summary.fragmentation.peak_live_bytes, 200 + 8 + 100); /* after the realloc */
    hl_trace_free(&trace);
    scope_trace(&trace);
    CHECK_EQ(run_toy(&trace, BUG_NONE, &summary), 0);
    if (summary.found) fprintf(stderr, "  %s\n", summary.finding.message);
    hl_trace_free(&trace);
}

/* Two EXEC blocks (the buggy toy puts them on one page), then a plain block and a DMA
 * block (which the buggy toy puts off its cache line). */
static void exec_trace(hl_trace *trace)
{
    memset(trace, 0, sizeof *trace);
    trace->path = hl_mem_strdup("exec.trace");
    hl_op a = unit_op(HL_OP_ALLOC, 1, 16), b = unit_op(HL_OP_ALLOC, 2, 16);
    a.caps = b.caps = HL_CAP_EXEC;
    push(trace, a);
    push(trace, b);
}

static void dma_trace(hl_trace *trace)
{
    memset(trace, 0, sizeof *trace);
    trace->path = hl_mem_strdup("dma.trace");
    hl_op a = unit_op(HL_OP_ALLOC, 1, 16), b = unit_op(HL_OP_ALLOC, 2, 16);
    a.caps = b.caps = HL_CAP_DMA;
    b.align = 8;
    push(trace, a);
    push(trace, unit_op(HL_OP_FREE, 1, 0));
    push(trace, b);
}

TEST(each_rule_fires_on_its_bug)
{
    expect_rule(basic_trace, BUG_NULL, HL_RULE_NULL_BLOCK);
    expect_rule(basic_trace, BUG_ALIGN, HL_RULE_ALIGNMENT);
    expect_rule(basic_trace, BUG_OVERLAP, HL_RULE_OVERLAP);
    expect_rule(basic_trace, BUG_USABLE, HL_RULE_USABLE_SIZE);
    expect_rule(basic_trace, BUG_SCRIBBLE, HL_RULE_CONTENTS);
    expect_rule(basic_trace, BUG_REALLOC_PREFIX, HL_RULE_REALLOC_PREFIX);
    expect_rule(basic_trace, BUG_WRONG_ERROR, HL_RULE_WRONG_ERROR);
    expect_rule(basic_trace, BUG_STATS, HL_RULE_STATS_LIVE_BLOCKS);
    expect_rule(basic_trace, BUG_LIVE_BYTES, HL_RULE_STATS_LIVE_BYTES);
    expect_rule(basic_trace, BUG_CHECK, HL_RULE_CHECK_FAILED);
    expect_rule(basic_trace, BUG_FAILURE, HL_RULE_FAILURE_CHANGED);
    expect_rule(basic_trace, BUG_OUTSIDE, HL_RULE_OUTSIDE_FOOTPRINT);
    expect_rule(scope_trace, BUG_SCOPE, HL_RULE_SCOPE_FREED_SET);
    expect_rule(scope_trace, BUG_PROMOTE_PREFIX, HL_RULE_PROMOTE_PREFIX);
    expect_rule(exec_trace, BUG_EXEC_SHARED, HL_RULE_CAPS_EXEC);
    expect_rule(dma_trace, BUG_DMA_MISALIGNED, HL_RULE_CAPS_DMA);
}

static void bad_align_trace(hl_trace *trace)
{
    memset(trace, 0, sizeof *trace);
    trace->path = hl_mem_strdup("align.trace");
    hl_op op = unit_op(HL_OP_ALLOC, 1, 16);
    op.align = 3;
    push(trace, op);
}

static void caps_trace(hl_trace *trace)
{
    memset(trace, 0, sizeof *trace);
    trace->path = hl_mem_strdup("caps.trace");
    hl_op op = unit_op(HL_OP_ALLOC, 1, 16);
    op.caps = HL_CAP_EXEC;
    push(trace, op);
}

static void double_free_trace(hl_trace *trace)
{
    memset(trace, 0, sizeof *trace);
    trace->path = hl_mem_strdup("double.trace");
    push(trace, unit_op(HL_OP_ALLOC, 1, 16));
    push(trace, unit_op(HL_OP_FREE, 1, 0));
    push(trace, unit_op(HL_OP_DOUBLE_FREE, 1, 0));
}

TEST(contract_errors)
{
    hl_trace trace;
    hl_run_summary summary;
    /* align 3 must fail with INVALID_ARGUMENT: the clean toy does, and is clean */
    bad_align_trace(&trace);
    CHECK_EQ(run_toy(&trace, BUG_NONE, &summary), 0);
    CHECK_EQ(summary.failures, 1);
    hl_trace_free(&trace);
    expect_rule(bad_align_trace, BUG_BAD_ALIGN_OK, HL_RULE_MISSED_ERROR);
    /* caps the toy lacks must be refused */
    caps_trace(&trace);
    CHECK_EQ(run_toy(&trace, BUG_NONE, &summary), 0);
    hl_trace_free(&trace);
    expect_rule(caps_trace, BUG_CAPS, HL_RULE_CAPS_IGNORED);
    /* a double free goes only to a backend that declares it; the clean toy skips it */
    double_free_trace(&trace);
    CHECK_EQ(run_toy(&trace, BUG_NONE, &summary), 0);
    CHECK_EQ(summary.skipped, 1);
    hl_trace_free(&trace);
    expect_rule(double_free_trace, BUG_MISUSE, HL_RULE_MISUSE_MISSED);
}

TEST(recorded_failure_that_succeeds_is_freed)
{
    hl_trace trace;
    memset(&trace, 0, sizeof trace);
    trace.path = hl_mem_strdup("fail.trace");
    hl_op op = unit_op(HL_OP_ALLOC, 1, 16);
    op.expect_fail = HL_E_OUT_OF_MEMORY;
    push(&trace, op);
    push(&trace, unit_op(HL_OP_ALLOC, 1, 32)); /* id 1 stays unused: allocating it again is fine */
    push(&trace, unit_op(HL_OP_FREE, 1, 0));
    hl_run_summary summary;
    CHECK_EQ(run_toy(&trace, BUG_NONE, &summary), 0);
    CHECK_EQ(summary.fragmentation.peak_live_blocks, 1);
    hl_trace_free(&trace);
}

TEST(failed_alloc_retires_the_id)
{
    hl_trace trace;
    memset(&trace, 0, sizeof trace);
    trace.path = hl_mem_strdup("oom.trace");
    push(&trace, unit_op(HL_OP_ALLOC, 1, TOY_MEMORY)); /* the toy refuses: OUT_OF_MEMORY */
    push(&trace, unit_op(HL_OP_REALLOC, 1, 8));
    push(&trace, unit_op(HL_OP_FREE, 1, 0));
    hl_run_summary summary;
    CHECK_EQ(run_toy(&trace, BUG_NONE, &summary), 0);
    CHECK_EQ(summary.failures, 1);
    CHECK_EQ(summary.skipped, 2);
    hl_trace_free(&trace);
}


/* The shadow keeps its own view of the live blocks: a bug planted in the executor's
 * block map mid-stream is a finding, not a blind spot. Here the map loses live block
 * 2 from its address index (a silent bug: the map's own check still passes), and
 * the toy then hands out block 2's address again for an empty block (which writes no
 * pattern, so no contents check sees it either). The executor's index cannot see the
 * overlap; the shadow's own index does. A shadow reading the executor's map (as it
 * once did) reports nothing at all on this stream. */
TEST(planted_blockmap_bug_is_caught)
{
    hl_option option = {"bug", "3"}; /* BUG_OVERLAP: the third alloc gets the last block's address */
    CHECK_EQ(BUG_OVERLAP, 3);
    hl_config config = {.options = &option, .option_count = 1};
    hl_heap *heap = NULL;
    CHECK_EQ(toy_backend.create(&config, &heap), HL_E_OK);
    hl_exec *exec = hl_exec_new(&toy_backend, heap, "toy");
    hl_shadow *shadow = hl_shadow_new(1);
    hl_observer observer = hl_shadow_observer(shadow);
    hl_exec_observe(exec, &observer);
    hl_op ops[3] = {unit_op(HL_OP_ALLOC, 1, 16), unit_op(HL_OP_ALLOC, 2, 32), unit_op(HL_OP_ALLOC, 3, 0)};
    CHECK_EQ(hl_exec_step(exec, &ops[0], 0), 0);
    CHECK_EQ(hl_exec_step(exec, &ops[1], 1), 0);
    CHECK(!hl_shadow_finding(shadow));

    hl_blockmap *map = hl_exec_blocks(exec); /* the planted bug */
    hl_blockmap_unindex(map, hl_blockmap_find(map, 2));
    char why[200];
    CHECK(hl_blockmap_check(map, why, sizeof why));

    int rc = hl_exec_step(exec, &ops[2], 2);
    if (rc == 0) rc = hl_exec_finish(exec);
    const hl_finding *f = hl_shadow_finding(shadow);
    CHECK(f != NULL);
    if (f) {
        if (f->rule != HL_RULE_OVERLAP) fprintf(stderr, "  got %s: %s\n", hl_rule_name(f->rule), f->message);
        CHECK_EQ(f->rule, HL_RULE_OVERLAP);
        CHECK_EQ(f->index, 2);
        CHECK(f->has_other);
        CHECK_EQ(f->other_id, 2);
    }
    CHECK_EQ(rc, 1);
    hl_shadow_free(shadow);
    hl_exec_free(exec);
    toy_backend.destroy(heap);
}

int main(void)
{
    RUN(clean_toy_passes);
    RUN(each_rule_fires_on_its_bug);
    RUN(contract_errors);
    RUN(recorded_failure_that_succeeds_is_freed);
    RUN(failed_alloc_retires_the_id);
    RUN(planted_blockmap_bug_is_caught);
    return unit_summary();
}
