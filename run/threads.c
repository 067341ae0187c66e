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
#include "hl_run.h"

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
    const hl_op *ops;
    size_t count;
    uint32_t *owner;      /* worker of each operation, or UINT32_MAX for a barrier */
    uint64_t *wait_for;   /* the previous operation on the same id, or NO_WAIT */
    uint8_t *done;
    size_t prefix;        /* every operation below it has completed */
    const hl_progress *progress;
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

size_t hl_threads_count(const hl_op *ops, size_t count)
{
    hl_u64map seen = {0};
    for (size_t i = 0; i < count; i++)
        if (hl_threads_op_concurrent((hl_op_kind)ops[i].kind)) hl_u64map_put(&seen, thread_key(&ops[i]), NULL);
    size_t n = seen.count;
    hl_u64map_free(&seen);
    return n;
}

/* Who runs each operation (trace threads dealt to workers in order of appearance)
 * and what it waits for. */
static void plan(runner *r)
{
    r->owner = hl_mem_alloc(r->count * sizeof *r->owner);
    r->wait_for = hl_mem_alloc(r->count * sizeof *r->wait_for);
    r->done = hl_mem_alloc(r->count ? r->count : 1);
    hl_u64map threads = {0}, last = {0};
    hl_u64map_reserve(&last, r->count / 2 + 1);
    uint64_t seen = 0;
    bool fresh;
    for (size_t i = 0; i < r->count; i++) {
        const hl_op *op = &r->ops[i];
        r->wait_for[i] = NO_WAIT;
        if (op->kind != HL_OP_SCOPE_ENTER && op->kind != HL_OP_SCOPE_EXIT && op->kind != HL_OP_FREE_ALL) {
            uint64_t *previous = hl_u64map_put(&last, op->id, &fresh);
            if (!fresh) r->wait_for[i] = *previous;
            *previous = i;
        }
        if (!hl_threads_op_concurrent((hl_op_kind)op->kind)) {
            r->owner[i] = UINT32_MAX;
            continue;
        }
        uint64_t *dealt = hl_u64map_put(&threads, thread_key(op), &fresh);
        if (fresh) *dealt = seen++ % r->worker_count;
        r->owner[i] = (uint32_t)*dealt;
    }
    hl_u64map_free(&threads);
    hl_u64map_free(&last);
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
    if (r->progress && r->progress->count) *r->progress->count = r->prefix;
    if (r->progress && r->progress->report && (r->prefix >> 16) != (was >> 16))
        r->progress->report(r->progress->context, r->prefix, r->count);
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
    hl_exec_alone(r->exec, true);
    int rc = hl_exec_step(r->exec, &r->ops[i], i);
    hl_exec_alone(r->exec, false);
    complete(r, i, rc);
    pthread_mutex_unlock(&r->lock);
}

int hl_threads_run(hl_exec *exec, const hl_op *ops, size_t count, unsigned threads,
                   const hl_progress *progress, uint64_t *stopped_at, hl_diag *diag)
{
    runner r;
    memset(&r, 0, sizeof r);
    r.exec = exec, r.ops = ops, r.count = count, r.progress = progress;
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
