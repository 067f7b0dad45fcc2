/*
 * The initial snapshot: every wanted table's rows as op "r" events, read
 * from one consistent view without blocking writers, chunked by primary
 * key, resumable after a crash; then the stream starts at the binlog
 * position of that view.
 *
 * MariaDB: START TRANSACTION WITH CONSISTENT SNAPSHOT, and the status
 * variables binlog_snapshot_file/position give the exact binlog point of
 * that view (no lock).  MySQL has no such variables: the position is
 * read just before the view opens, so a change committed in between is
 * both in the snapshot and in the stream (a harmless duplicate).
 *
 * Resume: the checkpoint keeps the first attempt's binlog point, the
 * tables done and the last key emitted of the table in progress.  After
 * a crash a new view continues after that key; the stream then starts at
 * the first attempt's point, so every change since is replayed over the
 * newer rows and the end state is the same (at-least-once).
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "event.h"
#include "log.h"
#include "source/run_int.h"
#include "source/source.h"


typedef struct {
    char        db[256];
    char        name[256];
} cdc_snap_table_t;


typedef struct {
    cdc_run_t          *r;
    const cdc_config_t *cf;
    MYSQL              *mysql;
    cdc_buf_t           key;
    cdc_buf_t           val;
    cdc_buf_t           topic;
    uint32_t            server_id;
    int64_t             ts_ms;
    int64_t             ckpt_ms;
    uint64_t            rows;
    int64_t             worst_chunk_ms;
} cdc_snap_t;


/* `name` with backticks doubled */
static int
cdc_snap_ident(cdc_buf_t *b, const char *s)
{
    if (cdc_buf_putc(b, '`') != 0) {
        return -1;
    }

    for ( ; *s; s++) {
        if (*s == '`' && cdc_buf_putc(b, '`') != 0) {
            return -1;
        }
        if (cdc_buf_putc(b, *s) != 0) {
            return -1;
        }
    }

    return cdc_buf_putc(b, '`');
}


static int
cdc_snap_one_row(MYSQL *mysql, const char *q, char *out, size_t outlen,
    char *out2, size_t out2len, char *err, size_t errlen)
{
    MYSQL_RES  *res;
    MYSQL_ROW   row;

    if (mysql_query(mysql, q) != 0) {
        return cdc_error(err, errlen, "\"%s\": %s (%u)", q,
                         mysql_error(mysql), mysql_errno(mysql));
    }

    res = mysql_store_result(mysql);
    if (res == NULL) {
        return cdc_error(err, errlen, "\"%s\": no result", q);
    }

    row = mysql_fetch_row(res);
    if (row == NULL) {
        mysql_free_result(res);
        if (out) {
            out[0] = '\0';
        }
        if (out2) {
            out2[0] = '\0';
        }
        return 1;
    }

    if (out) {
        snprintf(out, outlen, "%s", row[0] ? row[0] : "");
    }

    if (out2 && mysql_num_fields(res) > 1) {
        snprintf(out2, out2len, "%s", row[1] ? row[1] : "");
    }

    mysql_free_result(res);

    return 0;
}


/* SHOW STATUS LIKE 'binlog_snapshot_%': file then position */
static int
cdc_snap_binlog_point(MYSQL *mysql, cdc_src_pos_t *pos, char *err,
    size_t errlen)
{
    MYSQL_RES  *res;
    MYSQL_ROW   row;
    int         got;

    if (mysql_query(mysql, "SHOW STATUS LIKE 'binlog_snapshot_%'") != 0) {
        return cdc_error(err, errlen, "SHOW STATUS: %s (%u)",
                         mysql_error(mysql), mysql_errno(mysql));
    }

    res = mysql_store_result(mysql);
    if (res == NULL) {
        return cdc_error(err, errlen, "SHOW STATUS: no result");
    }

    got = 0;

    while ((row = mysql_fetch_row(res)) != NULL) {
        if (row[0] == NULL || row[1] == NULL) {
            continue;
        }
        if (strcasecmp(row[0], "binlog_snapshot_file") == 0) {
            snprintf(pos->file, sizeof(pos->file), "%s", row[1]);
            got |= 1;
        } else if (strcasecmp(row[0], "binlog_snapshot_position") == 0) {
            pos->pos = strtoull(row[1], NULL, 10);
            got |= 2;
        }
    }

    mysql_free_result(res);

    return got == 3 && pos->file[0] ? 0 : 1;
}


static int
cdc_snap_tables(cdc_snap_t *sn, cdc_snap_table_t **out, size_t *n,
    char *err, size_t errlen)
{
    MYSQL_RES         *res;
    MYSQL_ROW          row;
    cdc_snap_table_t  *t, *nt;
    size_t             cap;

    *out = NULL;
    *n = 0;

    if (mysql_query(sn->mysql, "SELECT TABLE_SCHEMA, TABLE_NAME FROM "
                    "information_schema.TABLES WHERE TABLE_TYPE = "
                    "'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql', "
                    "'information_schema', 'performance_schema', 'sys') "
                    "ORDER BY TABLE_SCHEMA, TABLE_NAME") != 0)
    {
        return cdc_error(err, errlen, "listing tables: %s (%u)",
                         mysql_error(sn->mysql), mysql_errno(sn->mysql));
    }

    res = mysql_store_result(sn->mysql);
    if (res == NULL) {
        return cdc_error(err, errlen, "listing tables: no result");
    }

    t = NULL;
    cap = 0;

    while ((row = mysql_fetch_row(res)) != NULL) {
        if (row[0] == NULL || row[1] == NULL
            || !cdc_config_table_wanted(sn->cf, row[0], row[1]))
        {
            continue;
        }

        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            nt = realloc(t, cap * sizeof(*t));
            if (nt == NULL) {
                free(t);
                mysql_free_result(res);
                return cdc_error(err, errlen, "out of memory");
            }
            t = nt;
        }

        snprintf(t[*n].db, sizeof(t[*n].db), "%s", row[0]);
        snprintf(t[*n].name, sizeof(t[*n].name), "%s", row[1]);
        (*n)++;
    }

    mysql_free_result(res);
    *out = t;

    return 0;
}


/* key columns by the binlog's rule, in key order; 0 columns: no key */
static int
cdc_snap_pk(cdc_snap_t *sn, const cdc_snap_table_t *t, char ***cols,
    size_t *n, char *err, size_t errlen)
{
    return cdc_source_key(sn->mysql, t->db, t->name, cols, n, err, errlen);
}


static void
cdc_snap_free_strings(char **s, size_t n)
{
    size_t  i;

    if (s == NULL) {
        return;
    }

    for (i = 0; i < n; i++) {
        free(s[i]);
    }

    free(s);
}


/* a SQL literal for a key value, as stored in the checkpoint */
static char *
cdc_snap_literal(MYSQL *mysql, const MYSQL_FIELD *f, const char *v,
    size_t len)
{
    char    *out;
    size_t   i;
    int      num;

    num = IS_NUM(f->type) && f->type != MYSQL_TYPE_BIT;

    if (num) {
        for (i = 0; i < len; i++) {
            if (strchr("0123456789.-+eE", v[i]) == NULL) {
                num = 0;
                break;
            }
        }
    }

    if (num) {
        return strndup(v, len);
    }

    if (f->charsetnr == 63) {
        out = malloc(2 * len + 4);
        if (out == NULL) {
            return NULL;
        }
        out[0] = 'X';
        out[1] = '\'';
        for (i = 0; i < len; i++) {
            out[2 + 2 * i] = "0123456789abcdef"[(unsigned char) v[i] >> 4];
            out[3 + 2 * i] = "0123456789abcdef"[(unsigned char) v[i] & 15];
        }
        out[2 + 2 * len] = '\'';
        out[3 + 2 * len] = '\0';
        return out;
    }

    out = malloc(2 * len + 3);
    if (out == NULL) {
        return NULL;
    }

    out[0] = '\'';
    i = mysql_real_escape_string(mysql, out + 1, v, (unsigned long) len);
    out[1 + i] = '\'';
    out[2 + i] = '\0';

    return out;
}


/*
 * SELECT cols FROM t [WHERE key > last] ORDER BY key LIMIT chunk.  Every
 * column by name (INVISIBLE ones too, as the binlog logs them); FLOAT as
 * DOUBLE, since the text protocol prints FLOAT with 6 digits only.
 */
static int
cdc_snap_query(cdc_snap_t *sn, const cdc_snap_table_t *t,
    const cdc_src_col_t *cols, size_t ncols, char **pk, size_t npk,
    char **last, size_t nlast, cdc_buf_t *q)
{
    size_t  i, j;
    int     rc;

    cdc_buf_reset(q);

    rc = cdc_buf_puts(q, "SELECT ");

    for (i = 0; i < ncols; i++) {
        if (i) {
            rc |= cdc_buf_putc(q, ',');
        }
        if (strcmp(cols[i].data_type, "float") == 0) {
            rc |= cdc_buf_puts(q, "CAST(");
            rc |= cdc_snap_ident(q, cols[i].name);
            rc |= cdc_buf_puts(q, " AS DOUBLE) AS ");
        }
        rc |= cdc_snap_ident(q, cols[i].name);
    }

    rc |= cdc_buf_puts(q, " FROM ");
    rc |= cdc_snap_ident(q, t->db);
    rc |= cdc_buf_putc(q, '.');
    rc |= cdc_snap_ident(q, t->name);

    if (npk == 0) {
        return rc;
    }

    if (nlast == npk) {
        /* (a > x) OR (a = x AND b > y) OR ... */
        rc |= cdc_buf_puts(q, " WHERE ");

        for (i = 0; i < npk; i++) {
            rc |= cdc_buf_puts(q, i ? " OR (" : "(");

            for (j = 0; j <= i; j++) {
                if (j) {
                    rc |= cdc_buf_puts(q, " AND ");
                }
                rc |= cdc_snap_ident(q, pk[j]);
                rc |= cdc_buf_puts(q, j == i ? " > " : " = ");
                rc |= cdc_buf_puts(q, last[j]);
            }

            rc |= cdc_buf_putc(q, ')');
        }
    }

    rc |= cdc_buf_puts(q, " ORDER BY ");

    for (i = 0; i < npk; i++) {
        if (i) {
            rc |= cdc_buf_putc(q, ',');
        }
        rc |= cdc_snap_ident(q, pk[i]);
    }

    rc |= cdc_buf_puts(q, " LIMIT ");
    rc |= cdc_buf_put_i64(q, sn->cf->snapshot_chunk > 0
                             ? sn->cf->snapshot_chunk : 10000);

    return rc ? -1 : 0;
}


/* one value in the stream's form; cols[i] says what the column is */
static int
cdc_snap_put_value(cdc_buf_t *b, const MYSQL_FIELD *f,
    const cdc_src_col_t *col, const char *v, unsigned long len)
{
    if (v != NULL && col->native != CDC_NATIVE_NONE) {
        /* SELECT shows UUID/INET4/INET6 in the text form the stream
           writes (cdc_event_put_native) */
        return cdc_json_put_str(b, v, len);
    }

    return cdc_event_put_sql_value(b, strcmp(col->data_type, "float") == 0
                                      ? CDC_MT_FLOAT : f->type,
                                   f->flags, f->charsetnr, f->length, v,
                                   len);
}


static int
cdc_snap_emit_row(cdc_snap_t *sn, const cdc_snap_table_t *t,
    MYSQL_FIELD *fields, const cdc_src_col_t *cols, unsigned nf,
    MYSQL_ROW row, unsigned long *lens, int *pkidx, size_t npk,
    const cdc_src_pos_t *at)
{
    unsigned            i;
    int                 rc;
    cdc_event_source_t  src;

    cdc_buf_reset(&sn->key);
    cdc_buf_reset(&sn->val);

    rc = 0;

    if (npk == 0) {
        rc |= cdc_buf_puts(&sn->key, "null");

    } else {
        rc |= cdc_buf_putc(&sn->key, '{');
        for (i = 0; i < npk; i++) {
            MYSQL_FIELD  *f = &fields[pkidx[i]];

            if (i) {
                rc |= cdc_buf_putc(&sn->key, ',');
            }
            rc |= cdc_json_put_str(&sn->key, f->name, strlen(f->name));
            rc |= cdc_buf_putc(&sn->key, ':');
            rc |= cdc_snap_put_value(&sn->key, f, &cols[pkidx[i]],
                                     row[pkidx[i]], lens[pkidx[i]]);
        }
        rc |= cdc_buf_putc(&sn->key, '}');
    }

    rc |= cdc_event_value_begin(&sn->val);
    rc |= cdc_buf_puts(&sn->val, "null");
    rc |= cdc_event_value_after(&sn->val);
    rc |= cdc_buf_putc(&sn->val, '{');

    for (i = 0; i < nf; i++) {
        if (i) {
            rc |= cdc_buf_putc(&sn->val, ',');
        }
        rc |= cdc_json_put_str(&sn->val, fields[i].name,
                               strlen(fields[i].name));
        rc |= cdc_buf_putc(&sn->val, ':');
        rc |= cdc_snap_put_value(&sn->val, &fields[i], &cols[i], row[i],
                                 lens[i]);
    }

    rc |= cdc_buf_putc(&sn->val, '}');

    memset(&src, 0, sizeof(src));
    src.name = sn->cf->topic_prefix;
    src.ts_ms = (uint64_t) sn->ts_ms;
    src.db = t->db;
    src.table = t->name;
    src.server_id = sn->server_id;
    src.gtid = at->gtid[0] ? at->gtid : NULL;
    src.file = at->file;
    src.pos = at->pos;
    src.row = 0;
    src.snapshot = "true";

    rc |= cdc_event_value_end(&sn->val, &src, 'r', cdc_event_now_ms());

    if (rc != 0) {
        cdc_log_error("snapshot of %s.%s: cannot encode a row", t->db,
                      t->name);
        return -1;
    }

    if (cdc_run_produce(sn->r, t->db, t->name, sn->topic.data, sn->key.data,
                        sn->key.len, sn->val.data, sn->val.len, 'r')
        != 0)
    {
        return -1;
    }

    sn->rows++;

    return 0;
}


static int
cdc_snap_save(cdc_snap_t *sn)
{
    if (cdc_run_drain(sn->r) != 0) {
        return -1;
    }

    if (cdc_run_checkpoint_write(sn->r) != 0) {
        return -1;
    }

    sn->ckpt_ms = cdc_clock_mono_ms();

    return 0;
}


static int
cdc_snap_table(cdc_snap_t *sn, const cdc_snap_table_t *t, char *err,
    size_t errlen)
{
    cdc_checkpoint_t  *ck;
    char             **pk, **last, **nlast;
    size_t             npk, nlast_n, i, j, ncols;
    cdc_src_col_t     *cols;
    int               *pkidx, rc, done;
    cdc_buf_t          q;
    MYSQL_RES         *res;
    MYSQL_ROW          row, lastrow;
    MYSQL_FIELD       *fields;
    unsigned long     *lens, *lastlens;
    unsigned           nf;
    uint64_t           n, chunk_rows;
    int64_t            t0, dt;
    char               name[600];

    ck = cdc_run_ckpt(sn->r);
    snprintf(name, sizeof(name), "%s.%s", t->db, t->name);

    if (cdc_snap_pk(sn, t, &pk, &npk, err, errlen) != 0) {
        return -1;
    }

    if (cdc_source_columns(sn->mysql, t->db, t->name, &cols, &ncols, err,
                           errlen) != 0)
    {
        cdc_snap_free_strings(pk, npk);
        return -1;
    }

    if (ncols == 0) {
        cdc_snap_free_strings(pk, npk);
        cdc_source_columns_free(cols, ncols);
        return cdc_error(err, errlen, "snapshot of %s: no columns in "
                         "information_schema (dropped during the "
                         "snapshot?)", name);
    }

    last = NULL;
    nlast_n = 0;
    pkidx = NULL;
    memset(&q, 0, sizeof(q));
    rc = -1;
    n = 0;

    if (ck->snap_table && strcmp(ck->snap_table, name) == 0
        && ck->snap_nkey == npk && npk > 0)
    {
        /* resume after the last key emitted */
        last = calloc(npk, sizeof(char *));
        if (last == NULL) {
            goto failed;
        }
        for (i = 0; i < npk; i++) {
            last[i] = strdup(ck->snap_key[i]);
            if (last[i] == NULL) {
                goto failed;
            }
            nlast_n++;
        }
        cdc_log_info("snapshot of %s resumes after key (%s%s)", name,
                     last[0], npk > 1 ? ", ..." : "");
    } else {
        cdc_log_info("snapshot of %s%s", name,
                     npk ? "" : " (no key: one pass, restarted from the "
                     "beginning after a crash)");
    }

    cdc_buf_reset(&sn->topic);
    if (cdc_event_topic(&sn->topic, sn->cf->topic_prefix, t->db, t->name)
        != 0)
    {
        goto failed;
    }

    for (done = 0; !done; ) {
        if (cdc_snap_query(sn, t, cols, ncols, pk, npk, last, nlast_n, &q)
            != 0)
        {
            cdc_error(err, errlen, "out of memory");
            goto failed;
        }

        t0 = cdc_clock_mono_ms();

        if (mysql_query(sn->mysql, q.data) != 0) {
            cdc_error(err, errlen, "snapshot of %s: %s (%u)", name,
                      mysql_error(sn->mysql), mysql_errno(sn->mysql));
            goto failed;
        }

        /* chunks are bounded: store; no key: stream the whole table */
        res = npk ? mysql_store_result(sn->mysql)
                  : mysql_use_result(sn->mysql);

        if (res == NULL) {
            cdc_error(err, errlen, "snapshot of %s: %s", name,
                      mysql_error(sn->mysql));
            goto failed;
        }

        dt = cdc_clock_mono_ms() - t0;
        if (dt > sn->worst_chunk_ms) {
            sn->worst_chunk_ms = dt;
        }

        nf = mysql_num_fields(res);
        fields = mysql_fetch_fields(res);

        if (nf != ncols) {
            cdc_error(err, errlen, "snapshot of %s: %u columns for %zu "
                      "asked", name, nf, ncols);
            mysql_free_result(res);
            goto failed;
        }

        if (pkidx == NULL) {
            pkidx = calloc(npk + 1, sizeof(int));
            if (pkidx == NULL) {
                mysql_free_result(res);
                goto failed;
            }

            for (i = 0; i < npk; i++) {
                pkidx[i] = -1;
                for (j = 0; j < nf; j++) {
                    if (strcmp(fields[j].name, pk[i]) == 0) {
                        pkidx[i] = (int) j;
                    }
                }
                if (pkidx[i] < 0) {
                    cdc_error(err, errlen, "snapshot of %s: key column %s "
                              "not in the result", name, pk[i]);
                    mysql_free_result(res);
                    goto failed;
                }
            }
        }

        chunk_rows = 0;
        lastrow = NULL;
        lastlens = NULL;

        while ((row = mysql_fetch_row(res)) != NULL) {
            lens = mysql_fetch_lengths(res);

            if (cdc_snap_emit_row(sn, t, fields, cols, nf, row, lens, pkidx,
                                  npk, &ck->snap_pos)
                != 0)
            {
                mysql_free_result(res);
                cdc_error(err, errlen, "stopped");
                goto failed;
            }

            lastrow = row;
            lastlens = lens;
            chunk_rows++;
            n++;
        }

        if (npk == 0) {
            if (mysql_errno(sn->mysql)) {
                cdc_error(err, errlen, "snapshot of %s: %s", name,
                          mysql_error(sn->mysql));
                mysql_free_result(res);
                goto failed;
            }
            mysql_free_result(res);
            break;
        }

        done = chunk_rows < (uint64_t) (sn->cf->snapshot_chunk > 0
                                        ? sn->cf->snapshot_chunk : 10000);

        if (lastrow) {
            nlast = calloc(npk, sizeof(char *));
            if (nlast == NULL) {
                mysql_free_result(res);
                goto failed;
            }

            for (i = 0; i < npk; i++) {
                nlast[i] = cdc_snap_literal(sn->mysql, &fields[pkidx[i]],
                                            lastrow[pkidx[i]],
                                            lastlens[pkidx[i]]);
                if (nlast[i] == NULL) {
                    cdc_snap_free_strings(nlast, i);
                    mysql_free_result(res);
                    goto failed;
                }
            }

            cdc_snap_free_strings(last, nlast_n);
            last = nlast;
            nlast_n = npk;
        }

        mysql_free_result(res);

        if (!done && cdc_clock_mono_ms() - sn->ckpt_ms
                     >= sn->cf->checkpoint_interval_ms)
        {
            if (cdc_checkpoint_set_snap(ck, name, last, nlast_n) != 0
                || cdc_snap_save(sn) != 0)
            {
                cdc_error(err, errlen, "stopped");
                goto failed;
            }
        }
    }

    if (cdc_checkpoint_add_done(ck, name) != 0
        || cdc_checkpoint_set_snap(ck, NULL, NULL, 0) != 0
        || cdc_snap_save(sn) != 0)
    {
        cdc_error(err, errlen, "stopped");
        goto failed;
    }

    cdc_log_info("snapshot of %s: %" PRIu64 " rows", name, n);
    rc = 0;

failed:

    cdc_buf_free(&q);
    free(pkidx);
    cdc_snap_free_strings(last, nlast_n);
    cdc_snap_free_strings(pk, npk);
    cdc_source_columns_free(cols, ncols);

    return rc;
}


int
cdc_snapshot_run(cdc_run_t *r, const cdc_config_t *cf, char *err,
    size_t errlen)
{
    cdc_snap_t         sn;
    cdc_checkpoint_t  *ck;
    cdc_src_pos_t      at;
    cdc_snap_table_t  *tables;
    size_t             ntables, i;
    char               sid[32], q[700], efile[520], pbuf[1400];
    int                rc, mariadb;

    memset(&sn, 0, sizeof(sn));
    sn.r = r;
    sn.cf = cf;
    sn.ts_ms = cdc_now_ms();
    sn.ckpt_ms = cdc_clock_mono_ms();
    ck = cdc_run_ckpt(r);
    tables = NULL;
    rc = -1;

    cdc_run_set_phase(r, "snapshot");

    sn.mysql = cdc_source_connect(cf, 3600, err, errlen);
    if (sn.mysql == NULL) {
        return -1;
    }

    if (cdc_snap_one_row(sn.mysql, "SELECT @@server_id, @@version", sid,
                         sizeof(sid), q, sizeof(q), err, errlen)
        < 0)
    {
        goto done;
    }

    sn.server_id = (uint32_t) strtoul(sid, NULL, 10);
    mariadb = strstr(q, "MariaDB") != NULL;

    memset(&at, 0, sizeof(at));

    if (!mariadb
        && cdc_source_current_pos(sn.mysql, &at, err, errlen) != 0)
    {
        goto done;
    }

    if (cdc_source_query(sn.mysql, "SET SESSION TRANSACTION ISOLATION "
                         "LEVEL REPEATABLE READ", err, errlen) != 0
        || cdc_source_query(sn.mysql, "START TRANSACTION WITH CONSISTENT "
                            "SNAPSHOT", err, errlen) != 0)
    {
        goto done;
    }

    if (mariadb) {
        if (cdc_snap_binlog_point(sn.mysql, &at, err, errlen) != 0) {
            if (err[0] == '\0') {
                cdc_error(err, errlen, "binlog_snapshot_file/position "
                          "unknown: is log_bin ON?");
            }
            goto done;
        }

        /* the GTID of that point, for the checkpoint */
        mysql_real_escape_string(sn.mysql, efile, at.file, strlen(at.file));
        snprintf(q, sizeof(q), "SELECT BINLOG_GTID_POS('%s', %" PRIu64 ")",
                 efile, at.pos);
        if (cdc_snap_one_row(sn.mysql, q, at.gtid, sizeof(at.gtid), NULL,
                             0, err, errlen) < 0)
        {
            goto done;
        }
    }

    if (ck->valid && ck->snap_state == CDC_SNAP_RUNNING) {
        cdc_log_info("resuming the snapshot begun at %s (%zu tables done); "
                     "this view is at %s",
                     cdc_source_pos_str(&ck->snap_pos, pbuf, sizeof(pbuf)),
                     ck->snap_ndone,
                     cdc_source_pos_str(&at, q, sizeof(q)));
    } else {
        /* /status reads the checkpoint under the run's lock */
        pthread_mutex_lock(&r->lock);
        cdc_checkpoint_free(ck);
        memset(ck, 0, sizeof(*ck));
        ck->valid = 1;
        ck->snap_state = CDC_SNAP_RUNNING;
        ck->snap_pos = at;
        ck->pos = at;
        pthread_mutex_unlock(&r->lock);

        if (cdc_run_checkpoint_write(r) != 0) {
            cdc_error(err, errlen, "stopped");
            goto done;
        }

        cdc_log_info("snapshot at %s",
                     cdc_source_pos_str(&at, pbuf, sizeof(pbuf)));
    }

    if (cdc_snap_tables(&sn, &tables, &ntables, err, errlen) != 0) {
        goto done;
    }

    for (i = 0; i < ntables; i++) {
        snprintf(q, sizeof(q), "%s.%s", tables[i].db, tables[i].name);

        if (cdc_checkpoint_is_done(ck, q)) {
            continue;
        }

        if (cdc_snap_table(&sn, &tables[i], err, errlen) != 0) {
            goto done;
        }
    }

    (void) cdc_source_query(sn.mysql, "COMMIT", NULL, 0);

    pthread_mutex_lock(&r->lock);
    ck->snap_state = CDC_SNAP_DONE;
    ck->pos = ck->snap_pos;
    pthread_mutex_unlock(&r->lock);

    if (cdc_snap_save(&sn) != 0) {
        cdc_error(err, errlen, "stopped");
        goto done;
    }

    cdc_log_info("snapshot done: %" PRIu64 " rows from %zu tables, longest "
                 "chunk query %" PRId64 " ms; streaming from %s", sn.rows,
                 ntables, sn.worst_chunk_ms,
                 cdc_source_pos_str(&ck->pos, pbuf, sizeof(pbuf)));
    rc = 0;

done:

    free(tables);
    cdc_buf_free(&sn.key);
    cdc_buf_free(&sn.val);
    cdc_buf_free(&sn.topic);
    mysql_close(sn.mysql);

    return rc;
}
