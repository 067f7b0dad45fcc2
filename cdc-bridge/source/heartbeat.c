/*
 * The heartbeat row.  When [source] heartbeat_table is set, `run` upserts
 * one row of that table (id = its server_id) every heartbeat_interval on
 * a connection of its own:
 *
 *   CREATE TABLE db.cdc_heartbeat (id INT UNSIGNED PRIMARY KEY,
 *       beat_ms BIGINT NOT NULL, beat_at TIMESTAMP(3) NOT NULL)
 *
 * The change travels through the binlog and Kafka like any other, so
 * while the monolith is idle the source lag stays honest (run.c reads
 * beat_ms back from the stream) and sinks can advance their watermark.
 * Grant: INSERT, UPDATE on that table (CREATE too, if the bridge should
 * create it).  Failures are logged and retried; they never stop `run`.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "source/source.h"


int
cdc_heartbeat_init(cdc_heartbeat_t *hb, const cdc_config_t *cf, char *err,
    size_t errlen)
{
    const char  *t, *dot;
    size_t       dlen;

    memset(hb, 0, sizeof(*hb));

    t = cf->heartbeat_table;
    if (t == NULL || t[0] == '\0') {
        return 0;
    }

    dot = strchr(t, '.');
    if (dot == NULL || dot == t || dot[1] == '\0') {
        return cdc_error(err, errlen, "heartbeat_table \"%s\": expected "
                         "db.table", t);
    }

    dlen = (size_t) (dot - t);
    if (dlen >= sizeof(hb->db) || strlen(dot + 1) >= sizeof(hb->table)
        || strchr(t, '`') != NULL)
    {
        return cdc_error(err, errlen, "heartbeat_table \"%s\": bad name", t);
    }

    memcpy(hb->db, t, dlen);
    hb->db[dlen] = '\0';
    snprintf(hb->table, sizeof(hb->table), "%s", dot + 1);
    snprintf(hb->qtable, sizeof(hb->qtable), "`%s`.`%s`", hb->db,
             hb->table);
    hb->id = cf->src_server_id;

    return 0;
}


int
cdc_heartbeat_is(const cdc_heartbeat_t *hb, const char *db,
    const char *table)
{
    return hb->db[0] && strcmp(hb->db, db) == 0
           && strcmp(hb->table, table) == 0;
}


static int
cdc_heartbeat_connect(cdc_heartbeat_t *hb, const cdc_config_t *cf)
{
    char  err[1024], q[600];

    hb->mysql = cdc_source_connect(cf, 5, err, sizeof(err));
    if (hb->mysql == NULL) {
        cdc_log_warn("heartbeat: %s", err);
        return -1;
    }

    snprintf(q, sizeof(q), "CREATE TABLE IF NOT EXISTS %s (id INT UNSIGNED "
             "NOT NULL PRIMARY KEY, beat_ms BIGINT NOT NULL, beat_at "
             "TIMESTAMP(3) NOT NULL)", hb->qtable);

    if (cdc_source_query(hb->mysql, q, err, sizeof(err)) != 0
        && !hb->warned)
    {
        /* fine when it exists already and we may not create tables */
        cdc_log_debug("heartbeat: %s", err);
    }

    return 0;
}


/* now_ms: the wall clock written as beat_ms; the interval is monotonic */
void
cdc_heartbeat_tick(cdc_heartbeat_t *hb, const cdc_config_t *cf,
    int64_t now_ms)
{
    char     err[1024], q[700];
    int64_t  mono;

    mono = cdc_clock_mono_ms();

    if (hb->db[0] == '\0' || cf->heartbeat_interval_ms <= 0
        || (hb->last_ms != 0
            && mono - hb->last_ms < cf->heartbeat_interval_ms))
    {
        return;
    }

    hb->last_ms = mono;

    if (hb->mysql == NULL && cdc_heartbeat_connect(hb, cf) != 0) {
        return;
    }

    snprintf(q, sizeof(q), "INSERT INTO %s (id, beat_ms, beat_at) VALUES "
             "(%" PRIu32 ", %" PRId64 ", NOW(3)) ON DUPLICATE KEY UPDATE "
             "beat_ms = VALUES(beat_ms), beat_at = VALUES(beat_at)",
             hb->qtable, hb->id, now_ms);

    if (cdc_source_query(hb->mysql, q, err, sizeof(err)) != 0) {
        if (!hb->warned) {
            cdc_log_warn("heartbeat write failed (needs INSERT, UPDATE on "
                         "%s.%s): %s", hb->db, hb->table, err);
            hb->warned = 1;
        }
        mysql_close(hb->mysql);
        hb->mysql = NULL;
        return;
    }

    if (hb->warned) {
        cdc_log_info("heartbeat writes work again");
        hb->warned = 0;
    }

    hb->last_ok_ms = now_ms;
}


void
cdc_heartbeat_close(cdc_heartbeat_t *hb)
{
    if (hb->mysql) {
        mysql_close(hb->mysql);
        hb->mysql = NULL;
    }
}
