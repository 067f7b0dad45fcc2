/*
 * cdc_buf_t: the growable byte buffer JSON text is appended to.  It only
 * grows (doubling), so one buffer reused per event costs no malloc in the
 * steady state.
 */

#include <stdlib.h>

#include "binlog.h"


int
cdc_buf_grow(cdc_buf_t *b, size_t need)
{
    size_t  cap;
    char   *n;

    if (b->cap - b->len >= need) {
        return 0;
    }

    cap = b->cap ? b->cap : 256;
    while (cap - b->len < need) {
        if (cap > ((size_t) -1) / 2) {
            return -1;
        }
        cap *= 2;
    }

    n = realloc(b->data, cap);
    if (n == NULL) {
        return -1;
    }

    b->data = n;
    b->cap = cap;
    return 0;
}


void
cdc_buf_free(cdc_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
