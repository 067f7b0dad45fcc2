/*
 * replay: `cdc-bridge run --from-file BINLOG --to-stdout`.  Reads a binlog
 * file with the binlog library, runs it through the same stream processor
 * as the live source, and writes one JSON line per row change:
 *
 *   {"topic":"<prefix>.<db>.<table>","key":<key JSON>,"value":<envelope>}
 *
 * No Kafka, no checkpoint, no database: a debugging and test path.
 * Wire it in cdc_cmd_run as:
 *
 *   cdc_replay_opts_t  o = { .topic_prefix = cf.topic_prefix };
 *   rc = cdc_replay_file(path, &o, stdout, err, sizeof(err));
 *   if (rc != 0) { fprintf(stderr, "cdc-bridge run: %s\n", err); }
 */

#ifndef CDC_SOURCE_REPLAY_H
#define CDC_SOURCE_REPLAY_H

#include <stdint.h>
#include <stdio.h>


typedef struct {
    const char  *topic_prefix;     /* NULL: "cdc" */
    /* 1: db.table is wanted; NULL: every table */
    int        (*filter)(void *data, const char *db, const char *table);
    void        *filter_data;
    int          no_verify_checksum; /* 1: skip CRC32 checks */
    uint64_t     fixed_ts_ms;      /* != 0: envelope ts_ms */
    int          quiet;            /* 0: a summary line on stderr */
} cdc_replay_opts_t;


/*
 * Replays the binlog file at path into out.  Returns 0, or -1 with
 * "path: offset N: reason" in err (unreadable file, bad magic, a
 * truncated or corrupt event, a write error).  Changes already written
 * stay written.
 */
int cdc_replay_file(const char *path, const cdc_replay_opts_t *o, FILE *out,
    char *err, size_t errlen);


#endif /* CDC_SOURCE_REPLAY_H */
