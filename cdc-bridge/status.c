/*
 * cdc-bridge status [-c FILE] [--json] [--stale SECONDS]
 *
 * The lag table: `run` as its /status on [metrics] listen reports it, and
 * per service its lag file (include/strangler/lagfile.h) and, when the
 * service has a metrics_listen, its sink's /status.  Exit 0 when every
 * part answered and every lag file is fresh, 1 otherwise, 2 on usage or
 * config errors.  Read-only: it talks to nothing but those endpoints.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <strangler/lagfile.h>

#include "clock.h"
#include "commands.h"
#include "config.h"
#include "log.h"


#define CDC_STATUS_TIMEOUT_MS  2000
#define CDC_STATUS_MAX_BODY    (1024 * 1024)


/* wall clock: lag files carry wall-clock updated_ms */
static int64_t
cdc_status_now_ms(void)
{
    return cdc_clock_wall_ms();
}


static int
cdc_status_connect(const char *listen, char *err, size_t errlen)
{
    int               fd, rc, soerr;
    char              host[256];
    size_t            n;
    socklen_t         sl;
    const char       *p, *colon;
    struct pollfd     pfd;
    struct addrinfo   hints, *ai;

    p = listen;

    if (p[0] == '[') {
        colon = strstr(p, "]:");
        if (colon == NULL) {
            return cdc_error(err, errlen, "bad address \"%s\"", listen);
        }
        n = (size_t) (colon - p - 1);
        p++;
        colon++;

    } else {
        colon = strrchr(p, ':');
        if (colon == NULL) {
            return cdc_error(err, errlen, "bad address \"%s\"", listen);
        }
        n = (size_t) (colon - p);
    }

    if (n == 0 || n >= sizeof(host)) {
        return cdc_error(err, errlen, "bad address \"%s\"", listen);
    }

    memcpy(host, p, n);
    host[n] = '\0';

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;

    rc = getaddrinfo(host, colon + 1, &hints, &ai);

    if (rc != 0) {
        return cdc_error(err, errlen, "%s: %s", listen, gai_strerror(rc));
    }

    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);

    if (fd < 0) {
        freeaddrinfo(ai);
        return cdc_error(err, errlen, "socket: %s", strerror(errno));
    }

    rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);

    if (rc != 0 && errno != EINPROGRESS) {
        rc = errno;
        close(fd);
        return cdc_error(err, errlen, "%s: %s", listen, strerror(rc));
    }

    if (rc != 0) {
        pfd.fd = fd;
        pfd.events = POLLOUT;

        if (poll(&pfd, 1, CDC_STATUS_TIMEOUT_MS) != 1) {
            close(fd);
            return cdc_error(err, errlen, "%s: connect timed out", listen);
        }

        soerr = 0;
        sl = sizeof(soerr);

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0
            || soerr != 0)
        {
            close(fd);
            return cdc_error(err, errlen, "%s: %s", listen,
                             strerror(soerr ? soerr : errno));
        }
    }

    return fd;
}


/* GET path from listen; returns the parsed JSON body or NULL with err */
static json_t *
cdc_status_get(const char *listen, const char *path, char *err,
    size_t errlen)
{
    int             fd, rc;
    char            req[512], *buf, *body, *nb;
    size_t          len, cap, off;
    ssize_t         n;
    json_t         *doc;
    json_error_t    jerr;
    struct pollfd   pfd;

    fd = cdc_status_connect(listen, err, errlen);

    if (fd < 0) {
        return NULL;
    }

    rc = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n"
                  "Accept: application/json\r\n\r\n", path, listen);

    if (rc < 0 || (size_t) rc >= sizeof(req)) {
        close(fd);
        (void) cdc_error(err, errlen, "request too long");
        return NULL;
    }

    for (off = 0; off < (size_t) rc; off += (size_t) n) {
        pfd.fd = fd;
        pfd.events = POLLOUT;

        if (poll(&pfd, 1, CDC_STATUS_TIMEOUT_MS) != 1) {
            close(fd);
            (void) cdc_error(err, errlen, "%s: send timed out", listen);
            return NULL;
        }

        n = send(fd, req + off, (size_t) rc - off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                n = 0;
                continue;
            }
            (void) cdc_error(err, errlen, "%s: %s", listen, strerror(errno));
            close(fd);
            return NULL;
        }
    }

    cap = 8192;
    len = 0;
    buf = malloc(cap);

    if (buf == NULL) {
        close(fd);
        (void) cdc_error(err, errlen, "out of memory");
        return NULL;
    }

    for ( ;; ) {
        pfd.fd = fd;
        pfd.events = POLLIN;

        if (poll(&pfd, 1, CDC_STATUS_TIMEOUT_MS) != 1) {
            (void) cdc_error(err, errlen, "%s: no answer within %d ms",
                             listen, CDC_STATUS_TIMEOUT_MS);
            goto failed;
        }

        if (cap - len < 4096) {
            if (cap >= CDC_STATUS_MAX_BODY) {
                (void) cdc_error(err, errlen, "%s: answer too large",
                                 listen);
                goto failed;
            }

            nb = realloc(buf, cap * 2);

            if (nb == NULL) {
                (void) cdc_error(err, errlen, "out of memory");
                goto failed;
            }

            buf = nb;
            cap *= 2;
        }

        n = recv(fd, buf + len, cap - len - 1, 0);

        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            (void) cdc_error(err, errlen, "%s: %s", listen, strerror(errno));
            goto failed;
        }

        if (n == 0) {
            break;
        }

        len += (size_t) n;
    }

    close(fd);
    fd = -1;
    buf[len] = '\0';

    if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0
        || strncmp(buf + 8, " 200", 4) != 0)
    {
        buf[strcspn(buf, "\r\n")] = '\0';
        (void) cdc_error(err, errlen, "%s%s: answered \"%s\"", listen, path,
                         buf);
        goto failed;
    }

    body = strstr(buf, "\r\n\r\n");

    if (body == NULL) {
        (void) cdc_error(err, errlen, "%s%s: no body", listen, path);
        goto failed;
    }

    doc = json_loads(body + 4, 0, &jerr);

    if (doc == NULL || !json_is_object(doc)) {
        json_decref(doc);
        (void) cdc_error(err, errlen, "%s%s: not a JSON object: %s", listen,
                         path, jerr.text);
        goto failed;
    }

    free(buf);

    return doc;

failed:

    if (fd >= 0) {
        close(fd);
    }

    free(buf);

    return NULL;
}


static int
cdc_status_lagfile(const char *path, strangler_lag_t *lag, char *err,
    size_t errlen)
{
    int      fd;
    char     buf[STRANGLER_LAGFILE_MAX];
    ssize_t  n;

    fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return cdc_error(err, errlen, "%s: %s", path, strerror(errno));
    }

    n = read(fd, buf, sizeof(buf));
    close(fd);

    if (n < 0) {
        return cdc_error(err, errlen, "%s: %s", path, strerror(errno));
    }

    if (strangler_lagfile_parse(buf, (size_t) n, lag) != 0) {
        return cdc_error(err, errlen, "%s: not a lag file", path);
    }

    return 0;
}


static void
cdc_status_secs(char *buf, size_t len, int64_t ms)
{
    if (ms < 0) {
        (void) snprintf(buf, len, "-");

    } else if (ms < 100000) {
        (void) snprintf(buf, len, "%.2fs", (double) ms / 1000);

    } else {
        (void) snprintf(buf, len, "%llds", (long long) (ms / 1000));
    }
}


static int64_t
cdc_status_int(json_t *doc, const char *key, int64_t def)
{
    json_t  *v;

    v = doc ? json_object_get(doc, key) : NULL;

    return json_is_integer(v) ? (int64_t) json_integer_value(v) : def;
}


static void
cdc_status_usage(FILE *out)
{
    fprintf(out, "usage: cdc-bridge status [-c FILE] [--json] "
            "[--stale SECONDS]\n"
            "  -c, --config FILE  the file (default %s)\n"
            "      --json         one JSON document instead of the table\n"
            "      --stale S      a lag file older than S seconds means "
            "the sink is down (default 10)\n", CDC_CONFIG_DEFAULT_FILE);
}


int
cdc_cmd_status(int argc, char **argv)
{
    int                  c, as_json, all_ok, up;
    char                 err[2048], lagbuf[32], agebuf[32], line[64];
    char                 runerr[2048];
    char                *text;
    long                 stale_s;
    size_t               i;
    int64_t              now, age, lag_ms, pending;
    json_t              *out, *run, *svcs, *svc, *sink;
    const char          *file, *state, *phase;
    cdc_config_t         cf;
    strangler_lag_t      lag;
    cdc_service_conf_t  *s;

    static const struct option  opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "json", no_argument, NULL, 'j' },
        { "stale", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    file = NULL;
    as_json = 0;
    stale_s = 10;
    optind = 1;

    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            file = optarg;
            break;
        case 'j':
            as_json = 1;
            break;
        case 's':
            stale_s = strtol(optarg, &text, 10);
            if (*optarg == '\0' || *text != '\0' || stale_s < 1
                || stale_s > 86400)
            {
                fprintf(stderr, "cdc-bridge status: bad --stale \"%s\" "
                        "(1..86400 seconds)\n", optarg);
                return 2;
            }
            break;
        case 'h':
            cdc_status_usage(stdout);
            return 0;
        default:
            cdc_status_usage(stderr);
            return 2;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "cdc-bridge status: unexpected argument \"%s\"\n",
                argv[optind]);
        return 2;
    }

    if (cdc_config_load(&cf, file, err, sizeof(err)) != 0) {
        fprintf(stderr, "cdc-bridge status: %s\n", err);
        cdc_config_free(&cf);
        return 2;
    }

    all_ok = 1;
    runerr[0] = '\0';
    now = cdc_status_now_ms();
    out = json_object();
    svcs = json_array();

    if (out == NULL || svcs == NULL) {
        fprintf(stderr, "cdc-bridge status: out of memory\n");
        json_decref(out);
        json_decref(svcs);
        cdc_config_free(&cf);
        return 2;
    }

    /* run */

    run = NULL;

    if (cf.metrics_listen && cf.metrics_listen[0]) {
        run = cdc_status_get(cf.metrics_listen, "/status", err, sizeof(err));

        if (run == NULL) {
            all_ok = 0;
            (void) json_object_set_new(out, "run", json_pack("{s:b,s:s}",
                                       "reachable", 0, "error", err));
        } else {
            (void) json_object_set(run, "reachable", json_true());
            (void) json_object_set(out, "run", run);
        }

    } else {
        (void) json_object_set_new(out, "run", json_pack("{s:b,s:s}",
                                   "reachable", 0, "error",
                                   "no [metrics] listen configured"));
    }

    if (!as_json) {
        printf("%-16s %-14s %10s %10s %10s  %s\n", "COMPONENT", "STATE",
               "LAG", "PENDING", "UPDATED", "NOTE");

        if (run) {
            phase = json_string_value(json_object_get(run, "phase"));
            cdc_status_secs(lagbuf, sizeof(lagbuf),
                            cdc_status_int(run, "source_lag_ms", -1));
            (void) snprintf(line, sizeof(line), "%lld",
                            (long long) cdc_status_int(run, "in_flight", -1));
            printf("%-16s %-14s %10s %10s %10s  %s\n", "run",
                   phase ? phase : "?", lagbuf, line, "now",
                   "pending = produced, not yet acknowledged");

        } else {
            printf("%-16s %-14s %10s %10s %10s  %s\n", "run",
                   cf.metrics_listen && cf.metrics_listen[0]
                   ? "not reachable" : "unknown", "-", "-", "-",
                   cf.metrics_listen && cf.metrics_listen[0]
                   ? err : "no [metrics] listen configured");
        }
    }

    if (run == NULL && cf.metrics_listen && cf.metrics_listen[0]) {
        (void) snprintf(runerr, sizeof(runerr), "%s", err);
    }

    /* services */

    for (i = 0; i < cf.nservices; i++) {
        s = &cf.services[i];
        svc = json_pack("{s:s}", "service", s->name);
        up = 1;
        state = "ok";
        lag_ms = -1;
        pending = -1;
        age = -1;
        err[0] = '\0';
        memset(&lag, 0, sizeof(lag));

        if (s->lag_file == NULL) {
            state = "no lag file";
            (void) json_object_set_new(svc, "lag_file", json_null());

        } else if (cdc_status_lagfile(s->lag_file, &lag, err, sizeof(err))
                   != 0)
        {
            state = "no lag file";
            up = 0;
            (void) json_object_set_new(svc, "lag_file_error",
                                       json_string(err));

        } else {
            age = now - lag.updated_ms;
            lag_ms = lag.lag_ms;
            pending = lag.pending;

            if (age > stale_s * 1000) {
                state = "stale";
                up = 0;
                (void) snprintf(err, sizeof(err), "lag file not updated for "
                                "%llds: is the sink running?",
                                (long long) (age / 1000));

            } else if (lag.lag_ms < 0) {
                state = "starting";
            }

            (void) json_object_set_new(svc, "lag_file", json_pack(
                "{s:s,s:I,s:I,s:I,s:I}", "path", s->lag_file,
                "updated_ms", (json_int_t) lag.updated_ms,
                "lag_ms", (json_int_t) lag.lag_ms,
                "watermark_ms", (json_int_t) lag.watermark_ms,
                "pending", (json_int_t) lag.pending));
        }

        if (s->metrics_listen) {
            sink = cdc_status_get(s->metrics_listen, "/status", err,
                                  sizeof(err));

            if (sink == NULL) {
                up = 0;
                state = "not reachable";
                (void) json_object_set_new(svc, "sink", json_pack(
                    "{s:b,s:s}", "reachable", 0, "error", err));

            } else {
                /* the sink's own numbers are the freshest */
                lag_ms = cdc_status_int(sink, "lag_ms", lag_ms);
                pending = cdc_status_int(sink, "pending", pending);
                age = 0;

                if (strcmp(state, "stale") == 0
                    || strcmp(state, "no lag file") == 0)
                {
                    state = s->lag_file ? "lag file stale" : "ok";
                    up = s->lag_file == NULL;
                }

                (void) json_object_set(sink, "reachable", json_true());
                (void) json_object_set_new(svc, "sink", sink);
            }
        }

        if (strcmp(state, "no lag file") == 0 && s->lag_file == NULL
            && s->metrics_listen == NULL)
        {
            state = "unknown";
            (void) snprintf(err, sizeof(err), "neither lag_file nor "
                            "metrics_listen is set");
            up = 0;
        }

        if (!up) {
            all_ok = 0;
        }

        (void) json_object_set_new(svc, "state", json_string(state));
        (void) json_object_set_new(svc, "ok", json_boolean(up));
        (void) json_object_set_new(svc, "lag_ms", json_integer(lag_ms));
        (void) json_object_set_new(svc, "pending", json_integer(pending));
        (void) json_object_set_new(svc, "age_ms", json_integer(age));
        (void) json_array_append_new(svcs, svc);

        if (!as_json) {
            cdc_status_secs(lagbuf, sizeof(lagbuf), lag_ms);
            cdc_status_secs(agebuf, sizeof(agebuf), age);
            (void) snprintf(line, sizeof(line), "%lld", (long long) pending);

            if (age >= 0) {
                (void) snprintf(agebuf + strlen(agebuf),
                                sizeof(agebuf) - strlen(agebuf), " ago");
            }

            printf("%-16s %-14s %10s %10s %10s  %s\n", s->name, state,
                   lagbuf, pending < 0 ? "-" : line, age < 0 ? "-" : agebuf,
                   up ? "" : err);
        }
    }

    (void) json_object_set_new(out, "services", svcs);
    (void) json_object_set_new(out, "ok", json_boolean(all_ok));
    (void) json_object_set_new(out, "now_ms", json_integer(now));

    if (!as_json && runerr[0]) {
        printf("\nrun: not reachable (%s)\n", runerr);
    }

    if (as_json) {
        text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

        if (text) {
            printf("%s\n", text);
            free(text);
        }
    }

    json_decref(run);
    json_decref(out);
    cdc_config_free(&cf);

    if (fflush(stdout) != 0) {
        return 1;
    }

    return all_ok ? 0 : 1;
}
