/*
 * strangler: the routing decision's hash, shared by the nginx module and
 * strangler-ctl --dry-run so that both agree to the bucket.
 *
 *   bucket = hash(route, key) mod 10000
 *   a request goes to the service iff bucket < percent * 100
 *
 * percent is carried as an integer number of hundredths (0..10000), so the
 * comparison is exact.  The hash is FNV-1a 64 over the route name, one 0xff
 * separator byte (it cannot appear in UTF-8 text, so "ab"+"c" and "a"+"bc"
 * differ), and the key, finished with the MurmurHash3 fmix64 mixer so the
 * low digits are uniform.  Changing any of this moves clients between
 * sides on upgrade: never change it.
 */

#ifndef STRANGLER_BUCKET_H
#define STRANGLER_BUCKET_H

#include <stddef.h>
#include <stdint.h>


#define STRANGLER_BUCKETS  10000


static inline uint64_t
strangler_fnv1a(uint64_t h, const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }

    return h;
}


static inline uint32_t
strangler_bucket(const unsigned char *route, size_t route_len,
    const unsigned char *key, size_t key_len)
{
    uint64_t             h;
    static const unsigned char  sep = 0xff;

    h = 0xcbf29ce484222325ULL;
    h = strangler_fnv1a(h, route, route_len);
    h = strangler_fnv1a(h, &sep, 1);
    h = strangler_fnv1a(h, key, key_len);

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;

    return (uint32_t) (h % STRANGLER_BUCKETS);
}


/* percent100: the route's percent in hundredths, 0..10000 */
static inline int
strangler_to_service(uint32_t bucket, uint32_t percent100)
{
    return bucket < percent100;
}


#endif /* STRANGLER_BUCKET_H */
