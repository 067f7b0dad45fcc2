/*
 * cdc-bridge sink: truncate events (op "t": the source ran TRUNCATE or
 * DROP TABLE).  `run` writes one into every partition of the table's
 * topic, after that partition's older changes; partitions are read at
 * different speeds, so the sink follows the first copy it meets:
 *
 *   - the target table is emptied (TRUNCATE) in the batch's transaction,
 *     before the batch's other changes, and the truncate's source
 *     position is kept in strangler_cdc.truncates, in the same
 *     transaction;
 *   - a change of that table from before that position (still on its
 *     way in a slower partition, or produced again after a `run`
 *     restart) is not applied: the truncate removed its row;
 *   - a truncate event at or before the kept position is a copy (another
 *     partition's, or a replay) and changes nothing.
 *
 * Positions compare by binlog file (its length, then its name: file
 * numbers grow) and offset.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sink/sink.h"


int
cdc_ddl_init(cdc_sink_t *s, char *err, size_t errlen)
{
    int                i;
    size_t             k;
    PGresult          *r;
    const char        *vals[1];
    cdc_sink_table_t  *t;

    if (cdc_pg_exec(s->pg,
            "CREATE TABLE IF NOT EXISTS strangler_cdc.truncates ("
            " service text NOT NULL, src text NOT NULL,"
            " file text NOT NULL, pos bigint NOT NULL,"
            " truncated_at timestamptz NOT NULL DEFAULT now(),"
            " PRIMARY KEY (service, src))", err, errlen) != 0)
    {
        return -1;
    }

    for (k = 0; k < s->ntables; k++) {
        s->tables[k].trunc_file[0] = '\0';
        s->tables[k].trunc_pos = -1;
    }

    vals[0] = s->svc->name;
    r = cdc_pg_query(s->pg, "SELECT src, file, pos FROM "
                     "strangler_cdc.truncates WHERE service = $1", 1, vals,
                     err, errlen);
    if (r == NULL) {
        return -1;
    }

    for (i = 0; i < PQntuples(r); i++) {
        for (k = 0; k < s->ntables; k++) {
            t = &s->tables[k];

            if (strcmp(t->src, PQgetvalue(r, i, 0)) == 0) {
                snprintf(t->trunc_file, sizeof(t->trunc_file), "%s",
                         PQgetvalue(r, i, 1));
                t->trunc_pos = strtoll(PQgetvalue(r, i, 2), NULL, 10);
            }
        }
    }

    PQclear(r);

    return 0;
}


/* <0, 0, >0 as position (fa, pa) is before, at, after (fb, pb) */
int
cdc_ddl_pos_cmp(const char *fa, int64_t pa, const char *fb, int64_t pb)
{
    size_t  la, lb;
    int     c;

    la = strlen(fa);
    lb = strlen(fb);

    if (la != lb) {
        return la < lb ? -1 : 1;
    }

    c = strcmp(fa, fb);
    if (c != 0) {
        return c;
    }

    return pa < pb ? -1 : pa > pb;
}


/*
 * Main thread, in consumption order.  A truncate newer than the table's
 * last one moves it, and voids the table's older changes already in the
 * batch; a change older than the table's last truncate is voided.  Every
 * truncate event goes on to the applier, which decides against the kept
 * position (a batch dropped at a rebalance is read again).
 */
void
cdc_ddl_prepare(cdc_sink_t *s, cdc_sink_batch_t *b, cdc_sink_change_t *c)
{
    size_t              i;
    cdc_sink_table_t   *t;
    cdc_sink_change_t  *o;

    t = c->table;

    if (c->op != 't') {
        if (c->file != NULL && t->trunc_pos >= 0
            && cdc_ddl_pos_cmp(c->file, c->pos, t->trunc_file,
                               t->trunc_pos) < 0)
        {
            c->skip = 1;
        }
        return;
    }

    if (c->file == NULL) {
        c->error = strdup("truncate event without source.file and "
                          "source.pos");
        c->sqlstate = "22P02";
        return;
    }

    if (t->trunc_pos >= 0
        && cdc_ddl_pos_cmp(c->file, c->pos, t->trunc_file, t->trunc_pos)
           <= 0)
    {
        return;
    }

    snprintf(t->trunc_file, sizeof(t->trunc_file), "%s", c->file);
    t->trunc_pos = c->pos;

    for (i = 0; i < b->nchanges && &b->changes[i] != c; i++) {
        o = &b->changes[i];

        if (o->table == t && o->op != 't' && o->file != NULL
            && cdc_ddl_pos_cmp(o->file, o->pos, c->file, c->pos) < 0)
        {
            o->skip = 1;
        }
    }
}


/*
 * Applier thread: follows the batch's truncate events, in the open
 * transaction, before its other changes.  CDC_APPLY_* codes as apply.c's
 * (0 ok, 1 transient, 2 data); the failing change in *bad.
 */
int
cdc_ddl_apply(cdc_sink_t *s, cdc_sink_batch_t *b, cdc_sink_change_t **bad,
    char *state, size_t statelen, char *err, size_t errlen)
{
    int                 rc;
    char                num[32], sql[1200];
    size_t              i;
    PGresult           *r;
    const char         *vals[4];
    cdc_sink_change_t  *c;

    for (i = 0; i < b->nchanges; i++) {
        c = &b->changes[i];

        if (c->op != 't' || c->table == NULL || c->skip || c->error) {
            continue;
        }

        *bad = c;
        snprintf(num, sizeof(num), "%lld", (long long) c->pos);
        vals[0] = s->svc->name;
        vals[1] = c->table->src;
        vals[2] = c->file;
        vals[3] = num;

        r = PQexecParams(s->pg,
            "INSERT INTO strangler_cdc.truncates AS t (service, src, file,"
            " pos) VALUES ($1, $2, $3, $4) ON CONFLICT (service, src) DO"
            " UPDATE SET file = EXCLUDED.file, pos = EXCLUDED.pos,"
            " truncated_at = now() WHERE (length(t.file), t.file, t.pos)"
            " < (length(EXCLUDED.file), EXCLUDED.file, EXCLUDED.pos)"
            " RETURNING 1", 4, NULL, vals, NULL, NULL, 0);

        if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK
            && PQntuples(r) == 0)
        {
            PQclear(r);             /* a copy of one already followed */
            continue;
        }

        if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK) {
            PQclear(r);
            snprintf(sql, sizeof(sql), "TRUNCATE %s", c->table->qname);
            r = PQexec(s->pg, sql);
        }

        if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(state, statelen, "%s", cdc_pg_sqlstate(r));
            snprintf(err, errlen, "%s", r ? PQresultErrorMessage(r)
                                          : PQerrorMessage(s->pg));
            err[strcspn(err, "\n")] = '\0';
            PQclear(r);
            rc = cdc_pg_transient(s->pg, state) ? 1 : 2;
            return rc;
        }

        PQclear(r);
        cdc_series_add(c->table->m_truncates, 1);
        cdc_log_info("service %s: %s was truncated or dropped at the source "
                     "(%s:%lld): target %s emptied", s->svc->name,
                     c->table->src, c->file, (long long) c->pos,
                     c->table->qname);
    }

    *bad = NULL;

    return 0;
}


/*
 * Main thread: marks c replayed when its stream position is before one
 * already read in its partition.  Each partition holds its keys' changes
 * in binlog order, so only a `run` restart (at-least-once into Kafka)
 * puts an older position after a newer one.  Snapshot reads carry the
 * snapshot's position and are left alone.
 */
void
cdc_ddl_seen(cdc_sink_t *s, cdc_sink_change_t *c)
{
    int               d;
    int64_t           row;
    const char       *snap;
    cdc_sink_part_t  *p;

    snap = cdc_jv_get_str(c->source, "snapshot");

    if (s->replay || c->file == NULL || snap == NULL
        || strcmp(snap, "false") != 0 || strlen(c->file) >= 128)
    {
        return;
    }

    p = &s->parts[c->part];
    row = cdc_jv_get_int(c->source, "row", 0);

    if (p->seen_file[0]) {
        d = cdc_ddl_pos_cmp(c->file, c->pos, p->seen_file, p->seen_pos);
        d = d ? d : (row > p->seen_row) - (row < p->seen_row);

        /* the same position again (a later message): a replay too; the
           delete and insert of a key change share one, but an insert
           never misses */
        if (d < 0 || (d == 0 && c->msg->offset > p->seen_offset)) {
            c->replayed = 1;
            return;
        }

        if (d == 0) {
            return;                     /* the same message read again */
        }
    }

    snprintf(p->seen_file, sizeof(p->seen_file), "%s", c->file);
    p->seen_pos = c->pos;
    p->seen_row = row;
    p->seen_offset = c->msg->offset;
}
