/*
 * The relation cache: what the last Relation message said about each
 * OID.  An open-addressing hash table (linear probing, power-of-two size,
 * at most half full); entries are only added or replaced, never removed,
 * as pgoutput never retracts a relation within a stream.
 */

#include <stdlib.h>

#include "pgoutput_int.h"


struct cdc_pgo_relcache_s {
    cdc_pgo_relation_t  **slots;
    unsigned              size;     /* power of two */
    unsigned              count;
};


void
cdc_pgo_relation_free(cdc_pgo_relation_t *r)
{
    uint16_t  i;

    if (r == NULL) {
        return;
    }

    for (i = 0; r->cols != NULL && i < r->ncols; i++) {
        free(r->cols[i].name);
    }
    free(r->cols);
    free(r->nspname);
    free(r->relname);
    free(r);
}


cdc_pgo_relcache_t *
cdc_pgo_relcache_create(void)
{
    cdc_pgo_relcache_t  *c;

    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }

    c->size = 16;
    c->slots = calloc(c->size, sizeof(*c->slots));
    if (c->slots == NULL) {
        free(c);
        return NULL;
    }

    return c;
}


void
cdc_pgo_relcache_destroy(cdc_pgo_relcache_t *c)
{
    unsigned  i;

    if (c == NULL) {
        return;
    }

    for (i = 0; i < c->size; i++) {
        cdc_pgo_relation_free(c->slots[i]);
    }
    free(c->slots);
    free(c);
}


static unsigned
cdc_pgo_relcache_slot(cdc_pgo_relation_t **slots, unsigned size,
    uint32_t oid)
{
    unsigned  i;

    /* Fibonacci hashing spreads consecutive OIDs */
    i = (unsigned) ((oid * 2654435769u) >> 7) & (size - 1);
    while (slots[i] != NULL && slots[i]->oid != oid) {
        i = (i + 1) & (size - 1);
    }
    return i;
}


static int
cdc_pgo_relcache_grow(cdc_pgo_relcache_t *c)
{
    cdc_pgo_relation_t  **n;
    unsigned              i, size;

    if (c->size > (unsigned) -1 / 4) {
        return -1;
    }

    size = c->size * 2;
    n = calloc(size, sizeof(*n));
    if (n == NULL) {
        return -1;
    }

    for (i = 0; i < c->size; i++) {
        if (c->slots[i] != NULL) {
            n[cdc_pgo_relcache_slot(n, size, c->slots[i]->oid)] =
                c->slots[i];
        }
    }

    free(c->slots);
    c->slots = n;
    c->size = size;
    return 0;
}


const cdc_pgo_relation_t *
cdc_pgo_relcache_get(const cdc_pgo_relcache_t *c, uint32_t oid)
{
    return c->slots[cdc_pgo_relcache_slot(c->slots, c->size, oid)];
}


const cdc_pgo_relation_t *
cdc_pgo_relcache_put(cdc_pgo_relcache_t *c, cdc_pgo_relation_t *r)
{
    unsigned  i;

    i = cdc_pgo_relcache_slot(c->slots, c->size, r->oid);
    if (c->slots[i] != NULL) {
        cdc_pgo_relation_free(c->slots[i]);
        c->slots[i] = r;
        return r;
    }

    if ((c->count + 1) * 2 > c->size) {
        if (cdc_pgo_relcache_grow(c) != 0) {
            cdc_pgo_relation_free(r);
            return NULL;
        }
        i = cdc_pgo_relcache_slot(c->slots, c->size, r->oid);
    }

    c->slots[i] = r;
    c->count++;
    return r;
}


unsigned
cdc_pgo_relcache_count(const cdc_pgo_relcache_t *c)
{
    return c->count;
}
