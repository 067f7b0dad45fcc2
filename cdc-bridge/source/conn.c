/*
 * Connections to the source: plain SQL ones (checks, snapshot, heartbeat)
 * and the replication stream.
 *
 * MariaDB: the binlog dump is COM_BINLOG_DUMP through mariadb_rpl_open.
 * A GTID start is not done by the library: before the dump we set, on the
 * same connection,
 *   @master_binlog_checksum    the server's checksum, so it sends them
 *   @mariadb_slave_capability  4 (GTID aware: GTID events, GTID start)
 *   @slave_connect_state       the GTID position; the dump then starts
 *                              with the next transaction after it
 *   @master_heartbeat_period   ns; the server sends a heartbeat event
 *                              when idle that long, so fetch returns and
 *                              the main loop keeps polling Kafka
 * and give an empty file name with position 4.
 *
 * MySQL uuid:n GTID sets need COM_BINLOG_DUMP_GTID, which this library
 * does not send: a MySQL source starts from file:pos (documented).
 */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "source/source.h"


int
cdc_source_query(MYSQL *mysql, const char *q, char *err, size_t errlen)
{
    MYSQL_RES  *res;

    if (mysql_query(mysql, q) != 0) {
        return cdc_error(err, errlen, "\"%s\": %s (%u)", q,
                         mysql_error(mysql), mysql_errno(mysql));
    }

    /* a statement may return rows (SET does not); drop them */
    res = mysql_store_result(mysql);
    if (res) {
        mysql_free_result(res);
    }

    return 0;
}


MYSQL *
cdc_source_connect(const cdc_config_t *cf, int read_timeout_s, char *err,
    size_t errlen)
{
    MYSQL         *mysql;
    unsigned int   t, wt;
    my_bool        yes;
    const char    *mode;

    mysql = mysql_init(NULL);
    if (mysql == NULL) {
        cdc_error(err, errlen, "mysql_init: out of memory");
        return NULL;
    }

    t = 10;
    wt = 30;
    mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &t);
    mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &wt);

    if (read_timeout_s > 0) {
        t = (unsigned int) read_timeout_s;
        mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &t);
    }

    mode = cf->src_ssl_mode ? cf->src_ssl_mode : "preferred";

    if (cf->src_ssl_ca && cf->src_ssl_ca[0]) {
        mysql_options(mysql, MYSQL_OPT_SSL_CA, cf->src_ssl_ca);
    }

    yes = 1;

    if (strcmp(mode, "required") == 0 || strcmp(mode, "verify_ca") == 0
        || strcmp(mode, "verify_identity") == 0)
    {
        mysql_options(mysql, MYSQL_OPT_SSL_ENFORCE, &yes);
    }

    if (strcmp(mode, "verify_ca") == 0
        || strcmp(mode, "verify_identity") == 0)
    {
        mysql_options(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
    }

    if (mysql_real_connect(mysql, cf->src_host, cf->src_user,
                           cf->src_password ? cf->src_password : "",
                           NULL, (unsigned int) cf->src_port, NULL, 0)
        == NULL)
    {
        cdc_error(err, errlen, "connect to %s:%d as \"%s\": %s (%u)",
                  cf->src_host, cf->src_port,
                  cf->src_user ? cf->src_user : "",
                  mysql_error(mysql), mysql_errno(mysql));
        mysql_close(mysql);
        return NULL;
    }

    if (cdc_source_query(mysql, "SET time_zone = '+00:00'", err, errlen)
        != 0)
    {
        mysql_close(mysql);
        return NULL;
    }

    return mysql;
}


MARIADB_RPL *
cdc_source_rpl_open(MYSQL *mysql, const cdc_config_t *cf,
    const cdc_src_pos_t *pos, int heartbeat_ms, char *err, size_t errlen)
{
    char          q[2 * CDC_SRC_GTID_MAX + 64];
    char          esc[2 * CDC_SRC_GTID_MAX + 1];
    MARIADB_RPL  *rpl;
    cdc_src_pos_t now;

    if (cdc_source_query(mysql,
            "SET @master_binlog_checksum = @@global.binlog_checksum",
            err, errlen) != 0
        || cdc_source_query(mysql, "SET @mariadb_slave_capability = 4",
                            err, errlen) != 0)
    {
        goto failed;
    }

    if (heartbeat_ms > 0) {
        snprintf(q, sizeof(q), "SET @master_heartbeat_period = %" PRIu64,
                 (uint64_t) heartbeat_ms * 1000000);
        if (cdc_source_query(mysql, q, err, errlen) != 0) {
            goto failed;
        }
    }

    if (pos->gtid[0] == '\0' && pos->file[0] == '\0') {
        if (cdc_source_current_pos(mysql, &now, err, errlen) != 0) {
            goto failed;
        }
        pos = &now;
    }

    rpl = mariadb_rpl_init(mysql);
    if (rpl == NULL) {
        cdc_error(err, errlen, "mariadb_rpl_init: %s", mysql_error(mysql));
        goto failed;
    }

    if (pos->gtid[0]) {
        mysql_real_escape_string(mysql, esc, pos->gtid, strlen(pos->gtid));
        snprintf(q, sizeof(q), "SET @slave_connect_state = '%s'", esc);

        if (cdc_source_query(mysql, q, err, errlen) != 0) {
            mariadb_rpl_close(rpl);
            goto failed;
        }

        mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, "", (size_t) 0);
        mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, (unsigned long) 4);

    } else {
        mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, pos->file,
                             strlen(pos->file));
        mariadb_rpl_optionsv(rpl, MARIADB_RPL_START,
                             (unsigned long) (pos->pos ? pos->pos : 4));
    }

    mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID,
                         (unsigned int) cf->src_server_id);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, (unsigned int) 0);

    if (mariadb_rpl_open(rpl) != 0) {
        cdc_error(err, errlen, "binlog dump from %s: %s (%u)",
                  cdc_source_pos_str(pos, q, sizeof(q)), mysql_error(mysql),
                  mysql_errno(mysql));
        mariadb_rpl_close(rpl);
        goto failed;
    }

    return rpl;

failed:

    mysql_close(mysql);
    return NULL;
}


void
cdc_source_rpl_close(MARIADB_RPL *rpl)
{
    MYSQL  *mysql;

    if (rpl == NULL) {
        return;
    }

    mysql = rpl->mysql;
    mariadb_rpl_close(rpl);
    mysql_close(mysql);
}


int
cdc_source_current_pos(MYSQL *mysql, cdc_src_pos_t *pos, char *err,
    size_t errlen)
{
    MYSQL_RES  *res;
    MYSQL_ROW   row;

    memset(pos, 0, sizeof(*pos));

    if (mysql_query(mysql, "SHOW MASTER STATUS") != 0) {
        return cdc_error(err, errlen, "SHOW MASTER STATUS: %s (%u)",
                         mysql_error(mysql), mysql_errno(mysql));
    }

    res = mysql_store_result(mysql);
    if (res == NULL) {
        return cdc_error(err, errlen, "SHOW MASTER STATUS: %s",
                         mysql_error(mysql));
    }

    row = mysql_fetch_row(res);
    if (row == NULL || row[0] == NULL || row[1] == NULL) {
        mysql_free_result(res);
        return cdc_error(err, errlen, "SHOW MASTER STATUS returned no "
                         "row: is log_bin ON?");
    }

    snprintf(pos->file, sizeof(pos->file), "%s", row[0]);
    pos->pos = strtoull(row[1], NULL, 10);
    mysql_free_result(res);

    /* MariaDB's GTID of that point; MySQL has no such variable */
    if (mysql_query(mysql, "SELECT @@global.gtid_binlog_pos") == 0) {
        res = mysql_store_result(mysql);
        if (res) {
            row = mysql_fetch_row(res);
            if (row && row[0]) {
                snprintf(pos->gtid, sizeof(pos->gtid), "%s", row[0]);
            }
            mysql_free_result(res);
        }
    }

    return 0;
}


/* one unsigned decimal number, no sign or blank, at most max */
static const char *
cdc_source_num(const char *p, uint64_t max, uint64_t *out)
{
    uint64_t  n;

    if (!isdigit((unsigned char) *p)) {
        return NULL;
    }

    for (n = 0; isdigit((unsigned char) *p); p++) {
        if (n > (max - (uint64_t) (*p - '0')) / 10) {
            return NULL;                        /* overflow */
        }
        n = n * 10 + (uint64_t) (*p - '0');
    }

    *out = n;

    return p;
}


int
cdc_source_gtid_check(const char *s, char *err, size_t errlen)
{
    size_t       n, i;
    uint64_t     v[3], domains[64];
    const char  *p, *q;

    n = 0;
    p = s;

    for ( ;; ) {
        while (*p == ' ') {
            p++;
        }

        if (*p == ',' || *p == '\0') {
            return cdc_error(err, errlen, "GTID list \"%s\" has an empty "
                             "item", s);
        }

        q = cdc_source_num(p, UINT32_MAX, &v[0]);
        q = q && *q == '-' ? cdc_source_num(q + 1, UINT32_MAX, &v[1]) : NULL;
        q = q && *q == '-' ? cdc_source_num(q + 1, UINT64_MAX, &v[2]) : NULL;

        if (q == NULL) {
            q = strchr(p, ',');
            return cdc_error(err, errlen, "GTID \"%.*s\" in \"%s\" is not "
                             "domain-server-sequence (0-1-42; domain and "
                             "server below 2^32, sequence below 2^64)",
                             q ? (int) (q - p) : (int) strlen(p), p, s);
        }

        for (i = 0; i < n && i < 64; i++) {
            if (domains[i] == v[0]) {
                return cdc_error(err, errlen, "GTID list \"%s\" names "
                                 "domain %" PRIu64 " twice", s, v[0]);
            }
        }

        if (n < 64) {
            domains[n] = v[0];
        }
        n++;

        while (*q == ' ') {
            q++;
        }

        if (*q == '\0') {
            return 0;
        }

        if (*q != ',') {
            return cdc_error(err, errlen, "GTID list \"%s\": unexpected "
                             "\"%c\" after \"%.*s\"", s, *q, (int) (q - p),
                             p);
        }

        p = q + 1;
    }
}


int
cdc_source_binlog_pos_check(const char *file, uint64_t pos, char *err,
    size_t errlen)
{
    const char  *p;

    if (file[0] == '\0') {
        return cdc_error(err, errlen, "empty binlog file name");
    }

    for (p = file; *p; p++) {
        if ((unsigned char) *p <= ' ' || *p == '/' || *p == ':') {
            return cdc_error(err, errlen, "binlog file name \"%s\" has "
                             "\"%c\"", file, *p);
        }
    }

    /* COM_BINLOG_DUMP carries 32 bits: a bigger pos would wrap */
    if (pos < 4 || pos > UINT32_MAX) {
        return cdc_error(err, errlen, "binlog position %" PRIu64 " in %s "
                         "is out of range (4..4294967295)", pos, file);
    }

    return 0;
}


int
cdc_source_parse_pos(const char *s, cdc_src_pos_t *pos, char *err,
    size_t errlen)
{
    char         why[512];
    const char  *p, *colon, *end;
    int          gtid;

    memset(pos, 0, sizeof(*pos));

    if (s == NULL || s[0] == '\0') {
        return 0;
    }

    colon = strrchr(s, ':');

    /* MySQL GTID sets: uuid:n[-m][:...] */
    p = strchr(s, ':');
    if (p && p - s == 36 && s[8] == '-' && s[13] == '-') {
        return cdc_error(err, errlen, "start \"%s\": MySQL uuid:n GTID "
                         "positions are not supported yet; use file:pos",
                         s);
    }

    /* MariaDB GTID list: digits and '-' and ',' only */
    gtid = 1;
    for (p = s; *p; p++) {
        if (!isdigit((unsigned char) *p) && *p != '-' && *p != ','
            && *p != ' ')
        {
            gtid = 0;
            break;
        }
    }

    if (gtid) {
        if (strlen(s) >= sizeof(pos->gtid)) {
            return cdc_error(err, errlen, "start \"%.40s...\" too long", s);
        }

        if (cdc_source_gtid_check(s, why, sizeof(why)) != 0) {
            return cdc_error(err, errlen, "invalid start position \"%s\": "
                             "%s", s, why);
        }

        snprintf(pos->gtid, sizeof(pos->gtid), "%s", s);
        return 0;
    }

    if (colon && colon != s) {
        end = cdc_source_num(colon + 1, UINT64_MAX, &pos->pos);

        if (end == NULL || *end != '\0') {
            return cdc_error(err, errlen, "invalid start position \"%s\": "
                             "\"%s\" is not a binlog position (a number "
                             "4..4294967295)", s, colon + 1);
        }

        if ((size_t) (colon - s) >= sizeof(pos->file)) {
            return cdc_error(err, errlen, "start \"%s\": file name too "
                             "long", s);
        }

        memcpy(pos->file, s, (size_t) (colon - s));
        pos->file[colon - s] = '\0';

        if (pos->pos < 4) {
            return cdc_error(err, errlen, "start \"%s\": position must be "
                             "at least 4", s);
        }

        if (cdc_source_binlog_pos_check(pos->file, pos->pos, why,
                                        sizeof(why)) != 0)
        {
            return cdc_error(err, errlen, "invalid start position \"%s\": "
                             "%s", s, why);
        }

        return 0;
    }

    return cdc_error(err, errlen, "invalid start position \"%s\": expected "
                     "a MariaDB GTID list (0-1-42) or file:pos "
                     "(binlog.000001:4)", s);
}


const char *
cdc_source_pos_str(const cdc_src_pos_t *pos, char *buf, size_t len)
{
    if (pos->gtid[0] && pos->file[0]) {
        snprintf(buf, len, "gtid %s (%s:%" PRIu64 ")", pos->gtid, pos->file,
                 pos->pos);
    } else if (pos->gtid[0]) {
        snprintf(buf, len, "gtid %s", pos->gtid);
    } else if (pos->file[0]) {
        snprintf(buf, len, "%s:%" PRIu64, pos->file, pos->pos);
    } else {
        snprintf(buf, len, "the current end of the binlog");
    }

    return buf;
}


int
cdc_source_err_purged(unsigned int errnum)
{
    /* ER_MASTER_FATAL_ERROR_READING_BINLOG: "Could not find first log
       file name", "Could not find GTID state requested by slave" */
    return errnum == 1236;
}
