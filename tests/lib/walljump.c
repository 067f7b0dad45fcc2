/*
 * LD_PRELOAD library for tests (build/tests/libwalljump.so): the wall
 * clock of a process steps by the number of milliseconds written in the
 * file $WALLJUMP_FILE (read again every 50 ms), the way NTP or an
 * operator steps a machine's clock.  CLOCK_REALTIME readings through
 * clock_gettime() and gettimeofday() move; CLOCK_MONOTONIC does not.
 */

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>


typedef int (*walljump_cg_t)(clockid_t, struct timespec *);


static walljump_cg_t  walljump_real;
static int64_t        walljump_offset;    /* ms; __atomic */
static int64_t        walljump_read_at;   /* monotonic ms; __atomic */


static int64_t
walljump_offset_ms(void)
{
    FILE             *f;
    long long         v;
    int64_t           now;
    const char       *file;
    struct timespec   ts;

    walljump_real(CLOCK_MONOTONIC, &ts);
    now = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

    if (now - __atomic_load_n(&walljump_read_at, __ATOMIC_RELAXED) < 50) {
        return __atomic_load_n(&walljump_offset, __ATOMIC_RELAXED);
    }

    __atomic_store_n(&walljump_read_at, now, __ATOMIC_RELAXED);

    file = getenv("WALLJUMP_FILE");
    f = file ? fopen(file, "r") : NULL;

    if (f != NULL) {
        if (fscanf(f, "%lld", &v) == 1) {
            __atomic_store_n(&walljump_offset, (int64_t) v, __ATOMIC_RELAXED);
        }
        fclose(f);
    }

    return __atomic_load_n(&walljump_offset, __ATOMIC_RELAXED);
}


int
clock_gettime(clockid_t id, struct timespec *ts)
{
    int      rc;
    int64_t  ns;

    if (walljump_real == NULL) {
        walljump_real = (walljump_cg_t) dlsym(RTLD_NEXT, "clock_gettime");
    }

    rc = walljump_real(id, ts);

    if (rc != 0 || (id != CLOCK_REALTIME && id != CLOCK_REALTIME_COARSE)) {
        return rc;
    }

    ns = (int64_t) ts->tv_sec * 1000000000 + ts->tv_nsec
         + walljump_offset_ms() * 1000000;
    ts->tv_sec = (time_t) (ns / 1000000000);
    ts->tv_nsec = (long) (ns % 1000000000);

    return 0;
}


int
gettimeofday(struct timeval *tv, void *tz)
{
    struct timespec  ts;

    (void) tz;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return -1;
    }

    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;

    return 0;
}
