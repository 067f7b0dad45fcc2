/*
 * MySQL binary DECIMAL (NEWDECIMAL): groups of nine digits in four bytes,
 * big-endian, a leading partial group for the rest; the sign is the top
 * bit of the first byte (set: positive); negative values are stored with
 * every byte inverted.  Printed exactly, with the column's scale.
 */

#include <string.h>

#include "binlog_int.h"


static const unsigned  cdc_dig2bytes[10] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 4 };
static const uint32_t  cdc_pow10[10] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
    1000000000
};


size_t
cdc_binlog_decimal_size(unsigned precision, unsigned scale)
{
    unsigned  intg, frac;

    if (scale > precision) {
        return 0;
    }

    intg = precision - scale;
    frac = scale;

    return (intg / 9) * 4 + cdc_dig2bytes[intg % 9] + (frac / 9) * 4
           + cdc_dig2bytes[frac % 9];
}


/* appends v as exactly width digits (width 0: no padding) */
static char *
cdc_put_digits(char *o, uint32_t v, unsigned width)
{
    char      tmp[10];
    unsigned  n;

    n = 0;
    do {
        tmp[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    while (n < width) {
        tmp[n++] = '0';
    }

    while (n) {
        *o++ = tmp[--n];
    }

    return o;
}


int
cdc_binlog_decimal_to_str(const uint8_t *p, size_t len,
    unsigned precision, unsigned scale, char *buf, size_t buflen,
    char *err, size_t errlen)
{
    uint8_t    d[40];
    unsigned   intg, intg0, intg0x, frac0, frac0x, i, n, nz;
    size_t     size, k;
    uint32_t   x;
    int        neg;
    char      *o, *digits;

    if (precision == 0 || precision > 65 || scale > 30 || scale > precision)
    {
        return cdc_bl_error(err, errlen, "DECIMAL(%u,%u): bad precision or "
                            "scale", precision, scale);
    }

    size = cdc_binlog_decimal_size(precision, scale);
    if (len < size || size > sizeof(d) || buflen < 84) {
        return cdc_bl_error(err, errlen, "DECIMAL(%u,%u): needs %zu bytes, "
                            "%zu given", precision, scale, size, len);
    }

    intg = precision - scale;
    intg0 = intg / 9;
    intg0x = intg % 9;
    frac0 = scale / 9;
    frac0x = scale % 9;

    memcpy(d, p, size);
    neg = !(d[0] & 0x80);
    d[0] ^= 0x80;
    if (neg) {
        for (k = 0; k < size; k++) {
            d[k] ^= 0xff;
        }
    }

    o = buf;
    *o++ = '-';
    digits = o;
    k = 0;
    nz = 0;

    if (intg0x) {
        n = cdc_dig2bytes[intg0x];
        x = (uint32_t) cdc_be(d, n);
        k += n;
        if (x >= cdc_pow10[intg0x]) {
            goto corrupt;
        }
        if (x) {
            o = cdc_put_digits(o, x, 0);
            nz = 1;
        }
    }

    for (i = 0; i < intg0; i++) {
        x = (uint32_t) cdc_be(d + k, 4);
        k += 4;
        if (x >= cdc_pow10[9]) {
            goto corrupt;
        }
        if (nz) {
            o = cdc_put_digits(o, x, 9);
        } else if (x) {
            o = cdc_put_digits(o, x, 0);
            nz = 1;
        }
    }

    if (o == digits) {
        *o++ = '0';
    }

    if (scale) {
        *o++ = '.';
        for (i = 0; i < frac0; i++) {
            x = (uint32_t) cdc_be(d + k, 4);
            k += 4;
            if (x >= cdc_pow10[9]) {
                goto corrupt;
            }
            nz |= x != 0;
            o = cdc_put_digits(o, x, 9);
        }

        if (frac0x) {
            n = cdc_dig2bytes[frac0x];
            x = (uint32_t) cdc_be(d + k, n);
            if (x >= cdc_pow10[frac0x]) {
                goto corrupt;
            }
            nz |= x != 0;
            o = cdc_put_digits(o, x, frac0x);
        }
    }

    *o = '\0';

    if (!neg || !nz) {
        memmove(buf, digits, (size_t) (o - digits) + 1);
        return (int) (o - digits);
    }

    return (int) (o - buf);

corrupt:

    return cdc_bl_error(err, errlen, "DECIMAL(%u,%u): corrupt digit group "
                        "%u", precision, scale, x);
}
