/*
 * cdc-bridge dev-kafka [--brokers N] [--partitions P] [--topics t1,t2]
 *
 * An in-memory Kafka for tests and demos: librdkafka's mock cluster
 * (rdkafka_mock.h), which speaks the real protocol on random loopback
 * ports.  The first line of stdout is "bootstrap.servers=HOST:PORT[,…]";
 * then it reads control commands on stdin, one per line, and answers each
 * with one line on stdout starting with "ok" or "error":
 *
 *   ping                          ok pong
 *   down BROKER_ID | up BROKER_ID the broker refuses / accepts connections
 *   down-all | up-all             every broker
 *   rtt BROKER_ID MS              delay every answer of the broker
 *   push-errors API ERR [ERR…]    the next requests of API (Produce, Fetch,
 *                                 … or its number) fail with ERR (a name
 *                                 like NOT_LEADER_FOR_PARTITION or a
 *                                 number), one per request
 *   create-topic NAME PARTITIONS  create a topic with that many partitions
 *
 * EOF on stdin stops the reading, not the broker: it runs until SIGINT or
 * SIGTERM.  Broker ids are 1..N.  Limits of the mock, documented in
 * docs/cdc-bridge.md: memory only; each partition keeps only about the
 * last 5 MiB of messages; auto-created topics get 4 partitions (so topics
 * that carry load are created here, with --topics or create-topic); no
 * Admin API, no TLS/SASL.
 */

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "commands.h"
#include "log.h"


#define CDC_DEV_LINE   1024
#define CDC_DEV_ERRS   64


typedef struct {
    rd_kafka_t               *rk;
    rd_kafka_mock_cluster_t  *mc;
    int                       brokers;
    int                       partitions;
} cdc_dev_kafka_t;


typedef struct {
    const char  *name;
    int16_t      key;
} cdc_dev_api_t;


static volatile sig_atomic_t  cdc_dev_stop;


static const cdc_dev_api_t  cdc_dev_apis[] = {
    { "Produce", 0 },
    { "Fetch", 1 },
    { "ListOffsets", 2 },
    { "Metadata", 3 },
    { "OffsetCommit", 8 },
    { "OffsetFetch", 9 },
    { "FindCoordinator", 10 },
    { "JoinGroup", 11 },
    { "Heartbeat", 12 },
    { "LeaveGroup", 13 },
    { "SyncGroup", 14 },
    { "ApiVersions", 18 },
    { "InitProducerId", 22 },
    { NULL, 0 }
};


static void
cdc_dev_signal(int signo)
{
    cdc_dev_stop = 1;
}


static void
cdc_dev_log(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
    if (strcmp(fac, "CONFWARN") == 0) {
        return;                 /* "no bootstrap.servers": by design */
    }

    cdc_log(level <= 3 ? CDC_LOG_ERROR : level <= 4 ? CDC_LOG_WARN
            : level <= 6 ? CDC_LOG_INFO : CDC_LOG_DEBUG,
            "mock: %s: %s", fac, buf);
}


static void
cdc_dev_reply(const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    (void) vfprintf(stdout, fmt, ap);
    va_end(ap);

    (void) fputc('\n', stdout);
    (void) fflush(stdout);
}


static int
cdc_dev_number(const char *s, long min, long max, long *out)
{
    long   n;
    char  *end;

    if (s == NULL || *s == '\0') {
        return -1;
    }

    errno = 0;
    n = strtol(s, &end, 10);

    if (errno != 0 || *end != '\0' || n < min || n > max) {
        return -1;
    }

    *out = n;

    return 0;
}


static int
cdc_dev_broker(cdc_dev_kafka_t *dk, const char *s, int32_t *id)
{
    long  n;

    if (cdc_dev_number(s, 1, dk->brokers, &n) != 0) {
        cdc_dev_reply("error bad broker id \"%s\" (1..%d)", s ? s : "",
                      dk->brokers);
        return -1;
    }

    *id = (int32_t) n;

    return 0;
}


static int
cdc_dev_api(const char *s, int16_t *key)
{
    long                  n;
    const cdc_dev_api_t  *a;

    for (a = cdc_dev_apis; a->name; a++) {
        if (strcasecmp(s, a->name) == 0) {
            *key = a->key;
            return 0;
        }
    }

    if (cdc_dev_number(s, 0, 100, &n) != 0) {
        return -1;
    }

    *key = (int16_t) n;

    return 0;
}


static int
cdc_dev_errcode(const char *s, rd_kafka_resp_err_t *code)
{
    long                             n;
    size_t                           i, cnt;
    const struct rd_kafka_err_desc  *descs;

    if (cdc_dev_number(s, -200, 1000, &n) == 0) {
        *code = (rd_kafka_resp_err_t) n;
        return 0;
    }

    if (strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0) {
        s += 18;
    }

    rd_kafka_get_err_descs(&descs, &cnt);

    for (i = 0; i < cnt; i++) {
        if (descs[i].name && strcasecmp(descs[i].name, s) == 0) {
            *code = descs[i].code;
            return 0;
        }
    }

    return -1;
}


static void
cdc_dev_command(cdc_dev_kafka_t *dk, char *line)
{
    int                  n;
    long                 ms, parts;
    char                *argv[CDC_DEV_ERRS + 2], *save, *tok;
    int32_t              id;
    int16_t              api;
    rd_kafka_resp_err_t  err, errs[CDC_DEV_ERRS];

    n = 0;

    for (tok = strtok_r(line, " \t\r", &save); tok && n < CDC_DEV_ERRS + 2;
         tok = strtok_r(NULL, " \t\r", &save))
    {
        argv[n++] = tok;
    }

    if (n == 0) {
        return;                 /* blank line: no answer expected */
    }

    if (strcmp(argv[0], "ping") == 0 && n == 1) {
        cdc_dev_reply("ok pong");
        return;
    }

    if ((strcmp(argv[0], "down") == 0 || strcmp(argv[0], "up") == 0)
        && n == 2)
    {
        if (cdc_dev_broker(dk, argv[1], &id) != 0) {
            return;
        }

        err = argv[0][0] == 'd' ? rd_kafka_mock_broker_set_down(dk->mc, id)
                                : rd_kafka_mock_broker_set_up(dk->mc, id);
        goto done;
    }

    if (strcmp(argv[0], "down-all") == 0 && n == 1) {
        err = rd_kafka_mock_broker_set_down(dk->mc, -1);
        goto done;
    }

    if (strcmp(argv[0], "up-all") == 0 && n == 1) {
        err = rd_kafka_mock_broker_set_up(dk->mc, -1);
        goto done;
    }

    if (strcmp(argv[0], "rtt") == 0 && n == 3) {
        if (cdc_dev_broker(dk, argv[1], &id) != 0) {
            return;
        }

        if (cdc_dev_number(argv[2], 0, 600000, &ms) != 0) {
            cdc_dev_reply("error bad rtt \"%s\" (0..600000 ms)", argv[2]);
            return;
        }

        err = rd_kafka_mock_broker_set_rtt(dk->mc, id, (int) ms);
        goto done;
    }

    if (strcmp(argv[0], "push-errors") == 0 && n >= 3) {
        if (cdc_dev_api(argv[1], &api) != 0) {
            cdc_dev_reply("error unknown api \"%s\" (Produce, Fetch, "
                          "Metadata, … or a number)", argv[1]);
            return;
        }

        if (n - 2 > CDC_DEV_ERRS) {
            cdc_dev_reply("error at most %d error codes", CDC_DEV_ERRS);
            return;
        }

        for (id = 2; id < n; id++) {
            if (cdc_dev_errcode(argv[id], &errs[id - 2]) != 0) {
                cdc_dev_reply("error unknown error code \"%s\"", argv[id]);
                return;
            }
        }

        rd_kafka_mock_push_request_errors_array(dk->mc, api,
                                                (size_t) (n - 2), errs);
        cdc_dev_reply("ok %d errors pushed for api %d", n - 2, (int) api);
        return;
    }

    if (strcmp(argv[0], "create-topic") == 0 && n == 3) {
        if (cdc_dev_number(argv[2], 1, 10000, &parts) != 0) {
            cdc_dev_reply("error bad partition count \"%s\" (1..10000)",
                          argv[2]);
            return;
        }

        err = rd_kafka_mock_topic_create(dk->mc, argv[1], (int) parts, 1);

        if (err) {
            cdc_dev_reply("error create-topic %s: %s", argv[1],
                          rd_kafka_err2str(err));
            return;
        }

        cdc_dev_reply("ok topic %s partitions %ld", argv[1], parts);
        return;
    }

    cdc_dev_reply("error unknown command \"%s\" or wrong arguments (ping, "
                  "down ID, up ID, down-all, up-all, rtt ID MS, push-errors "
                  "API ERR…, create-topic NAME PARTITIONS)", argv[0]);
    return;

done:

    if (err) {
        cdc_dev_reply("error %s: %s", argv[0], rd_kafka_err2str(err));
        return;
    }

    cdc_dev_reply("ok");
}


static int
cdc_dev_topics(cdc_dev_kafka_t *dk, const char *list)
{
    char                 *copy, *tok, *save, *p;
    rd_kafka_resp_err_t   err;

    copy = strdup(list);

    if (copy == NULL) {
        return -1;
    }

    for (p = copy; (tok = strtok_r(p, ", ", &save)) != NULL; p = NULL) {
        err = rd_kafka_mock_topic_create(dk->mc, tok, dk->partitions, 1);

        if (err) {
            cdc_log_error("dev-kafka: topic \"%s\": %s", tok,
                          rd_kafka_err2str(err));
            free(copy);
            return -1;
        }
    }

    free(copy);

    return 0;
}


static void
cdc_dev_usage(FILE *out)
{
    fprintf(out, "usage: cdc-bridge dev-kafka [--brokers N] [--partitions P]"
            " [--topics t1,t2]\n"
            "  --brokers N      mock brokers, ids 1..N (default 1)\n"
            "  --partitions P   partitions of the --topics (default 16)\n"
            "  --topics LIST    topics to create at start, comma separated\n"
            "Prints bootstrap.servers=HOST:PORT first; reads control "
            "commands on stdin (see docs/cdc-bridge.md).\n");
}


int
cdc_cmd_dev_kafka(int argc, char **argv)
{
    int                 c, stdin_open, rc;
    long                n;
    char                buf[CDC_DEV_LINE], errstr[512], *nl;
    size_t              used;
    ssize_t             r;
    const char         *topics;
    struct pollfd       pfd;
    rd_kafka_conf_t    *conf;
    cdc_dev_kafka_t     dk;
    struct sigaction    sa;

    static const struct option  opts[] = {
        { "brokers", required_argument, NULL, 'b' },
        { "partitions", required_argument, NULL, 'p' },
        { "topics", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(&dk, 0, sizeof(dk));
    dk.brokers = 1;
    dk.partitions = 16;
    topics = NULL;
    optind = 1;

    while ((c = getopt_long(argc, argv, "b:p:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (cdc_dev_number(optarg, 1, 16, &n) != 0) {
                fprintf(stderr, "cdc-bridge dev-kafka: bad --brokers \"%s\" "
                        "(1..16)\n", optarg);
                return 2;
            }
            dk.brokers = (int) n;
            break;
        case 'p':
            if (cdc_dev_number(optarg, 1, 10000, &n) != 0) {
                fprintf(stderr, "cdc-bridge dev-kafka: bad --partitions "
                        "\"%s\" (1..10000)\n", optarg);
                return 2;
            }
            dk.partitions = (int) n;
            break;
        case 't':
            topics = optarg;
            break;
        case 'h':
            cdc_dev_usage(stdout);
            return 0;
        default:
            cdc_dev_usage(stderr);
            return 2;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "cdc-bridge dev-kafka: unexpected argument \"%s\"\n",
                argv[optind]);
        return 2;
    }

    cdc_log_set_ident("dev-kafka");

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = cdc_dev_signal;
    sigemptyset(&sa.sa_mask);

    if (sigaction(SIGINT, &sa, NULL) != 0
        || sigaction(SIGTERM, &sa, NULL) != 0)
    {
        cdc_log_error("sigaction: %s", strerror(errno));
        return 1;
    }

    /* a reader that went away must not kill the broker */
    (void) signal(SIGPIPE, SIG_IGN);

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, cdc_dev_log);

    /* the handle only hosts the mock cluster's threads; conf is its now */
    dk.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));

    if (dk.rk == NULL) {
        rd_kafka_conf_destroy(conf);
        cdc_log_error("rd_kafka_new: %s", errstr);
        return 1;
    }

    dk.mc = rd_kafka_mock_cluster_new(dk.rk, dk.brokers);

    if (dk.mc == NULL) {
        cdc_log_error("cannot create the mock cluster");
        rd_kafka_destroy(dk.rk);
        return 1;
    }

    rc = 1;

    if (topics && cdc_dev_topics(&dk, topics) != 0) {
        goto done;
    }

    printf("bootstrap.servers=%s\n",
           rd_kafka_mock_cluster_bootstraps(dk.mc));

    if (fflush(stdout) != 0) {
        cdc_log_error("stdout: %s", strerror(errno));
        goto done;
    }

    fprintf(stderr, "cdc-bridge dev-kafka: %d in-memory mock broker%s at %s "
            "(librdkafka %s): for tests and demos only; data lives in "
            "memory and is lost on exit; each partition keeps only about "
            "the last 5 MiB\n", dk.brokers, dk.brokers == 1 ? "" : "s",
            rd_kafka_mock_cluster_bootstraps(dk.mc), rd_kafka_version_str());

    stdin_open = 1;
    used = 0;

    while (!cdc_dev_stop) {
        if (!stdin_open) {
            (void) poll(NULL, 0, 200);
            continue;
        }

        pfd.fd = STDIN_FILENO;
        pfd.events = POLLIN;
        pfd.revents = 0;

        if (poll(&pfd, 1, 200) <= 0) {
            continue;
        }

        r = read(STDIN_FILENO, buf + used, sizeof(buf) - 1 - used);

        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }

            cdc_log_warn("stdin: %s; no more commands", strerror(errno));
            stdin_open = 0;
            continue;
        }

        if (r == 0) {
            stdin_open = 0;     /* keep serving: tests may close stdin */
            continue;
        }

        used += (size_t) r;
        buf[used] = '\0';

        while ((nl = memchr(buf, '\n', used)) != NULL) {
            *nl = '\0';
            cdc_dev_command(&dk, buf);
            used -= (size_t) (nl + 1 - buf);
            memmove(buf, nl + 1, used);
            buf[used] = '\0';
        }

        if (used == sizeof(buf) - 1) {
            cdc_dev_reply("error line longer than %d characters",
                          CDC_DEV_LINE - 2);
            used = 0;
        }
    }

    cdc_log_info("stopping");
    rc = 0;

done:

    rd_kafka_mock_cluster_destroy(dk.mc);
    rd_kafka_destroy(dk.rk);

    return rc;
}
