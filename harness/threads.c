/* threads.c: threaded replay. A trace recorded from several threads is stepped on real
 * threads, one per trace thread (up to HL_THREADS_MAX, beyond which trace threads
 * share workers round-robin), through the one executor under one lock that the
 * executor releases around each backend call (hl_exec_concurrent), so the backend
 * sees its calls overlap as they did in the recorded program.
 *
 * Order kept:
 *   - each worker steps its operations in trace order, so each trace thread's order
 *     holds;
 *   - an operation on a block id waits until the previous operation on that id (in
 *     trace order) has completed, whichever worker ran it: a cross-thread free runs
 *     after its alloc, an alloc of a reused id after the free that released it;
 *   - operations other than alloc, free, realloc, usable and touch (scopes, promote,
 *     free_all, misuse) are barriers: they run alone, on the coordinating thread,
 *     after every operation before them and before every one after them.
 * Every dependency points back in the trace, so the earliest operation not completed
 * can always run: no deadlock. The trace order is one that really happened, so a
 * correct backend replays clean whatever the interleaving here. */
#include "hl_harness.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NO_WAIT UINT64_MAX

typedef struct worker {
    struct runner *runner;
    pthread_t thread;
    uint64_t *ops; /* its operations' indexes, in trace order */
    size_t count, cursor;
} worker;

typedef struct runner {
    hl_exec *exec;
    hl_shadow *shadow;
    const hl_op *ops;
    size_t count;
    uint32_t *owner;      /* worker of each operation, or UINT32_MAX for a barrier */
    uint64_t *wait_for;   /* the previous operation on the same id, or NO_WAIT */
    uint8_t *done;
    size_t prefix;        /* every operation below it has completed */
    const hl_run_options *options;
    pthread_mutex_t lock;
    pthread_cond_t completed; /* an operation completed (or the run stopped) */
    pthread_cond_t start;     /* a segment started (or the run ends) */
    pthread_cond_t idle;      /* the last worker finished the segment */
    uint64_t generation;      /* segments started */
    unsigned active;          /* workers still in the segment */
    size_t segment_end;       /* workers step their operations below it */
    bool quit;
    int rc;               /* 1 an observer stopped, 2 the stream ended */
    uint64_t stopped_at;
    worker *workers;
    unsigned worker_count;
} runner;

bool hl_threads_op_concurrent(hl_op_kind kind)
{
    return kind == HL_OP_ALLOC || kind == HL_OP_FREE || kind == HL_OP_REALLOC || kind == HL_OP_USABLE ||
           kind == HL_OP_TOUCH;
}

static uint64_t thread_key(const hl_op *op) { return op->has_thread ? op->thread : UINT64_MAX; }

/* A small open-addressing map from a 64-bit key to a 64-bit value, in the arena. */
typedef struct key_map {
    uint64_t *keys, *values;
    uint8_t *used;
    size_t mask, count;
} key_map;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
}

static void map_init(key_map *m, size_t expected)
{
    size_t capacity = 64;
    while (capacity < expected * 2) capacity *= 2;
    m->keys = hl_mem_alloc(capacity * sizeof *m->keys);
    m->values = hl_mem_alloc(capacity * sizeof *m->values);
    m->used = hl_mem_alloc(capacity);
    m->mask = capacity - 1;
    m->count = 0;
}

static void map_free(key_map *m)
{
    hl_mem_free(m->keys);
    hl_mem_free(m->values);
    hl_mem_free(m->used);
}

/* The slot of key (found, or where it would go). */
static size_t map_slot(const key_map *m, uint64_t key)
{
    size_t slot = mix(key) & m->mask;
    while (m->used[slot] && m->keys[slot] != key) slot = (slot + 1) & m->mask;
    return slot;
}

/* The slot of key, taken (with value 0) if it was free; *fresh says which. Grows the
 * map past half full. */
static size_t map_put(key_map *m, uint64_t key, bool *fresh)
{
    if (m->count * 2 >= m->mask) {
        key_map bigger;
        map_init(&bigger, m->count * 2);
        for (size_t s = 0; s <= m->mask; s++) {
            if (!m->used[s]) continue;
            size_t at = map_slot(&bigger, m->keys[s]);
            bigger.used[at] = 1, bigger.keys[at] = m->keys[s], bigger.values[at] = m->values[s];
            bigger.count++;
        }
        map_free(m);
        *m = bigger;
    }
    size_t slot = map_slot(m, key);
    *fresh = !m->used[slot];
    if (*fresh) m->used[slot] = 1, m->keys[slot] = key, m->values[slot] = 0, m->count++;
    return slot;
}

size_t hl_threads_count(const hl_op *ops, size_t count)
{
    key_map seen;
    map_init(&seen, 64);
    bool fresh;
    for (size_t i = 0; i < count; i++)
        if (hl_threads_op_concurrent((hl_op_kind)ops[i].kind)) map_put(&seen, thread_key(&ops[i]), &fresh);
    size_t n = seen.count;
    map_free(&seen);
    return n;
}

/* Who runs each operation (trace threads dealt to workers in order of appearance)
 * and what it waits for. */
static void plan(runner *r)
{
    r->owner = hl_mem_alloc(r->count * sizeof *r->owner);
    r->wait_for = hl_mem_alloc(r->count * sizeof *r->wait_for);
    r->done = hl_mem_alloc(r->count ? r->count : 1);
    key_map threads, last;
    map_init(&threads, 64);
    map_init(&last, r->count / 2 + 1);
    uint64_t seen = 0;
    bool fresh;
    for (size_t i = 0; i < r->count; i++) {
        const hl_op *op = &r->ops[i];
        r->wait_for[i] = NO_WAIT;
        if (op->kind != HL_OP_SCOPE_ENTER && op->kind != HL_OP_SCOPE_EXIT && op->kind != HL_OP_FREE_ALL) {
            size_t slot = map_put(&last, op->id, &fresh);
            if (!fresh) r->wait_for[i] = last.values[slot];
            last.values[slot] = i;
        }
        if (!hl_threads_op_concurrent((hl_op_kind)op->kind)) {
            r->owner[i] = UINT32_MAX;
            continue;
        }
        size_t slot = map_put(&threads, thread_key(op), &fresh);
        if (fresh) threads.values[slot] = seen++ % r->worker_count;
        r->owner[i] = (uint32_t)threads.values[slot];
    }
    map_free(&threads);
    map_free(&last);
    for (size_t i = 0; i < r->count; i++)
        if (r->owner[i] != UINT32_MAX) r->workers[r->owner[i]].count++;
    for (unsigned w = 0; w < r->worker_count; w++) {
        r->workers[w].ops = hl_mem_alloc((r->workers[w].count ? r->workers[w].count : 1) * sizeof(uint64_t));
        r->workers[w].count = 0;
    }
    for (size_t i = 0; i < r->count; i++)
        if (r->owner[i] != UINT32_MAX) {
            worker *w = &r->workers[r->owner[i]];
            w->ops[w->count++] = i;
        }
}

static void unlock_runner(void *context) { pthread_mutex_unlock(context); }
static void lock_runner(void *context) { pthread_mutex_lock(context); }

/* Marks operation i completed and moves the gap-free prefix (under the lock). */
static void complete(runner *r, uint64_t i, int rc)
{
    r->done[i] = 1;
    size_t was = r->prefix;
    while (r->prefix < r->count && r->done[r->prefix]) r->prefix++;
    if (r->options->progress) *r->options->progress = r->prefix;
    if (r->options->on_progress && (r->prefix >> 16) != (was >> 16))
        r->options->on_progress(r->options->progress_context, r->prefix, r->count);
    if (rc && !r->rc) {
        r->rc = rc;
        r->stopped_at = i;
    }
    pthread_cond_broadcast(&r->completed);
}

/* Steps the worker's operations below the segment's end (called and returning with
 * the lock held; the executor releases it around each backend call). */
static void step_segment(worker *w)
{
    runner *r = w->runner;
    while (w->cursor < w->count && w->ops[w->cursor] < r->segment_end) {
        uint64_t i = w->ops[w->cursor++];
        uint64_t before = r->wait_for[i];
        while (!r->rc && before != NO_WAIT && !r->done[before]) pthread_cond_wait(&r->completed, &r->lock);
        if (r->rc) return;
        complete(r, i, hl_exec_step(r->exec, &r->ops[i], i));
    }
}

static void *work(void *context)
{
    worker *w = context;
    runner *r = w->runner;
    uint64_t generation = 0;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (r->generation == generation && !r->quit) pthread_cond_wait(&r->start, &r->lock);
        if (r->quit) break;
        generation = r->generation;
        step_segment(w);
        if (--r->active == 0) pthread_cond_signal(&r->idle);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Runs the operations in [at, end) on the workers and waits until they are done. */
static void run_segment(runner *r, size_t end)
{
    pthread_mutex_lock(&r->lock);
    r->segment_end = end;
    r->active = r->worker_count;
    r->generation++;
    pthread_cond_broadcast(&r->start);
    while (r->active) pthread_cond_wait(&r->idle, &r->lock);
    pthread_mutex_unlock(&r->lock);
}

/* Runs barrier operation i alone (every worker is parked). */
static void step_alone(runner *r, uint64_t i)
{
    pthread_mutex_lock(&r->lock);
    if (r->shadow) hl_shadow_concurrent(r->shadow, false);
    int rc = hl_exec_step(r->exec, &r->ops[i], i);
    if (r->shadow) hl_shadow_concurrent(r->shadow, true);
    complete(r, i, rc);
    pthread_mutex_unlock(&r->lock);
}

int hl_threads_run(hl_exec *exec, hl_shadow *shadow, const hl_op *ops, size_t count, unsigned threads,
                   const hl_run_options *options, uint64_t *stopped_at, hl_diag *diag)
{
    runner r;
    memset(&r, 0, sizeof r);
    r.exec = exec, r.shadow = shadow, r.ops = ops, r.count = count, r.options = options;
    r.worker_count = threads < 1 ? 1 : threads > HL_THREADS_MAX ? HL_THREADS_MAX : threads;
    r.workers = hl_mem_alloc(r.worker_count * sizeof *r.workers);
    plan(&r);
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.completed, NULL);
    pthread_cond_init(&r.start, NULL);
    pthread_cond_init(&r.idle, NULL);
    unsigned started = 0;
    for (; started < r.worker_count; started++) {
        r.workers[started].runner = &r;
        int e = pthread_create(&r.workers[started].thread, NULL, work, &r.workers[started]);
        if (e != 0) {
            snprintf(diag->message, sizeof diag->message, "cannot start replay thread %u of %u: %s", started + 1,
                     r.worker_count, strerror(e));
            break;
        }
    }
    int rc = -1;
    if (started == r.worker_count) {
        if (shadow) hl_shadow_concurrent(shadow, true);
        hl_exec_concurrent(exec, unlock_runner, lock_runner, &r.lock);
        size_t at = 0;
        while (at < count && !r.rc) {
            size_t end = at;
            while (end < count && r.owner[end] != UINT32_MAX) end++;
            if (end > at) run_segment(&r, end);
            if (end < count && !r.rc) step_alone(&r, end);
            at = end + 1;
        }
        hl_exec_concurrent(exec, NULL, NULL, NULL);
        if (shadow) hl_shadow_concurrent(shadow, false);
        rc = r.rc;
        *stopped_at = r.stopped_at;
    }
    pthread_mutex_lock(&r.lock);
    r.quit = true;
    pthread_cond_broadcast(&r.start);
    pthread_mutex_unlock(&r.lock);
    for (unsigned w = 0; w < started; w++) pthread_join(r.workers[w].thread, NULL);
    pthread_cond_destroy(&r.idle);
    pthread_cond_destroy(&r.start);
    pthread_cond_destroy(&r.completed);
    pthread_mutex_destroy(&r.lock);
    for (unsigned w = 0; w < r.worker_count; w++) hl_mem_free(r.workers[w].ops);
    hl_mem_free(r.workers);
    hl_mem_free(r.owner);
    hl_mem_free(r.wait_for);
    hl_mem_free(r.done);
    return rc;
}
