/*
 * libFuzzer target: the bridge's configuration loader (cdc_config_load in
 * cdc-bridge/config.c, inih underneath).  Each input is written to a
 * temporary file and loaded as `-c FILE` would load it.
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - a failed load says why, and the message names the file (the
 *     "file:line: ..." promise of docs/cdc-bridge.md);
 *   - a successful load can be printed (check-config's output) and every
 *     source table it names has a topic;
 *   - cdc_config_free() after either releases everything (LeakSanitizer).
 *
 * CDC_* variables are removed from the environment first, so only the
 * input decides.  Build and run: tests/integration/test_fuzz_smoke.py,
 * docs/reliability.md.
 */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"


extern char  **environ;

static char    fuzz_path[64];
static int     fuzz_fd = -1;
static FILE   *fuzz_null;


static void
fuzz_fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_config: %s: %s\n", what, detail);
    abort();
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char   **e, name[256];
    size_t   n;

    /* unset every CDC_* variable: the input alone is the config */
    for (;;) {
        for (e = environ; *e; e++) {
            if (strncmp(*e, "CDC_", 4) == 0) {
                break;
            }
        }

        if (*e == NULL) {
            break;
        }

        n = strcspn(*e, "=");
        if (n >= sizeof(name)) {
            n = sizeof(name) - 1;
        }

        memcpy(name, *e, n);
        name[n] = '\0';

        if (unsetenv(name) != 0) {
            fuzz_fail("unsetenv", name);
        }
    }

    if (snprintf(fuzz_path, sizeof(fuzz_path), "/tmp/fuzz_config.%ld.conf",
                 (long) getpid()) >= (int) sizeof(fuzz_path))
    {
        fuzz_fail("path", "too long");
    }

    fuzz_fd = open(fuzz_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fuzz_fd == -1) {
        fuzz_fail("open", fuzz_path);
    }

    fuzz_null = fopen("/dev/null", "w");
    if (fuzz_null == NULL) {
        fuzz_fail("fopen", "/dev/null");
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc;
    size_t               i, j;
    char                 err[1024], topic[512];
    cdc_config_t         cf;
    cdc_service_conf_t  *svc;

    if (ftruncate(fuzz_fd, 0) != 0) {
        fuzz_fail("ftruncate", fuzz_path);
    }

    if (size > 0 && pwrite(fuzz_fd, data, size, 0) != (ssize_t) size) {
        fuzz_fail("pwrite", fuzz_path);
    }

    err[0] = '\0';
    rc = cdc_config_load(&cf, fuzz_path, err, sizeof(err));

    if (rc != 0) {
        if (err[0] == '\0') {
            fuzz_fail("load failed without a message", fuzz_path);
        }

        if (strstr(err, fuzz_path) == NULL) {
            fuzz_fail("error does not name the file", err);
        }

        cdc_config_free(&cf);
        return 0;
    }

    cdc_config_print(&cf, fuzz_null);

    for (i = 0; i < cf.nservices; i++) {
        svc = &cf.services[i];

        if (svc->name == NULL || svc->name[0] == '\0') {
            fuzz_fail("service without a name", fuzz_path);
        }

        if (cdc_config_service(&cf, svc->name) != svc) {
            fuzz_fail("service not found by its own name", svc->name);
        }

        for (j = 0; j < svc->ntables; j++) {
            if (cdc_config_topic(&cf, svc->tables[j].src_db,
                                 svc->tables[j].src_table, topic,
                                 sizeof(topic)) != 0
                && strlen(cf.topic_prefix) + strlen(svc->tables[j].src_db)
                   + strlen(svc->tables[j].src_table) + 3 < sizeof(topic))
            {
                fuzz_fail("no topic for a mapped table", svc->name);
            }

            (void) cdc_config_table_wanted(&cf, svc->tables[j].src_db,
                                           svc->tables[j].src_table);
        }
    }

    cdc_config_free(&cf);

    return 0;
}
