/*
 * strangler-ctl: reading and editing the routes file.  The file is nginx
 * configuration; it is tokenized the way nginx does (words, quoted
 * strings, ";", "{", "}", "#" comments) so that an edit changes only the
 * bytes of one percent value and keeps every comment and blank.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"


#define CTL_MAX_WORDS  16


typedef struct {
    size_t   off;               /* first byte (the quote, if quoted) */
    size_t   len;               /* bytes in the file */
    char    *value;             /* unquoted, malloc()ed */
    int      line;
} ctl_word_t;


typedef struct {
    const char  *text;
    size_t       len;
    size_t       pos;
    int          line;
} ctl_lexer_t;


/* returns a word (1), ';' '{' '}' (the char), 0 at the end, -1 on error */
static int ctl_lex(ctl_lexer_t *lx, ctl_word_t *w, char *err, size_t errlen);
static int ctl_statement(ctl_lexer_t *lx, ctl_word_t *words, size_t *n,
    const char *file, char *err, size_t errlen);
static void ctl_words_free(ctl_word_t *words, size_t n);
static int ctl_route_block(ctl_routes_t *rt, ctl_lexer_t *lx,
    ctl_word_t *head, size_t nhead, char *err, size_t errlen);
static int ctl_route_directive(ctl_routes_t *rt, ctl_route_t *r,
    ctl_word_t *words, size_t n, char *err, size_t errlen);
static int ctl_route_lag_source(ctl_routes_t *rt, ctl_route_t *r,
    ctl_word_t *words, size_t n, char *err, size_t errlen);
static char *ctl_strndup(const char *s, size_t n);


static char *
ctl_strndup(const char *s, size_t n)
{
    char  *p;

    p = malloc(n + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, n);
    p[n] = '\0';

    return p;
}


static int
ctl_lex(ctl_lexer_t *lx, ctl_word_t *w, char *err, size_t errlen)
{
    char         q;
    size_t       start, i, o;
    const char  *t;

    t = lx->text;

    for ( ;; ) {
        while (lx->pos < lx->len
               && (t[lx->pos] == ' ' || t[lx->pos] == '\t'
                   || t[lx->pos] == '\r' || t[lx->pos] == '\n'))
        {
            if (t[lx->pos] == '\n') {
                lx->line++;
            }
            lx->pos++;
        }

        if (lx->pos < lx->len && t[lx->pos] == '#') {
            while (lx->pos < lx->len && t[lx->pos] != '\n') {
                lx->pos++;
            }
            continue;
        }

        break;
    }

    if (lx->pos == lx->len) {
        return 0;
    }

    w->line = lx->line;
    w->off = lx->pos;
    w->value = NULL;

    if (t[lx->pos] == ';' || t[lx->pos] == '{' || t[lx->pos] == '}') {
        w->len = 1;
        return t[lx->pos++];
    }

    if (t[lx->pos] == '"' || t[lx->pos] == '\'') {
        q = t[lx->pos++];
        start = lx->pos;

        while (lx->pos < lx->len && t[lx->pos] != q) {
            if (t[lx->pos] == '\\' && lx->pos + 1 < lx->len) {
                lx->pos++;
            }
            if (t[lx->pos] == '\n') {
                lx->line++;
            }
            lx->pos++;
        }

        if (lx->pos == lx->len) {
            snprintf(err, errlen, "line %d: unterminated quoted string",
                     w->line);
            return -1;
        }

        w->value = malloc(lx->pos - start + 1);
        if (w->value == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }

        for (i = start, o = 0; i < lx->pos; i++) {
            if (t[i] == '\\' && i + 1 < lx->pos
                && (t[i + 1] == q || t[i + 1] == '\\'))
            {
                i++;
            }
            w->value[o++] = t[i];
        }

        w->value[o] = '\0';
        lx->pos++;
        w->len = lx->pos - w->off;

        return 1;
    }

    start = lx->pos;

    while (lx->pos < lx->len) {
        if (t[lx->pos] == ' ' || t[lx->pos] == '\t' || t[lx->pos] == '\r'
            || t[lx->pos] == '\n' || t[lx->pos] == ';' || t[lx->pos] == '{'
            || t[lx->pos] == '}')
        {
            break;
        }
        lx->pos++;
    }

    w->len = lx->pos - start;
    w->value = ctl_strndup(t + start, w->len);

    if (w->value == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    return 1;
}


/*
 * Reads the words of one statement.  Returns its terminator (';', '{'),
 * '}' for a block end (n == 0), 0 at the end of the text, -1 on error.
 */
static int
ctl_statement(ctl_lexer_t *lx, ctl_word_t *words, size_t *n,
    const char *file, char *err, size_t errlen)
{
    int          rc;
    ctl_word_t   w;
    char         buf[CTL_ERRLEN];

    *n = 0;

    for ( ;; ) {
        rc = ctl_lex(lx, &w, buf, sizeof(buf));

        if (rc == -1) {
            snprintf(err, errlen, "%s: %s", file, buf);
            goto failed;
        }

        if (rc == 1) {
            if (*n == CTL_MAX_WORDS) {
                free(w.value);
                snprintf(err, errlen, "%s:%d: too many words in \"%s\"",
                         file, w.line, words[0].value);
                goto failed;
            }
            words[(*n)++] = w;
            continue;
        }

        if (rc == 0 && *n > 0) {
            snprintf(err, errlen, "%s:%d: unexpected end of file after "
                     "\"%s\"", file, lx->line, words[*n - 1].value);
            goto failed;
        }

        if ((rc == ';' || rc == '{') && *n == 0) {
            snprintf(err, errlen, "%s:%d: unexpected \"%c\"", file, w.line,
                     rc);
            goto failed;
        }

        if (rc == '}' && *n > 0) {
            snprintf(err, errlen, "%s:%d: unexpected \"}\" after \"%s\"",
                     file, w.line, words[*n - 1].value);
            goto failed;
        }

        return rc;
    }

failed:

    ctl_words_free(words, *n);
    *n = 0;

    return -1;
}


static void
ctl_words_free(ctl_word_t *words, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        free(words[i].value);
        words[i].value = NULL;
    }
}


/*
 * lag_source FILE [stale=TIME], the module's grammar.  nginx resolves a
 * relative FILE against its configuration directory; strangler-ctl
 * against the routes file's directory, the same when the routes file
 * sits beside nginx.conf.
 */
static int
ctl_route_lag_source(ctl_routes_t *rt, ctl_route_t *r, ctl_word_t *words,
    size_t n, char *err, size_t errlen)
{
    char        *path;
    size_t       dlen, plen;
    const char  *slash, *stale;

    r->lag_stale_ms = STRANGLER_LAG_STALE_MS;

    if (n == 3) {
        stale = words[2].value;
        if (strncmp(stale, STRANGLER_LAG_STALE_PARAM,
                    sizeof(STRANGLER_LAG_STALE_PARAM) - 1) != 0)
        {
            snprintf(err, errlen, "%s:%d: invalid parameter \"%s\" of "
                     "lag_source", rt->file, words[2].line, stale);
            return -1;
        }
        stale += sizeof(STRANGLER_LAG_STALE_PARAM) - 1;
        if (ctl_nginx_time_parse(stale, &r->lag_stale_ms) != 0
            || r->lag_stale_ms == 0)
        {
            snprintf(err, errlen, "%s:%d: invalid stale time \"%s\" of "
                     "lag_source", rt->file, words[2].line, stale);
            return -1;
        }
    }

    if (words[1].value[0] == '\0') {
        snprintf(err, errlen, "%s:%d: empty lag_source in strangler_route "
                 "\"%s\"", rt->file, words[1].line, r->name);
        return -1;
    }

    slash = strrchr(rt->file, '/');
    dlen = words[1].value[0] == '/' || slash == NULL
           ? 0 : (size_t) (slash - rt->file) + 1;
    plen = strlen(words[1].value);

    path = malloc(dlen + plen + 1);
    if (path == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    memcpy(path, rt->file, dlen);
    memcpy(path + dlen, words[1].value, plen + 1);

    free(r->lag_source);
    r->lag_source = path;

    return 0;
}


/* one directive of a strangler_route block, as the module reads it */
static int
ctl_route_directive(ctl_routes_t *rt, ctl_route_t *r, ctl_word_t *words,
    size_t n, char *err, size_t errlen)
{
    const strangler_route_directive_t  *d;

    d = strangler_route_directive(words[0].value, strlen(words[0].value));

    if (d == NULL) {
        snprintf(err, errlen, "%s:%d: unknown directive \"%s\" in "
                 "strangler_route \"%s\"", rt->file, words[0].line,
                 words[0].value, r->name);
        return -1;
    }

    if (n - 1 < d->min_args || n - 1 > d->max_args) {
        snprintf(err, errlen, "%s:%d: invalid number of arguments in \"%s\" "
                 "of strangler_route \"%s\"", rt->file, words[0].line,
                 words[0].value, r->name);
        return -1;
    }

    if (strcmp(d->name, "percent") == 0) {
        if (ctl_percent_parse(words[1].value, strlen(words[1].value),
                              &r->percent100)
            != 0)
        {
            snprintf(err, errlen, "%s:%d: invalid percent \"%s\"",
                     rt->file, words[1].line, words[1].value);
            return -1;
        }
        r->pct_off = words[1].off;
        r->pct_len = words[1].len;

    } else if (strcmp(d->name, "service") == 0) {
        free(r->service);
        r->service = words[1].value;
        words[1].value = NULL;

    } else if (strcmp(d->name, "legacy") == 0) {
        free(r->legacy);
        r->legacy = words[1].value;
        words[1].value = NULL;

    } else if (strcmp(d->name, "lag_source") == 0) {
        return ctl_route_lag_source(rt, r, words, n, err, errlen);

    } else if (strcmp(d->name, "max_lag") == 0) {
        if (ctl_nginx_time_parse(words[1].value, &r->max_lag_ms) != 0) {
            snprintf(err, errlen, "%s:%d: invalid max_lag \"%s\"",
                     rt->file, words[1].line, words[1].value);
            return -1;
        }
    }

    /* key, methods, read_your_writes*: nginx checks them at "nginx -t" */

    return 0;
}


static int
ctl_route_block(ctl_routes_t *rt, ctl_lexer_t *lx, ctl_word_t *head,
    size_t nhead, char *err, size_t errlen)
{
    int           rc;
    size_t        i, n, nlen;
    ctl_word_t    words[CTL_MAX_WORDS];
    ctl_route_t  *r;

    if (nhead < 2 || nhead > 3) {
        snprintf(err, errlen, "%s:%d: strangler_route wants a path, "
                 "\"= path\" or \"~ regex\"", rt->file, head[0].line);
        return -1;
    }

    if (rt->nroutes == CTL_MAX_ROUTES) {
        snprintf(err, errlen, "%s:%d: more than %d routes", rt->file,
                 head[0].line, CTL_MAX_ROUTES);
        return -1;
    }

    r = &rt->routes[rt->nroutes];
    memset(r, 0, sizeof(ctl_route_t));
    r->line = head[0].line;
    r->body = lx->pos;
    r->max_lag_ms = -1;

    nlen = 0;
    for (i = 1; i < nhead; i++) {
        nlen += strlen(head[i].value) + 1;
    }

    r->name = malloc(nlen);
    if (r->name == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    r->name[0] = '\0';
    for (i = 1; i < nhead; i++) {
        if (i > 1) {
            strncat(r->name, " ", nlen - strlen(r->name) - 1);
        }
        strncat(r->name, head[i].value, nlen - strlen(r->name) - 1);
    }

    r->pattern = strdup(head[nhead - 1].value);
    if (r->pattern == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    /* counted from here on: ctl_routes_free() releases the fields */
    rt->nroutes++;

    for ( ;; ) {
        rc = ctl_statement(lx, words, &n, rt->file, err, errlen);

        if (rc == -1) {
            return -1;
        }

        if (rc == '}') {
            return 0;
        }

        if (rc == 0 || rc == '{') {
            snprintf(err, errlen, "%s:%d: strangler_route \"%s\" is not "
                     "closed", rt->file, r->line, r->name);
            ctl_words_free(words, n);
            return -1;
        }

        if (ctl_route_directive(rt, r, words, n, err, errlen) != 0) {
            ctl_words_free(words, n);
            return -1;
        }

        ctl_words_free(words, n);
    }
}


int
ctl_routes_load(ctl_routes_t *rt, const char *file, char *err,
    size_t errlen)
{
    int           rc, depth;
    size_t        n, i;
    ctl_word_t    words[CTL_MAX_WORDS];
    ctl_lexer_t   lx;

    memset(rt, 0, sizeof(ctl_routes_t));

    rt->file = strdup(file);
    if (rt->file == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    rt->text = ctl_read_file(file, &rt->len, err, errlen);
    if (rt->text == NULL) {
        return -1;
    }

    lx.text = rt->text;
    lx.len = rt->len;
    lx.pos = 0;
    lx.line = 1;
    depth = 0;

    for ( ;; ) {
        rc = ctl_statement(&lx, words, &n, file, err, errlen);

        if (rc == -1) {
            return -1;
        }

        if (rc == 0) {
            break;
        }

        if (rc == '}') {
            if (depth == 0) {
                snprintf(err, errlen, "%s:%d: unexpected \"}\"", file,
                         lx.line);
                return -1;
            }
            depth--;
            continue;
        }

        if (rc == '{' && strcmp(words[0].value, "strangler_route") == 0) {
            rc = ctl_route_block(rt, &lx, words, n, err, errlen);
            ctl_words_free(words, n);

            if (rc != 0) {
                return -1;
            }

            continue;
        }

        if (rc == '{') {
            depth++;
        }

        ctl_words_free(words, n);
    }

    for (i = 0; i + 1 < rt->nroutes; i++) {
        for (n = i + 1; n < rt->nroutes; n++) {
            if (strcmp(rt->routes[i].name, rt->routes[n].name) == 0) {
                snprintf(err, errlen, "%s:%d: duplicate route \"%s\"", file,
                         rt->routes[n].line, rt->routes[n].name);
                return -1;
            }
        }
    }

    return 0;
}


void
ctl_routes_free(ctl_routes_t *rt)
{
    size_t        i;
    ctl_route_t  *r;

    for (i = 0; i < rt->nroutes; i++) {
        r = &rt->routes[i];
        free(r->name);
        free(r->pattern);
        free(r->service);
        free(r->legacy);
        free(r->lag_source);
    }

    free(rt->text);
    free(rt->file);
    memset(rt, 0, sizeof(ctl_routes_t));
}


/* "/api/orders/" finds the route as written, or by its pattern alone */
ctl_route_t *
ctl_routes_find(ctl_routes_t *rt, const char *name)
{
    size_t  i;

    for (i = 0; i < rt->nroutes; i++) {
        if (strcmp(rt->routes[i].name, name) == 0) {
            return &rt->routes[i];
        }
    }

    for (i = 0; i < rt->nroutes; i++) {
        if (strcmp(rt->routes[i].pattern, name) == 0) {
            return &rt->routes[i];
        }
    }

    return NULL;
}


/* The file's text with r's percent set; a route without one gets one. */
char *
ctl_routes_edit(const ctl_routes_t *rt, const ctl_route_t *r,
    uint32_t percent100, size_t *len)
{
    int     n;
    char   *out, val[32], ins[64];
    size_t  at, cut, vlen;

    ctl_percent_str(percent100, val, sizeof(val));

    if (r->pct_len) {
        at = r->pct_off;
        cut = r->pct_len;
        vlen = strlen(val);

    } else {
        n = snprintf(ins, sizeof(ins), "\n    percent  %s;", val);
        if (n < 0 || (size_t) n >= sizeof(ins)) {
            return NULL;
        }
        at = r->body;
        cut = 0;
        vlen = (size_t) n;
    }

    *len = rt->len - cut + vlen;

    out = malloc(*len + 1);
    if (out == NULL) {
        return NULL;
    }

    memcpy(out, rt->text, at);
    memcpy(out + at, r->pct_len ? val : ins, vlen);
    memcpy(out + at + vlen, rt->text + at + cut, rt->len - at - cut);
    out[*len] = '\0';

    return out;
}


/* "25", "12.5", "0.01", "100": hundredths of a percent, 0..10000 */
int
ctl_percent_parse(const char *s, size_t len, uint32_t *out)
{
    size_t    i, frac;
    uint32_t  v;
    int       dot;

    v = 0;
    dot = 0;
    frac = 0;

    if (len > 0 && s[len - 1] == '%') {
        len--;
    }

    if (len == 0) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (s[i] == '.' && !dot && i > 0) {
            dot = 1;
            continue;
        }

        if (s[i] < '0' || s[i] > '9' || v > 100000) {
            return -1;
        }

        if (dot && ++frac > 2) {
            return -1;
        }

        v = v * 10 + (uint32_t) (s[i] - '0');
    }

    if (dot && frac == 0) {
        return -1;
    }

    while (frac < 2) {
        v *= 10;
        frac++;
    }

    if (v > 10000) {
        return -1;
    }

    *out = v;

    return 0;
}


const char *
ctl_percent_str(uint32_t percent100, char *buf, size_t size)
{
    if (percent100 % 100 == 0) {
        snprintf(buf, size, "%u", percent100 / 100);

    } else if (percent100 % 10 == 0) {
        snprintf(buf, size, "%u.%u", percent100 / 100,
                 (percent100 % 100) / 10);

    } else {
        snprintf(buf, size, "%u.%02u", percent100 / 100, percent100 % 100);
    }

    return buf;
}


/* "500ms", "2s", "1m", "3" (seconds) */
int
ctl_duration_parse(const char *s, int64_t *ms)
{
    char    *end;
    double   v;

    v = strtod(s, &end);

    if (end == s || v < 0 || v > 1e9) {
        return -1;
    }

    if (strcmp(end, "ms") == 0) {
        *ms = (int64_t) v;

    } else if (*end == '\0' || strcmp(end, "s") == 0) {
        *ms = (int64_t) (v * 1000);

    } else if (strcmp(end, "m") == 0) {
        *ms = (int64_t) (v * 60000);

    } else {
        return -1;
    }

    return 0;
}


/*
 * nginx's time syntax (ngx_parse_time() for milliseconds): units w d h m
 * s ms, each at most once and largest first, a bare number is seconds;
 * "1m30s", "500ms", "2".  No fractions, as nginx.
 */
int
ctl_nginx_time_parse(const char *s, int64_t *ms)
{
    int          valid;
    size_t       i, step;
    int64_t      value, total;
    const char  *p;

    /* w d h m s, then ms */
    static const char     units[] = "wdhms";
    static const int64_t  scales[] = { 604800000, 86400000, 3600000, 60000,
                                       1000, 1 };

    step = 0;
    valid = 0;
    value = 0;
    total = 0;

    for (p = s; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (value > (INT64_MAX - 9) / 10) {
                return -1;
            }
            value = value * 10 + (*p - '0');
            valid = 1;
            continue;
        }

        if (*p == 'm' && p[1] == 's') {
            i = 5;
            p++;

        } else {
            for (i = 0; i < 5 && units[i] != *p; i++) {
                /* void */
            }

            if (i == 5) {
                return -1;
            }
        }

        /* each unit once, largest first */
        if (i + 1 <= step || value > (INT64_MAX - total) / scales[i]) {
            return -1;
        }

        step = i + 1;
        total += value * scales[i];
        value = 0;
    }

    if (!valid || value > (INT64_MAX - total) / 1000) {
        return -1;
    }

    *ms = total + value * 1000;

    return 0;
}
