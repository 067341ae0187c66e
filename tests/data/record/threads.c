/* threads.c: four threads allocate; each frees half its own blocks and hands the rest
 * to the next thread through a queue, so frees cross threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define BLOCKS 2000
static void *handed[THREADS][BLOCKS];
static pthread_barrier_t barrier;

static void *work(void *arg)
{
    long t = (long)arg;
    for (int i = 0; i < BLOCKS; i++) {
        void *p = malloc((size_t)(16 + (i * 7 + t) % 300));
        memset(p, (int)t, 16);
        if (i % 2) free(p);
        else handed[t][i] = p;
    }
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < BLOCKS; i += 2) free(handed[(t + 1) % THREADS][i]); /* another thread's blocks */
    return NULL;
}

int main(void)
{
    pthread_t id[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (long t = 0; t < THREADS; t++) pthread_create(&id[t], NULL, work, (void *)t);
    for (int t = 0; t < THREADS; t++) pthread_join(id[t], NULL);
    return 0;
}
