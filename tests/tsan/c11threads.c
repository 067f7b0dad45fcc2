/*
 * Linked into build/tsan/cdc-bridge only.  librdkafka (Debian's, built
 * with glibc's C11 threads) creates its threads with thrd_create() and
 * locks with mtx_lock()/cnd_wait(); GCC 12's ThreadSanitizer intercepts
 * none of them (glibc calls its pthread internals directly), so a
 * librdkafka thread has no TSan state (its first malloc crashes) and its
 * locks order nothing.  These definitions in the executable take the
 * place of glibc's for librdkafka and map each call onto the pthread
 * function TSan does intercept.  glibc's C11 types are its pthread types
 * (mtx_t is a pthread_mutex_t, cnd_t a pthread_cond_t, once_flag a
 * pthread_once_t, thrd_t a pthread_t), so the casts are exact.
 */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>
#include <time.h>


typedef struct {
    thrd_start_t   func;
    void          *arg;
} cdc_tsan_start_t;


static int
cdc_tsan_err(int rc)
{
    return rc == 0 ? thrd_success
           : rc == ETIMEDOUT ? thrd_timedout
           : rc == EBUSY ? thrd_busy
           : rc == ENOMEM || rc == EAGAIN ? thrd_nomem : thrd_error;
}


static void *
cdc_tsan_start(void *p)
{
    cdc_tsan_start_t  st;

    st = *(cdc_tsan_start_t *) p;
    free(p);

    return (void *) (intptr_t) st.func(st.arg);
}


int
thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
    int                rc;
    cdc_tsan_start_t  *st;

    st = malloc(sizeof(cdc_tsan_start_t));
    if (st == NULL) {
        return thrd_nomem;
    }

    st->func = func;
    st->arg = arg;

    rc = pthread_create((pthread_t *) thr, NULL, cdc_tsan_start, st);
    if (rc != 0) {
        free(st);
    }

    return cdc_tsan_err(rc);
}


int
thrd_join(thrd_t thr, int *res)
{
    int    rc;
    void  *ret;

    rc = pthread_join((pthread_t) thr, &ret);

    if (rc == 0 && res != NULL) {
        *res = (int) (intptr_t) ret;
    }

    return cdc_tsan_err(rc);
}


int
thrd_detach(thrd_t thr)
{
    return cdc_tsan_err(pthread_detach((pthread_t) thr));
}


int
mtx_init(mtx_t *m, int type)
{
    int                  rc;
    pthread_mutexattr_t  a;

    pthread_mutexattr_init(&a);

    if (type & mtx_recursive) {
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    }

    rc = pthread_mutex_init((pthread_mutex_t *) m, &a);
    pthread_mutexattr_destroy(&a);

    return cdc_tsan_err(rc);
}


int
mtx_lock(mtx_t *m)
{
    return cdc_tsan_err(pthread_mutex_lock((pthread_mutex_t *) m));
}


int
mtx_trylock(mtx_t *m)
{
    return cdc_tsan_err(pthread_mutex_trylock((pthread_mutex_t *) m));
}


int
mtx_unlock(mtx_t *m)
{
    return cdc_tsan_err(pthread_mutex_unlock((pthread_mutex_t *) m));
}


void
mtx_destroy(mtx_t *m)
{
    (void) pthread_mutex_destroy((pthread_mutex_t *) m);
}


int
cnd_init(cnd_t *c)
{
    return cdc_tsan_err(pthread_cond_init((pthread_cond_t *) c, NULL));
}


int
cnd_signal(cnd_t *c)
{
    return cdc_tsan_err(pthread_cond_signal((pthread_cond_t *) c));
}


int
cnd_broadcast(cnd_t *c)
{
    return cdc_tsan_err(pthread_cond_broadcast((pthread_cond_t *) c));
}


int
cnd_wait(cnd_t *c, mtx_t *m)
{
    return cdc_tsan_err(pthread_cond_wait((pthread_cond_t *) c,
                                          (pthread_mutex_t *) m));
}


int
cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
    const struct timespec *restrict ts)
{
    return cdc_tsan_err(pthread_cond_timedwait((pthread_cond_t *) c,
                                               (pthread_mutex_t *) m, ts));
}


void
cnd_destroy(cnd_t *c)
{
    (void) pthread_cond_destroy((pthread_cond_t *) c);
}


void
call_once(once_flag *flag, void (*func)(void))
{
    (void) pthread_once((pthread_once_t *) flag, func);
}
