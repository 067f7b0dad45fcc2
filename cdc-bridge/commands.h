/*
 * cdc-bridge subcommands.  main.c picks one by name and hands it the
 * arguments that follow the name (argv[0] is the subcommand's name), so
 * each parses its own options with getopt_long, -c FILE included.
 * Each returns the process exit status.
 *
 * Owners: run (source/), sink and verify (sink/), status (status.c),
 * dev-kafka (dev_kafka.c), check-config (main.c).
 */

#ifndef CDC_COMMANDS_H
#define CDC_COMMANDS_H


int cdc_cmd_run(int argc, char **argv);
int cdc_cmd_sink(int argc, char **argv);
int cdc_cmd_verify(int argc, char **argv);
int cdc_cmd_status(int argc, char **argv);
int cdc_cmd_check_config(int argc, char **argv);
int cdc_cmd_dev_kafka(int argc, char **argv);


#endif /* CDC_COMMANDS_H */
