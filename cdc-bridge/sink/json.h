/*
 * cdc-bridge sink: a small JSON reader for Debezium envelopes.
 *
 * Unlike a general JSON library it keeps every number as the exact text
 * the source wrote, so an unsigned BIGINT up to 2^64-1, a DOUBLE's
 * shortest form or a long DECIMAL reach PostgreSQL digit for digit.
 * Values live in an arena the caller frees in one go (one per batch).
 */

#ifndef CDC_SINK_JSON_H
#define CDC_SINK_JSON_H

#include <stddef.h>
#include <stdint.h>


typedef enum {
    CDC_JV_NULL = 0,
    CDC_JV_FALSE,
    CDC_JV_TRUE,
    CDC_JV_NUMBER,
    CDC_JV_STRING,
    CDC_JV_OBJECT,
    CDC_JV_ARRAY
} cdc_jv_type_t;


typedef struct cdc_jv_s  cdc_jv_t;

struct cdc_jv_s {
    cdc_jv_type_t   type;
    const char       *key;      /* member name in an object, else NULL */
    char             *str;      /* STRING: unescaped UTF-8; NUMBER: its
                                   text; both NUL-terminated */
    size_t            len;
    const char       *raw;      /* the value's text in the input */
    size_t            rawlen;
    cdc_jv_t       *child;    /* first member or element */
    cdc_jv_t       *next;
};


typedef struct cdc_jv_block_s  cdc_jv_block_t;

typedef struct {
    cdc_jv_block_t  *head;
    size_t              used;   /* bytes handed out, for accounting */
} cdc_jv_arena_t;


void *cdc_jv_alloc(cdc_jv_arena_t *a, size_t size);
char *cdc_jv_strndup(cdc_jv_arena_t *a, const char *s, size_t len);
void cdc_jv_arena_free(cdc_jv_arena_t *a);

/*
 * Parses len bytes of text.  Returns the root value, or NULL with
 * "offset N: what" in err.  The input must outlive the tree (raw points
 * into it).
 */
cdc_jv_t *cdc_jv_parse(cdc_jv_arena_t *a, const char *text, size_t len,
    char *err, size_t errlen);

/* The member named key of an object, or NULL. */
cdc_jv_t *cdc_jv_get(const cdc_jv_t *obj, const char *key);

/* A NUMBER (or numeric STRING) member as int64; def when absent. */
int64_t cdc_jv_get_int(const cdc_jv_t *obj, const char *key,
    int64_t def);

/* A STRING member's text, or NULL. */
const char *cdc_jv_get_str(const cdc_jv_t *obj, const char *key);

/*
 * Base64 (RFC 4648, padding optional) to bytes: out must hold
 * len / 4 * 3 + 3 bytes.  Returns the decoded length or -1.
 */
long cdc_jv_base64_decode(const char *in, size_t len, unsigned char *out);


#endif /* CDC_SINK_JSON_H */
