/*
 * pgrepl_dump: a test-only program (not installed, not a cdc-bridge
 * command) that drives cdc-bridge/reverse/pgrepl.c and the pgoutput
 * decoder against a real PostgreSQL and prints every decoded message as
 * one JSON line, for tests/integration/test_reverse_pgoutput.py.
 *
 *   pgrepl_dump CONNINFO SLOT PUBLICATION COMMITS [TIMEOUT_S]
 *   pgrepl_dump --check CONNINFO SLOT
 *   pgrepl_dump --drop CONNINFO SLOT
 *   pgrepl_dump --no-create CONNINFO SLOT PUBLICATION COMMITS [TIMEOUT_S]
 *
 * --check runs cdc_pgrepl_check_server() and prints {"check": "ok"};
 * --drop drops SLOT and prints {"dropped": true|false};
 * --no-create streams without creating a missing slot.
 *
 * Creates SLOT (pgoutput) when missing and prints {"slot_created": ...};
 * with COMMITS > 0 streams from the slot's confirmed position until
 * COMMITS transactions were committed, acknowledges the last one's end
 * LSN with a standby status update, and exits 0.  Exits 1 with the error
 * on stderr, or after TIMEOUT_S seconds (default 30) without enough
 * commits.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "pgoutput/pgoutput.h"
#include "reverse/pgrepl.h"


static json_t *
lsn_json(uint64_t lsn)
{
    char  s[CDC_PGO_LSN_STRLEN];

    cdc_pgo_lsn_format(lsn, s);
    return json_string(s);
}


static json_t *
tuple_json(const cdc_pgo_relation_t *rel, const cdc_pgo_tuple_t *t)
{
    json_t                 *o, *v;
    const cdc_pgo_value_t  *c;
    uint16_t                i;

    o = json_object();
    for (i = 0; i < t->ncols; i++) {
        c = &t->cols[i];
        switch (c->kind) {
        case CDC_PGO_NULL:
            v = json_null();
            break;
        case CDC_PGO_UNCHANGED:
            v = json_pack("{s:b}", "unchanged", 1);
            break;
        default:
            v = json_stringn_nocheck((const char *) c->p, c->len);
            break;
        }
        json_object_set_new(o, rel->cols[i].name, v);
    }
    return o;
}


static json_t *
relation_json(const cdc_pgo_relation_t *rel)
{
    json_t    *cols;
    uint16_t   i;

    cols = json_array();
    for (i = 0; i < rel->ncols; i++) {
        json_array_append_new(cols, json_pack("{s:s,s:i,s:I,s:i}",
            "name", rel->cols[i].name, "flags", rel->cols[i].flags,
            "type_oid", (json_int_t) rel->cols[i].type_oid,
            "typmod", rel->cols[i].typmod));
    }
    return json_pack("{s:s,s:I,s:s,s:s,s:s#,s:o}", "type", "R",
                     "oid", (json_int_t) rel->oid, "nsp", rel->nspname,
                     "name", rel->relname, "ident", &rel->replident, 1,
                     "cols", cols);
}


static json_t *
change_json(const cdc_pgo_msg_t *m)
{
    const cdc_pgo_relation_t  *rel = m->u.change.rel;
    json_t                    *o;
    char                       t[2] = { m->type, '\0' };

    o = json_pack("{s:s,s:s,s:s}", "type", t, "nsp", rel->nspname,
                  "rel", rel->relname);
    if (m->u.change.old_kind) {
        t[0] = m->u.change.old_kind;
        json_object_set_new(o, "old_kind", json_string(t));
        json_object_set_new(o, "old", tuple_json(rel, &m->u.change.old));
    }
    if (m->type != CDC_PGO_DELETE) {
        json_object_set_new(o, "new", tuple_json(rel, &m->u.change.new));
    }
    return o;
}


static json_t *
truncate_json(cdc_pgo_t *d, const cdc_pgo_msg_t *m)
{
    const cdc_pgo_relation_t  *rel;
    json_t                    *rels;
    uint32_t                   i;

    rels = json_array();
    for (i = 0; i < m->u.truncate.nrels; i++) {
        rel = cdc_pgo_relation(d, m->u.truncate.oids[i]);
        json_array_append_new(rels, rel ? json_string(rel->relname)
                                        : json_integer(m->u.truncate.oids[i]));
    }
    return json_pack("{s:s,s:i,s:o}", "type", "T", "options",
                     m->u.truncate.options, "rels", rels);
}


static json_t *
msg_json(cdc_pgo_t *d, const cdc_pgo_msg_t *m)
{
    char  t[2] = { m->type, '\0' };

    switch (m->type) {
    case CDC_PGO_BEGIN:
        return json_pack("{s:s,s:I,s:o}", "type", "B",
                         "xid", (json_int_t) m->u.begin.xid, "final_lsn",
                         lsn_json(m->u.begin.final_lsn));
    case CDC_PGO_COMMIT:
        return json_pack("{s:s,s:o,s:o,s:I}", "type", "C", "commit_lsn",
                         lsn_json(m->u.commit.commit_lsn), "end_lsn",
                         lsn_json(m->u.commit.end_lsn), "commit_time_us",
                         (json_int_t) cdc_pgo_time_to_unix_us(
                             m->u.commit.commit_time));
    case CDC_PGO_RELATION:
        return relation_json(m->u.relation);
    case CDC_PGO_INSERT:
    case CDC_PGO_UPDATE:
    case CDC_PGO_DELETE:
        return change_json(m);
    case CDC_PGO_TRUNCATE:
        return truncate_json(d, m);
    case CDC_PGO_TYPE:
        return json_pack("{s:s,s:I,s:s,s:s}", "type", "Y", "oid",
                         (json_int_t) m->u.type.oid, "nsp",
                         m->u.type.nspname, "name", m->u.type.name);
    default:
        return json_pack("{s:s}", "type", t);
    }
}


static void
print_json(json_t *o)
{
    char  *s;

    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    if (s != NULL) {
        printf("%s\n", s);
        free(s);
    }
    json_decref(o);
    fflush(stdout);
}


static int
stream(cdc_pgrepl_t *r, long want, long timeout_s, char *err,
    size_t errlen)
{
    cdc_pgo_t       *d;
    cdc_pgo_copy_t   c;
    cdc_pgo_msg_t    m;
    const uint8_t   *buf;
    size_t           len;
    uint64_t         flushed = 0;
    time_t           deadline;
    long             commits = 0;
    int              n, rc = -1;

    d = cdc_pgo_create(err, errlen);
    if (d == NULL) {
        return -1;
    }

    deadline = time(NULL) + timeout_s;
    while (commits < want) {
        if (time(NULL) > deadline) {
            snprintf(err, errlen, "timeout: %ld of %ld commits", commits,
                     want);
            goto done;
        }
        n = cdc_pgrepl_read(r, 1000, &buf, &len, err, errlen);
        if (n < 0) {
            goto done;
        }
        if (n == 0) {
            continue;
        }
        if (cdc_pgo_copy_parse(&c, buf, len, err, errlen) != 0) {
            goto done;
        }
        if (c.kind == 'k') {
            if (c.reply
                && cdc_pgrepl_send_status(r, flushed, 0, err, errlen) != 0)
            {
                goto done;
            }
            continue;
        }
        if (cdc_pgo_decode(d, c.data, c.len, &m, err, errlen) != 0) {
            goto done;
        }
        print_json(msg_json(d, &m));
        if (m.type == CDC_PGO_COMMIT) {
            flushed = m.u.commit.end_lsn;
            commits++;
        }
    }

    rc = cdc_pgrepl_send_status(r, flushed, 0, err, errlen);

done:

    cdc_pgo_destroy(d);
    return rc;
}


int
main(int argc, char **argv)
{
    cdc_pgrepl_t  *r;
    char           err[1024];
    int            created, create, rc;
    long           want, timeout_s;

    if (argc == 4 && strcmp(argv[1], "--check") == 0) {
        if (cdc_pgrepl_check_server(argv[2], argv[3], err, sizeof(err))
            != 0)
        {
            fprintf(stderr, "pgrepl_dump: %s\n", err);
            return 1;
        }
        print_json(json_pack("{s:s}", "check", "ok"));
        return 0;
    }

    if (argc == 4 && strcmp(argv[1], "--drop") == 0) {
        r = cdc_pgrepl_connect(argv[2], err, sizeof(err));
        rc = r ? cdc_pgrepl_drop_slot(r, argv[3], &created, err,
                                      sizeof(err))
               : -1;
        cdc_pgrepl_destroy(r);
        if (rc != 0) {
            fprintf(stderr, "pgrepl_dump: %s\n", err);
            return 1;
        }
        print_json(json_pack("{s:b}", "dropped", created));
        return 0;
    }

    create = 1;
    if (argc > 1 && strcmp(argv[1], "--no-create") == 0) {
        create = 0;
        argv++;
        argc--;
    }

    if (argc < 5) {
        fprintf(stderr, "usage: pgrepl_dump CONNINFO SLOT PUBLICATION "
                "COMMITS [TIMEOUT_S]\n"
                "       pgrepl_dump --check CONNINFO SLOT\n");
        return 2;
    }
    want = strtol(argv[4], NULL, 10);
    timeout_s = argc > 5 ? strtol(argv[5], NULL, 10) : 30;

    r = cdc_pgrepl_connect(argv[1], err, sizeof(err));
    if (r == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }

    rc = create ? cdc_pgrepl_ensure_slot(r, argv[2], &created, err,
                                         sizeof(err))
                : 0;
    if (rc == 0 && create) {
        print_json(json_pack("{s:b}", "slot_created", created));
    }
    if (rc == 0 && want > 0) {
        rc = cdc_pgrepl_start(r, argv[2], argv[3], 0, err, sizeof(err));
    }
    if (rc == 0 && want > 0) {
        rc = stream(r, want, timeout_s, err, sizeof(err));
    }

    cdc_pgrepl_destroy(r);

    if (rc != 0) {
        fprintf(stderr, "pgrepl_dump: %s\n", err);
        return 1;
    }
    return 0;
}
