/*
 * The source's durable position and the tracker that decides when a
 * position may become durable.
 *
 * The checkpoint file is dir/checkpoint.json, replaced atomically: write
 * checkpoint.json.tmp, fsync it, rename it over checkpoint.json, fsync the
 * directory.  A crash at any point leaves either the old or the new file.
 */

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "log.h"
#include "source/source.h"


#define CDC_CKPT_NAME  "checkpoint.json"


/* wall clock (clock.h): for durations use cdc_clock_mono_ms() */
int64_t
cdc_now_ms(void)
{
    return cdc_clock_wall_ms();
}


/* -------------------------------------------------------- acks */

int
cdc_acks_init(cdc_acks_t *a, uint64_t window, size_t commits)
{
    uint64_t  n;

    memset(a, 0, sizeof(*a));

    for (n = 64; n < window; n <<= 1) {
        /* void */
    }

    a->bits = calloc(n / 64, sizeof(uint64_t));
    a->commits = calloc(commits, sizeof(*a->commits));

    if (a->bits == NULL || a->commits == NULL) {
        free(a->bits);
        free(a->commits);
        return -1;
    }

    a->nbits = n;
    a->ncommits_max = commits;
    a->next = 1;

    return 0;
}


void
cdc_acks_free(cdc_acks_t *a)
{
    free(a->bits);
    free(a->commits);
    a->bits = NULL;
    a->commits = NULL;
}


/*
 * The producing thread alone writes next and done, with atomic stores,
 * so that /metrics and /status may read cdc_acks_inflight() from the
 * HTTP thread without the run's lock.
 */
uint64_t
cdc_acks_take(cdc_acks_t *a)
{
    return __atomic_fetch_add(&a->next, 1, __ATOMIC_RELAXED);
}


uint64_t
cdc_acks_inflight(const cdc_acks_t *a)
{
    uint64_t  done;

    /* done first: it never passes the next read after it */
    done = __atomic_load_n(&a->done, __ATOMIC_RELAXED);

    return __atomic_load_n(&a->next, __ATOMIC_RELAXED) - 1 - done;
}


uint64_t
cdc_acks_room(const cdc_acks_t *a)
{
    uint64_t  used;

    used = a->next - 1 - a->done;

    if (a->ccount >= a->ncommits_max) {
        return 0;
    }

    return used >= a->nbits ? 0 : a->nbits - used;
}


void
cdc_acks_delivered(cdc_acks_t *a, uint64_t seq, int ok, const char *why)
{
    uint64_t  i;

    if (!ok) {
        if (a->failed == 0 || seq < a->failed) {
            a->failed = seq;
            snprintf(a->failed_why, sizeof(a->failed_why), "%s",
                     why ? why : "delivery failed");
        }
        return;
    }

    if (seq <= a->done || seq >= a->next) {
        return;
    }

    i = seq & (a->nbits - 1);
    a->bits[i / 64] |= (uint64_t) 1 << (i % 64);

    /* slide "done" over every consecutive delivered sequence */
    for ( ;; ) {
        i = (a->done + 1) & (a->nbits - 1);

        if (a->done + 1 >= a->next
            || !(a->bits[i / 64] & ((uint64_t) 1 << (i % 64))))
        {
            break;
        }

        a->bits[i / 64] &= ~((uint64_t) 1 << (i % 64));
        __atomic_store_n(&a->done, a->done + 1, __ATOMIC_RELAXED);
    }
}


int
cdc_acks_commit(cdc_acks_t *a, const cdc_src_pos_t *pos, int64_t ts_ms)
{
    struct cdc_acks_commit_s  *c;
    uint64_t                   seq;
    size_t                     tail;

    seq = a->next - 1;

    if (seq <= a->done && a->ccount == 0) {
        /* nothing in flight: safe at once */
        a->safe = *pos;
        a->have_safe = 1;
        a->safe_ts_ms = ts_ms;
        return 0;
    }

    if (a->ccount > 0) {
        tail = (a->chead + a->ccount - 1) % a->ncommits_max;
        c = &a->commits[tail];

        if (c->seq == seq) {
            /* no new message since: the newer position replaces it */
            c->pos = *pos;
            c->ts_ms = ts_ms;
            return 0;
        }
    }

    if (a->ccount == a->ncommits_max) {
        return -1;
    }

    c = &a->commits[(a->chead + a->ccount) % a->ncommits_max];
    c->seq = seq;
    c->pos = *pos;
    c->ts_ms = ts_ms;
    a->ccount++;

    return 0;
}


int
cdc_acks_advance(cdc_acks_t *a)
{
    struct cdc_acks_commit_s  *c;
    int                        moved;

    moved = 0;

    while (a->ccount > 0) {
        c = &a->commits[a->chead];

        if (c->seq > a->done) {
            break;
        }

        a->safe = c->pos;
        a->safe_ts_ms = c->ts_ms;
        a->have_safe = 1;
        a->chead = (a->chead + 1) % a->ncommits_max;
        a->ccount--;
        moved = 1;
    }

    return moved;
}


/* -------------------------------------------------------- file */

/*
 * A position object, strictly: a wrong type or value is an error naming
 * it, never a default that would replay from the start of a file.
 */
static int
cdc_ckpt_pos_from(json_t *o, const char *name, cdc_src_pos_t *pos,
    char *err, size_t errlen)
{
    char     why[512], *text;
    json_t  *f, *p, *g;

    memset(pos, 0, sizeof(*pos));

    if (o == NULL) {
        return 0;
    }

    f = json_object_get(o, "file");
    p = json_object_get(o, "pos");
    g = json_object_get(o, "gtid");

    if (!json_is_object(o) || (f && !json_is_string(f))
        || (g && !json_is_string(g)) || (p && !json_is_integer(p))
        || (f && json_string_length(f) >= sizeof(pos->file))
        || (g && json_string_length(g) >= sizeof(pos->gtid)))
    {
        text = json_dumps(o, JSON_ENCODE_ANY | JSON_COMPACT);
        (void) cdc_error(err, errlen, "%s %.300s: expected {\"file\": "
                         "string, \"pos\": integer, \"gtid\": string}",
                         name, text ? text : "?");
        free(text);
        return -1;
    }

    if (f) {
        snprintf(pos->file, sizeof(pos->file), "%s", json_string_value(f));
    }

    if (g) {
        snprintf(pos->gtid, sizeof(pos->gtid), "%s", json_string_value(g));
    }

    if (p && json_integer_value(p) < 0) {
        return cdc_error(err, errlen, "%s: \"pos\": %" JSON_INTEGER_FORMAT
                         " is negative", name, json_integer_value(p));
    }

    pos->pos = p ? (uint64_t) json_integer_value(p) : 0;

    if (pos->file[0]
        && cdc_source_binlog_pos_check(pos->file, p ? pos->pos : 0, why,
                                       sizeof(why)) != 0)
    {
        return cdc_error(err, errlen, "%s: %s", name, why);
    }

    if (pos->gtid[0]
        && cdc_source_gtid_check(pos->gtid, why, sizeof(why)) != 0)
    {
        return cdc_error(err, errlen, "%s: %s", name, why);
    }

    return 0;
}


static json_t *
cdc_ckpt_pos_to(const cdc_src_pos_t *pos)
{
    return json_pack("{s:s, s:I, s:s}", "file", pos->file,
                     "pos", (json_int_t) pos->pos, "gtid", pos->gtid);
}


static char **
cdc_ckpt_strings(json_t *arr, size_t *n)
{
    char    **out;
    size_t    i;
    json_t   *v;

    *n = 0;

    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        return NULL;
    }

    out = calloc(json_array_size(arr), sizeof(char *));
    if (out == NULL) {
        return NULL;
    }

    json_array_foreach(arr, i, v) {
        out[i] = strdup(json_is_string(v) ? json_string_value(v) : "");
        if (out[i] == NULL) {
            break;
        }
        (*n)++;
    }

    return out;
}


int
cdc_checkpoint_load(const char *dir, cdc_checkpoint_t *ck, char *err,
    size_t errlen)
{
    char          path[4096], why[1024];
    json_t       *root, *snap, *v;
    const char   *state;
    struct stat   st;
    json_error_t  jerr;

    memset(ck, 0, sizeof(*ck));

    if (snprintf(path, sizeof(path), "%s/%s", dir, CDC_CKPT_NAME)
        >= (int) sizeof(path))
    {
        return cdc_error(err, errlen, "checkpoint dir \"%s\" too long", dir);
    }

    if (stat(dir, &st) != 0) {
        return cdc_error(err, errlen, "checkpoint dir \"%s\": %s", dir,
                         strerror(errno));
    }

    if (!S_ISDIR(st.st_mode)) {
        return cdc_error(err, errlen, "checkpoint dir \"%s\" is not a "
                         "directory", dir);
    }

    if (stat(path, &st) != 0) {
        if (errno == ENOENT) {
            return 0;
        }
        return cdc_error(err, errlen, "%s: %s", path, strerror(errno));
    }

    /* a directory or a FIFO there would fail every later write (or
       block): refuse it now, by name */
    if (!S_ISREG(st.st_mode)) {
        return cdc_error(err, errlen, "%s is not a regular file (%s): "
                         "remove or rename it", path,
                         S_ISDIR(st.st_mode) ? "a directory" : "not a file");
    }

    root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        return cdc_error(err, errlen, "%s:%d: bad checkpoint: %s", path,
                         jerr.line, jerr.text);
    }

    v = json_object_get(root, "version");
    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        json_decref(root);
        return cdc_error(err, errlen, "%s: unknown checkpoint version",
                         path);
    }

    if (cdc_ckpt_pos_from(json_object_get(root, "position"), "position",
                          &ck->pos, why, sizeof(why)) != 0)
    {
        json_decref(root);
        return cdc_error(err, errlen, "%s: bad checkpoint: %s", path, why);
    }

    v = json_object_get(root, "updated_ms");
    ck->updated_ms = json_is_integer(v) ? json_integer_value(v) : 0;

    snap = json_object_get(root, "snapshot");
    if (json_is_object(snap)) {
        v = json_object_get(snap, "state");
        state = json_is_string(v) ? json_string_value(v) : "none";

        if (strcmp(state, "running") == 0) {
            ck->snap_state = CDC_SNAP_RUNNING;
        } else if (strcmp(state, "done") == 0) {
            ck->snap_state = CDC_SNAP_DONE;
        }

        if (cdc_ckpt_pos_from(json_object_get(snap, "position"),
                              "snapshot position", &ck->snap_pos, why,
                              sizeof(why)) != 0)
        {
            json_decref(root);
            cdc_checkpoint_free(ck);
            return cdc_error(err, errlen, "%s: bad checkpoint: %s", path,
                             why);
        }

        ck->snap_done = cdc_ckpt_strings(json_object_get(snap, "done"),
                                         &ck->snap_ndone);

        v = json_object_get(snap, "table");
        if (json_is_string(v)) {
            ck->snap_table = strdup(json_string_value(v));
        }

        ck->snap_key = cdc_ckpt_strings(json_object_get(snap, "last_key"),
                                        &ck->snap_nkey);
    }

    json_decref(root);

    if (ck->pos.gtid[0] == '\0' && ck->pos.file[0] == '\0'
        && ck->snap_state != CDC_SNAP_RUNNING)
    {
        return cdc_error(err, errlen, "%s: checkpoint holds no position",
                         path);
    }

    ck->valid = 1;

    return 0;
}


static int
cdc_ckpt_write_all(int fd, const char *buf, size_t len)
{
    ssize_t  n;

    while (len > 0) {
        n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        buf += n;
        len -= (size_t) n;
    }

    return 0;
}


int
cdc_checkpoint_save(const char *dir, const cdc_checkpoint_t *ck, char *err,
    size_t errlen)
{
    int          fd, dfd, rc;
    char         path[4096], tmp[4096];
    char        *text;
    size_t       i;
    json_t      *root, *snap, *arr;
    const char  *state;

    if (snprintf(path, sizeof(path), "%s/%s", dir, CDC_CKPT_NAME)
        >= (int) sizeof(path)
        || snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, CDC_CKPT_NAME)
           >= (int) sizeof(tmp))
    {
        return cdc_error(err, errlen, "checkpoint dir \"%s\" too long", dir);
    }

    root = json_object();
    if (root == NULL) {
        return cdc_error(err, errlen, "checkpoint: out of memory");
    }

    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "position", cdc_ckpt_pos_to(&ck->pos));
    json_object_set_new(root, "updated_ms", json_integer(cdc_now_ms()));

    state = ck->snap_state == CDC_SNAP_RUNNING ? "running"
            : ck->snap_state == CDC_SNAP_DONE ? "done" : "none";

    snap = json_object();
    json_object_set_new(snap, "state", json_string(state));
    json_object_set_new(snap, "position", cdc_ckpt_pos_to(&ck->snap_pos));

    arr = json_array();
    for (i = 0; i < ck->snap_ndone; i++) {
        json_array_append_new(arr, json_string(ck->snap_done[i]));
    }
    json_object_set_new(snap, "done", arr);

    if (ck->snap_table) {
        json_object_set_new(snap, "table", json_string(ck->snap_table));
        arr = json_array();
        for (i = 0; i < ck->snap_nkey; i++) {
            json_array_append_new(arr, json_string(ck->snap_key[i]));
        }
        json_object_set_new(snap, "last_key", arr);
    }

    json_object_set_new(root, "snapshot", snap);

    text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(root);

    if (text == NULL) {
        return cdc_error(err, errlen, "checkpoint: cannot encode");
    }

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(text);
        return cdc_error(err, errlen, "open %s: %s", tmp, strerror(errno));
    }

    rc = cdc_ckpt_write_all(fd, text, strlen(text));
    if (rc == 0) {
        rc = cdc_ckpt_write_all(fd, "\n", 1);
    }
    free(text);

    if (rc != 0 || fsync(fd) != 0) {
        rc = errno;
        close(fd);
        unlink(tmp);
        return cdc_error(err, errlen, "write %s: %s", tmp, strerror(rc));
    }

    if (close(fd) != 0) {
        rc = errno;
        unlink(tmp);
        return cdc_error(err, errlen, "close %s: %s", tmp, strerror(rc));
    }

    if (rename(tmp, path) != 0) {
        rc = errno;
        unlink(tmp);
        return cdc_error(err, errlen, "rename %s to %s: %s", tmp, path,
                         strerror(rc));
    }

    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        return cdc_error(err, errlen, "open %s: %s", dir, strerror(errno));
    }

    if (fsync(dfd) != 0) {
        rc = errno;
        close(dfd);
        return cdc_error(err, errlen, "fsync %s: %s", dir, strerror(rc));
    }

    close(dfd);

    return 0;
}


static void
cdc_ckpt_free_strings(char **s, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(s[i]);
    }

    free(s);
}


void
cdc_checkpoint_free(cdc_checkpoint_t *ck)
{
    cdc_ckpt_free_strings(ck->snap_done, ck->snap_ndone);
    cdc_ckpt_free_strings(ck->snap_key, ck->snap_nkey);
    free(ck->snap_table);
    ck->snap_done = NULL;
    ck->snap_ndone = 0;
    ck->snap_key = NULL;
    ck->snap_nkey = 0;
    ck->snap_table = NULL;
}


int
cdc_checkpoint_set_snap(cdc_checkpoint_t *ck, const char *table,
    char **key, size_t nkey)
{
    char    **k, *t;
    size_t    i;

    t = NULL;
    k = NULL;

    if (table) {
        t = strdup(table);
        if (t == NULL) {
            return -1;
        }
    }

    if (nkey > 0) {
        k = calloc(nkey, sizeof(char *));
        if (k == NULL) {
            free(t);
            return -1;
        }

        for (i = 0; i < nkey; i++) {
            k[i] = strdup(key[i]);
            if (k[i] == NULL) {
                cdc_ckpt_free_strings(k, i);
                free(t);
                return -1;
            }
        }
    }

    cdc_ckpt_free_strings(ck->snap_key, ck->snap_nkey);
    free(ck->snap_table);

    ck->snap_table = t;
    ck->snap_key = k;
    ck->snap_nkey = nkey;

    return 0;
}


int
cdc_checkpoint_add_done(cdc_checkpoint_t *ck, const char *table)
{
    char  **n, *t;

    if (cdc_checkpoint_is_done(ck, table)) {
        return 0;
    }

    t = strdup(table);
    if (t == NULL) {
        return -1;
    }

    n = realloc(ck->snap_done, (ck->snap_ndone + 1) * sizeof(char *));
    if (n == NULL) {
        free(t);
        return -1;
    }

    n[ck->snap_ndone++] = t;
    ck->snap_done = n;

    return 0;
}


int
cdc_checkpoint_is_done(const cdc_checkpoint_t *ck, const char *table)
{
    size_t  i;

    for (i = 0; i < ck->snap_ndone; i++) {
        if (strcmp(ck->snap_done[i], table) == 0) {
            return 1;
        }
    }

    return 0;
}


/* -------------------------------------------------------- writer */

/*
 * The streaming checkpoint is written by its own thread, so the fsyncs
 * (milliseconds to tens of them on a busy disk) never stall the stream:
 * the main loop offers the newest safe checkpoint, the thread writes the
 * newest one offered, at most once per interval (once a second while
 * writes fail), and reports what is durable.
 */
struct cdc_ckpt_writer_s {
    pthread_t         th;
    pthread_mutex_t   mu;
    pthread_cond_t    cv;
    char             *dir;
    int               interval_ms;
    int               stop;
    int               have;            /* want not written yet */
    cdc_checkpoint_t  want;            /* shallow: snapshot lists shared */
    cdc_ckpt_state_t  st;
};


/* sleeps until mono deadline_ms, a stop, or (when wake) an offer */
static void
cdc_ckpt_writer_sleep(cdc_ckpt_writer_t *w, int64_t deadline_ms)
{
    struct timespec  ts;

    while (!w->stop && cdc_clock_mono_ms() < deadline_ms) {
        ts.tv_sec = (time_t) (deadline_ms / 1000);
        ts.tv_nsec = (long) (deadline_ms % 1000) * 1000000;
        (void) pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
}


static void *
cdc_ckpt_writer_main(void *arg)
{
    int                 rc;
    char                err[512];
    int64_t             started;
    cdc_checkpoint_t    ck;
    cdc_ckpt_writer_t  *w;

    w = arg;

    pthread_mutex_lock(&w->mu);

    for ( ;; ) {
        while (!w->have && !w->stop) {
            pthread_cond_wait(&w->cv, &w->mu);
        }

        if (w->stop) {
            break;
        }

        ck = w->want;
        w->have = 0;
        pthread_mutex_unlock(&w->mu);

        started = cdc_clock_mono_ms();
        rc = cdc_checkpoint_save(w->dir, &ck, err, sizeof(err));

        pthread_mutex_lock(&w->mu);

        if (rc == 0) {
            w->st.pos = ck.pos;
            w->st.written = 1;
            w->st.updated_ms = cdc_now_ms();
            w->st.failing = 0;
            w->st.err[0] = '\0';

        } else {
            w->st.failing = 1;
            w->st.failures++;
            snprintf(w->st.err, sizeof(w->st.err), "%s", err);
            if (!w->have) {
                w->want = ck;
                w->have = 1;
            }
        }

        cdc_ckpt_writer_sleep(w, started + (rc == 0 ? w->interval_ms
                                                    : 1000));
    }

    pthread_mutex_unlock(&w->mu);

    return NULL;
}


cdc_ckpt_writer_t *
cdc_ckpt_writer_start(const char *dir, int interval_ms, char *err,
    size_t errlen)
{
    int                  rc;
    pthread_condattr_t   ca;
    cdc_ckpt_writer_t   *w;

    w = calloc(1, sizeof(cdc_ckpt_writer_t));
    if (w == NULL || (w->dir = strdup(dir)) == NULL) {
        free(w);
        (void) cdc_error(err, errlen, "checkpoint writer: out of memory");
        return NULL;
    }

    w->interval_ms = interval_ms;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);

    rc = pthread_create(&w->th, NULL, cdc_ckpt_writer_main, w);
    if (rc != 0) {
        (void) cdc_error(err, errlen, "checkpoint writer thread: %s",
                  strerror(rc));
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w->dir);
        free(w);
        return NULL;
    }

    return w;
}


void
cdc_ckpt_writer_offer(cdc_ckpt_writer_t *w, const cdc_checkpoint_t *ck)
{
    pthread_mutex_lock(&w->mu);
    w->want = *ck;
    w->have = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}


void
cdc_ckpt_writer_state(cdc_ckpt_writer_t *w, cdc_ckpt_state_t *st)
{
    pthread_mutex_lock(&w->mu);
    *st = w->st;
    pthread_mutex_unlock(&w->mu);
}


void
cdc_ckpt_writer_stop(cdc_ckpt_writer_t *w)
{
    if (w == NULL) {
        return;
    }

    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);

    pthread_join(w->th, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->dir);
    free(w);
}
