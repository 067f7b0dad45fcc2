/*
 * cdc-bridge sink: MySQL -> PostgreSQL type map and value conversion
 * (see typemap.h).
 */

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sink/typemap.h"


typedef struct {
    const char  *mysql;
    const char  *pg;            /* NULL: decided in code */
} cdc_typemap_entry_t;


static const cdc_typemap_entry_t  cdc_typemap_fixed[] = {
    { "tinyint", "smallint" },
    { "mediumint", "integer" },
    { "float", "real" },
    { "double", "double precision" },
    { "real", "double precision" },
    { "date", "date" },
    { "year", "smallint" },
    { "time", "interval" },
    { "tinytext", "text" },
    { "text", "text" },
    { "mediumtext", "text" },
    { "longtext", "text" },
    { "binary", "bytea" },
    { "varbinary", "bytea" },
    { "tinyblob", "bytea" },
    { "blob", "bytea" },
    { "mediumblob", "bytea" },
    { "longblob", "bytea" },
    { "json", "jsonb" },
    { "enum", "text" },
    { "set", "text" },
    { "geometry", "bytea" },
    { "point", "bytea" },
    { "linestring", "bytea" },
    { "polygon", "bytea" },
    { "multipoint", "bytea" },
    { "multilinestring", "bytea" },
    { "multipolygon", "bytea" },
    { "geometrycollection", "bytea" },
    { "uuid", "uuid" },
    { "inet4", "inet" },
    { "inet6", "inet" },
    { NULL, NULL }
};


static int
cdc_typemap_put(char *buf, size_t len, const char *fmt, long a, long b)
{
    int  n;

    n = snprintf(buf, len, fmt, a, b);

    return (n < 0 || (size_t) n >= len) ? -1 : 0;
}


int
cdc_typemap_pg_type(const cdc_mysql_type_t *t, char *buf, size_t len,
    char *err, size_t errlen)
{
    int                         uns, rc;
    const char                 *dt;
    const cdc_typemap_entry_t  *e;

    dt = t->data_type;
    uns = t->column_type && strstr(t->column_type, "unsigned") != NULL;
    rc = 0;

    if (t->is_json && (strcmp(dt, "longtext") == 0
                       || strcmp(dt, "json") == 0))
    {
        rc = cdc_typemap_put(buf, len, "jsonb", 0, 0);

    } else if (strcmp(dt, "smallint") == 0) {
        rc = cdc_typemap_put(buf, len, uns ? "integer" : "smallint", 0, 0);

    } else if (strcmp(dt, "int") == 0 || strcmp(dt, "integer") == 0) {
        rc = cdc_typemap_put(buf, len, uns ? "bigint" : "integer", 0, 0);

    } else if (strcmp(dt, "bigint") == 0) {
        rc = cdc_typemap_put(buf, len, uns ? "numeric(20)" : "bigint", 0, 0);

    } else if (strcmp(dt, "decimal") == 0 || strcmp(dt, "numeric") == 0) {
        if (t->precision <= 0) {
            rc = cdc_typemap_put(buf, len, "numeric", 0, 0);
        } else {
            rc = cdc_typemap_put(buf, len, "numeric(%ld,%ld)",
                                 t->precision,
                                 t->scale > 0 ? t->scale : 0);
        }

    } else if (strcmp(dt, "bit") == 0) {
        rc = cdc_typemap_put(buf, len, "bit varying(%ld)",
                             t->precision > 0 ? t->precision : 1, 0);

    } else if (strcmp(dt, "datetime") == 0) {
        rc = cdc_typemap_put(buf, len, "timestamp(%ld) without time zone",
                             t->fsp > 0 ? t->fsp : 0, 0);

    } else if (strcmp(dt, "timestamp") == 0) {
        rc = cdc_typemap_put(buf, len, "timestamp(%ld) with time zone",
                             t->fsp > 0 ? t->fsp : 0, 0);

    } else if (strcmp(dt, "char") == 0 || strcmp(dt, "varchar") == 0) {
        if (t->char_length > 0 && t->char_length <= 10485760) {
            rc = cdc_typemap_put(buf, len, "varchar(%ld)", t->char_length,
                                 0);
        } else {
            rc = cdc_typemap_put(buf, len, "text", 0, 0);
        }

    } else {
        for (e = cdc_typemap_fixed; e->mysql; e++) {
            if (strcmp(dt, e->mysql) == 0) {
                break;
            }
        }

        if (e->mysql == NULL) {
            return cdc_error(err, errlen, "unsupported MySQL type \"%s\"",
                             t->column_type ? t->column_type : dt);
        }

        rc = cdc_typemap_put(buf, len, e->pg, 0, 0);
    }

    if (rc != 0) {
        return cdc_error(err, errlen, "type of \"%s\" too long",
                         t->column_type ? t->column_type : dt);
    }

    return 0;
}


cdc_pg_kind_t
cdc_typemap_kind(const char *t)
{
    if (strcmp(t, "bytea") == 0) {
        return CDC_PG_BYTEA;
    }

    if (strcmp(t, "date") == 0) {
        return CDC_PG_DATE;
    }

    if (strncmp(t, "timestamp", 9) == 0) {
        return strstr(t, "with time zone") && !strstr(t, "without")
               ? CDC_PG_TIMESTAMPTZ : CDC_PG_TIMESTAMP;
    }

    if (strncmp(t, "interval", 8) == 0) {
        return CDC_PG_INTERVAL;
    }

    if (strncmp(t, "bit", 3) == 0) {
        return CDC_PG_BIT;
    }

    if (strcmp(t, "json") == 0 || strcmp(t, "jsonb") == 0) {
        return CDC_PG_JSON;
    }

    if (strcmp(t, "boolean") == 0) {
        return CDC_PG_BOOL;
    }

    if (strcmp(t, "real") == 0) {
        return CDC_PG_FLOAT4;
    }

    if (strcmp(t, "double precision") == 0) {
        return CDC_PG_FLOAT8;
    }

    if (strcmp(t, "inet") == 0 || strcmp(t, "cidr") == 0) {
        return CDC_PG_INET;
    }

    if (strcmp(t, "uuid") == 0) {
        return CDC_PG_UUID;
    }

    if (strcmp(t, "smallint") == 0 || strcmp(t, "integer") == 0
        || strcmp(t, "bigint") == 0 || strncmp(t, "numeric", 7) == 0)
    {
        return CDC_PG_NUMBER;
    }

    return CDC_PG_TEXT;
}


static int
cdc_typemap_zero2(const char *s)
{
    return s[0] == '0' && s[1] == '0';
}


int
cdc_typemap_zero_date(const char *s, size_t len)
{
    /* YYYY-MM-DD... : year 0, month 0 or day 0 */
    if (len < 10 || s[4] != '-' || s[7] != '-') {
        return 0;
    }

    return (cdc_typemap_zero2(s) && cdc_typemap_zero2(s + 2))
           || cdc_typemap_zero2(s + 5) || cdc_typemap_zero2(s + 8);
}


static int
cdc_typemap_bytea(const char *b64, size_t len, cdc_jv_arena_t *a,
    const char **out, size_t *outlen, char *err, size_t errlen)
{
    long                  n, i;
    char                 *hex;
    unsigned char        *bin;
    static const char     digits[] = "0123456789abcdef";

    bin = cdc_jv_alloc(a, len / 4 * 3 + 3);
    if (bin == NULL) {
        return cdc_error(err, errlen, "out of memory");
    }

    n = cdc_jv_base64_decode(b64, len, bin);
    if (n < 0) {
        return cdc_error(err, errlen, "bad base64 \"%.32s\"", b64);
    }

    hex = cdc_jv_alloc(a, (size_t) n * 2 + 3);
    if (hex == NULL) {
        return cdc_error(err, errlen, "out of memory");
    }

    hex[0] = '\\';
    hex[1] = 'x';

    for (i = 0; i < n; i++) {
        hex[2 + 2 * i] = digits[bin[i] >> 4];
        hex[3 + 2 * i] = digits[bin[i] & 0xf];
    }

    hex[2 + 2 * n] = '\0';
    *out = hex;
    *outlen = (size_t) n * 2 + 2;

    return 0;
}


/* how much of a value's input text an error quotes: it is not terminated */

static int
cdc_typemap_quote_len(const cdc_jv_t *v)
{
    return v->rawlen < 64 ? (int) v->rawlen : 64;
}


int
cdc_typemap_value(const cdc_jv_t *v, cdc_pg_kind_t kind, cdc_jv_arena_t *a,
    const char **out, size_t *outlen, char *err, size_t errlen)
{
    cdc_jv_t  *wkb;

    *out = NULL;
    *outlen = 0;

    if (v == NULL || v->type == CDC_JV_NULL) {
        return 0;
    }

    switch (kind) {

    case CDC_PG_BYTEA:
        if (v->type == CDC_JV_OBJECT) {
            wkb = cdc_jv_get(v, "wkb");
            if (wkb == NULL || wkb->type != CDC_JV_STRING) {
                return cdc_error(err, errlen,
                                 "geometry without \"wkb\": %.*s",
                                 cdc_typemap_quote_len(v), v->raw);
            }
            return cdc_typemap_bytea(wkb->str, wkb->len, a, out, outlen,
                                     err, errlen);
        }

        if (v->type != CDC_JV_STRING) {
            return cdc_error(err, errlen, "bytea needs base64, got %.*s",
                             cdc_typemap_quote_len(v), v->raw);
        }

        return cdc_typemap_bytea(v->str, v->len, a, out, outlen, err,
                                 errlen);

    case CDC_PG_DATE:
    case CDC_PG_TIMESTAMP:
    case CDC_PG_TIMESTAMPTZ:
        if (v->type == CDC_JV_STRING
            && cdc_typemap_zero_date(v->str, v->len))
        {
            return 0;
        }
        break;

    case CDC_PG_JSON:
        if (v->type == CDC_JV_OBJECT && cdc_jv_get(v, "json_diff")) {
            return cdc_error(err, errlen, "a partial JSON update "
                             "(json_diff) cannot be applied without the "
                             "document: the source needs "
                             "binlog_row_image=FULL");
        }
        break;

    case CDC_PG_BOOL:
        if (v->type == CDC_JV_NUMBER) {
            *out = strcmp(v->str, "0") == 0 ? "f" : "t";
            *outlen = 1;
            return 0;
        }
        break;

    default:
        break;
    }

    if (v->type == CDC_JV_OBJECT || v->type == CDC_JV_ARRAY) {
        *out = cdc_jv_strndup(a, v->raw, v->rawlen);
        if (*out == NULL) {
            return cdc_error(err, errlen, "out of memory");
        }
        *outlen = v->rawlen;
        return 0;
    }

    *out = v->str;
    *outlen = v->len;

    return 0;
}
