/*
 * cdc-bridge config: every value type, bounds, the environment winning,
 * services defined by the environment alone, secrets from files, and
 * errors that name file:line and the value.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"


extern char  **environ;

static char    tmpdir[256];
static char    conf_path[300];
static char    err[1024];


#define BASE                                                                  \
    "[source]\n"                                                              \
    "tables = shop.orders shop.order_items\n"


static void
clear_env(void)
{
    char    name[256], *eq;
    size_t  i, n;

again:

    for (i = 0; environ[i]; i++) {
        if (strncmp(environ[i], "CDC_", 4) == 0) {
            eq = strchr(environ[i], '=');
            n = eq ? (size_t) (eq - environ[i]) : strlen(environ[i]);
            assert_true(n < sizeof(name));
            memcpy(name, environ[i], n);
            name[n] = '\0';
            assert_int_equal(unsetenv(name), 0);
            goto again;
        }
    }
}


static int
setup(void **state)
{
    const char  *t;

    t = getenv("TMPDIR");
    (void) snprintf(tmpdir, sizeof(tmpdir), "%s/cdc-config-XXXXXX",
                    t ? t : "/tmp");
    assert_non_null(mkdtemp(tmpdir));
    (void) snprintf(conf_path, sizeof(conf_path), "%s/cdc.conf", tmpdir);
    clear_env();
    err[0] = '\0';
    cdc_log_set_level(CDC_LOG_ERROR);

    return 0;
}


static int
teardown(void **state)
{
    char  cmd[400];

    clear_env();
    (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);

    return 0;
}


static const char *
write_file(const char *name, const char *text)
{
    static char  path[400];
    FILE        *fp;

    (void) snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);

    return path;
}


static int
load_text(cdc_config_t *cf, const char *text)
{
    FILE  *fp;

    fp = fopen(conf_path, "w");
    assert_non_null(fp);
    assert_true(fputs(text, fp) >= 0);
    assert_int_equal(fclose(fp), 0);

    err[0] = '\0';

    return cdc_config_load(cf, conf_path, err, sizeof(err));
}


/* loads text, expects failure with a message containing each needle */
static void
expect_error(const char *text, const char *needle1, const char *needle2)
{
    cdc_config_t  cf;
    int           rc;

    rc = load_text(&cf, text);
    cdc_config_free(&cf);

    if (rc == 0 || strstr(err, needle1) == NULL
        || (needle2 && strstr(err, needle2) == NULL))
    {
        print_error("expected an error with \"%s\" / \"%s\", got rc=%d "
                    "\"%s\"\n", needle1, needle2 ? needle2 : "", rc, err);
        fail();
    }
}


static void
test_sample_loads(void **state)
{
    cdc_config_t         cf;
    cdc_service_conf_t  *s;
    const char          *root;
    char                 path[512];

    root = getenv("STRANGLER_ROOT");
    (void) snprintf(path, sizeof(path), "%s/config/cdc-bridge.conf",
                    root ? root : ".");

    assert_int_equal(cdc_config_load(&cf, path, err, sizeof(err)), 0);

    assert_string_equal(cf.src_host, "127.0.0.1");
    assert_int_equal(cf.src_port, 3306);
    assert_string_equal(cf.src_user, "cdc");
    assert_int_equal(cf.src_server_id, 4242);
    assert_int_equal(cf.src_ntables, 2);
    assert_string_equal(cf.src_tables[0], "shop.orders");
    assert_int_equal(cf.heartbeat_interval_ms, 1000);
    assert_string_equal(cf.brokers, "127.0.0.1:9092");
    assert_string_equal(cf.topic_prefix, "monolith");
    assert_string_equal(cf.checkpoint_dir, "/var/lib/strangler/cdc");
    assert_string_equal(cf.metrics_listen, "127.0.0.1:9187");
    assert_int_equal(cf.max_inflight_kb, 64 * 1024);
    assert_null(cf.src_password);

    assert_int_equal(cf.nservices, 1);
    s = cdc_config_service(&cf, "orders");
    assert_non_null(s);
    assert_string_equal(s->postgres,
                        "host=127.0.0.1 dbname=orders user=orders");
    /* the second table is on an indented continuation line */
    assert_int_equal(s->ntables, 2);
    assert_string_equal(s->tables[1].src_table, "order_items");
    assert_string_equal(s->tables[1].dst_schema, "public");
    assert_int_equal(s->create_tables, 1);
    assert_string_equal(s->lag_file, "/run/strangler/lag/orders");
    assert_string_equal(s->dead_letter_topic, "monolith.dlq.orders");
    assert_null(cdc_config_service(&cf, "billing"));

    cdc_config_free(&cf);
}


static void
test_defaults(void **state)
{
    cdc_config_t  cf;

    assert_int_equal(load_text(&cf, BASE), 0);

    assert_string_equal(cf.src_host, "127.0.0.1");
    assert_int_equal(cf.src_port, 3306);
    assert_int_equal(cf.snapshot, 1);
    assert_int_equal(cf.snapshot_chunk, 10000);
    assert_string_equal(cf.src_ssl_mode, "preferred");
    assert_string_equal(cf.security_protocol, "plaintext");
    assert_string_equal(cf.compression, "lz4");
    assert_int_equal(cf.linger_ms, 5);
    assert_int_equal(cf.message_timeout_ms, 0);
    assert_int_equal(cf.checkpoint_interval_ms, 100);
    assert_int_equal(cf.log_level, CDC_LOG_INFO);
    assert_null(cf.heartbeat_table);
    assert_string_equal(cf.start, "");
    assert_int_equal(cf.nservices, 0);

    cdc_config_free(&cf);

    /* loopback listeners are fine in every spelling */
    assert_int_equal(load_text(&cf, BASE "[metrics]\nlisten = [::1]:9187\n"),
                     0);
    cdc_config_free(&cf);
    assert_int_equal(load_text(&cf, BASE "[metrics]\n"
                               "listen = localhost:9187\n"), 0);
    cdc_config_free(&cf);
    assert_int_equal(load_text(&cf, BASE "[metrics]\n"
                               "listen = 127.0.0.2:9187\n"), 0);
    cdc_config_free(&cf);
    assert_int_equal(load_text(&cf, BASE "[metrics]\nlisten =\n"), 0);
    assert_string_equal(cf.metrics_listen, "");
    cdc_config_free(&cf);
}


static void
test_int_bounds(void **state)
{
    cdc_config_t  cf;

    assert_int_equal(load_text(&cf, BASE "port = 65535\n"), 0);
    assert_int_equal(cf.src_port, 65535);
    cdc_config_free(&cf);

    assert_int_equal(load_text(&cf, BASE "server_id = 4294967295\n"), 0);
    assert_int_equal(cf.src_server_id, 4294967295u);
    cdc_config_free(&cf);

    expect_error(BASE "port = 0\n", ":3: bad value \"0\" for port (1..65535)",
                 conf_path);
    expect_error(BASE "port = 65536\n", "\"65536\" for port", NULL);
    expect_error(BASE "port = abc\n",
                 ":3: bad value \"abc\" for port (1..65535)", NULL);
    expect_error(BASE "port = 33 06\n", "\"33 06\"", NULL);
    expect_error(BASE "server_id = 0\n", "for server_id", NULL);
    expect_error(BASE "server_id = 4294967296\n", "for server_id", NULL);
    expect_error(BASE "snapshot_chunk = -5\n", "\"-5\" for snapshot_chunk",
                 NULL);
}


static void
test_bool(void **state)
{
    static const char *const  yes[] = { "yes", "true", "on", "1", "YES" };
    static const char *const  no[] = { "no", "false", "off", "0", "Off" };
    cdc_config_t              cf;
    char                      text[256];
    size_t                    i;

    for (i = 0; i < 5; i++) {
        (void) snprintf(text, sizeof(text), BASE "snapshot = %s\n", yes[i]);
        assert_int_equal(load_text(&cf, text), 0);
        assert_int_equal(cf.snapshot, 1);
        cdc_config_free(&cf);

        (void) snprintf(text, sizeof(text), BASE "snapshot = %s\n", no[i]);
        assert_int_equal(load_text(&cf, text), 0);
        assert_int_equal(cf.snapshot, 0);
        cdc_config_free(&cf);
    }

    expect_error(BASE "snapshot = maybe\n",
                 ":3: bad value \"maybe\" for snapshot", NULL);
}


static void
test_duration(void **state)
{
    static const struct {
        const char  *text;
        int          ms;
    } ok[] = {
        { "250ms", 250 }, { "1s", 1000 }, { "2m", 120000 },
        { "1h", 3600000 }, { "100ms", 100 }
    };

    cdc_config_t  cf;
    char          text[256];
    size_t        i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        (void) snprintf(text, sizeof(text), BASE "heartbeat_interval = %s\n",
                        ok[i].text);
        assert_int_equal(load_text(&cf, text), 0);
        assert_int_equal(cf.heartbeat_interval_ms, ok[i].ms);
        cdc_config_free(&cf);
    }

    assert_int_equal(load_text(&cf, "[kafka]\nlinger = 0\n" BASE), 0);
    assert_int_equal(cf.linger_ms, 0);
    cdc_config_free(&cf);

    expect_error(BASE "heartbeat_interval = 5\n",
                 ":3: bad duration \"5\" for heartbeat_interval", NULL);
    expect_error(BASE "heartbeat_interval = 1x\n", "bad duration \"1x\"",
                 NULL);
    expect_error(BASE "heartbeat_interval = soon\n",
                 "bad duration \"soon\"", NULL);
    /* below the 100ms floor */
    expect_error(BASE "heartbeat_interval = 10ms\n",
                 "bad value \"10ms\" for heartbeat_interval", NULL);
    expect_error(BASE "heartbeat_interval = 2h\n",
                 "\"2h\" for heartbeat_interval", NULL);
}


static void
test_size(void **state)
{
    cdc_config_t  cf;

    assert_int_equal(load_text(&cf, BASE "[kafka]\nmax_inflight = 512k\n"),
                     0);
    assert_int_equal(cf.max_inflight_kb, 512);
    cdc_config_free(&cf);

    assert_int_equal(load_text(&cf, BASE "[kafka]\nmax_inflight = 2MB\n"),
                     0);
    assert_int_equal(cf.max_inflight_kb, 2048);
    cdc_config_free(&cf);

    assert_int_equal(load_text(&cf, BASE "[kafka]\nmax_inflight = 1GiB\n"),
                     0);
    assert_int_equal(cf.max_inflight_kb, 1024 * 1024);
    cdc_config_free(&cf);

    /* bytes round up to whole KiB */
    assert_int_equal(load_text(&cf, BASE "[kafka]\nmax_inflight = 1500\n"),
                     0);
    assert_int_equal(cf.max_inflight_kb, 2);
    cdc_config_free(&cf);

    expect_error(BASE "[kafka]\nmax_inflight = lots\n",
                 ":4: bad size \"lots\" for max_inflight", NULL);
    expect_error(BASE "[kafka]\nmax_inflight = 0\n",
                 "bad value \"0\" for max_inflight", NULL);
    expect_error(BASE "[kafka]\nmax_inflight = 5t\n", "bad size \"5t\"",
                 NULL);
}


static void
test_enum_and_level(void **state)
{
    cdc_config_t  cf;

    assert_int_equal(load_text(&cf, BASE "ssl_mode = REQUIRED\n[log]\n"
                               "level = debug\n[kafka]\ncompression = zstd\n"),
                     0);
    assert_string_equal(cf.src_ssl_mode, "required");
    assert_int_equal(cf.log_level, CDC_LOG_DEBUG);
    assert_string_equal(cf.compression, "zstd");
    cdc_config_free(&cf);

    expect_error(BASE "ssl_mode = sometimes\n",
                 "bad value \"sometimes\" for ssl_mode (one of: disabled,",
                 NULL);
    expect_error(BASE "[log]\nlevel = loud\n",
                 ":4: bad value \"loud\" for level", NULL);
}


static void
test_lists_and_maps(void **state)
{
    cdc_config_t         cf;
    cdc_service_conf_t  *s;

    assert_int_equal(load_text(&cf,
        "[source]\n"
        "tables = shop.*, crm.customers\n"
        "    billing.invoices\n"
        "exclude = shop.*_tmp\n"
        "[service.orders]\n"
        "postgres = dbname=orders\n"
        "tables = shop.orders=sales.orders shop.order_items=items\n"
        "    shop.refunds crm.customers=public.customers\n"
        "columns = shop.orders.legacy=- shop.orders.cust_id=customer_id\n"),
        0);

    assert_int_equal(cf.src_ntables, 3);
    assert_string_equal(cf.src_tables[0], "shop.*");
    assert_string_equal(cf.src_tables[1], "crm.customers");
    assert_string_equal(cf.src_tables[2], "billing.invoices");
    assert_int_equal(cf.src_nexclude, 1);

    s = cdc_config_service(&cf, "orders");
    assert_non_null(s);
    assert_int_equal(s->ntables, 4);
    assert_string_equal(s->tables[0].src_db, "shop");
    assert_string_equal(s->tables[0].src_table, "orders");
    assert_string_equal(s->tables[0].dst_schema, "sales");
    assert_string_equal(s->tables[0].dst_table, "orders");
    assert_string_equal(s->tables[1].dst_schema, "public");
    assert_string_equal(s->tables[1].dst_table, "items");
    assert_string_equal(s->tables[2].dst_schema, "public");
    assert_string_equal(s->tables[2].dst_table, "refunds");

    assert_int_equal(s->ncolumns, 2);
    assert_string_equal(s->columns[0].src_column, "legacy");
    assert_null(s->columns[0].dst_column);
    assert_string_equal(s->columns[1].src_column, "cust_id");
    assert_string_equal(s->columns[1].dst_column, "customer_id");

    /* patterns and exclude */
    assert_true(cdc_config_table_wanted(&cf, "shop", "orders"));
    assert_false(cdc_config_table_wanted(&cf, "shop", "orders_tmp"));
    assert_true(cdc_config_table_wanted(&cf, "crm", "customers"));
    assert_false(cdc_config_table_wanted(&cf, "crm", "leads"));
    assert_false(cdc_config_table_wanted(&cf, "shopx", "orders"));

    cdc_config_free(&cf);

    expect_error("[source]\ntables = shop\n",
                 ":2: bad value \"shop\" for tables", NULL);
    expect_error(BASE "[service.x]\npostgres = db=x\n"
                 "tables = shop.orders=a.b.c\n",
                 ":5: bad value \"shop.orders=a.b.c\" for tables", NULL);
    expect_error(BASE "[service.x]\npostgres = db=x\n"
                 "tables = shop.orders\ncolumns = shop.orders=x\n",
                 ":6: bad value \"shop.orders=x\" for columns", NULL);
}


static void
test_topic(void **state)
{
    cdc_config_t  cf;
    char          buf[64];

    assert_int_equal(load_text(&cf, BASE "[kafka]\ntopic_prefix = mono\n"),
                     0);
    assert_int_equal(cdc_config_topic(&cf, "shop", "orders", buf,
                                      sizeof(buf)), 0);
    assert_string_equal(buf, "mono.shop.orders");
    assert_int_equal(cdc_config_topic(&cf, "shop", "orders", buf, 8), -1);
    cdc_config_free(&cf);
}


static void
test_unknown_key_and_section(void **state)
{
    expect_error(BASE "colour = blue\n",
                 ":3: unknown key \"colour\" in [source]", conf_path);
    expect_error(BASE "[kafak]\nbrokers = x:1\n",
                 ":4: unknown section [kafak]", NULL);
    expect_error("port = 1\n" BASE, ":1: key \"port\" outside a section",
                 NULL);
    expect_error(BASE "[service.orders]\npostgress = x\n",
                 ":4: unknown key \"postgress\" in [service.orders]", NULL);
    expect_error(BASE "[service.Bad Name]\npostgres = x\n",
                 "bad service name", NULL);
}


static void
test_syntax_and_duplicates(void **state)
{
    char  text[600];

    expect_error(BASE "[source\n", ":3: syntax error", NULL);
    expect_error(BASE "just words\n", ":3: syntax error", NULL);
    expect_error(BASE "port = 1\nport = 2\n",
                 ":4: duplicate key \"port\" in [source]", ":3)");
    expect_error(BASE "host = a\n  port = 2\n",
                 ":4: indented line continues \"host\"", NULL);

    memset(text, 0, sizeof(text));
    (void) snprintf(text, sizeof(text), BASE "exclude = ");
    memset(text + strlen(text), 'x', 250);
    text[strlen(text)] = '\n';
    expect_error(text, ":3: line longer than", NULL);
}


static void
test_env_wins(void **state)
{
    cdc_config_t  cf;

    assert_int_equal(setenv("CDC_SOURCE_PORT", "3307", 1), 0);
    assert_int_equal(setenv("CDC_KAFKA_BROKERS", "10.0.0.1:9093", 1), 0);
    assert_int_equal(setenv("CDC_SOURCE_TABLES", "crm.*", 1), 0);
    assert_int_equal(setenv("CDC_LOG_LEVEL", "warn", 1), 0);
    assert_int_equal(setenv("CDC_UNRELATED_THING", "whatever", 1), 0);

    assert_int_equal(load_text(&cf, BASE "port = 3306\n"
                               "[kafka]\nbrokers = 127.0.0.1:9092\n"), 0);
    assert_int_equal(cf.src_port, 3307);
    assert_string_equal(cf.brokers, "10.0.0.1:9093");
    /* a list from the environment replaces the file's */
    assert_int_equal(cf.src_ntables, 1);
    assert_string_equal(cf.src_tables[0], "crm.*");
    assert_int_equal(cf.log_level, CDC_LOG_WARN);
    cdc_config_free(&cf);

    assert_int_equal(setenv("CDC_SOURCE_PORT", "abc", 1), 0);
    expect_error(BASE, "environment CDC_SOURCE_PORT: bad value \"abc\" for "
                 "port (1..65535)", NULL);
    assert_int_equal(unsetenv("CDC_SOURCE_PORT"), 0);

    assert_int_equal(setenv("CDC_SOURCE_COLOUR", "x", 1), 0);
    expect_error(BASE, "environment CDC_SOURCE_COLOUR: unknown key "
                 "\"colour\" in [source]", NULL);
}


static void
test_env_defines_service(void **state)
{
    cdc_config_t         cf;
    cdc_service_conf_t  *s;

    assert_int_equal(setenv("CDC_SERVICE_BILLING_POSTGRES",
                            "host=127.0.0.1 dbname=billing", 1), 0);
    assert_int_equal(setenv("CDC_SERVICE_BILLING_TABLES",
                            "shop.orders=billing.orders", 1), 0);
    assert_int_equal(setenv("CDC_SERVICE_BILLING_BATCH_SIZE", "50", 1), 0);
    /* NAME with "_", KEY with "_": the longest key that ends it wins */
    assert_int_equal(setenv("CDC_SERVICE_ORDER_ITEMS_LAG_FILE", "/tmp/l", 1),
                     0);
    assert_int_equal(setenv("CDC_SERVICE_ORDER_ITEMS_POSTGRES", "dbname=oi",
                            1), 0);
    assert_int_equal(setenv("CDC_SERVICE_ORDER_ITEMS_TABLES",
                            "shop.order_items", 1), 0);

    assert_int_equal(load_text(&cf, BASE), 0);
    assert_int_equal(cf.nservices, 2);

    s = cdc_config_service(&cf, "billing");
    assert_non_null(s);
    assert_string_equal(s->postgres, "host=127.0.0.1 dbname=billing");
    assert_int_equal(s->ntables, 1);
    assert_string_equal(s->tables[0].dst_schema, "billing");
    assert_int_equal(s->batch_size, 50);
    assert_int_equal(s->batch_time_ms, 100);        /* default */
    assert_string_equal(s->dead_letter_topic, "monolith.dlq.billing");

    s = cdc_config_service(&cf, "order_items");
    assert_non_null(s);
    assert_string_equal(s->lag_file, "/tmp/l");
    cdc_config_free(&cf);

    /* the environment overrides a file service, "-" spelled "_" */
    assert_int_equal(unsetenv("CDC_SERVICE_ORDER_ITEMS_POSTGRES"), 0);
    assert_int_equal(load_text(&cf, BASE "[service.order-items]\n"
                               "postgres = dbname=file\n"
                               "tables = shop.order_items\n"), 0);
    assert_int_equal(cf.nservices, 2);
    s = cdc_config_service(&cf, "order-items");
    assert_non_null(s);
    assert_string_equal(s->postgres, "dbname=file");
    assert_string_equal(s->lag_file, "/tmp/l");
    cdc_config_free(&cf);

    /* a service the environment starts must still be complete */
    assert_int_equal(unsetenv("CDC_SERVICE_ORDER_ITEMS_LAG_FILE"), 0);
    assert_int_equal(unsetenv("CDC_SERVICE_ORDER_ITEMS_TABLES"), 0);
    assert_int_equal(setenv("CDC_SERVICE_HALF_LAG_FILE", "/x", 1), 0);
    expect_error(BASE, "service \"half\": missing required key \"postgres\"",
                 "CDC_SERVICE_HALF_POSTGRES");
    assert_int_equal(unsetenv("CDC_SERVICE_HALF_LAG_FILE"), 0);

    assert_int_equal(setenv("CDC_SERVICE_BILLING_COLOUR", "x", 1), 0);
    expect_error(BASE, "environment CDC_SERVICE_BILLING_COLOUR: no service "
                 "key", NULL);
}


static void
test_secrets(void **state)
{
    cdc_config_t  cf;
    const char   *pw;
    char          text[800];

    pw = write_file("mysql.pw", "s3cret\n");
    (void) snprintf(text, sizeof(text), BASE "password_file = %s\n", pw);

    assert_int_equal(load_text(&cf, text), 0);
    assert_string_equal(cf.src_password, "s3cret");
    cdc_config_free(&cf);

    /* the environment's password wins over the file */
    assert_int_equal(setenv("CDC_SOURCE_PASSWORD", "from-env", 1), 0);
    assert_int_equal(load_text(&cf, text), 0);
    assert_string_equal(cf.src_password, "from-env");
    cdc_config_free(&cf);
    assert_int_equal(unsetenv("CDC_SOURCE_PASSWORD"), 0);

    /* service and SASL secrets */
    pw = write_file("pg.pw", "pgpw");
    assert_int_equal(setenv("CDC_SERVICE_ORDERS_PASSWORD_FILE", pw, 1), 0);
    assert_int_equal(setenv("CDC_KAFKA_SASL_PASSWORD", "kpw", 1), 0);
    assert_int_equal(load_text(&cf, BASE "[service.orders]\n"
                               "postgres = dbname=o\ntables = shop.orders\n"),
                     0);
    assert_string_equal(cf.services[0].password, "pgpw");
    assert_string_equal(cf.sasl_password, "kpw");
    cdc_config_free(&cf);
    clear_env();

    /* a secret never goes into the file */
    expect_error(BASE "password = hunter2\n",
                 ":3: \"password\" must not be written in the file",
                 "CDC_SOURCE_PASSWORD");

    /* a missing secret file names the line and the path */
    expect_error(BASE "password_file = /nonexistent/pw\n",
                 ":3: password_file: cannot open \"/nonexistent/pw\"", NULL);
}


static void
test_validation(void **state)
{
    expect_error(BASE "[service.orders]\npostgres = dbname=o\n"
                 "tables = shop.refunds\n",
                 ":5: service \"orders\": table \"shop.refunds\" is not "
                 "streamed by [source] tables", NULL);
    expect_error(BASE "[service.orders]\ntables = shop.orders\n",
                 "service \"orders\": missing required key \"postgres\"",
                 NULL);
    expect_error(BASE "[service.orders]\npostgres = dbname=o\n"
                 "tables = shop.orders shop.orders=x\n",
                 "\"shop.orders\" is mapped twice", NULL);
    expect_error(BASE "[service.orders]\npostgres = dbname=o\n"
                 "tables = shop.orders\ncolumns = shop.order_items.a=b\n",
                 "column \"shop.order_items.a\" belongs to a table not in "
                 "its tables", NULL);
    expect_error("[kafka]\nbrokers = x:1\n",
                 "missing required key \"tables\" in [source] "
                 "(or CDC_SOURCE_TABLES)", NULL);
    expect_error(BASE "[kafka]\nsecurity_protocol = sasl_ssl\n",
                 "security_protocol \"sasl_ssl\" needs sasl_mechanism",
                 NULL);
    expect_error(BASE "heartbeat_table = nodot\n",
                 "bad value \"nodot\" for heartbeat_table", NULL);
    expect_error(BASE "[metrics]\nlisten = 127.0.0.1\n",
                 ":4: bad value \"127.0.0.1\" for listen", NULL);
    expect_error(BASE "[metrics]\nlisten = 0.0.0.0:9187\n",
                 ":4: bad value \"0.0.0.0:9187\" for listen (a loopback "
                 "address is required", NULL);
    expect_error(BASE "[service.o]\npostgres = x\ntables = shop.orders\n"
                 "metrics_listen = [::]:9\n",
                 ":6: bad value \"[::]:9\" for metrics_listen (a loopback",
                 NULL);
    expect_error(BASE "[metrics]\nlisten = example.com:80\n",
                 "for listen (a loopback", NULL);
}


static void
test_missing_file(void **state)
{
    cdc_config_t  cf;
    char          cwd[512], path[400];
    int           rc;

    (void) snprintf(path, sizeof(path), "%s/nope.conf", tmpdir);
    assert_int_equal(cdc_config_load(&cf, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "nope.conf: cannot open"));
    cdc_config_free(&cf);

    /* the default file may be absent when the environment has it all */
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(tmpdir), 0);

    rc = cdc_config_load(&cf, NULL, err, sizeof(err));
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "CDC_SOURCE_TABLES is not set"));
    cdc_config_free(&cf);

    assert_int_equal(setenv("CDC_SOURCE_TABLES", "shop.orders", 1), 0);
    assert_int_equal(setenv("CDC_SERVICE_ORDERS_POSTGRES", "dbname=o", 1),
                     0);
    assert_int_equal(setenv("CDC_SERVICE_ORDERS_TABLES", "shop.orders", 1),
                     0);
    rc = cdc_config_load(&cf, NULL, err, sizeof(err));
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    assert_string_equal(cf.file, "");
    assert_int_equal(cf.nservices, 1);
    cdc_config_free(&cf);
}


static void
test_print_masks_secrets(void **state)
{
    cdc_config_t  cf;
    char         *buf;
    size_t        len;
    FILE         *mem;

    assert_int_equal(setenv("CDC_SOURCE_PASSWORD", "topsecret", 1), 0);
    assert_int_equal(setenv("CDC_SOURCE_HOST", "db.local", 1), 0);
    assert_int_equal(load_text(&cf, BASE "port = 3310\n"), 0);

    buf = NULL;
    mem = open_memstream(&buf, &len);
    assert_non_null(mem);
    cdc_config_print(&cf, mem);
    assert_int_equal(fclose(mem), 0);

    assert_null(strstr(buf, "topsecret"));
    assert_non_null(strstr(buf, "(set)"));
    assert_non_null(strstr(buf, "env CDC_SOURCE_HOST"));
    assert_non_null(strstr(buf, "3310"));
    assert_non_null(strstr(buf, "cdc.conf:3"));

    free(buf);
    cdc_config_free(&cf);
}


static void
test_origin(void **state)
{
    cdc_config_t  cf;
    char          where[1100], want[1100];

    assert_int_equal(setenv("CDC_SOURCE_HOST", "db.local", 1), 0);
    assert_int_equal(setenv("CDC_SERVICE_ORDERS_BATCH_SIZE", "7", 1), 0);
    assert_int_equal(load_text(&cf, BASE "port = 3310\n[service.orders]\n"
                               "postgres = dbname=o\ntables = shop.orders\n"),
                     0);

    (void) snprintf(want, sizeof(want), "%s:3", conf_path);
    assert_int_equal(cdc_config_origin(&cf, "source", "port", NULL, where,
                                       sizeof(where)), 0);
    assert_string_equal(where, want);

    assert_int_equal(cdc_config_origin(&cf, "source", "host", NULL, where,
                                       sizeof(where)), 0);
    assert_string_equal(where, "environment CDC_SOURCE_HOST");

    assert_int_equal(cdc_config_origin(&cf, "kafka", "linger", NULL, where,
                                       sizeof(where)), 0);
    assert_string_equal(where, "default");

    (void) snprintf(want, sizeof(want), "%s:6", conf_path);
    assert_int_equal(cdc_config_origin(&cf, "service", "tables", "orders",
                                       where, sizeof(where)), 0);
    assert_string_equal(where, want);
    assert_int_equal(cdc_config_origin(&cf, "service", "batch_size",
                                       "orders", where, sizeof(where)), 0);
    assert_string_equal(where, "environment CDC_SERVICE_ORDERS_BATCH_SIZE");

    assert_int_equal(cdc_config_origin(&cf, "source", "colour", NULL, where,
                                       sizeof(where)), -1);
    assert_int_equal(cdc_config_origin(&cf, "service", "tables", "nope",
                                       where, sizeof(where)), -1);

    cdc_config_free(&cf);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_sample_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enum_and_level, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lists_and_maps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_topic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_and_section, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_syntax_and_duplicates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_env_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_defines_service, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print_masks_secrets, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_origin, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
