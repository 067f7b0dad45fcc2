/*
 * cdc-bridge: binlog -> Kafka -> PostgreSQL.  One binary, subcommands.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"


typedef struct {
    const char  *name;
    int        (*run)(int argc, char **argv);
    const char  *help;
} cdc_command_t;


static const cdc_command_t  cdc_commands[] = {
    { "run", cdc_cmd_run, "stream the binlog into Kafka" },
    { "sink", cdc_cmd_sink, "apply a service's changes into PostgreSQL" },
    { "verify", cdc_cmd_verify, "compare source and target tables" },
    { "status", cdc_cmd_status, "print sync lag per service" },
    { "check-config", cdc_cmd_check_config, "validate the configuration" },
    { "dev-kafka", cdc_cmd_dev_kafka,
      "run an in-memory Kafka for tests and demos" },
    { NULL, NULL, NULL }
};


static void
cdc_usage(FILE *out)
{
    const cdc_command_t  *c;

    fprintf(out, "usage: cdc-bridge COMMAND [-c FILE] [options]\n\n");

    for (c = cdc_commands; c->name; c++) {
        fprintf(out, "  %-14s %s\n", c->name, c->help);
    }

    fprintf(out, "  %-14s %s\n", "--version", "print the version");

    fprintf(out, "\nFILE defaults to config/cdc-bridge.conf; every key can "
            "be set as CDC_<SECTION>_<KEY>.\n");
}


int
main(int argc, char **argv)
{
    int                   level;
    const char           *env;
    const cdc_command_t  *c;

    if (argc < 2) {
        cdc_usage(stderr);
        return 2;
    }

    /* until a command loads its config ([log] level), for every command */
    env = getenv("CDC_LOG_LEVEL");
    level = cdc_log_level_parse(env);

    if (level >= 0) {
        cdc_log_set_level(level);
    }

    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0
        || strcmp(argv[1], "help") == 0)
    {
        cdc_usage(stdout);
        return 0;
    }

    if (strcmp(argv[1], "--version") == 0) {
        printf("cdc-bridge %s\n", STRANGLER_VERSION);
        return 0;
    }

    for (c = cdc_commands; c->name; c++) {
        if (strcmp(argv[1], c->name) == 0) {
            return c->run(argc - 1, argv + 1);
        }
    }

    fprintf(stderr, "cdc-bridge: unknown command \"%s\"\n\n", argv[1]);
    cdc_usage(stderr);

    return 2;
}
