/*
 * libFuzzer target: the pgoutput decoder (cdc-bridge/pgoutput/).
 *
 * The first byte picks what the rest is:
 *   0: a stream of pgoutput messages, each preceded by its length (2
 *      bytes, big-endian), decoded in order by one decoder, so Relation
 *      messages fill the cache that Insert/Update/Delete then use;
 *   1: one CopyData message of the replication stream; an XLogData's
 *      payload is decoded as a pgoutput message too;
 *   2: LSN text.
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - a failed call always says why (err not empty);
 *   - a decoded change has as many columns as its cached relation, and
 *     every value lies inside the input message;
 *   - a decoded Relation is what the cache returns for its OID;
 *   - an LSN that parses formats back to text that parses to it.
 *
 * Seeds: tests/fuzz/corpus/pgoutput/.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgoutput/pgoutput.h"


static void
check_tuple(const cdc_pgo_relation_t *rel, const cdc_pgo_tuple_t *t,
    const uint8_t *p, size_t len)
{
    const cdc_pgo_value_t  *v;
    uint16_t                i;

    if (t->ncols != rel->ncols) {
        abort();
    }

    for (i = 0; i < t->ncols; i++) {
        v = &t->cols[i];
        if (v->kind != CDC_PGO_TEXT && v->kind != CDC_PGO_BINARY) {
            continue;
        }
        if (v->p < p || v->len > len || v->p + v->len > p + len) {
            abort();
        }
    }
}


static void
check_msg(cdc_pgo_t *d, const cdc_pgo_msg_t *m, const uint8_t *p,
    size_t len)
{
    switch (m->type) {
    case CDC_PGO_RELATION:
        if (cdc_pgo_relation(d, m->u.relation->oid) != m->u.relation) {
            abort();
        }
        break;
    case CDC_PGO_INSERT:
    case CDC_PGO_UPDATE:
    case CDC_PGO_DELETE:
        if (m->u.change.old_kind) {
            check_tuple(m->u.change.rel, &m->u.change.old, p, len);
        }
        if (m->type != CDC_PGO_DELETE) {
            check_tuple(m->u.change.rel, &m->u.change.new, p, len);
        }
        break;
    default:
        break;
    }
}


static void
decode_one(cdc_pgo_t *d, const uint8_t *p, size_t len)
{
    cdc_pgo_msg_t  m;
    uint8_t       *copy;
    char           err[256];

    /* an exact-size copy: a read past the end is an ASan report */
    copy = malloc(len ? len : 1);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, p, len);

    err[0] = '\0';
    if (cdc_pgo_decode(d, copy, len, &m, err, sizeof(err)) == 0) {
        check_msg(d, &m, copy, len);
    } else if (err[0] == '\0') {
        abort();
    }

    free(copy);
}


static void
fuzz_stream(const uint8_t *p, size_t size)
{
    cdc_pgo_t  *d;
    char        err[256];
    size_t      len;

    d = cdc_pgo_create(err, sizeof(err));
    if (d == NULL) {
        abort();
    }

    while (size >= 2) {
        len = (size_t) p[0] << 8 | p[1];
        p += 2;
        size -= 2;
        if (len > size) {
            len = size;
        }
        decode_one(d, p, len);
        p += len;
        size -= len;
    }

    cdc_pgo_destroy(d);
}


static void
fuzz_copy(const uint8_t *p, size_t size)
{
    cdc_pgo_copy_t   c;
    cdc_pgo_t       *d;
    char             err[256];

    err[0] = '\0';
    if (cdc_pgo_copy_parse(&c, p, size, err, sizeof(err)) != 0) {
        if (err[0] == '\0') {
            abort();
        }
        return;
    }

    if (c.kind != 'w') {
        return;
    }
    if (c.data < p || c.data + c.len != p + size) {
        abort();
    }

    d = cdc_pgo_create(err, sizeof(err));
    if (d == NULL) {
        abort();
    }
    decode_one(d, c.data, c.len);
    cdc_pgo_destroy(d);
}


static void
fuzz_lsn(const uint8_t *p, size_t size)
{
    char      text[64], back[CDC_PGO_LSN_STRLEN], err[256];
    uint64_t  lsn, again;

    if (size >= sizeof(text)) {
        size = sizeof(text) - 1;
    }
    memcpy(text, p, size);
    text[size] = '\0';

    err[0] = '\0';
    if (cdc_pgo_lsn_parse(text, &lsn, err, sizeof(err)) != 0) {
        if (err[0] == '\0') {
            abort();
        }
        return;
    }

    cdc_pgo_lsn_format(lsn, back);
    if (cdc_pgo_lsn_parse(back, &again, err, sizeof(err)) != 0
        || again != lsn)
    {
        fprintf(stderr, "LSN %s printed as %s\n", text, back);
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }

    switch (data[0] % 3) {
    case 0:
        fuzz_stream(data + 1, size - 1);
        break;
    case 1:
        fuzz_copy(data + 1, size - 1);
        break;
    default:
        fuzz_lsn(data + 1, size - 1);
        break;
    }

    return 0;
}
