/*
 * libFuzzer target: the percent a route is given, parsed by the two
 * programs that must agree on it, and the split decision made with it.
 *
 *   ngx_http_strangler_route_parse_percent()  the module, reading
 *                                             "percent 12.5;" (nginx -t)
 *   ctl_percent_parse(), ctl_percent_str()    strangler-ctl, reading and
 *                                             rewriting the same line
 *   strangler_bucket(), strangler_to_service() include/strangler/bucket.h
 *
 * Properties checked:
 *   - every value the module accepts, strangler-ctl reads as the same
 *     number of hundredths (so `strangler-ctl --dry-run` predicts nginx);
 *   - every value strangler-ctl writes (ctl_percent_str of what it
 *     parsed) is accepted by the module as the same number;
 *   - nothing accepted is outside 0..10000 hundredths;
 *   - the bucket of (route, key) split from the input is in 0..9999 and
 *     the decision is monotone: on the service side at p, also at every
 *     p' > p (raising a percent only moves legacy -> service).
 *
 * The module's file is compiled with the nginx headers and linked into a
 * non-PIE executable with nginx's core left unresolved
 * (-Wl,--unresolved-symbols=ignore-all): only the pure parse function is
 * reached, and a call into the missing core would crash, not pass.
 * Build and run: tests/integration/test_fuzz_smoke.py, docs/reliability.md.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_strangler_module.h"
#include "ngx_http_strangler_route.h"

#include "ctl.h"
#include "strangler/bucket.h"


static void
fuzz_fail(const char *what, const uint8_t *data, size_t size, long a,
    long b)
{
    fprintf(stderr, "fuzz_percent: %s for \"%.*s\": %ld vs %ld\n", what,
            (int) size, (const char *) data, a, b);
    abort();
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int         rc;
    char       *copy, buf[32];
    size_t      half;
    uint32_t    bucket, ctl, again;
    ngx_int_t   mod, p;
    ngx_str_t   value;

    /* an exact-size copy: an overread of the value is caught */
    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);

    value.data = (u_char *) copy;
    value.len = size;

    mod = ngx_http_strangler_route_parse_percent(&value);
    rc = ctl_percent_parse(copy, size, &ctl);

    if (mod != NGX_ERROR) {
        if (mod < 0 || mod > 10000) {
            fuzz_fail("module accepted out of range", data, size, mod, 0);
        }

        if (rc != 0) {
            fuzz_fail("module accepts, strangler-ctl rejects", data, size,
                      mod, -1);
        }

        if ((uint32_t) mod != ctl) {
            fuzz_fail("module and strangler-ctl differ", data, size, mod,
                      (long) ctl);
        }
    }

    if (rc == 0) {
        if (ctl > 10000) {
            fuzz_fail("strangler-ctl accepted out of range", data, size,
                      (long) ctl, 0);
        }

        (void) ctl_percent_str(ctl, buf, sizeof(buf));

        value.data = (u_char *) buf;
        value.len = strlen(buf);

        if (ngx_http_strangler_route_parse_percent(&value) != (ngx_int_t) ctl)
        {
            fuzz_fail("module rejects what strangler-ctl writes", data,
                      size, (long) ctl, 0);
        }

        if (ctl_percent_parse(buf, strlen(buf), &again) != 0
            || again != ctl)
        {
            fuzz_fail("strangler-ctl does not read back what it writes",
                      data, size, (long) ctl, (long) again);
        }
    }

    /* the decision: route name and key from the two halves of the input */
    half = size / 2;
    bucket = strangler_bucket(data, half, data + half, size - half);

    if (bucket >= STRANGLER_BUCKETS) {
        fuzz_fail("bucket out of range", data, size, (long) bucket, 0);
    }

    for (p = 0; p < 10000; p += 97) {
        if (strangler_to_service(bucket, (uint32_t) p)
            && !strangler_to_service(bucket, (uint32_t) p + 1))
        {
            fuzz_fail("decision not monotone", data, size, (long) bucket,
                      (long) p);
        }
    }

    if (!strangler_to_service(bucket, 10000)
        || strangler_to_service(bucket, 0))
    {
        fuzz_fail("0% or 100% not absolute", data, size, (long) bucket, 0);
    }

    free(copy);

    return 0;
}
