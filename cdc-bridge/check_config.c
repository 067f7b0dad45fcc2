/*
 * cdc-bridge check-config [-c FILE] [--quiet] [--keys] [--server]
 *
 * Loads and validates the configuration (file + environment + secret
 * files) and prints the effective values, where each came from, secrets
 * masked.  It touches no database and no broker, unless --server is
 * given: then cdc_source_check_server() (source/checks.c) connects to the
 * source and checks its binlog settings and grants.
 *
 * --keys prints the key table as Markdown (docs/cdc-bridge.md uses it).
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "source/source.h"


static void
cdc_check_config_usage(FILE *out)
{
    fprintf(out, "usage: cdc-bridge check-config [-c FILE] [-q] [--keys] "
            "[--server]\n"
            "  -c, --config FILE  the file (default %s)\n"
            "  -q, --quiet        print nothing when the config is valid\n"
            "      --keys         print every key (Markdown table)\n"
            "      --server       also connect to the source and check it\n",
            CDC_CONFIG_DEFAULT_FILE);
}


int
cdc_cmd_check_config(int argc, char **argv)
{
    int                  c, quiet, server, rc;
    char                 err[2048], where[1100];
    const char          *file;
    cdc_config_t         cf;
    cdc_src_pos_t        pos;

    static const struct option  opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "quiet", no_argument, NULL, 'q' },
        { "keys", no_argument, NULL, 'k' },
        { "server", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    file = NULL;
    quiet = 0;
    server = 0;
    optind = 1;

    while ((c = getopt_long(argc, argv, "c:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            file = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'k':
            cdc_config_print_keys(stdout);
            return 0;
        case 's':
            server = 1;
            break;
        case 'h':
            cdc_check_config_usage(stdout);
            return 0;
        default:
            cdc_check_config_usage(stderr);
            return 2;
        }
    }

    if (optind < argc) {
        fprintf(stderr, "cdc-bridge check-config: unexpected argument "
                "\"%s\"\n", argv[optind]);
        cdc_check_config_usage(stderr);
        return 2;
    }

    if (cdc_config_load(&cf, file, err, sizeof(err)) != 0) {
        fprintf(stderr, "cdc-bridge check-config: %s\n", err);
        cdc_config_free(&cf);
        return 1;
    }

    /* the start position is parsed by the source wing: check it here */
    if (cdc_source_parse_pos(cf.start, &pos, err, sizeof(err)) != 0) {
        (void) cdc_config_origin(&cf, "source", "start", NULL, where,
                                 sizeof(where));
        fprintf(stderr, "cdc-bridge check-config: %s: bad value \"%s\" for "
                "start: %s\n", where, cf.start, err);
        cdc_config_free(&cf);
        return 1;
    }

    rc = 0;

    if (!quiet) {
        cdc_config_print(&cf, stdout);
    }

    if (server) {
        if (cdc_source_check_server(&cf, err, sizeof(err)) != 0) {
            fprintf(stderr, "cdc-bridge check-config: source %s:%d: %s\n",
                    cf.src_host, cf.src_port, err);
            rc = 1;

        } else if (!quiet) {
            printf("# source %s:%d: ok\n", cf.src_host, cf.src_port);
        }
    }

    if (rc == 0 && !quiet) {
        printf("# configuration ok: %zu service%s\n", cf.nservices,
               cf.nservices == 1 ? "" : "s");
    }

    if (fflush(stdout) != 0) {
        rc = 1;
    }

    cdc_config_free(&cf);

    return rc;
}
