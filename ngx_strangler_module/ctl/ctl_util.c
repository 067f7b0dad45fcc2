/*
 * strangler-ctl: files, a minimal HTTP/1.0 GET for the status URL,
 * running the nginx command, reading lag files.
 */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"


char *
ctl_read_file(const char *file, size_t *len, char *err, size_t errlen)
{
    int          fd;
    char        *buf, *nb;
    size_t       size;
    ssize_t      n;

    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return NULL;
    }

    size = 4096;
    *len = 0;

    buf = malloc(size + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "%s: out of memory", file);
        close(fd);
        return NULL;
    }

    for ( ;; ) {
        if (*len == size) {
            if (size > 64 * 1024 * 1024) {
                snprintf(err, errlen, "%s: larger than 64 MiB", file);
                goto failed;
            }

            nb = realloc(buf, size * 2 + 1);
            if (nb == NULL) {
                snprintf(err, errlen, "%s: out of memory", file);
                goto failed;
            }
            buf = nb;
            size *= 2;
        }

        n = read(fd, buf + *len, size - *len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1) {
            snprintf(err, errlen, "%s: read: %s", file, strerror(errno));
            goto failed;
        }

        if (n == 0) {
            break;
        }

        *len += (size_t) n;
    }

    close(fd);
    buf[*len] = '\0';

    return buf;

failed:

    free(buf);
    close(fd);

    return NULL;
}


int
ctl_write_file(const char *file, const char *data, size_t len, mode_t mode,
    char *err, size_t errlen)
{
    int      fd;
    size_t   done;
    ssize_t  n;

    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd == -1) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return -1;
    }

    if (fchmod(fd, mode) == -1) {
        snprintf(err, errlen, "%s: chmod: %s", file, strerror(errno));
        close(fd);
        return -1;
    }

    for (done = 0; done < len; done += (size_t) n) {
        n = write(fd, data + done, len - done);

        if (n == -1 && errno == EINTR) {
            n = 0;
            continue;
        }

        if (n == -1) {
            snprintf(err, errlen, "%s: write: %s", file, strerror(errno));
            close(fd);
            return -1;
        }
    }

    if (fsync(fd) == -1) {
        snprintf(err, errlen, "%s: fsync: %s", file, strerror(errno));
        close(fd);
        return -1;
    }

    if (close(fd) == -1) {
        snprintf(err, errlen, "%s: close: %s", file, strerror(errno));
        return -1;
    }

    return 0;
}


int64_t
ctl_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* http://host[:port]/path only: the status location is local plain HTTP */
char *
ctl_http_get(const char *url, double timeout, size_t *len, char *err,
    size_t errlen)
{
    int               fd, rc, status;
    char              host[256], port[16], req[1024], *buf, *nb, *body;
    size_t            size, have, hlen;
    ssize_t           n;
    const char       *p, *path, *colon;
    struct timeval    tv;
    struct addrinfo   hints, *ai, *a;

    if (strncmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "status url \"%s\": only http:// is "
                 "supported", url);
        return NULL;
    }

    p = url + 7;
    path = strchr(p, '/');
    if (path == NULL) {
        path = p + strlen(p);
    }

    colon = memchr(p, ':', (size_t) (path - p));
    hlen = (size_t) ((colon ? colon : path) - p);

    if (hlen == 0 || hlen >= sizeof(host)) {
        snprintf(err, errlen, "status url \"%s\": bad host", url);
        return NULL;
    }

    memcpy(host, p, hlen);
    host[hlen] = '\0';

    if (colon) {
        hlen = (size_t) (path - colon - 1);
        if (hlen == 0 || hlen >= sizeof(port)) {
            snprintf(err, errlen, "status url \"%s\": bad port", url);
            return NULL;
        }
        memcpy(port, colon + 1, hlen);
        port[hlen] = '\0';

    } else {
        memcpy(port, "80", 3);
    }

    n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n"
                 "User-Agent: strangler-ctl\r\nAccept: application/json\r\n"
                 "\r\n", *path ? path : "/", host);
    if (n < 0 || (size_t) n >= sizeof(req)) {
        snprintf(err, errlen, "status url \"%s\": too long", url);
        return NULL;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "status url \"%s\": %s", url,
                 gai_strerror(rc));
        return NULL;
    }

    fd = -1;
    tv.tv_sec = (time_t) timeout;
    tv.tv_usec = (suseconds_t) ((timeout - (double) tv.tv_sec) * 1e6);

    for (a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
                    a->ai_protocol);
        if (fd == -1) {
            continue;
        }

        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0
            && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0
            && connect(fd, a->ai_addr, a->ai_addrlen) == 0)
        {
            break;
        }

        rc = errno;
        close(fd);
        fd = -1;
        errno = rc;
    }

    freeaddrinfo(ai);

    if (fd == -1) {
        snprintf(err, errlen, "status url \"%s\": connect: %s", url,
                 strerror(errno));
        return NULL;
    }

    if (write(fd, req, (size_t) n) != n) {
        snprintf(err, errlen, "status url \"%s\": write: %s", url,
                 strerror(errno));
        close(fd);
        return NULL;
    }

    size = 16384;
    have = 0;
    buf = malloc(size + 1);
    if (buf == NULL) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    for ( ;; ) {
        if (have == size) {
            if (size > 32 * 1024 * 1024) {
                snprintf(err, errlen, "status url \"%s\": answer too large",
                         url);
                goto failed;
            }
            nb = realloc(buf, size * 2 + 1);
            if (nb == NULL) {
                snprintf(err, errlen, "out of memory");
                goto failed;
            }
            buf = nb;
            size *= 2;
        }

        n = read(fd, buf + have, size - have);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1) {
            snprintf(err, errlen, "status url \"%s\": read: %s", url,
                     errno == EAGAIN ? "timed out" : strerror(errno));
            goto failed;
        }

        if (n == 0) {
            break;
        }

        have += (size_t) n;
    }

    close(fd);
    fd = -1;
    buf[have] = '\0';

    if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1) {
        snprintf(err, errlen, "status url \"%s\": not an HTTP answer", url);
        goto failed;
    }

    body = strstr(buf, "\r\n\r\n");
    if (body == NULL) {
        snprintf(err, errlen, "status url \"%s\": truncated answer", url);
        goto failed;
    }

    if (status != 200) {
        snprintf(err, errlen, "status url \"%s\": HTTP %d", url, status);
        goto failed;
    }

    body += 4;
    *len = have - (size_t) (body - buf);
    memmove(buf, body, *len + 1);

    return buf;

failed:

    if (fd != -1) {
        close(fd);
    }

    free(buf);

    return NULL;
}


/*
 * Runs "cmd args" with /bin/sh (the operator wrote cmd, e.g.
 * "nginx -p /srv/ng -c /srv/ng/nginx.conf"); out gets its stdout and
 * stderr.  Returns the exit status, or -1 when it could not run.
 */
int
ctl_run(const char *cmd, const char *args, char *out, size_t outlen)
{
    int      fds[2], status;
    char     line[4096];
    pid_t    pid;
    size_t   have;
    ssize_t  n;

    if (snprintf(line, sizeof(line), "%s %s", cmd, args)
        >= (int) sizeof(line))
    {
        snprintf(out, outlen, "nginx command too long");
        return -1;
    }

    if (pipe2(fds, O_CLOEXEC) == -1) {
        snprintf(out, outlen, "pipe: %s", strerror(errno));
        return -1;
    }

    pid = fork();

    if (pid == -1) {
        snprintf(out, outlen, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }

    if (pid == 0) {
        if (dup2(fds[1], 1) == -1 || dup2(fds[1], 2) == -1) {
            _exit(127);
        }
        execl("/bin/sh", "sh", "-c", line, (char *) NULL);
        _exit(127);
    }

    close(fds[1]);
    have = 0;

    for ( ;; ) {
        n = read(fds[0], outlen > have + 1 ? out + have : line,
                 outlen > have + 1 ? outlen - have - 1 : sizeof(line));

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        if (outlen > have + 1) {
            have += (size_t) n;
        }
    }

    close(fds[0]);

    if (outlen) {
        out[have < outlen ? have : outlen - 1] = '\0';
    }

    while (waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) {
            snprintf(out, outlen, "waitpid: %s", strerror(errno));
            return -1;
        }
    }

    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }

    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}


/*
 * The lag of r's service: from --lag-file/config "lag_file SERVICE PATH"
 * (stale after stale_after), else from the route block's lag_source (stale
 * after its stale=, as the module reads it).
 */
void
ctl_lag_read(const ctl_conf_t *cf, const ctl_route_t *r, ctl_lag_t *lag)
{
    char         *text, err[CTL_ERRLEN];
    size_t        i, len;
    int64_t       now, stale_ms;
    const char   *path;
    struct stat   st;

    memset(lag, 0, sizeof(ctl_lag_t));
    path = NULL;
    stale_ms = cf->stale_ms;

    for (i = 0; i < cf->nlag && r->service; i++) {
        if (strcmp(cf->lag[i].service, r->service) == 0) {
            path = cf->lag[i].path;
        }
    }

    if (path == NULL && r->lag_source) {
        path = r->lag_source;
        stale_ms = r->lag_stale_ms;
    }

    if (path == NULL) {
        snprintf(lag->why, sizeof(lag->why), "no lag file configured for "
                 "service \"%s\" (no lag_source in the route, no lag_file "
                 "in ctl.conf)", r->service ? r->service : "");
        return;
    }

    lag->known = 1;
    snprintf(lag->path, sizeof(lag->path), "%s", path);

    /* a FIFO there would block the read: only regular files, as nginx */

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(lag->why, sizeof(lag->why), "%s: not a regular file", path);
        return;
    }

    text = ctl_read_file(path, &len, err, sizeof(err));
    if (text == NULL) {
        snprintf(lag->why, sizeof(lag->why), "%s", err);
        return;
    }

    if (strangler_lagfile_parse(text, len, &lag->raw) != 0) {
        snprintf(lag->why, sizeof(lag->why), "%s: not a version %d lag "
                 "file: \"%.80s\"", path, STRANGLER_LAGFILE_VERSION, text);
        free(text);
        return;
    }

    free(text);

    /* compared before subtracting: updated_ms may be anything */

    now = ctl_now_ms();

    if (lag->raw.updated_ms > now + CTL_LAG_SKEW_MS) {
        snprintf(lag->why, sizeof(lag->why), "%s: written in the future "
                 "(updated_ms %lld, now %lld)", path,
                 (long long) lag->raw.updated_ms, (long long) now);
        return;
    }

    if (lag->raw.updated_ms < now - stale_ms) {
        snprintf(lag->why, sizeof(lag->why), "%s: stale, last written "
                 "%.1fs ago", path,
                 ((double) now - (double) lag->raw.updated_ms) / 1000);
        return;
    }

    lag->age_ms = now - lag->raw.updated_ms;

    if (lag->raw.lag_ms < 0) {
        snprintf(lag->why, sizeof(lag->why), "%s: lag unknown (nothing "
                 "applied yet)", path);
        return;
    }

    lag->lag_ms = lag->raw.lag_ms;
    lag->ok = 1;
}
