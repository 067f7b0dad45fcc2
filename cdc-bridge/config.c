/*
 * cdc-bridge configuration: defaults, then the INI file (inih), then the
 * environment (CDC_<SECTION>_<KEY>, CDC_SERVICE_<NAME>_<KEY>), then
 * secrets from *_file keys, then validation.  Every key is declared once,
 * in cdc_conf_keys[] below.
 *
 * A missing file is an error when it was named (-c FILE); the default
 * file may be absent, so that a container can be configured by the
 * environment alone.
 */

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ini.h>

#include "config.h"
#include "log.h"


#define CDC_CONF_ERRLEN   2048
#define CDC_CONF_SECRET   4096


typedef enum {
    CDC_T_STRING = 0,
    CDC_T_INT,
    CDC_T_UINT32,
    CDC_T_BOOL,
    CDC_T_DURATION,
    CDC_T_SIZE_KB,
    CDC_T_LIST,
    CDC_T_TABLES,
    CDC_T_COLUMNS,
    CDC_T_ENUM,
    CDC_T_LEVEL,
    CDC_T_LISTEN,
    CDC_T_SECRET,
    CDC_T_SIZE                          /* bytes, in an int */
} cdc_conf_type_t;


/* flags */
#define CDC_K_REQUIRED    0x01         /* must be set, non-empty */
#define CDC_K_ENV_ONLY    0x02         /* a secret: environment only */
#define CDC_K_EMPTY_NULL  0x04         /* "" stores NULL */


typedef struct {
    const char        *section;        /* "service": cdc_service_conf_t */
    const char        *name;
    cdc_conf_type_t    type;
    int64_t            min;
    int64_t            max;
    const char        *def;            /* parsed like a value; NULL: none */
    size_t             off;
    size_t             off2;           /* count of a list or map */
    unsigned           flags;
    const char *const *choices;        /* CDC_T_ENUM */
    const char        *help;
} cdc_conf_key_t;


/* where a key got its value: one per (section or service, key) set */
typedef struct {
    const cdc_conf_key_t  *key;
    int                    service;    /* index, -1: not a service key */
    char                  *origin;     /* "file:line", "CDC_X_Y" */
    int                    line;       /* file line, 0: environment */
} cdc_conf_origin_t;


typedef struct {
    cdc_conf_origin_t  *v;
    size_t              n;
    size_t              cap;
} cdc_conf_priv_t;


typedef struct {
    cdc_config_t  *cf;
    const char    *file;
    FILE          *fp;
    int            line;
    int            indented;           /* the current line starts blank */
    int            err_line;           /* 0: no error yet */
    char           err[CDC_CONF_ERRLEN];
} cdc_conf_parse_t;


static int cdc_conf_set(cdc_config_t *cf, const cdc_conf_key_t *k,
    int service, const char *value, int append, char *err, size_t errlen);
static int cdc_conf_note(cdc_config_t *cf, const cdc_conf_key_t *k,
    int service, const char *origin, int line);
static cdc_conf_origin_t *cdc_conf_origin(const cdc_config_t *cf,
    const cdc_conf_key_t *k, int service);
static int cdc_conf_service_add(cdc_config_t *cf, const char *name,
    char *err, size_t errlen);
static int cdc_conf_env(cdc_config_t *cf, char *err, size_t errlen);
static int cdc_conf_secrets(cdc_config_t *cf, char *err, size_t errlen);
static int cdc_conf_validate(cdc_config_t *cf, char *err, size_t errlen);


#define SRC(f)  offsetof(cdc_config_t, f)
#define SVC(f)  offsetof(cdc_service_conf_t, f)

#define CDC_MS_HOUR   (3600 * 1000LL)
#define CDC_MS_DAY    (24 * CDC_MS_HOUR)


static const char *const  cdc_ssl_modes[] = {
    "disabled", "preferred", "required", "verify_ca", "verify_identity",
    NULL
};

static const char *const  cdc_security_protocols[] = {
    "plaintext", "ssl", "sasl_plaintext", "sasl_ssl", NULL
};

static const char *const  cdc_sasl_mechanisms[] = {
    "", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", NULL
};

static const char *const  cdc_compressions[] = {
    "none", "gzip", "snappy", "lz4", "zstd", NULL
};


static const cdc_conf_key_t  cdc_conf_keys[] = {

    /* [source] */

    { "source", "host", CDC_T_STRING, 0, 0, "127.0.0.1", SRC(src_host), 0,
      CDC_K_REQUIRED, NULL, "MySQL/MariaDB server to replicate from" },

    { "source", "port", CDC_T_INT, 1, 65535, "3306", SRC(src_port), 0, 0,
      NULL, "its TCP port" },

    { "source", "user", CDC_T_STRING, 0, 0, "cdc", SRC(src_user), 0,
      CDC_K_REQUIRED, NULL,
      "replication user (REPLICATION SLAVE, REPLICATION CLIENT, SELECT)" },

    { "source", "password_file", CDC_T_SECRET, 0, 0, NULL,
      SRC(src_password), 0, 0, NULL,
      "file holding the user's password (first line)" },

    { "source", "password", CDC_T_STRING, 0, 0, NULL, SRC(src_password), 0,
      CDC_K_ENV_ONLY, NULL,
      "the password itself; environment only (CDC_SOURCE_PASSWORD), "
      "wins over password_file" },

    { "source", "server_id", CDC_T_UINT32, 1, 4294967295LL, "4242",
      SRC(src_server_id), 0, 0, NULL,
      "replica server id, distinct from every server and replica" },

    { "source", "tables", CDC_T_LIST, 0, 0, NULL, SRC(src_tables),
      SRC(src_ntables), CDC_K_REQUIRED, NULL,
      "tables to stream: db.table or patterns like db.* (space or comma "
      "separated)" },

    { "source", "exclude", CDC_T_LIST, 0, 0, NULL, SRC(src_exclude),
      SRC(src_nexclude), 0, NULL,
      "patterns removed from tables" },

    { "source", "heartbeat_interval", CDC_T_DURATION, 100, CDC_MS_HOUR,
      "1s", SRC(heartbeat_interval_ms), 0, 0, NULL,
      "how often the heartbeat row is updated while the source is idle" },

    { "source", "heartbeat_table", CDC_T_STRING, 0, 0, NULL,
      SRC(heartbeat_table), 0, CDC_K_EMPTY_NULL, NULL,
      "db.table of the heartbeat row the bridge updates; unset: no "
      "heartbeat writes" },

    { "source", "start", CDC_T_STRING, 0, 0, "", SRC(start), 0, 0, NULL,
      "where to start without a checkpoint: empty (snapshot, then the "
      "current position), a GTID (0-1-42 or uuid:n) or file:pos" },

    { "source", "snapshot", CDC_T_BOOL, 0, 0, "yes", SRC(snapshot), 0, 0,
      NULL, "take a consistent snapshot when there is no checkpoint" },

    { "source", "snapshot_chunk", CDC_T_INT, 1, 10000000, "10000",
      SRC(snapshot_chunk), 0, 0, NULL,
      "rows per primary-key chunk of the snapshot" },

    { "source", "ssl_mode", CDC_T_ENUM, 0, 0, "preferred",
      SRC(src_ssl_mode), 0, 0, cdc_ssl_modes,
      "TLS to the source: disabled, preferred, required, verify_ca, "
      "verify_identity" },

    { "source", "ssl_ca", CDC_T_STRING, 0, 0, NULL, SRC(src_ssl_ca), 0,
      CDC_K_EMPTY_NULL, NULL, "CA file for verify_ca/verify_identity" },

    /* [kafka] */

    { "kafka", "brokers", CDC_T_STRING, 0, 0, "127.0.0.1:9092",
      SRC(brokers), 0, CDC_K_REQUIRED, NULL,
      "bootstrap brokers, host:port[,host:port…]" },

    { "kafka", "topic_prefix", CDC_T_STRING, 0, 0, "monolith",
      SRC(topic_prefix), 0, CDC_K_REQUIRED, NULL,
      "topics are PREFIX.DB.TABLE (this key is PREFIX)" },

    { "kafka", "security_protocol", CDC_T_ENUM, 0, 0, "plaintext",
      SRC(security_protocol), 0, 0, cdc_security_protocols,
      "plaintext, ssl, sasl_plaintext, sasl_ssl" },

    { "kafka", "sasl_mechanism", CDC_T_ENUM, 0, 0, "", SRC(sasl_mechanism),
      0, 0, cdc_sasl_mechanisms,
      "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (with sasl_*)" },

    { "kafka", "sasl_username", CDC_T_STRING, 0, 0, NULL,
      SRC(sasl_username), 0, CDC_K_EMPTY_NULL, NULL, "SASL user" },

    { "kafka", "sasl_password_file", CDC_T_SECRET, 0, 0, NULL,
      SRC(sasl_password), 0, 0, NULL, "file holding the SASL password" },

    { "kafka", "sasl_password", CDC_T_STRING, 0, 0, NULL,
      SRC(sasl_password), 0, CDC_K_ENV_ONLY, NULL,
      "the SASL password; environment only (CDC_KAFKA_SASL_PASSWORD)" },

    { "kafka", "ssl_ca", CDC_T_STRING, 0, 0, NULL, SRC(ssl_ca), 0,
      CDC_K_EMPTY_NULL, NULL, "CA file to verify the brokers" },

    { "kafka", "max_inflight", CDC_T_SIZE_KB, 1, INT_MAX, "64m",
      SRC(max_inflight_kb), 0, 0, NULL,
      "bytes produced but not yet acknowledged before the source waits "
      "(back-pressure): 512k, 64m, 1g" },

    { "kafka", "max_message_bytes", CDC_T_SIZE, 1000, 1000000000,
      "1000000", SRC(max_message_bytes), 0, 0, NULL,
      "largest event (key + value + framing) the producer sends, its "
      "message.max.bytes; a bigger row stops `run` naming it.  The "
      "brokers' message.max.bytes / topics' max.message.bytes must "
      "allow as much (see Message size)" },

    { "kafka", "linger", CDC_T_DURATION, 0, 900 * 1000, "5ms",
      SRC(linger_ms), 0, 0, NULL,
      "how long the producer waits to fill a batch" },

    { "kafka", "message_timeout", CDC_T_DURATION, 0, CDC_MS_DAY, "0",
      SRC(message_timeout_ms), 0, 0, NULL,
      "give up delivering a message after this; 0 retries until the "
      "brokers are back" },

    { "kafka", "compression", CDC_T_ENUM, 0, 0, "lz4", SRC(compression), 0,
      0, cdc_compressions, "none, gzip, snappy, lz4, zstd" },

    /* [checkpoint] */

    { "checkpoint", "dir", CDC_T_STRING, 0, 0, "/var/lib/strangler/cdc",
      SRC(checkpoint_dir), 0, CDC_K_REQUIRED, NULL,
      "directory of the source's position files" },

    { "checkpoint", "interval", CDC_T_DURATION, 10, CDC_MS_HOUR, "100ms",
      SRC(checkpoint_interval_ms), 0, 0, NULL,
      "how often the acknowledged position is written" },

    /* [metrics] */

    { "metrics", "listen", CDC_T_LISTEN, 0, 0, "127.0.0.1:9187",
      SRC(metrics_listen), 0, 0, NULL,
      "loopback host:port of `run`'s /metrics, /status, /healthz; empty: "
      "none" },

    /* [log] */

    { "log", "level", CDC_T_LEVEL, 0, 0, "info", SRC(log_level), 0, 0,
      NULL, "error, warn, info or debug" },

    /* [service.NAME] */

    { "service", "postgres", CDC_T_STRING, 0, 0, NULL, SVC(postgres), 0,
      CDC_K_REQUIRED, NULL,
      "libpq conninfo of the service's database, without password" },

    { "service", "password_file", CDC_T_SECRET, 0, 0, NULL, SVC(password),
      0, 0, NULL, "file holding the database password" },

    { "service", "password", CDC_T_STRING, 0, 0, NULL, SVC(password), 0,
      CDC_K_ENV_ONLY, NULL,
      "the password itself; environment only "
      "(CDC_SERVICE_NAME_PASSWORD)" },

    { "service", "tables", CDC_T_TABLES, 0, 0, NULL, SVC(tables),
      SVC(ntables), CDC_K_REQUIRED, NULL,
      "source=target pairs, db.table=schema.table (schema defaults to "
      "public; a bare db.table keeps the name)" },

    { "service", "columns", CDC_T_COLUMNS, 0, 0, NULL, SVC(columns),
      SVC(ncolumns), 0, NULL,
      "renames db.table.column=new_name, drops db.table.column=-" },

    { "service", "create_tables", CDC_T_BOOL, 0, 0, "no",
      SVC(create_tables), 0, 0, NULL,
      "create missing target tables (and added columns) from the source "
      "schema" },

    { "service", "allow_keyless_tables", CDC_T_BOOL, 0, 0, "no",
      SVC(allow_keyless), 0, 0, NULL,
      "apply tables without a key (no PRIMARY KEY, no UNIQUE NOT NULL "
      "key) change by change; a replay after `run` restarts inserts "
      "their rows again" },

    { "service", "batch_size", CDC_T_INT, 1, 1000000, "5000",
      SVC(batch_size), 0, 0, NULL, "changes per target transaction" },

    { "service", "batch_time", CDC_T_DURATION, 1, 60 * 1000, "100ms",
      SVC(batch_time_ms), 0, 0, NULL, "longest wait to fill a batch" },

    { "service", "lag_file", CDC_T_STRING, 0, 0, NULL, SVC(lag_file), 0,
      CDC_K_EMPTY_NULL, NULL,
      "lag file the sink writes for nginx (include/strangler/lagfile.h)" },

    { "service", "dead_letter_topic", CDC_T_STRING, 0, 0, NULL,
      SVC(dead_letter_topic), 0, CDC_K_EMPTY_NULL, NULL,
      "topic for rows PostgreSQL rejects; default "
      "PREFIX.dlq.NAME" },

    { "service", "metrics_listen", CDC_T_LISTEN, 0, 0, NULL,
      SVC(metrics_listen), 0, CDC_K_EMPTY_NULL, NULL,
      "loopback host:port of this sink's /metrics and /status" },

    { NULL, NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL }
};


static const char *const  cdc_conf_sections[] = {
    "source", "kafka", "checkpoint", "metrics", "log", NULL
};


/* ---------------------------------------------------------------- util */

static char *
cdc_strdup(const char *s)
{
    char    *p;
    size_t   n;

    n = strlen(s);
    p = malloc(n + 1);

    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, n + 1);

    return p;
}


static void *
cdc_field(cdc_config_t *cf, const cdc_conf_key_t *k, int service,
    size_t off)
{
    char  *base;

    base = service >= 0 ? (char *) &cf->services[service] : (char *) cf;

    return base + off;
}


static const char *
cdc_conf_type_name(cdc_conf_type_t t)
{
    static const char *const  names[] = {
        "string", "integer", "integer", "boolean", "duration", "size",
        "list", "table map", "column map", "choice", "log level",
        "host:port", "file", "size"
    };

    return names[t];
}


/* CDC_SOURCE_PASSWORD_FILE, CDC_SERVICE_<NAME>_TABLES */
static void
cdc_conf_env_name(const cdc_conf_key_t *k, const char *service, char *buf,
    size_t len)
{
    char        *p;
    const char  *sec;

    sec = service ? "service" : k->section;

    if (service) {
        (void) snprintf(buf, len, "CDC_%s_%s_%s", sec, service, k->name);

    } else if (strcmp(k->section, "service") == 0) {
        (void) snprintf(buf, len, "CDC_SERVICE_<NAME>_%s", k->name);

    } else {
        (void) snprintf(buf, len, "CDC_%s_%s", sec, k->name);
    }

    for (p = buf; *p; p++) {
        if (*p == '<' || *p == '>') {
            continue;
        }
        *p = isalnum((unsigned char) *p) ? toupper((unsigned char) *p)
                                         : '_';
    }
}


/* ------------------------------------------------------------- parsers */

static int
cdc_parse_int64(const char *v, int64_t *out)
{
    char       *end;
    long long   n;

    if (*v == '\0' || isspace((unsigned char) *v)) {
        return -1;
    }

    errno = 0;
    n = strtoll(v, &end, 10);

    if (errno != 0 || *end != '\0') {
        return -1;
    }

    *out = n;

    return 0;
}


/* "250ms", "1s", "2m", "1h", "0" → ms */
static int
cdc_parse_duration(const char *v, int64_t *out)
{
    char          *end;
    int64_t        mult;
    long long      n;

    if (!isdigit((unsigned char) *v)) {
        return -1;
    }

    errno = 0;
    n = strtoll(v, &end, 10);

    if (errno != 0) {
        return -1;
    }

    if (*end == '\0') {
        if (n != 0) {
            return -1;          /* a unit is required: 5 what? */
        }
        mult = 1;

    } else if (strcmp(end, "ms") == 0) {
        mult = 1;

    } else if (strcmp(end, "s") == 0) {
        mult = 1000;

    } else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0) {
        mult = 60 * 1000;

    } else if (strcmp(end, "h") == 0) {
        mult = CDC_MS_HOUR;

    } else {
        return -1;
    }

    if (n > INT64_MAX / mult) {
        return -1;
    }

    *out = n * mult;

    return 0;
}


/* "512", "64k", "64m", "1g" (also "kb", "kib", …) → bytes */
static int
cdc_parse_size(const char *v, int64_t *out)
{
    char       *end;
    int64_t     mult;
    long long   n;

    if (!isdigit((unsigned char) *v)) {
        return -1;
    }

    errno = 0;
    n = strtoll(v, &end, 10);

    if (errno != 0) {
        return -1;
    }

    switch (tolower((unsigned char) *end)) {
    case '\0':
        mult = 1;
        break;
    case 'k':
        mult = 1024;
        end++;
        break;
    case 'm':
        mult = 1024 * 1024;
        end++;
        break;
    case 'g':
        mult = 1024 * 1024 * 1024;
        end++;
        break;
    case 'b':
        mult = 1;
        break;
    default:
        return -1;
    }

    if (strcasecmp(end, "") != 0 && strcasecmp(end, "b") != 0
        && (mult == 1 || strcasecmp(end, "ib") != 0))
    {
        return -1;
    }

    if (n > INT64_MAX / mult) {
        return -1;
    }

    *out = n * mult;

    return 0;
}


static int
cdc_parse_bool(const char *v)
{
    static const char *const  yes[] = { "yes", "true", "on", "1", NULL };
    static const char *const  no[] = { "no", "false", "off", "0", NULL };
    int                       i;

    for (i = 0; yes[i]; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            return 1;
        }
        if (strcasecmp(v, no[i]) == 0) {
            return 0;
        }
    }

    return -1;
}


/* an identifier part of db.table: no dots, no blanks, not empty */
static int
cdc_ident_ok(const char *s, size_t n, int star)
{
    size_t  i;

    if (n == 0) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (s[i] == '.' || s[i] == '=' || isspace((unsigned char) s[i])
            || (!star && (s[i] == '*' || s[i] == '?' || s[i] == '[')))
        {
            return 0;
        }
    }

    return 1;
}


static char *
cdc_strndup(const char *s, size_t n)
{
    char  *p;

    p = malloc(n + 1);

    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, n);
    p[n] = '\0';

    return p;
}


/* "host:port", "[::1]:port"; returns 0 and the port, or -1 */
static int
cdc_parse_listen(const char *v, int *port)
{
    int64_t      n;
    const char  *colon;

    if (v[0] == '[') {
        colon = strstr(v, "]:");
        if (colon == NULL || colon == v + 1) {
            return -1;
        }
        colon++;

    } else {
        colon = strrchr(v, ':');
        if (colon == NULL || colon == v || memchr(v, ':', colon - v)) {
            return -1;
        }
    }

    if (cdc_parse_int64(colon + 1, &n) != 0 || n < 1 || n > 65535) {
        return -1;
    }

    *port = (int) n;

    return 0;
}


/* the host of a valid "host:port": 127.0.0.0/8, ::1 or localhost? */
static int
cdc_listen_loopback(const char *v)
{
    char             host[64];
    size_t           n;
    const char      *p;
    struct in_addr   a4;
    struct in6_addr  a6;

    p = v;

    if (v[0] == '[') {
        p = v + 1;
        n = (size_t) (strstr(v, "]:") - p);

    } else {
        n = (size_t) (strrchr(v, ':') - v);
    }

    if (n >= sizeof(host)) {
        return 0;
    }

    memcpy(host, p, n);
    host[n] = '\0';

    if (strcmp(host, "localhost") == 0) {
        return 1;
    }

    if (inet_pton(AF_INET, host, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }

    if (inet_pton(AF_INET6, host, &a6) == 1) {
        return IN6_IS_ADDR_LOOPBACK(&a6);
    }

    return 0;
}


static void
cdc_list_free(char **v, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(v[i]);
    }

    free(v);
}


static void
cdc_tables_free(cdc_table_map_t *v, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(v[i].src_db);
        free(v[i].src_table);
        free(v[i].dst_schema);
        free(v[i].dst_table);
    }

    free(v);
}


static void
cdc_columns_free(cdc_column_map_t *v, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(v[i].src_db);
        free(v[i].src_table);
        free(v[i].src_column);
        free(v[i].dst_column);
    }

    free(v);
}


/* splits "a.b.c" at dots into at most max parts; returns the count */
static int
cdc_split_dots(const char *s, size_t n, const char **part, size_t *plen,
    int max)
{
    int          k;
    const char  *p, *end, *dot;

    k = 0;
    p = s;
    end = s + n;

    while (k < max) {
        dot = memchr(p, '.', end - p);
        part[k] = p;
        plen[k] = dot ? (size_t) (dot - p) : (size_t) (end - p);
        k++;

        if (dot == NULL) {
            return k;
        }

        p = dot + 1;
    }

    return k + 1;               /* too many */
}


static int
cdc_parse_table_item(const char *item, cdc_table_map_t *t, char *err,
    size_t errlen, const char *name)
{
    int          np, nq;
    size_t       slen, plen[3], qlen[3];
    const char  *eq, *part[3], *q[3];

    memset(t, 0, sizeof(*t));

    eq = strchr(item, '=');
    slen = eq ? (size_t) (eq - item) : strlen(item);

    np = cdc_split_dots(item, slen, part, plen, 2);

    if (np != 2 || !cdc_ident_ok(part[0], plen[0], 0)
        || !cdc_ident_ok(part[1], plen[1], 0))
    {
        goto bad;
    }

    if (eq) {
        nq = cdc_split_dots(eq + 1, strlen(eq + 1), q, qlen, 2);

        if (nq == 1) {
            if (!cdc_ident_ok(q[0], qlen[0], 0)) {
                goto bad;
            }
            q[1] = q[0];
            qlen[1] = qlen[0];
            q[0] = "public";
            qlen[0] = 6;

        } else if (nq != 2 || !cdc_ident_ok(q[0], qlen[0], 0)
                   || !cdc_ident_ok(q[1], qlen[1], 0))
        {
            goto bad;
        }

    } else {
        q[0] = "public";
        qlen[0] = 6;
        q[1] = part[1];
        qlen[1] = plen[1];
    }

    t->src_db = cdc_strndup(part[0], plen[0]);
    t->src_table = cdc_strndup(part[1], plen[1]);
    t->dst_schema = cdc_strndup(q[0], qlen[0]);
    t->dst_table = cdc_strndup(q[1], qlen[1]);

    if (!t->src_db || !t->src_table || !t->dst_schema || !t->dst_table) {
        free(t->src_db);
        free(t->src_table);
        free(t->dst_schema);
        free(t->dst_table);
        return cdc_error(err, errlen, "out of memory");
    }

    return 0;

bad:

    return cdc_error(err, errlen, "bad value \"%s\" for %s (expected "
                     "db.table=schema.table)", item, name);
}


static int
cdc_parse_column_item(const char *item, cdc_column_map_t *c, char *err,
    size_t errlen, const char *name)
{
    int          np;
    size_t       slen, plen[3];
    const char  *eq, *dst, *part[3];

    memset(c, 0, sizeof(*c));

    eq = strchr(item, '=');

    if (eq == NULL) {
        goto bad;
    }

    slen = (size_t) (eq - item);
    np = cdc_split_dots(item, slen, part, plen, 3);

    if (np != 3 || !cdc_ident_ok(part[0], plen[0], 0)
        || !cdc_ident_ok(part[1], plen[1], 0)
        || !cdc_ident_ok(part[2], plen[2], 0))
    {
        goto bad;
    }

    dst = eq + 1;

    if (strcmp(dst, "-") != 0 && !cdc_ident_ok(dst, strlen(dst), 0)) {
        goto bad;
    }

    c->src_db = cdc_strndup(part[0], plen[0]);
    c->src_table = cdc_strndup(part[1], plen[1]);
    c->src_column = cdc_strndup(part[2], plen[2]);
    c->dst_column = strcmp(dst, "-") == 0 ? NULL : cdc_strdup(dst);

    if (!c->src_db || !c->src_table || !c->src_column
        || (!c->dst_column && strcmp(dst, "-") != 0))
    {
        free(c->src_db);
        free(c->src_table);
        free(c->src_column);
        free(c->dst_column);
        return cdc_error(err, errlen, "out of memory");
    }

    return 0;

bad:

    return cdc_error(err, errlen, "bad value \"%s\" for %s (expected "
                     "db.table.column=new_name or db.table.column=-)",
                     item, name);
}


/* splits value at blanks and commas, calls fn for each item */
static int
cdc_conf_items(const char *value, int (*fn)(void *ctx, const char *item),
    void *ctx)
{
    char        *buf, *p, *tok, *save;
    int          rc;

    buf = cdc_strdup(value);

    if (buf == NULL) {
        return -1;
    }

    rc = 0;

    for (p = buf; (tok = strtok_r(p, " \t\r\n,", &save)) != NULL; p = NULL)
    {
        rc = fn(ctx, tok);

        if (rc != 0) {
            break;
        }
    }

    free(buf);

    return rc;
}


typedef struct {
    const cdc_conf_key_t  *key;
    void                  *arr;        /* growing array */
    size_t                 n;
    char                  *err;
    size_t                 errlen;
} cdc_conf_list_ctx_t;


static int
cdc_conf_list_item(void *data, const char *item)
{
    cdc_conf_list_ctx_t  *ctx;
    void                 *arr;
    size_t                sz;
    int                   rc;

    ctx = data;

    switch (ctx->key->type) {
    case CDC_T_LIST:
        sz = sizeof(char *);
        break;
    case CDC_T_TABLES:
        sz = sizeof(cdc_table_map_t);
        break;
    default:
        sz = sizeof(cdc_column_map_t);
        break;
    }

    arr = realloc(ctx->arr, (ctx->n + 1) * sz);

    if (arr == NULL) {
        return cdc_error(ctx->err, ctx->errlen, "out of memory");
    }

    ctx->arr = arr;

    switch (ctx->key->type) {
    case CDC_T_LIST:
        if (!cdc_ident_ok(item, strcspn(item, "."), 1)
            || strchr(item, '.') == NULL
            || !cdc_ident_ok(strchr(item, '.') + 1,
                             strlen(strchr(item, '.') + 1), 1))
        {
            return cdc_error(ctx->err, ctx->errlen,
                             "bad value \"%s\" for %s (expected db.table "
                             "or a pattern like db.*)", item,
                             ctx->key->name);
        }

        ((char **) arr)[ctx->n] = cdc_strdup(item);

        if (((char **) arr)[ctx->n] == NULL) {
            return cdc_error(ctx->err, ctx->errlen, "out of memory");
        }

        rc = 0;
        break;

    case CDC_T_TABLES:
        rc = cdc_parse_table_item(item, &((cdc_table_map_t *) arr)[ctx->n],
                                  ctx->err, ctx->errlen, ctx->key->name);
        break;

    default:
        rc = cdc_parse_column_item(item,
                                   &((cdc_column_map_t *) arr)[ctx->n],
                                   ctx->err, ctx->errlen, ctx->key->name);
        break;
    }

    if (rc == 0) {
        ctx->n++;
    }

    return rc;
}


static void
cdc_conf_list_clear(const cdc_conf_key_t *k, void *arrp, size_t *np)
{
    void  **arr;

    arr = arrp;

    switch (k->type) {
    case CDC_T_LIST:
        cdc_list_free(*arr, *np);
        break;
    case CDC_T_TABLES:
        cdc_tables_free(*arr, *np);
        break;
    default:
        cdc_columns_free(*arr, *np);
        break;
    }

    *arr = NULL;
    *np = 0;
}


static int
cdc_read_secret(const char *path, char **out, char *err, size_t errlen)
{
    FILE    *fp;
    char     buf[CDC_CONF_SECRET];
    size_t   n;

    fp = fopen(path, "r");

    if (fp == NULL) {
        return cdc_error(err, errlen, "cannot open \"%s\": %s", path,
                         strerror(errno));
    }

    n = fread(buf, 1, sizeof(buf) - 1, fp);

    if (ferror(fp)) {
        (void) fclose(fp);
        return cdc_error(err, errlen, "cannot read \"%s\"", path);
    }

    (void) fclose(fp);
    buf[n] = '\0';

    /* the first line is the secret; a trailing newline is not part of it */
    buf[strcspn(buf, "\r\n")] = '\0';

    *out = cdc_strdup(buf);
    explicit_bzero(buf, sizeof(buf));

    if (*out == NULL) {
        return cdc_error(err, errlen, "out of memory");
    }

    return 0;
}


/*
 * Sets key k of the section (service -1) or of service #service from
 * value; append adds to a list instead of replacing it.  The message in
 * err has no location: the caller adds it.
 */
static int
cdc_conf_set(cdc_config_t *cf, const cdc_conf_key_t *k, int service,
    const char *value, int append, char *err, size_t errlen)
{
    int                   lvl, b, port, i;
    char                **sp, *copy;
    void                 *field;
    size_t               *np;
    int64_t               n;
    cdc_conf_list_ctx_t   ctx;

    field = cdc_field(cf, k, service, k->off);

    switch (k->type) {

    case CDC_T_STRING:
    case CDC_T_LISTEN:
    case CDC_T_SECRET:
        if (k->type == CDC_T_LISTEN && value[0] != '\0'
            && cdc_parse_listen(value, &port) != 0)
        {
            return cdc_error(err, errlen, "bad value \"%s\" for %s "
                             "(expected host:port, port 1..65535)", value,
                             k->name);
        }

        if (k->type == CDC_T_LISTEN && value[0] != '\0'
            && !cdc_listen_loopback(value))
        {
            return cdc_error(err, errlen, "bad value \"%s\" for %s (a "
                             "loopback address is required: 127.0.0.1, "
                             "[::1] or localhost; the endpoints have no "
                             "authentication)", value, k->name);
        }

        if (k->type == CDC_T_SECRET) {
            /* the path, kept aside: read after the environment */
            return 0;
        }

        sp = field;

        if ((k->flags & CDC_K_EMPTY_NULL) && value[0] == '\0') {
            copy = NULL;

        } else {
            copy = cdc_strdup(value);

            if (copy == NULL) {
                return cdc_error(err, errlen, "out of memory");
            }
        }

        free(*sp);
        *sp = copy;

        return 0;

    case CDC_T_INT:
    case CDC_T_UINT32:
        if (cdc_parse_int64(value, &n) != 0 || n < k->min || n > k->max) {
            return cdc_error(err, errlen, "bad value \"%s\" for %s "
                             "(%lld..%lld)", value, k->name,
                             (long long) k->min, (long long) k->max);
        }

        if (k->type == CDC_T_UINT32) {
            *(uint32_t *) field = (uint32_t) n;

        } else {
            *(int *) field = (int) n;
        }

        return 0;

    case CDC_T_BOOL:
        b = cdc_parse_bool(value);

        if (b < 0) {
            return cdc_error(err, errlen, "bad value \"%s\" for %s "
                             "(yes/no, true/false, on/off, 1/0)", value,
                             k->name);
        }

        *(int *) field = b;

        return 0;

    case CDC_T_DURATION:
        if (cdc_parse_duration(value, &n) != 0) {
            return cdc_error(err, errlen, "bad duration \"%s\" for %s "
                             "(a number with a unit: 250ms, 1s, 2m, 1h)",
                             value, k->name);
        }

        if (n < k->min || n > k->max) {
            return cdc_error(err, errlen, "bad value \"%s\" for %s "
                             "(%lldms..%lldms)", value, k->name,
                             (long long) k->min, (long long) k->max);
        }

        *(int *) field = (int) n;

        return 0;

    case CDC_T_SIZE_KB:
        if (cdc_parse_size(value, &n) != 0) {
            return cdc_error(err, errlen, "bad size \"%s\" for %s "
                             "(bytes, or with k, m, g: 512k, 64m)", value,
                             k->name);
        }

        n = (n + 1023) / 1024;

        if (n < k->min || n > k->max) {
            return cdc_error(err, errlen, "bad value \"%s\" for %s "
                             "(%lldk..%lldk)", value, k->name,
                             (long long) k->min, (long long) k->max);
        }

        *(int *) field = (int) n;

        return 0;

    case CDC_T_SIZE:
        if (cdc_parse_size(value, &n) != 0) {
            return cdc_error(err, errlen, "bad size \"%s\" for %s "
                             "(bytes, or with k, m: 1000000, 4m)", value,
                             k->name);
        }

        if (n < k->min || n > k->max) {
            return cdc_error(err, errlen, "bad value \"%s\" for %s "
                             "(%lld..%lld bytes)", value, k->name,
                             (long long) k->min, (long long) k->max);
        }

        *(int *) field = (int) n;

        return 0;

    case CDC_T_ENUM:
        for (i = 0; k->choices[i]; i++) {
            if (strcasecmp(value, k->choices[i]) == 0) {
                break;
            }
        }

        if (k->choices[i] == NULL) {
            char    list[256];
            size_t  off;
            int     w;

            off = 0;
            list[0] = '\0';

            for (i = 0; k->choices[i] && off < sizeof(list); i++) {
                w = snprintf(list + off, sizeof(list) - off, "%s%s",
                             i ? ", " : "",
                             k->choices[i][0] ? k->choices[i] : "\"\"");
                if (w < 0) {
                    break;
                }
                off += (size_t) w;
            }

            return cdc_error(err, errlen, "bad value \"%s\" for %s "
                             "(one of: %s)", value, k->name, list);
        }

        copy = cdc_strdup(k->choices[i]);

        if (copy == NULL) {
            return cdc_error(err, errlen, "out of memory");
        }

        sp = field;
        free(*sp);
        *sp = copy;

        return 0;

    case CDC_T_LEVEL:
        lvl = cdc_log_level_parse(value);

        if (lvl < 0) {
            return cdc_error(err, errlen, "bad value \"%s\" for %s (error, "
                             "warn, info or debug)", value, k->name);
        }

        *(int *) field = lvl;

        return 0;

    case CDC_T_LIST:
    case CDC_T_TABLES:
    case CDC_T_COLUMNS:
        np = cdc_field(cf, k, service, k->off2);

        ctx.key = k;
        ctx.arr = *(void **) field;
        ctx.n = *np;
        ctx.err = err;
        ctx.errlen = errlen;

        if (!append) {
            ctx.arr = NULL;
            ctx.n = 0;
        }

        if (cdc_conf_items(value, cdc_conf_list_item, &ctx) != 0) {
            /* keep what was there; drop what this value added */
            if (append) {
                *(void **) field = ctx.arr;
                cdc_conf_list_clear(k, &ctx.arr, &ctx.n);
                *(void **) field = NULL;
                *np = 0;

            } else {
                cdc_conf_list_clear(k, &ctx.arr, &ctx.n);
            }

            if (err && err[0] == '\0') {
                (void) cdc_error(err, errlen, "out of memory");
            }

            return -1;
        }

        if (!append) {
            cdc_conf_list_clear(k, field, np);
        }

        *(void **) field = ctx.arr;
        *np = ctx.n;

        return 0;
    }

    return cdc_error(err, errlen, "internal: bad key type");
}


static const cdc_conf_key_t *
cdc_conf_key(const char *section, const char *name)
{
    const cdc_conf_key_t  *k;

    for (k = cdc_conf_keys; k->name; k++) {
        if (strcmp(k->section, section) == 0 && strcmp(k->name, name) == 0)
        {
            return k;
        }
    }

    return NULL;
}


/* ------------------------------------------------------------- origins */

static cdc_conf_origin_t *
cdc_conf_origin(const cdc_config_t *cf, const cdc_conf_key_t *k,
    int service)
{
    size_t            i;
    cdc_conf_priv_t  *priv;

    priv = cf->priv;

    if (priv == NULL) {
        return NULL;
    }

    for (i = 0; i < priv->n; i++) {
        if (priv->v[i].key == k && priv->v[i].service == service) {
            return &priv->v[i];
        }
    }

    return NULL;
}


static int
cdc_conf_note(cdc_config_t *cf, const cdc_conf_key_t *k, int service,
    const char *origin, int line)
{
    char               *copy;
    cdc_conf_priv_t    *priv;
    cdc_conf_origin_t  *o, *v;

    priv = cf->priv;
    copy = cdc_strdup(origin);

    if (copy == NULL) {
        return -1;
    }

    o = cdc_conf_origin(cf, k, service);

    if (o) {
        free(o->origin);
        o->origin = copy;
        o->line = line;
        return 0;
    }

    if (priv->n == priv->cap) {
        v = realloc(priv->v, (priv->cap * 2 + 16) * sizeof(*v));

        if (v == NULL) {
            free(copy);
            return -1;
        }

        priv->v = v;
        priv->cap = priv->cap * 2 + 16;
    }

    o = &priv->v[priv->n++];
    o->key = k;
    o->service = service;
    o->origin = copy;
    o->line = line;

    return 0;
}


/* the first place that set any key of service #service */
static cdc_conf_origin_t *
cdc_conf_service_origin(const cdc_config_t *cf, int service)
{
    size_t              i;
    cdc_conf_priv_t    *priv;
    cdc_conf_origin_t  *best;

    priv = cf->priv;
    best = NULL;

    for (i = 0; i < priv->n; i++) {
        if (priv->v[i].service != service) {
            continue;
        }

        if (best == NULL || (priv->v[i].line && (best->line == 0
                                                 || priv->v[i].line
                                                    < best->line)))
        {
            best = &priv->v[i];
        }
    }

    return best;
}


/* "cdc.conf:12: " or "environment CDC_X: " or "" for a default */
static void
cdc_conf_where(const cdc_config_t *cf, const cdc_conf_key_t *k, int service,
    char *buf, size_t len)
{
    cdc_conf_origin_t  *o;

    o = cdc_conf_origin(cf, k, service);

    if (o == NULL && service >= 0) {
        o = cdc_conf_service_origin(cf, service);
    }

    if (o == NULL) {
        if (cf->file && cf->file[0]) {
            (void) snprintf(buf, len, "%s: ", cf->file);
        } else {
            (void) snprintf(buf, len, "environment: ");
        }
        return;
    }

    /* a *_file key's origin is "where\npath" */
    (void) snprintf(buf, len, "%s%.*s: ", o->line ? "" : "environment ",
                    (int) strcspn(o->origin, "\n"), o->origin);
}


/* ------------------------------------------------------------ services */

static int
cdc_conf_service_name_ok(const char *name)
{
    const char  *p;

    if (*name == '\0') {
        return 0;
    }

    for (p = name; *p; p++) {
        if (!islower((unsigned char) *p) && !isdigit((unsigned char) *p)
            && *p != '_' && *p != '-')
        {
            return 0;
        }
    }

    return 1;
}


/* returns the index of service name, adding it with defaults if new */
static int
cdc_conf_service_add(cdc_config_t *cf, const char *name, char *err,
    size_t errlen)
{
    int                    idx;
    char                   lower[128];
    size_t                 i, n;
    const cdc_conf_key_t  *k;
    cdc_service_conf_t    *s;

    n = strlen(name);

    if (n >= sizeof(lower)) {
        return cdc_error(err, errlen, "service name \"%s\" is too long",
                         name);
    }

    for (i = 0; i <= n; i++) {
        lower[i] = (char) tolower((unsigned char) name[i]);
    }

    if (!cdc_conf_service_name_ok(lower)) {
        return cdc_error(err, errlen, "bad service name \"%s\" (letters, "
                         "digits, \"_\" and \"-\")", name);
    }

    for (i = 0; i < cf->nservices; i++) {
        if (strcmp(cf->services[i].name, lower) == 0) {
            return (int) i;
        }
    }

    if (cf->nservices == CDC_CONFIG_MAX_SERVICES) {
        return cdc_error(err, errlen, "too many services (at most %d) at "
                         "\"%s\"", CDC_CONFIG_MAX_SERVICES, name);
    }

    idx = (int) cf->nservices;
    s = &cf->services[idx];
    memset(s, 0, sizeof(*s));

    s->name = cdc_strdup(lower);

    if (s->name == NULL) {
        return cdc_error(err, errlen, "out of memory");
    }

    cf->nservices++;

    for (k = cdc_conf_keys; k->name; k++) {
        if (strcmp(k->section, "service") == 0 && k->def
            && cdc_conf_set(cf, k, idx, k->def, 0, err, errlen) != 0)
        {
            return -1;
        }
    }

    return idx;
}


/* ---------------------------------------------------------------- file */

static char *
cdc_conf_reader(char *str, int num, void *stream)
{
    int                c;
    size_t             len;
    cdc_conf_parse_t  *ctx;

    ctx = stream;

    if (ctx->err_line) {
        return NULL;            /* a fatal reader error stops the parse */
    }

    if (fgets(str, num, ctx->fp) == NULL) {
        return NULL;
    }

    ctx->line++;
    ctx->indented = (str[0] == ' ' || str[0] == '\t');

    len = strlen(str);

    if (len == (size_t) num - 1 && str[len - 1] != '\n') {
        c = fgetc(ctx->fp);

        if (c != EOF) {
            ctx->err_line = ctx->line;
            (void) snprintf(ctx->err, sizeof(ctx->err),
                            "%s:%d: line longer than %d characters (continue "
                            "a list on indented lines)", ctx->file,
                            ctx->line, num - 2);
            return NULL;
        }
    }

    return str;
}


static int
cdc_conf_handler(void *user, const char *section, const char *name,
    const char *value)
{
    int                    service, append;
    char                   msg[CDC_CONF_ERRLEN], where[1100], env[128];
    size_t                 i;
    const char            *sec;
    cdc_config_t          *cf;
    cdc_conf_parse_t      *ctx;
    cdc_conf_origin_t     *o;
    const cdc_conf_key_t  *k;

    ctx = user;
    cf = ctx->cf;
    msg[0] = '\0';

    if (ctx->err_line) {
        return 1;               /* report the first error only */
    }

    (void) snprintf(where, sizeof(where), "%s:%d", ctx->file, ctx->line);

    service = -1;
    sec = section;

    if (strncmp(section, "service.", 8) == 0) {
        service = cdc_conf_service_add(cf, section + 8, msg, sizeof(msg));

        if (service < 0) {
            goto failed;
        }

        sec = "service";

    } else if (section[0] == '\0') {
        (void) cdc_error(msg, sizeof(msg), "key \"%s\" outside a section",
                         name);
        goto failed;

    } else {
        for (i = 0; cdc_conf_sections[i]; i++) {
            if (strcmp(section, cdc_conf_sections[i]) == 0) {
                break;
            }
        }

        if (cdc_conf_sections[i] == NULL) {
            (void) cdc_error(msg, sizeof(msg), "unknown section [%s]",
                             section);
            goto failed;
        }
    }

    k = cdc_conf_key(sec, name);

    if (k == NULL) {
        (void) cdc_error(msg, sizeof(msg), "unknown key \"%s\" in [%s]",
                         name, section);
        goto failed;
    }

    if (k->flags & CDC_K_ENV_ONLY) {
        cdc_conf_env_name(k, service >= 0 ? cf->services[service].name
                                          : NULL, env, sizeof(env));
        (void) cdc_error(msg, sizeof(msg), "\"%s\" must not be written in "
                         "the file: use %s_file or the environment "
                         "variable %s", name, name, env);
        goto failed;
    }

    o = cdc_conf_origin(cf, k, service);
    append = 0;

    if (o && o->line) {
        if (!ctx->indented) {
            (void) cdc_error(msg, sizeof(msg), "duplicate key \"%s\" in [%s] "
                             "(first at %s)", name, section, o->origin);
            goto failed;
        }

        if (k->type != CDC_T_LIST && k->type != CDC_T_TABLES
            && k->type != CDC_T_COLUMNS)
        {
            (void) cdc_error(msg, sizeof(msg), "indented line continues "
                             "\"%s\", which takes one value (only lists "
                             "continue; write keys at the line start)",
                             name);
            goto failed;
        }

        append = 1;
    }

    if (cdc_conf_set(cf, k, service, value, append, msg, sizeof(msg)) != 0)
    {
        goto failed;
    }

    if (!append) {
        if (cdc_conf_note(cf, k, service, where, ctx->line) != 0) {
            (void) cdc_error(msg, sizeof(msg), "out of memory");
            goto failed;
        }

        if (k->type == CDC_T_SECRET) {
            o = cdc_conf_origin(cf, k, service);
            free(o->origin);
            o->origin = NULL;

            /* origin "file:line\npath": split on print */
            if (asprintf(&o->origin, "%s\n%s", where, value) < 0) {
                o->origin = NULL;
                (void) cdc_error(msg, sizeof(msg), "out of memory");
                goto failed;
            }
        }
    }

    return 1;

failed:

    ctx->err_line = ctx->line;
    (void) snprintf(ctx->err, sizeof(ctx->err), "%s: %s", where, msg);

    return 0;
}


static int
cdc_conf_file(cdc_config_t *cf, const char *file, int named, char *err,
    size_t errlen)
{
    int                rc;
    cdc_conf_parse_t  *ctx;

    ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL) {
        return cdc_error(err, errlen, "out of memory");
    }

    ctx->fp = fopen(file, "r");

    if (ctx->fp == NULL) {
        rc = errno;
        free(ctx);

        if (!named && rc == ENOENT) {
            cf->file = cdc_strdup("");
            return cf->file ? 0 : cdc_error(err, errlen, "out of memory");
        }

        return cdc_error(err, errlen, "%s: cannot open: %s", file,
                         strerror(rc));
    }

    cf->file = cdc_strdup(file);

    if (cf->file == NULL) {
        (void) fclose(ctx->fp);
        free(ctx);
        return cdc_error(err, errlen, "out of memory");
    }

    ctx->cf = cf;
    ctx->file = file;

    rc = ini_parse_stream(cdc_conf_reader, ctx, cdc_conf_handler, ctx);

    if (ferror(ctx->fp)) {
        (void) cdc_error(err, errlen, "%s: read error", file);
        rc = -1;

    } else if (ctx->err_line && (rc <= 0 || rc >= ctx->err_line)) {
        (void) cdc_error(err, errlen, "%s", ctx->err);
        rc = -1;

    } else if (rc > 0) {
        (void) cdc_error(err, errlen, "%s:%d: syntax error (expected "
                         "[section] or key = value)", file, rc);
        rc = -1;

    } else if (rc < 0) {
        (void) cdc_error(err, errlen, "%s: cannot parse", file);
    }

    (void) fclose(ctx->fp);
    free(ctx);

    return rc == 0 ? 0 : -1;
}


/* --------------------------------------------------------- environment */

extern char  **environ;


static int
cdc_conf_env_one(cdc_config_t *cf, const char *var, const char *eq,
    char *err, size_t errlen)
{
    int                    service;
    char                   name[128], svc[128], msg[CDC_CONF_ERRLEN];
    char                   varname[256];
    size_t                 i, n, klen, best;
    const char            *rest, *value, *sec;
    const cdc_conf_key_t  *k, *bk;

    sec = NULL;

    n = (size_t) (eq - var);

    if (n >= sizeof(varname)) {
        return 0;
    }

    memcpy(varname, var, n);
    varname[n] = '\0';
    value = eq + 1;
    rest = varname + 4;                 /* after "CDC_" */
    service = -1;
    bk = NULL;

    if (strncmp(rest, "SERVICE_", 8) == 0) {
        rest += 8;
        best = 0;

        /* the longest service key that ends the name: NAME may hold "_" */
        for (k = cdc_conf_keys; k->name; k++) {
            if (strcmp(k->section, "service") != 0) {
                continue;
            }

            klen = strlen(k->name);
            n = strlen(rest);

            if (n < klen + 2 || rest[n - klen - 1] != '_') {
                continue;
            }

            for (i = 0; i < klen; i++) {
                if (toupper((unsigned char) k->name[i])
                    != rest[n - klen + i])
                {
                    break;
                }
            }

            if (i == klen && klen > best) {
                best = klen;
                bk = k;
            }
        }

        if (bk == NULL) {
            return cdc_error(err, errlen, "environment %s: no service key "
                             "at its end (CDC_SERVICE_<NAME>_<KEY>, e.g. "
                             "CDC_SERVICE_ORDERS_POSTGRES)", varname);
        }

        n = strlen(rest) - best - 1;

        if (n >= sizeof(svc)) {
            return cdc_error(err, errlen, "environment %s: service name "
                             "too long", varname);
        }

        for (i = 0; i < n; i++) {
            svc[i] = (char) tolower((unsigned char) rest[i]);
        }
        svc[n] = '\0';

        /* [service.order-items] is CDC_SERVICE_ORDER_ITEMS_* */
        for (i = 0; i < cf->nservices; i++) {
            char   envform[128];
            size_t j;

            for (j = 0; cf->services[i].name[j] && j < sizeof(envform) - 1;
                 j++)
            {
                envform[j] = cf->services[i].name[j] == '-'
                             ? '_' : cf->services[i].name[j];
            }
            envform[j] = '\0';

            if (strcmp(envform, svc) == 0) {
                service = (int) i;
                break;
            }
        }

        if (service < 0) {
            service = cdc_conf_service_add(cf, svc, msg, sizeof(msg));

            if (service < 0) {
                return cdc_error(err, errlen, "environment %s: %s", varname,
                                 msg);
            }
        }

        k = bk;
        sec = "service";

    } else {
        for (i = 0; cdc_conf_sections[i]; i++) {
            n = strlen(cdc_conf_sections[i]);

            if (strncasecmp(rest, cdc_conf_sections[i], n) == 0
                && rest[n] == '_')
            {
                break;
            }
        }

        if (cdc_conf_sections[i] == NULL) {
            return 0;           /* not ours: CDC_ is a common prefix */
        }

        sec = cdc_conf_sections[i];
        rest += strlen(sec) + 1;
        n = strlen(rest);

        if (n >= sizeof(name)) {
            n = sizeof(name) - 1;
        }

        for (i = 0; i < n; i++) {
            name[i] = (char) tolower((unsigned char) rest[i]);
        }
        name[n] = '\0';

        k = cdc_conf_key(sec, name);

        if (k == NULL) {
            return cdc_error(err, errlen, "environment %s: unknown key "
                             "\"%s\" in [%s]", varname, name, sec);
        }
    }

    msg[0] = '\0';

    if (cdc_conf_set(cf, k, service, value, 0, msg, sizeof(msg)) != 0) {
        return cdc_error(err, errlen, "environment %s: %s", varname, msg);
    }

    if (cdc_conf_note(cf, k, service, varname, 0) != 0) {
        return cdc_error(err, errlen, "out of memory");
    }

    if (k->type == CDC_T_SECRET) {
        cdc_conf_origin_t  *o;

        o = cdc_conf_origin(cf, k, service);
        free(o->origin);

        if (asprintf(&o->origin, "%s\n%s", varname, value) < 0) {
            o->origin = NULL;
            return cdc_error(err, errlen, "out of memory");
        }
    }

    return 0;
}


static int
cdc_conf_env(cdc_config_t *cf, char *err, size_t errlen)
{
    int     pass;
    char  **e, *eq;

    /* services named by the file first, then new ones: stable order */
    for (pass = 0; pass < 2; pass++) {
        for (e = environ; e && *e; e++) {
            if (strncmp(*e, "CDC_", 4) != 0) {
                continue;
            }

            eq = strchr(*e, '=');

            if (eq == NULL) {
                continue;
            }

            if ((strncmp(*e, "CDC_SERVICE_", 12) == 0) != pass) {
                continue;
            }

            if (cdc_conf_env_one(cf, *e, eq, err, errlen) != 0) {
                return -1;
            }
        }
    }

    return 0;
}


/* ------------------------------------------------------------- secrets */

/* reads each *_file into its field unless the environment set it */
static int
cdc_conf_secrets(cdc_config_t *cf, char *err, size_t errlen)
{
    int                    service, nsvc;
    char                 **field, msg[CDC_CONF_ERRLEN], *nl, *val;
    const cdc_conf_key_t  *k, *direct;
    cdc_conf_origin_t     *o;

    nsvc = (int) cf->nservices;

    for (k = cdc_conf_keys; k->name; k++) {
        if (k->type != CDC_T_SECRET) {
            continue;
        }

        for (service = -1; service < nsvc; service++) {
            if ((service >= 0) != (strcmp(k->section, "service") == 0)) {
                continue;
            }

            o = cdc_conf_origin(cf, k, service);

            if (o == NULL || o->origin == NULL) {
                continue;
            }

            /* CDC_SOURCE_PASSWORD wins over password_file */
            direct = cdc_conf_key(k->section, strcmp(k->name,
                                  "sasl_password_file") == 0
                                  ? "sasl_password" : "password");

            if (direct && cdc_conf_origin(cf, direct, service)) {
                continue;
            }

            nl = strchr(o->origin, '\n');

            if (nl == NULL || nl[1] == '\0') {
                continue;       /* empty path: none */
            }

            field = cdc_field(cf, k, service, k->off);
            val = NULL;

            if (cdc_read_secret(nl + 1, &val, msg, sizeof(msg)) != 0) {
                /* "file:line: password_file: cannot open …" */
                return cdc_error(err, errlen, "%s%.*s: %s: %s",
                                 o->line ? "" : "environment ",
                                 (int) (nl - o->origin), o->origin,
                                 k->name, msg);
            }

            free(*field);
            *field = val;
        }
    }

    return 0;
}


/* ---------------------------------------------------------- validation */

static int
cdc_conf_table_list_str(const cdc_config_t *cf, char *buf, size_t len)
{
    size_t  i, off;
    int     n;

    off = 0;
    buf[0] = '\0';

    for (i = 0; i < cf->src_ntables && off < len; i++) {
        n = snprintf(buf + off, len - off, "%s%s", i ? " " : "",
                     cf->src_tables[i]);

        if (n < 0) {
            break;
        }

        off += (size_t) n;
    }

    return 0;
}


static int
cdc_conf_validate(cdc_config_t *cf, char *err, size_t errlen)
{
    int                    port, svc;
    char                   where[1100], env[128], pats[256];
    size_t                 i, j, m;
    const char            *nm;
    cdc_service_conf_t    *s;
    const cdc_conf_key_t  *k;

    /* required keys, section by section */
    for (svc = -1; svc < (int) cf->nservices; svc++) {
        for (k = cdc_conf_keys; k->name; k++) {
            if (!(k->flags & CDC_K_REQUIRED)
                || (svc >= 0) != (strcmp(k->section, "service") == 0))
            {
                continue;
            }

            if (k->type == CDC_T_LIST || k->type == CDC_T_TABLES
                || k->type == CDC_T_COLUMNS)
            {
                if (*(size_t *) cdc_field(cf, k, svc, k->off2) > 0) {
                    continue;
                }

            } else {
                nm = *(char **) cdc_field(cf, k, svc, k->off);

                if (nm && nm[0]) {
                    continue;
                }
            }

            cdc_conf_env_name(k, svc >= 0 ? cf->services[svc].name : NULL,
                              env, sizeof(env));

            for (i = 0; env[i]; i++) {
                if (svc >= 0 && env[i] == '-') {
                    env[i] = '_';
                }
            }

            if (svc >= 0) {
                cdc_conf_where(cf, k, svc, where, sizeof(where));

                return cdc_error(err, errlen, "%sservice \"%s\": missing "
                                 "required key \"%s\" (or %s)", where,
                                 cf->services[svc].name, k->name, env);
            }

            if (cf->file && cf->file[0]) {
                return cdc_error(err, errlen, "%s: missing required key "
                                 "\"%s\" in [%s] (or %s)", cf->file,
                                 k->name, k->section, env);
            }

            return cdc_error(err, errlen, "no config file (%s not found) and "
                             "%s is not set", CDC_CONFIG_DEFAULT_FILE, env);
        }
    }

    k = cdc_conf_key("source", "heartbeat_table");

    if (cf->heartbeat_table) {
        nm = strchr(cf->heartbeat_table, '.');

        if (nm == NULL || !cdc_ident_ok(cf->heartbeat_table,
                                        nm - cf->heartbeat_table, 0)
            || !cdc_ident_ok(nm + 1, strlen(nm + 1), 0))
        {
            cdc_conf_where(cf, k, -1, where, sizeof(where));
            return cdc_error(err, errlen, "%sbad value \"%s\" for "
                             "heartbeat_table (expected db.table)", where,
                             cf->heartbeat_table);
        }
    }

    if (strncmp(cf->security_protocol, "sasl", 4) == 0
        && (cf->sasl_mechanism[0] == '\0' || cf->sasl_username == NULL
            || cf->sasl_password == NULL))
    {
        cdc_conf_where(cf, cdc_conf_key("kafka", "security_protocol"), -1,
                       where, sizeof(where));
        return cdc_error(err, errlen, "%ssecurity_protocol \"%s\" needs "
                         "sasl_mechanism, sasl_username and a password "
                         "(sasl_password_file or CDC_KAFKA_SASL_PASSWORD)",
                         where, cf->security_protocol);
    }

    if (cf->metrics_listen[0]
        && cdc_parse_listen(cf->metrics_listen, &port) != 0)
    {
        return cdc_error(err, errlen, "bad metrics listen \"%s\"",
                         cf->metrics_listen);
    }

    for (svc = 0; svc < (int) cf->nservices; svc++) {
        s = &cf->services[svc];

        for (i = 0; i < s->ntables; i++) {
            if (!cdc_config_table_wanted(cf, s->tables[i].src_db,
                                         s->tables[i].src_table))
            {
                cdc_conf_where(cf, cdc_conf_key("service", "tables"), svc,
                               where, sizeof(where));
                (void) cdc_conf_table_list_str(cf, pats, sizeof(pats));

                return cdc_error(err, errlen, "%sservice \"%s\": table "
                                 "\"%s.%s\" is not streamed by [source] "
                                 "tables (%s)%s", where, s->name,
                                 s->tables[i].src_db, s->tables[i].src_table,
                                 pats, cf->src_nexclude ? " minus exclude"
                                                        : "");
            }

            for (j = 0; j < i; j++) {
                if (strcmp(s->tables[i].src_db, s->tables[j].src_db) == 0
                    && strcmp(s->tables[i].src_table,
                              s->tables[j].src_table) == 0)
                {
                    cdc_conf_where(cf, cdc_conf_key("service", "tables"),
                                   svc, where, sizeof(where));

                    return cdc_error(err, errlen, "%sservice \"%s\": table "
                                     "\"%s.%s\" is mapped twice", where,
                                     s->name, s->tables[i].src_db,
                                     s->tables[i].src_table);
                }
            }
        }

        for (i = 0; i < s->ncolumns; i++) {
            for (m = 0; m < s->ntables; m++) {
                if (strcmp(s->columns[i].src_db, s->tables[m].src_db) == 0
                    && strcmp(s->columns[i].src_table,
                              s->tables[m].src_table) == 0)
                {
                    break;
                }
            }

            if (m == s->ntables) {
                cdc_conf_where(cf, cdc_conf_key("service", "columns"), svc,
                               where, sizeof(where));

                return cdc_error(err, errlen, "%sservice \"%s\": column "
                                 "\"%s.%s.%s\" belongs to a table not in "
                                 "its tables", where, s->name,
                                 s->columns[i].src_db,
                                 s->columns[i].src_table,
                                 s->columns[i].src_column);
            }
        }

        if (s->dead_letter_topic == NULL) {
            if (asprintf(&s->dead_letter_topic, "%s.dlq.%s",
                         cf->topic_prefix, s->name) < 0)
            {
                s->dead_letter_topic = NULL;
                return cdc_error(err, errlen, "out of memory");
            }
        }
    }

    return 0;
}


/* ----------------------------------------------------------------- api */


static int cdc_config_load_all(cdc_config_t *cf, const char *file,
    char *err, size_t errlen);

int
cdc_config_load(cdc_config_t *cf, const char *file, char *err,
    size_t errlen)
{
    if (cdc_config_load_all(cf, file, err, errlen) != 0) {
        /* a failed load owns nothing: callers may just exit */
        cdc_config_free(cf);
        return -1;
    }

    return 0;
}


static int
cdc_config_load_all(cdc_config_t *cf, const char *file, char *err,
    size_t errlen)
{
    const cdc_conf_key_t  *k;

    memset(cf, 0, sizeof(*cf));

    if (err && errlen) {
        err[0] = '\0';
    }

    cf->priv = calloc(1, sizeof(cdc_conf_priv_t));

    if (cf->priv == NULL) {
        return cdc_error(err, errlen, "out of memory");
    }

    for (k = cdc_conf_keys; k->name; k++) {
        if (strcmp(k->section, "service") != 0 && k->def
            && cdc_conf_set(cf, k, -1, k->def, 0, err, errlen) != 0)
        {
            return -1;
        }
    }

    if (cdc_conf_file(cf, file ? file : CDC_CONFIG_DEFAULT_FILE,
                      file != NULL, err, errlen) != 0)
    {
        return -1;
    }

    if (cdc_conf_env(cf, err, errlen) != 0) {
        return -1;
    }

    if (cdc_conf_secrets(cf, err, errlen) != 0) {
        return -1;
    }

    return cdc_conf_validate(cf, err, errlen);
}


void
cdc_config_free(cdc_config_t *cf)
{
    int                    svc;
    size_t                 i;
    void                  *field;
    cdc_conf_priv_t       *priv;
    const cdc_conf_key_t  *k;

    for (svc = -1; svc < (int) cf->nservices; svc++) {
        for (k = cdc_conf_keys; k->name; k++) {
            if ((svc >= 0) != (strcmp(k->section, "service") == 0)) {
                continue;
            }

            field = cdc_field(cf, k, svc, k->off);

            switch (k->type) {
            case CDC_T_STRING:
            case CDC_T_LISTEN:
            case CDC_T_ENUM:
            case CDC_T_SECRET:
                if (*(char **) field) {
                    if (k->type == CDC_T_SECRET
                        || (k->flags & CDC_K_ENV_ONLY))
                    {
                        explicit_bzero(*(char **) field,
                                       strlen(*(char **) field));
                    }
                    free(*(char **) field);
                    *(char **) field = NULL;
                }
                break;

            case CDC_T_LIST:
            case CDC_T_TABLES:
            case CDC_T_COLUMNS:
                cdc_conf_list_clear(k, field,
                                    cdc_field(cf, k, svc, k->off2));
                break;

            default:
                break;
            }
        }

        if (svc >= 0) {
            free(cf->services[svc].name);
            cf->services[svc].name = NULL;
        }
    }

    priv = cf->priv;

    if (priv) {
        for (i = 0; i < priv->n; i++) {
            free(priv->v[i].origin);
        }
        free(priv->v);
        free(priv);
    }

    free(cf->file);
    memset(cf, 0, sizeof(*cf));
}


cdc_service_conf_t *
cdc_config_service(cdc_config_t *cf, const char *name)
{
    size_t  i;

    for (i = 0; i < cf->nservices; i++) {
        if (strcmp(cf->services[i].name, name) == 0) {
            return &cf->services[i];
        }
    }

    return NULL;
}


int
cdc_config_topic(const cdc_config_t *cf, const char *db, const char *table,
    char *buf, size_t len)
{
    int  n;

    n = snprintf(buf, len, "%s.%s.%s", cf->topic_prefix, db, table);

    if (n < 0 || (size_t) n >= len) {
        return -1;
    }

    return 0;
}


static int
cdc_conf_match(char **pats, size_t n, const char *name)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (fnmatch(pats[i], name, 0) == 0) {
            return 1;
        }
    }

    return 0;
}


int
cdc_config_table_wanted(const cdc_config_t *cf, const char *db,
    const char *table)
{
    char  name[512];
    int   n;

    n = snprintf(name, sizeof(name), "%s.%s", db, table);

    if (n < 0 || (size_t) n >= sizeof(name)) {
        return 0;
    }

    return cdc_conf_match(cf->src_tables, cf->src_ntables, name)
           && !cdc_conf_match(cf->src_exclude, cf->src_nexclude, name);
}


int
cdc_config_origin(const cdc_config_t *cf, const char *section,
    const char *key, const char *service, char *buf, size_t len)
{
    int                    svc;
    size_t                 i;
    cdc_conf_origin_t     *o;
    const cdc_conf_key_t  *k;

    k = cdc_conf_key(section, key);

    if (k == NULL || len == 0) {
        return -1;
    }

    svc = -1;

    if (strcmp(section, "service") == 0) {
        for (i = 0; service && i < cf->nservices; i++) {
            if (strcmp(cf->services[i].name, service) == 0) {
                svc = (int) i;
                break;
            }
        }

        if (svc < 0) {
            return -1;
        }
    }

    o = cf->priv ? cdc_conf_origin(cf, k, svc) : NULL;

    if (o == NULL) {
        (void) snprintf(buf, len, "default");
        return 0;
    }

    (void) snprintf(buf, len, "%s%.*s", o->line ? "" : "environment ",
                    (int) strcspn(o->origin, "\n"), o->origin);

    return 0;
}


/* ------------------------------------------------------------ printing */

static void
cdc_conf_print_value(const cdc_config_t *cf, const cdc_conf_key_t *k,
    int svc, FILE *out)
{
    size_t                   i, n;
    const void              *field;
    const char              *s;
    const cdc_table_map_t   *t;
    const cdc_column_map_t  *c;

    field = cdc_field((cdc_config_t *) cf, k, svc, k->off);

    switch (k->type) {
    case CDC_T_STRING:
    case CDC_T_LISTEN:
    case CDC_T_ENUM:
        s = *(char *const *) field;
        fprintf(out, "%s", s ? s : "");
        break;

    case CDC_T_INT:
        fprintf(out, "%d", *(const int *) field);
        break;

    case CDC_T_UINT32:
        fprintf(out, "%u", (unsigned) *(const uint32_t *) field);
        break;

    case CDC_T_BOOL:
        fprintf(out, "%s", *(const int *) field ? "yes" : "no");
        break;

    case CDC_T_DURATION:
        n = (size_t) *(const int *) field;
        if (n == 0) {
            fprintf(out, "0");
        } else if (n % (size_t) CDC_MS_HOUR == 0) {
            fprintf(out, "%zuh", n / (size_t) CDC_MS_HOUR);
        } else if (n % 60000 == 0) {
            fprintf(out, "%zum", n / 60000);
        } else if (n % 1000 == 0) {
            fprintf(out, "%zus", n / 1000);
        } else {
            fprintf(out, "%zums", n);
        }
        break;

    case CDC_T_SIZE_KB:
        n = (size_t) *(const int *) field;
        if (n % (1024 * 1024) == 0) {
            fprintf(out, "%zug", n / (1024 * 1024));
        } else if (n % 1024 == 0) {
            fprintf(out, "%zum", n / 1024);
        } else {
            fprintf(out, "%zuk", n);
        }
        break;

    case CDC_T_SIZE:
        n = (size_t) *(const int *) field;
        if (n % (1024 * 1024) == 0) {
            fprintf(out, "%zum", n / (1024 * 1024));
        } else if (n % 1024 == 0) {
            fprintf(out, "%zuk", n / 1024);
        } else {
            fprintf(out, "%zu", n);
        }
        break;

    case CDC_T_LEVEL:
        fprintf(out, "%s", (const char *[]) { "error", "warn", "info",
                "debug" }[*(const int *) field & 3]);
        break;

    case CDC_T_SECRET:
        break;

    case CDC_T_LIST:
        n = *(const size_t *) cdc_field((cdc_config_t *) cf, k, svc,
                                        k->off2);
        for (i = 0; i < n; i++) {
            fprintf(out, "%s%s", i ? " " : "", (*(char **const *) field)[i]);
        }
        break;

    case CDC_T_TABLES:
        n = *(const size_t *) cdc_field((cdc_config_t *) cf, k, svc,
                                        k->off2);
        t = *(cdc_table_map_t *const *) field;
        for (i = 0; i < n; i++) {
            fprintf(out, "%s%s.%s=%s.%s", i ? " " : "", t[i].src_db,
                    t[i].src_table, t[i].dst_schema, t[i].dst_table);
        }
        break;

    case CDC_T_COLUMNS:
        n = *(const size_t *) cdc_field((cdc_config_t *) cf, k, svc,
                                        k->off2);
        c = *(cdc_column_map_t *const *) field;
        for (i = 0; i < n; i++) {
            fprintf(out, "%s%s.%s.%s=%s", i ? " " : "", c[i].src_db,
                    c[i].src_table, c[i].src_column,
                    c[i].dst_column ? c[i].dst_column : "-");
        }
        break;
    }
}


static void
cdc_conf_print_key(const cdc_config_t *cf, const cdc_conf_key_t *k,
    int svc, FILE *out)
{
    FILE               *mem;
    char               *buf;
    size_t              len;
    const char         *secret, *nl;
    cdc_conf_origin_t  *o;

    o = cdc_conf_origin(cf, k, svc);

    if (k->flags & CDC_K_ENV_ONLY) {
        if (o == NULL) {
            return;
        }
        fprintf(out, "  %-20s = %-30s", k->name, "(set)");
        goto origin;
    }

    if (k->type == CDC_T_SECRET) {
        nl = o && o->origin ? strchr(o->origin, '\n') : NULL;
        secret = *(char *const *) cdc_field((cdc_config_t *) cf, k, svc,
                                            k->off);
        fprintf(out, "  %-20s = %-30s%s", k->name, nl ? nl + 1 : "",
                secret ? "  (secret read)" : "");

        if (o) {
            fprintf(out, "  # %s%.*s\n", o->line ? "" : "env ",
                    nl ? (int) (nl - o->origin) : (int) strlen(o->origin),
                    o->origin);

        } else {
            fprintf(out, "\n");
        }

        return;
    }

    buf = NULL;
    len = 0;
    mem = open_memstream(&buf, &len);

    if (mem == NULL) {
        return;
    }

    cdc_conf_print_value(cf, k, svc, mem);

    if (fclose(mem) != 0) {
        free(buf);
        return;
    }

    fprintf(out, "  %-20s = %-30s", k->name, buf);
    free(buf);

origin:

    if (o) {
        fprintf(out, "  # %s%s\n", o->line ? "" : "env ", o->origin);

    } else {
        fprintf(out, "  # default\n");
    }
}


void
cdc_config_print(const cdc_config_t *cf, FILE *out)
{
    int                    svc;
    size_t                 i;
    const cdc_conf_key_t  *k;

    fprintf(out, "# file: %s\n", cf->file && cf->file[0] ? cf->file
                                 : "(none: environment only)");

    for (i = 0; cdc_conf_sections[i]; i++) {
        fprintf(out, "[%s]\n", cdc_conf_sections[i]);

        for (k = cdc_conf_keys; k->name; k++) {
            if (strcmp(k->section, cdc_conf_sections[i]) == 0) {
                cdc_conf_print_key(cf, k, -1, out);
            }
        }
    }

    for (svc = 0; svc < (int) cf->nservices; svc++) {
        fprintf(out, "[service.%s]\n", cf->services[svc].name);

        for (k = cdc_conf_keys; k->name; k++) {
            if (strcmp(k->section, "service") == 0) {
                cdc_conf_print_key(cf, k, svc, out);
            }
        }
    }
}


void
cdc_config_print_keys(FILE *out)
{
    char                   env[128], bounds[64];
    const char            *def;
    const cdc_conf_key_t  *k;

    fprintf(out, "| section | key | type | default | environment | "
            "meaning |\n|---|---|---|---|---|---|\n");

    for (k = cdc_conf_keys; k->name; k++) {
        cdc_conf_env_name(k, NULL, env, sizeof(env));

        def = k->def ? k->def : "";

        if (k->flags & CDC_K_ENV_ONLY) {
            def = "(environment only)";
        }

        bounds[0] = '\0';

        if (k->type == CDC_T_INT || k->type == CDC_T_UINT32
            || k->type == CDC_T_SIZE)
        {
            (void) snprintf(bounds, sizeof(bounds), " %lld..%lld",
                            (long long) k->min, (long long) k->max);

        } else if (k->type == CDC_T_DURATION) {
            (void) snprintf(bounds, sizeof(bounds), " %lldms..%lldms",
                            (long long) k->min, (long long) k->max);
        }

        fprintf(out, "| %s | `%s` | %s%s | %s%s%s | `%s` | %s%s |\n",
                strcmp(k->section, "service") == 0 ? "service.NAME"
                                                   : k->section,
                k->name, cdc_conf_type_name(k->type), bounds,
                def[0] && def[0] != '(' ? "`" : "", def,
                def[0] && def[0] != '(' ? "`" : "", env, k->help,
                (k->flags & CDC_K_REQUIRED) ? " (required)" : "");
    }
}
