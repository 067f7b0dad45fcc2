/*
 * pgrepl: a logical replication client over libpq (the part of `reverse`
 * that talks to the service's PostgreSQL): a replication=database
 * connection, the slot created when missing, START_REPLICATION with the
 * pgoutput plugin (protocol 1), CopyData read with a timeout, standby
 * status updates.  Decoding is cdc-bridge/pgoutput/'s job.
 *
 * Modelled on PostgreSQL's pg_recvlogical.c; every call returns -1 with
 * the server's message (and SQLSTATE when it sent one) in err.
 */

#ifndef CDC_PGREPL_H
#define CDC_PGREPL_H

#include <stddef.h>
#include <stdint.h>


typedef struct cdc_pgrepl_s  cdc_pgrepl_t;

/*
 * Checks, over an ordinary connection, what logical replication from the
 * server needs: wal_level = logical, a free replication slot (or SLOT
 * already there), max_wal_senders > 0, and a role with the REPLICATION
 * attribute (or superuser).  Returns -1 naming the setting to change.
 */
int cdc_pgrepl_check_server(const char *conninfo, const char *slot,
    char *err, size_t errlen);

/* conninfo is a libpq connection string; replication=database is added */
cdc_pgrepl_t *cdc_pgrepl_connect(const char *conninfo, char *err,
    size_t errlen);
void cdc_pgrepl_destroy(cdc_pgrepl_t *r);

/*
 * Creates the logical slot (plugin pgoutput) unless it exists; *created
 * says which.  An existing slot of another plugin or a physical slot is
 * an error, and so is an invalidated one (wal_status lost: WAL removed).
 */
int cdc_pgrepl_ensure_slot(cdc_pgrepl_t *r, const char *slot, int *created,
    char *err, size_t errlen);

/* DROP_REPLICATION_SLOT slot WAIT; a missing slot is not an error */
int cdc_pgrepl_drop_slot(cdc_pgrepl_t *r, const char *slot, int *dropped,
    char *err, size_t errlen);

/*
 * START_REPLICATION SLOT slot LOGICAL start (proto_version '1', ...).
 * A slot that does not exist (dropped behind our back) is an error that
 * says so and how to recover, never a silent new start.
 */
int cdc_pgrepl_start(cdc_pgrepl_t *r, const char *slot,
    const char *publication, uint64_t start_lsn, char *err, size_t errlen);

/*
 * Waits up to timeout_ms for one CopyData message: 1 with *buf and *len set
 * (valid until the next call), 0 on timeout, -1 on an error or the end
 * of the stream.
 */
int cdc_pgrepl_read(cdc_pgrepl_t *r, int timeout_ms, const uint8_t **buf,
    size_t *len, char *err, size_t errlen);

/* a standby status update: written = flushed = applied = lsn */
int cdc_pgrepl_send_status(cdc_pgrepl_t *r, uint64_t lsn, int reply,
    char *err, size_t errlen);

#endif /* CDC_PGREPL_H */
