/*
 * A logical replication client over libpq (see pgrepl.h).
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <libpq-fe.h>

#include "pgoutput/pgoutput.h"
#include "reverse/pgrepl.h"


struct cdc_pgrepl_s {
    PGconn  *conn;
    char    *copybuf;               /* from PQgetCopyData, PQfreemem'd */
};


static int
cdc_pgrepl_fail_res(PGresult *res, const char *what, char *err,
    size_t errlen)
{
    const char  *state;

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(err, errlen, "postgresql replication: %s failed (%s): %s",
             what, state ? state : "no SQLSTATE",
             PQresultErrorMessage(res));
    err[strcspn(err, "\n")] = '\0';
    PQclear(res);
    return -1;
}


cdc_pgrepl_t *
cdc_pgrepl_connect(const char *conninfo, char *err, size_t errlen)
{
    cdc_pgrepl_t  *r;
    const char    *keys[] = { "dbname", "replication",
                              "application_name", NULL };
    const char    *vals[] = { conninfo, "database", "cdc-bridge reverse",
                              NULL };

    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        snprintf(err, errlen, "postgresql replication: out of memory");
        return NULL;
    }

    /* expand_dbname: conninfo's own keys, then ours override */
    r->conn = PQconnectdbParams(keys, vals, 1);
    if (r->conn == NULL || PQstatus(r->conn) != CONNECTION_OK) {
        snprintf(err, errlen, "postgresql replication: cannot connect "
                 "(%s): %s", conninfo,
                 r->conn ? PQerrorMessage(r->conn) : "out of memory");
        err[strcspn(err, "\n")] = '\0';
        cdc_pgrepl_destroy(r);
        return NULL;
    }

    return r;
}


void
cdc_pgrepl_destroy(cdc_pgrepl_t *r)
{
    if (r == NULL) {
        return;
    }

    if (r->copybuf != NULL) {
        PQfreemem(r->copybuf);
    }
    PQfinish(r->conn);
    free(r);
}


/* PostgreSQL's rule for slot names: [a-z0-9_], at most 63 bytes */
static int
cdc_pgrepl_slot_name(const char *slot, char *err, size_t errlen)
{
    size_t  n;

    n = strspn(slot, "abcdefghijklmnopqrstuvwxyz0123456789_");
    if (n == 0 || slot[n] != '\0' || n > 63) {
        snprintf(err, errlen, "postgresql replication: invalid slot name "
                 "\"%s\" (lower-case letters, digits and _, at most 63)",
                 slot);
        return -1;
    }
    return 0;
}


/* the row of pg_replication_slots: type, plugin, wal_status */
static int
cdc_pgrepl_slot_usable(PGresult *res, const char *slot, char *err,
    size_t errlen)
{
    if (strcmp(PQgetvalue(res, 0, 0), "logical") != 0
        || strcmp(PQgetvalue(res, 0, 1), "pgoutput") != 0)
    {
        snprintf(err, errlen, "postgresql replication: slot \"%s\" "
                 "exists as a %s slot of plugin \"%s\", not a logical "
                 "pgoutput slot", slot, PQgetvalue(res, 0, 0),
                 PQgetvalue(res, 0, 1));
        return -1;
    }

    if (strcmp(PQgetvalue(res, 0, 2), "lost") == 0) {
        snprintf(err, errlen, "postgresql replication: slot \"%s\" was "
                 "invalidated (wal_status = lost: the WAL it needed was "
                 "removed, see max_slot_wal_keep_size), so the changes "
                 "it held are gone; drop it and re-sync the tables "
                 "before streaming again", slot);
        return -1;
    }

    return 0;
}


/*
 * Simple queries only: a walsender does not speak the extended protocol.
 * The slot name is checked first, so it needs no quoting.
 */
int
cdc_pgrepl_ensure_slot(cdc_pgrepl_t *r, const char *slot, int *created,
    char *err, size_t errlen)
{
    PGresult  *res;
    char       q[512];
    int        rc;

    *created = 0;
    if (cdc_pgrepl_slot_name(slot, err, errlen) != 0) {
        return -1;
    }

    snprintf(q, sizeof(q), "SELECT slot_type, coalesce(plugin, ''), "
             "coalesce(wal_status, '') FROM "
             "pg_catalog.pg_replication_slots WHERE slot_name = '%s'", slot);
    res = PQexec(r->conn, q);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        return cdc_pgrepl_fail_res(res, "reading pg_replication_slots", err,
                                   errlen);
    }

    if (PQntuples(res) == 1) {
        rc = cdc_pgrepl_slot_usable(res, slot, err, errlen);
        PQclear(res);
        return rc;
    }
    PQclear(res);

    snprintf(q, sizeof(q), "CREATE_REPLICATION_SLOT \"%s\" LOGICAL "
             "pgoutput NOEXPORT_SNAPSHOT", slot);
    res = PQexec(r->conn, q);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        return cdc_pgrepl_fail_res(res, "CREATE_REPLICATION_SLOT", err,
                                   errlen);
    }
    PQclear(res);

    *created = 1;
    return 0;
}


int
cdc_pgrepl_drop_slot(cdc_pgrepl_t *r, const char *slot, int *dropped,
    char *err, size_t errlen)
{
    PGresult    *res;
    const char  *state;
    char        *ident, q[512];

    *dropped = 0;
    ident = PQescapeIdentifier(r->conn, slot, strlen(slot));
    if (ident == NULL) {
        snprintf(err, errlen, "postgresql replication: slot name \"%s\": "
                 "%s", slot, PQerrorMessage(r->conn));
        return -1;
    }
    snprintf(q, sizeof(q), "DROP_REPLICATION_SLOT %s WAIT", ident);
    PQfreemem(ident);

    res = PQexec(r->conn, q);
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        *dropped = 1;
        return 0;
    }

    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state != NULL && strcmp(state, "42704") == 0) {
        PQclear(res);
        return 0;
    }
    return cdc_pgrepl_fail_res(res, "DROP_REPLICATION_SLOT", err, errlen);
}


int
cdc_pgrepl_start(cdc_pgrepl_t *r, const char *slot, const char *publication,
    uint64_t start_lsn, char *err, size_t errlen)
{
    PGresult    *res;
    const char  *state;
    char        *ident, *pub, lsn[CDC_PGO_LSN_STRLEN], q[1024];

    ident = PQescapeIdentifier(r->conn, slot, strlen(slot));
    pub = PQescapeLiteral(r->conn, publication, strlen(publication));
    if (ident == NULL || pub == NULL) {
        snprintf(err, errlen, "postgresql replication: slot \"%s\" or "
                 "publication \"%s\": %s", slot, publication,
                 PQerrorMessage(r->conn));
        PQfreemem(ident);
        PQfreemem(pub);
        return -1;
    }

    cdc_pgo_lsn_format(start_lsn, lsn);
    snprintf(q, sizeof(q), "START_REPLICATION SLOT %s LOGICAL %s "
             "(proto_version '1', publication_names %s)", ident, lsn, pub);
    PQfreemem(ident);
    PQfreemem(pub);

    res = PQexec(r->conn, q);
    if (PQresultStatus(res) != PGRES_COPY_BOTH) {
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state != NULL && strcmp(state, "42704") == 0) {
            snprintf(err, errlen, "postgresql replication: slot \"%s\" "
                     "does not exist (42704): it was dropped, so the "
                     "changes it held are gone; recreate it and re-sync "
                     "the tables before streaming again", slot);
            PQclear(res);
            return -1;
        }
        return cdc_pgrepl_fail_res(res, "START_REPLICATION", err, errlen);
    }
    PQclear(res);
    return 0;
}


static int
cdc_pgrepl_wait(cdc_pgrepl_t *r, int timeout_ms, char *err, size_t errlen)
{
    struct pollfd  pfd;
    int            n;

    pfd.fd = PQsocket(r->conn);
    pfd.events = POLLIN;
    pfd.revents = 0;

    n = poll(&pfd, 1, timeout_ms);
    if (n < 0 && errno != EINTR) {
        snprintf(err, errlen, "postgresql replication: poll: %s",
                 strerror(errno));
        return -1;
    }
    if (n > 0 && PQconsumeInput(r->conn) == 0) {
        snprintf(err, errlen, "postgresql replication: reading: %s",
                 PQerrorMessage(r->conn));
        err[strcspn(err, "\n")] = '\0';
        return -1;
    }
    return n > 0;
}


int
cdc_pgrepl_read(cdc_pgrepl_t *r, int timeout_ms, const uint8_t **buf,
    size_t *len, char *err, size_t errlen)
{
    PGresult  *res;
    int        n, waited;

    if (r->copybuf != NULL) {
        PQfreemem(r->copybuf);
        r->copybuf = NULL;
    }

    for (waited = 0; ; waited = 1) {
        n = PQgetCopyData(r->conn, &r->copybuf, 1);
        if (n > 0) {
            *buf = (const uint8_t *) r->copybuf;
            *len = (size_t) n;
            return 1;
        }
        if (n == -2) {
            snprintf(err, errlen, "postgresql replication: %s",
                     PQerrorMessage(r->conn));
            err[strcspn(err, "\n")] = '\0';
            return -1;
        }
        if (n == -1) {
            res = PQgetResult(r->conn);
            if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                return cdc_pgrepl_fail_res(res, "the replication stream",
                                           err, errlen);
            }
            PQclear(res);
            snprintf(err, errlen, "postgresql replication: the server "
                     "ended the stream");
            return -1;
        }
        if (waited) {
            return 0;
        }
        n = cdc_pgrepl_wait(r, timeout_ms, err, errlen);
        if (n <= 0) {
            return n;
        }
    }
}


int
cdc_pgrepl_send_status(cdc_pgrepl_t *r, uint64_t lsn, int reply, char *err,
    size_t errlen)
{
    struct timeval  tv;
    uint8_t         msg[CDC_PGO_STATUS_LEN];
    int64_t         now;

    gettimeofday(&tv, NULL);
    now = cdc_pgo_time_from_unix_us((int64_t) tv.tv_sec * 1000000
                                    + tv.tv_usec);
    (void) cdc_pgo_status_build(msg, lsn, lsn, lsn, now, reply);

    if (PQputCopyData(r->conn, (const char *) msg, sizeof(msg)) <= 0
        || PQflush(r->conn) != 0)
    {
        snprintf(err, errlen, "postgresql replication: sending the status "
                 "update: %s", PQerrorMessage(r->conn));
        err[strcspn(err, "\n")] = '\0';
        return -1;
    }

    return 0;
}


static int
cdc_pgrepl_check_values(PGresult *res, const char *slot, char *err,
    size_t errlen)
{
    const char  *wal_level, *role;
    long         max_slots, used, max_senders;
    int          has_slot, can_replicate;

    wal_level = PQgetvalue(res, 0, 0);
    max_slots = strtol(PQgetvalue(res, 0, 1), NULL, 10);
    max_senders = strtol(PQgetvalue(res, 0, 2), NULL, 10);
    used = strtol(PQgetvalue(res, 0, 3), NULL, 10);
    has_slot = PQgetvalue(res, 0, 4)[0] == 't';
    can_replicate = PQgetvalue(res, 0, 5)[0] == 't';
    role = PQgetvalue(res, 0, 6);

    if (strcmp(wal_level, "logical") != 0) {
        snprintf(err, errlen, "postgresql replication: wal_level is \"%s\": "
                 "set wal_level = logical in postgresql.conf and restart "
                 "the server", wal_level);
        return -1;
    }
    if (!has_slot && used >= max_slots) {
        snprintf(err, errlen, "postgresql replication: max_replication_slots"
                 " = %ld, %ld in use, none free for slot \"%s\": raise "
                 "max_replication_slots and restart the server", max_slots,
                 used, slot);
        return -1;
    }
    if (max_senders < 1) {
        snprintf(err, errlen, "postgresql replication: max_wal_senders = "
                 "%ld: raise it (at least 1 per reverse stream) and restart "
                 "the server", max_senders);
        return -1;
    }
    if (!can_replicate) {
        snprintf(err, errlen, "postgresql replication: role \"%s\" lacks "
                 "the REPLICATION attribute: ALTER ROLE %s REPLICATION",
                 role, role);
        return -1;
    }

    return 0;
}


int
cdc_pgrepl_check_server(const char *conninfo, const char *slot, char *err,
    size_t errlen)
{
    PGconn       *conn;
    PGresult     *res;
    const char   *params[1] = { slot };
    int           rc;

    conn = PQconnectdb(conninfo);
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "postgresql replication: cannot connect "
                 "(%s): %s", conninfo,
                 conn ? PQerrorMessage(conn) : "out of memory");
        err[strcspn(err, "\n")] = '\0';
        PQfinish(conn);
        return -1;
    }

    res = PQexecParams(conn,
        "SELECT current_setting('wal_level'), "
        "current_setting('max_replication_slots'), "
        "current_setting('max_wal_senders'), "
        "(SELECT count(*) FROM pg_catalog.pg_replication_slots), "
        "EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots "
        "        WHERE slot_name = $1), "
        "(SELECT rolreplication OR rolsuper FROM pg_catalog.pg_roles "
        " WHERE rolname = current_user), current_user",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        rc = cdc_pgrepl_fail_res(res, "reading the server's settings", err,
                                 errlen);
        PQfinish(conn);
        return rc;
    }

    rc = cdc_pgrepl_check_values(res, slot, err, errlen);
    PQclear(res);
    PQfinish(conn);
    return rc;
}
