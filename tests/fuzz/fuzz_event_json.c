/*
 * libFuzzer target: what the sink does with one message from a topic,
 * before any SQL: cdc_apply_prepare() (cdc-bridge/sink/apply.c) parses
 * the Debezium envelope with cdc_jv_parse(), finds the mapped table,
 * converts every column with cdc_typemap_value() and builds the row keys.
 *
 * The input is the message value, in a buffer of exactly its size and
 * without a terminating NUL, as librdkafka hands it over.  The sink is a
 * fixed one: service "fuzz" maps shop.orders to public.orders, whose
 * columns cover every conversion kind, with create_tables off (so no
 * PostgreSQL is needed: an unknown column is a dead letter).
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - prepare never asks for PostgreSQL (returns 0);
 *   - a change is either dead-lettered (error and SQLSTATE set) or
 *     complete: an insert/update has its after image and key, a delete
 *     its before image and key, and the key has no NULL column;
 *   - a parsed tree's raw text lies inside the input, strings are
 *     NUL-terminated at their length.
 *
 * Build and run: tests/integration/test_fuzz_smoke.py, docs/reliability.md.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/sink.h"


static cdc_table_map_t     fuzz_map = {
    (char *) "shop", (char *) "orders", (char *) "public", (char *) "orders"
};

static cdc_column_map_t    fuzz_colmap[] = {
    { (char *) "shop", (char *) "orders", (char *) "total",
      (char *) "amount" },
    { (char *) "shop", (char *) "orders", (char *) "legacy_flags", NULL }
};

static cdc_service_conf_t  fuzz_svc;

/* name, type, base type (as the catalog reads them), kind, key position */
#define FUZZ_COL(n, t, b, k, p)                                               \
    { .name = (char *) n, .type = (char *) t, .basetype = (char *) b,         \
      .qname = (char *) "\"" n "\"", .kind = k, .pk = p }

static cdc_sink_col_t      fuzz_cols[] = {
    FUZZ_COL("id", "bigint", "bigint", CDC_PG_NUMBER, 1),
    FUZZ_COL("sku", "text", "text", CDC_PG_TEXT, 2),
    FUZZ_COL("amount", "numeric(12,2)", "numeric", CDC_PG_NUMBER, 0),
    FUZZ_COL("photo", "bytea", "bytea", CDC_PG_BYTEA, 0),
    FUZZ_COL("day", "date", "date", CDC_PG_DATE, 0),
    FUZZ_COL("at", "timestamp(6) without time zone",
             "timestamp without time zone", CDC_PG_TIMESTAMP, 0),
    FUZZ_COL("seen", "timestamp(3) with time zone",
             "timestamp with time zone", CDC_PG_TIMESTAMPTZ, 0),
    FUZZ_COL("took", "interval", "interval", CDC_PG_INTERVAL, 0),
    FUZZ_COL("bits", "bit varying(8)", "bit varying", CDC_PG_BIT, 0),
    FUZZ_COL("doc", "jsonb", "jsonb", CDC_PG_JSON, 0),
    FUZZ_COL("paid", "boolean", "boolean", CDC_PG_BOOL, 0),
    FUZZ_COL("ratio", "real", "real", CDC_PG_FLOAT4, 0),
    FUZZ_COL("score", "double precision", "double precision",
             CDC_PG_FLOAT8, 0)
};

static size_t              fuzz_pk[] = { 0, 1 };

static cdc_sink_table_t    fuzz_table;

/* big (parts[]): static, not on the stack */
static cdc_sink_t          fuzz_sink;
static cdc_sink_batch_t    fuzz_batch;


static void
fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_event_json: %s: %s\n", what, detail);
    abort();
}


static void
fuzz_check_tree(const cdc_jv_t *v, const char *text, size_t len)
{
    for ( /* void */ ; v; v = v->next) {
        if (v->raw < text || v->raw + v->rawlen > text + len) {
            fuzz_fail("raw text outside the input", "");
        }

        if ((v->type == CDC_JV_STRING || v->type == CDC_JV_NUMBER)
            && (v->str == NULL || v->str[v->len] != '\0'))
        {
            fuzz_fail("string not terminated at its length", "");
        }

        fuzz_check_tree(v->child, text, len);
    }
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_svc.name = (char *) "fuzz";
    fuzz_svc.tables = &fuzz_map;
    fuzz_svc.ntables = 1;
    fuzz_svc.columns = fuzz_colmap;
    fuzz_svc.ncolumns = sizeof(fuzz_colmap) / sizeof(fuzz_colmap[0]);
    fuzz_svc.create_tables = 0;
    fuzz_svc.batch_size = 1000;

    fuzz_table.map = &fuzz_map;
    fuzz_table.topic = (char *) "monolith.shop.orders";
    fuzz_table.src = (char *) "shop.orders";
    fuzz_table.qname = (char *) "\"public\".\"orders\"";
    fuzz_table.cols = fuzz_cols;
    fuzz_table.ncols = sizeof(fuzz_cols) / sizeof(fuzz_cols[0]);
    fuzz_table.pk = fuzz_pk;
    fuzz_table.npk = sizeof(fuzz_pk) / sizeof(fuzz_pk[0]);
    fuzz_table.exists = 1;

    fuzz_sink.svc = &fuzz_svc;
    fuzz_sink.tables = &fuzz_table;
    fuzz_sink.ntables = 1;

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc;
    char                *payload, err[512];
    size_t               i;
    cdc_jv_t            *root;
    cdc_jv_arena_t       arena;
    cdc_sink_change_t    c;
    rd_kafka_message_t   msg;

    /* exactly size bytes, no NUL after them: overreads are caught */
    payload = malloc(size ? size : 1);
    if (payload == NULL) {
        return 0;
    }

    if (size) {
        memcpy(payload, data, size);
    }

    /* the parser alone */
    memset(&arena, 0, sizeof(arena));
    root = cdc_jv_parse(&arena, payload, size, err, sizeof(err));
    if (root != NULL) {
        fuzz_check_tree(root, payload, size);
    } else if (err[0] == '\0') {
        fuzz_fail("parse failed without a message", "");
    }
    cdc_jv_arena_free(&arena);

    /* the whole preparation of one change */
    memset(&msg, 0, sizeof(msg));
    msg.payload = payload;
    msg.len = size;

    memset(&c, 0, sizeof(c));
    c.msg = &msg;

    rc = cdc_apply_prepare(&fuzz_sink, &fuzz_batch, &c);

    if (rc != 0) {
        fuzz_fail("prepare wanted PostgreSQL", c.error ? c.error : "");
    }

    if (c.error != NULL) {
        if (c.error[0] == '\0' || c.sqlstate == NULL) {
            fuzz_fail("dead letter without a reason", c.error);
        }

    } else if (c.table != NULL && !c.skip) {
        /* (skipped: older than a truncate event seen before, never
           applied, so it needs no values) */
        if ((c.op == 'c' || c.op == 'r' || c.op == 'u')
            && (c.avals == NULL || c.akey == NULL))
        {
            fuzz_fail("insert/update without a row or key", "");
        }

        if (c.op == 'd' && (c.bvals == NULL || c.bkey == NULL)) {
            fuzz_fail("delete without a row or key", "");
        }

        for (i = 0; i < fuzz_table.npk; i++) {
            if (c.avals && c.avals[fuzz_pk[i]] == NULL) {
                fuzz_fail("NULL key column accepted", "after");
            }

            if (c.bvals && c.bvals[fuzz_pk[i]] == NULL) {
                fuzz_fail("NULL key column accepted", "before");
            }
        }
    }

    free(c.error);
    cdc_jv_arena_free(&fuzz_batch.arena);
    free(payload);

    return 0;
}
