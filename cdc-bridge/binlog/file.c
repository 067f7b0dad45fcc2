/*
 * binlog file reader: maps a binlog file read-only and walks its events
 * from offset 4.  A file that ends inside an event is an error naming the
 * offset, never a read past the end.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binlog_int.h"


struct cdc_binlog_file_s {
    char           *path;
    const uint8_t  *data;
    size_t          size;
    size_t          off;
};


cdc_binlog_file_t *
cdc_binlog_file_open(const char *path, char *err, size_t errlen)
{
    int                 fd;
    struct stat         st;
    void               *m;
    cdc_binlog_file_t  *f;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        cdc_bl_error(err, errlen, "%s: open: %s", path, strerror(errno));
        return NULL;
    }

    if (fstat(fd, &st) != 0) {
        cdc_bl_error(err, errlen, "%s: stat: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }

    if (!S_ISREG(st.st_mode)) {
        cdc_bl_error(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }

    if (st.st_size < CDC_BINLOG_MAGIC_LEN) {
        cdc_bl_error(err, errlen, "%s: %lld bytes, too short for a binlog",
                     path, (long long) st.st_size);
        close(fd);
        return NULL;
    }

    m = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        cdc_bl_error(err, errlen, "%s: mmap: %s", path, strerror(errno));
        return NULL;
    }

    if (memcmp(m, CDC_BINLOG_MAGIC, CDC_BINLOG_MAGIC_LEN) != 0) {
        cdc_bl_error(err, errlen, "%s: bad magic, not a binlog file", path);
        munmap(m, (size_t) st.st_size);
        return NULL;
    }

    f = calloc(1, sizeof(*f));
    if (f == NULL || (f->path = strdup(path)) == NULL) {
        cdc_bl_error(err, errlen, "%s: out of memory", path);
        free(f);
        munmap(m, (size_t) st.st_size);
        return NULL;
    }

    (void) madvise(m, (size_t) st.st_size, MADV_SEQUENTIAL);

    f->data = m;
    f->size = (size_t) st.st_size;
    f->off = CDC_BINLOG_MAGIC_LEN;
    return f;
}


int
cdc_binlog_file_next(cdc_binlog_file_t *f, const uint8_t **ev,
    size_t *len, uint64_t *offset, char *err, size_t errlen)
{
    size_t    left;
    uint32_t  size;

    left = f->size - f->off;
    if (left == 0) {
        return 0;
    }

    if (left < CDC_BINLOG_HEADER_LEN) {
        return cdc_bl_error(err, errlen, "%s: event at offset %zu "
                            "truncated: needs a %d-byte header, %zu left",
                            f->path, f->off, CDC_BINLOG_HEADER_LEN, left);
    }

    size = cdc_le32(f->data + f->off + 9);
    if (size < CDC_BINLOG_HEADER_LEN || size > CDC_BINLOG_MAX_EVENT) {
        return cdc_bl_error(err, errlen, "%s: event at offset %zu has an "
                            "impossible size %u", f->path, f->off, size);
    }

    if (size > left) {
        return cdc_bl_error(err, errlen, "%s: event at offset %zu "
                            "truncated: needs %u bytes, %zu left",
                            f->path, f->off, size, left);
    }

    *ev = f->data + f->off;
    *len = size;
    *offset = f->off;
    f->off += size;
    return 1;
}


void
cdc_binlog_file_close(cdc_binlog_file_t *f)
{
    if (f == NULL) {
        return;
    }

    munmap((void *) f->data, f->size);
    free(f->path);
    free(f);
}
