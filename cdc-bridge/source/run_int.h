/*
 * The state `cdc-bridge run` shares between its main loop (run.c) and its
 * lag, metrics and status reporting (lag.c).  Private to source/.
 */

#ifndef CDC_SOURCE_RUN_INT_H
#define CDC_SOURCE_RUN_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "metrics.h"
#include "source/source.h"
#include "source/stream.h"


#define CDC_RUN_ACK_WINDOW     (1u << 22)
#define CDC_RUN_COMMITS        (1u << 13)  /* ~1.3 KiB each */
#define CDC_RUN_MAX_TABLES     4096


typedef struct cdc_run_markers_s  cdc_run_markers_t;


typedef struct {
    char            name[256];          /* db.table */
    uint64_t        n[4];               /* c u d r; cdc_run_store() */
    cdc_series_t   *s[4];
} cdc_run_table_t;


struct cdc_run_s {
    cdc_config_t           *cf;
    rd_kafka_t             *rk;
    cdc_acks_t              acks;
    cdc_checkpoint_t        ck;
    cdc_heartbeat_t         hb;
    volatile sig_atomic_t  *stop;

    /* positions: read (last event fed), handed (last commit whose events
       were all given to the producer), ck.pos (durable) */
    cdc_src_pos_t           read_pos;
    cdc_src_pos_t           handed;
    int                     have_handed;

    /* cdc_run_store()/cdc_run_load(): */
    int64_t                 last_event_ms;  /* source commit time, read */
    int64_t                 last_beat_ms;   /* newest heartbeat row seen */
    int64_t                 caught_up_ms;   /* server said: nothing new */
    cdc_ckpt_writer_t      *ckw;            /* while streaming */
    int64_t                 ckpt_tick_ms;   /* monotonic */
    uint64_t                ckpt_failures;  /* of ckw, counted */
    int                     ckpt_failing;
    char                    ckpt_err[512];
    uint64_t                produced;       /* cdc_run_store()/load() */
    uint64_t                delivered;      /* cdc_run_store()/load() */
    uint64_t                reconnects;     /* cdc_run_store()/load() */
    uint64_t                xa_prepared;    /* XA held until decided: the
                                               checkpoint waits for them;
                                               cdc_run_store()/load() */
    char                    phase[32];

    cdc_run_table_t        *tables;
    size_t                  ntables;
    cdc_run_table_t        *last_table;
    cdc_run_markers_t      *markers;    /* marker.c */

    MYSQL                  *schema;     /* column types for the stream */
    int                     schema_lost;

    cdc_metrics_t          *metrics;
    cdc_http_t             *http;
    cdc_metric_t           *m_events;
    cdc_series_t           *m_delivered;
    cdc_series_t           *m_lag;
    cdc_series_t           *m_inflight;
    cdc_series_t           *m_pos;
    cdc_series_t           *m_ckpt_pos;
    cdc_series_t           *m_ckpt_age;
    cdc_series_t           *m_ckpt_errors;
    cdc_series_t           *m_reconnects;

    pthread_mutex_t         lock;       /* what /status reads */
};


/*
 * Counters and clocks the main thread alone writes, once per event, and
 * the HTTP thread reads for /metrics and /status without r->lock (a lock
 * per event would cost more than the store): both sides atomic.
 */
#define cdc_run_store(field, v)  __atomic_store_n(&(field), (v),             \
                                                  __ATOMIC_RELAXED)
#define cdc_run_load(field)      __atomic_load_n(&(field), __ATOMIC_RELAXED)


/* lag.c: the metrics families, and the HTTP server when [metrics] listen
   is set; -1 with err when the server cannot start */
int cdc_run_metrics_init(cdc_run_t *r, char *err, size_t errlen);

/* marker.c: after the heartbeat row c, a progress marker (op "m") into
   every partition of every topic run produces for; -1 when stopping */
int cdc_run_markers(cdc_run_t *r, const cdc_stream_change_t *c);
void cdc_run_markers_free(cdc_run_t *r);

/* milliseconds behind the source now, -1 unknown; call under r->lock */
int64_t cdc_run_lag_ms(const cdc_run_t *r, int64_t now);


#endif /* CDC_SOURCE_RUN_INT_H */
