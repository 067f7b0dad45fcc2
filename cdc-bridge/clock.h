/*
 * cdc-bridge: the two clocks.
 *
 *   cdc_clock_wall_ms()   CLOCK_REALTIME, ms since the epoch: for times
 *                         other processes or machines compare (source
 *                         commit times, heartbeat beat_ms, event ts_ms,
 *                         lag = now - watermark, the lag file's and the
 *                         checkpoint's updated_ms)
 *   cdc_clock_mono_ms()   CLOCK_MONOTONIC: for durations, intervals,
 *                         deadlines and backoffs, which a wall-clock step
 *                         (NTP, an operator) must not stretch or shrink
 *
 * Never subtract one clock's reading from the other's.
 */

#ifndef CDC_CLOCK_H
#define CDC_CLOCK_H

#include <stdint.h>
#include <time.h>


static inline int64_t
cdc_clock_wall_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static inline int64_t
cdc_clock_mono_ms(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


#endif /* CDC_CLOCK_H */
