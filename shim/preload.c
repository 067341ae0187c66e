/* preload.c: the run shim's entry points, an LD_PRELOAD library
 * (build/libheaplab-serve.so, never sanitized: an ASan .so cannot be preloaded into an
 * uninstrumented program). `heaplab run` starts the program with it. It defines
 * malloc, free, calloc, realloc, reallocarray, posix_memalign, aligned_alloc,
 * memalign, valloc, pvalloc and malloc_usable_size and serves them from the backend
 * (serve.c) under one lock: the reference backends are not thread safe, and the
 * executor's block map and the shadow model see one call at a time.
 *
 *   - Calls made while this thread is inside the shim (the backend's create reading a
 *     file, a report being written) go to the real functions, found with dlsym; calls
 *     made while dlsym itself runs are served from a static bootstrap buffer, never
 *     freed.
 *   - A pointer that is not the backend's memory (from before the shim took over, or
 *     one the real malloc served) goes to the real free, realloc or usable size.
 *   - fork: the lock is held across it, so the child gets a consistent copy and goes
 *     on serving from it; an exec'd program loads the shim again and gets a fresh
 *     instance (the environment carries the spec).
 *   - C's rules on top of the contract: malloc and calloc ask for 16-byte alignment
 *     (what glibc's malloc promises, max_align_t), calloc zeroes and checks n * m,
 *     posix_memalign answers EINVAL for an alignment that is not a power of two times
 *     sizeof(void *), memalign rounds its alignment up to a power of two, valloc and
 *     pvalloc align to a page, realloc(p, 0) frees p and returns NULL (glibc). */
#include "hl_shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))
#define C_ALIGN ((size_t)16) /* alignof(max_align_t) on x86-64 and aarch64 */

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static size_t (*real_usable)(void *);

static hl_boot boot;    /* what dlsym allocates while the real functions are looked up */
static TLS int inside; /* this thread is in shim code */

bool hl_shim_inside(void) { return inside > 0; }

static void look_up(void)
{
    static bool done;
    if (done) return;
    inside++;
    *(void **)&real_malloc = dlsym(RTLD_NEXT, "malloc");
    *(void **)&real_free = dlsym(RTLD_NEXT, "free");
    *(void **)&real_calloc = dlsym(RTLD_NEXT, "calloc");
    *(void **)&real_realloc = dlsym(RTLD_NEXT, "realloc");
    *(void **)&real_usable = dlsym(RTLD_NEXT, "malloc_usable_size");
    done = true;
    inside--;
}

/* ---------------------------------------------------------------- the lock */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static enum { NOT_STARTED, SERVING, NOT_SERVING } state;

/* Takes the lock for a call the backend serves: false (no lock held) when this thread
 * is already inside the shim or there is no backend to serve from. */
static bool enter(void)
{
    if (inside) return false;
    look_up();
    inside++;
    pthread_mutex_lock(&lock);
    if (state == NOT_STARTED) state = hl_serve_start() ? SERVING : NOT_SERVING;
    if (state == SERVING) return true;
    pthread_mutex_unlock(&lock);
    inside--;
    return false;
}

static void leave(void)
{
    pthread_mutex_unlock(&lock);
    inside--;
}

bool hl_shim_quiesce(void)
{
    inside++; /* what the report allocates comes from the real malloc */
    for (int tries = 0; tries < 1000; tries++) {
        if (pthread_mutex_trylock(&lock) == 0) return true;
        usleep(100);
    }
    return false;
}

static void at_fork_prepare(void)
{
    inside++;
    pthread_mutex_lock(&lock);
}
static void at_fork_parent(void)
{
    pthread_mutex_unlock(&lock);
    inside--;
}
static void at_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    if (state == SERVING) hl_serve_forked();
    inside--;
}

__attribute__((constructor)) static void shim_init(void)
{
    look_up();
    if (enter()) leave(); /* the instance exists before main */
    pthread_atfork(at_fork_prepare, at_fork_parent, at_fork_child);
}

__attribute__((destructor)) static void shim_fini(void)
{
    if (!enter()) return;
    hl_serve_exit();
    leave();
}

/* ---------------------------------------------------------------- the entry points */

static void *serve(size_t n, size_t align, bool zero, const char *what)
{
    if (!enter()) return zero ? real_calloc(1, n) : real_malloc(n);
    void *p = hl_serve_alloc(n, align, zero, what);
    leave();
    return p;
}

EXPORT void *malloc(size_t n)
{
    if (!real_malloc && inside) return hl_boot_alloc(&boot, n);
    return serve(n, C_ALIGN, false, "malloc");
}

EXPORT void *calloc(size_t n, size_t m)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, m, &bytes)) return errno = ENOMEM, NULL;
    if (!real_calloc && inside) return hl_boot_alloc(&boot, bytes); /* dlsym's small requests: static, zeroed */
    return serve(bytes, C_ALIGN, true, "calloc");
}

EXPORT void free(void *p)
{
    if (!p || hl_boot_owns(&boot, p)) return;
    if (!enter()) {
        real_free(p);
        return;
    }
    bool ours = hl_serve_free(p);
    leave();
    if (!ours) real_free(p);
}

EXPORT void *realloc(void *p, size_t n)
{
    if (hl_boot_owns(&boot, p)) { /* a bootstrap block: moved out */
        void *q = malloc(n);
        if (q) memcpy(q, p, n < hl_boot_tail(&boot, p) ? n : hl_boot_tail(&boot, p));
        return q;
    }
    if (!p) return malloc(n);
    if (!enter()) return real_realloc(p, n);
    void *q = NULL;
    bool ours = hl_serve_realloc(p, n, &q);
    leave();
    return ours ? q : real_realloc(p, n);
}

EXPORT void *reallocarray(void *p, size_t n, size_t m)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, m, &bytes)) return errno = ENOMEM, NULL;
    return realloc(p, bytes);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (!align || (align & (align - 1)) || align % sizeof(void *)) return EINVAL;
    int saved = errno;
    void *p = serve(n, align < C_ALIGN ? C_ALIGN : align, false, "posix_memalign");
    if (!p) return errno == EINVAL ? EINVAL : ENOMEM;
    errno = saved;
    *out = p;
    return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (!align || (align & (align - 1))) return errno = EINVAL, NULL;
    return serve(n, align < C_ALIGN ? C_ALIGN : align, false, "aligned_alloc");
}

EXPORT void *memalign(size_t align, size_t n)
{
    if (align > ((size_t)1 << 62)) return errno = EINVAL, NULL;
    size_t a = C_ALIGN;
    while (a < align) a <<= 1; /* glibc rounds up to a power of two */
    return serve(n, a, false, "memalign");
}

EXPORT void *valloc(size_t n) { return serve(n, (size_t)sysconf(_SC_PAGESIZE), false, "valloc"); }

EXPORT void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), rounded;
    if (__builtin_add_overflow(n, page - 1, &rounded)) return errno = ENOMEM, NULL;
    rounded &= ~(page - 1);
    return serve(rounded ? rounded : page, page, false, "pvalloc");
}

EXPORT size_t malloc_usable_size(void *p)
{
    if (!p) return 0;
    if (hl_boot_owns(&boot, p)) return 0;
    if (!enter()) return real_usable(p);
    size_t n = 0;
    bool ours = hl_serve_usable(p, &n);
    leave();
    return ours ? n : real_usable(p);
}
