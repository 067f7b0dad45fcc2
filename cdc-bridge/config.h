/*
 * cdc-bridge configuration: an INI file (parsed with inih) plus
 * CDC_<SECTION>_<KEY> environment overrides, the environment winning.
 * CDC_SERVICE_<NAME>_<KEY> defines service NAME (lowercased) even where the
 * file has no [service.NAME] section.
 *
 * The keys are declared once, as a table in config.c ({section, name, type,
 * bounds, default, field}); this struct is what the rest of the bridge
 * reads.  Secrets (passwords) come from a *_file key or from the
 * environment (CDC_SOURCE_PASSWORD, CDC_SERVICE_<NAME>_PASSWORD,
 * CDC_KAFKA_SASL_PASSWORD), never from argv, and are never printed.
 */

#ifndef CDC_CONFIG_H
#define CDC_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>


#define CDC_CONFIG_DEFAULT_FILE  "config/cdc-bridge.conf"
#define CDC_CONFIG_MAX_SERVICES  32


/* "db.table=schema.table" from a service's tables key */
typedef struct {
    char  *src_db;
    char  *src_table;
    char  *dst_schema;
    char  *dst_table;
} cdc_table_map_t;


/* "db.table.column=new_name", or "=-" to drop the column */
typedef struct {
    char  *src_db;
    char  *src_table;
    char  *src_column;
    char  *dst_column;           /* NULL: dropped */
} cdc_column_map_t;


typedef struct {
    char              *name;            /* [service.NAME], lowercase */
    char              *postgres;        /* libpq conninfo, no password */
    char              *password;        /* from password_file or env */
    cdc_table_map_t   *tables;
    size_t             ntables;
    cdc_column_map_t  *columns;
    size_t             ncolumns;
    int                create_tables;   /* also adds columns on ADD COLUMN */
    int                allow_keyless;   /* apply tables without a key */
    int                batch_size;      /* changes per transaction */
    int                batch_time_ms;   /* longest wait to fill a batch */
    char              *lag_file;        /* NULL: none */
    char              *dead_letter_topic; /* default <prefix>.dlq.<name> */
    char              *metrics_listen;  /* the sink's /metrics, host:port */
} cdc_service_conf_t;


typedef struct {
    char   *file;                       /* the file that was loaded;
                                           "" when none (environment
                                           only, see cdc_config_load) */

    /* [source] */
    char   *src_host;
    int     src_port;
    char   *src_user;
    char   *src_password;               /* from password_file or env */
    uint32_t src_server_id;
    char  **src_tables;                 /* patterns: db.table, db.* */
    size_t  src_ntables;
    char  **src_exclude;                /* patterns excluded */
    size_t  src_nexclude;
    int     heartbeat_interval_ms;
    char   *heartbeat_table;            /* db.table the bridge updates;
                                           NULL: no heartbeat writes */
    char   *start;                      /* "", "d-s-n[,…]", "uuid:n",
                                           "file:pos" */
    int     snapshot;                   /* take one when no checkpoint */
    int     snapshot_chunk;             /* rows per primary-key chunk */
    char   *src_ssl_mode;               /* disabled, preferred, required,
                                           verify_ca, verify_identity */
    char   *src_ssl_ca;

    /* [kafka] */
    char   *brokers;
    char   *topic_prefix;
    char   *security_protocol;          /* plaintext, ssl, sasl_plaintext,
                                           sasl_ssl */
    char   *sasl_mechanism;
    char   *sasl_username;
    char   *sasl_password;              /* from sasl_password_file or env */
    char   *ssl_ca;
    int     max_inflight_kb;            /* producer queue bound */
    int     max_message_bytes;          /* message.max.bytes */
    int     linger_ms;
    int     message_timeout_ms;         /* 0: retry until delivered */
    char   *compression;                /* none, gzip, snappy, lz4, zstd */

    /* [checkpoint] */
    char   *checkpoint_dir;
    int     checkpoint_interval_ms;

    /* [metrics] */
    char   *metrics_listen;             /* host:port of `run`; "" none */

    /* [log] */
    int     log_level;                  /* cdc_log_level_t, log.h */

    /* [service.NAME] */
    cdc_service_conf_t  services[CDC_CONFIG_MAX_SERVICES];
    size_t              nservices;

    void   *priv;                       /* config.c: where each key was
                                           set, for cdc_config_print() */
} cdc_config_t;


/*
 * Loads file (NULL: CDC_CONFIG_DEFAULT_FILE) and the environment.  On error
 * returns -1 with "file:line: message naming the key and value" in err;
 * touches no database or broker.  A file named explicitly must exist; the
 * default file may be absent, then the environment alone must supply the
 * required keys (CDC_SOURCE_TABLES at least).  cf is zeroed first; a
 * failed load frees what it built (cdc_config_free() on it is harmless).
 */
int cdc_config_load(cdc_config_t *cf, const char *file, char *err,
    size_t errlen);
void cdc_config_free(cdc_config_t *cf);
cdc_service_conf_t *cdc_config_service(cdc_config_t *cf, const char *name);

/* The topic of a source table: <prefix>.<db>.<table> */
int cdc_config_topic(const cdc_config_t *cf, const char *db,
    const char *table, char *buf, size_t len);

/* Does db.table match the source tables/exclude patterns? */
int cdc_config_table_wanted(const cdc_config_t *cf, const char *db,
    const char *table);

/*
 * Where key of section ("source", …, or "service" with service NAME) got
 * its value: "file:line", "environment CDC_X_Y" or "default", into buf;
 * for messages like "cdc.conf:14: service orders: …".  Returns 0, or -1
 * for an unknown key.
 */
int cdc_config_origin(const cdc_config_t *cf, const char *section,
    const char *key, const char *service, char *buf, size_t len);

/*
 * Prints every key's effective value and where it came from (file:line,
 * environment variable, default); secrets print as "(set)" only.
 */
void cdc_config_print(const cdc_config_t *cf, FILE *out);

/*
 * Prints the key table (section, name, type, default, environment name,
 * meaning) as Markdown table rows, for docs/cdc-bridge.md.
 */
void cdc_config_print_keys(FILE *out);


#endif /* CDC_CONFIG_H */
