/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz.h: what every fuzz target in tests/fuzz/ shares.
 *
 * A target defines LLVMFuzzerTestOneInput(). Built with clang's
 * -fsanitize=fuzzer (`make fuzz`), libFuzzer drives it. Built with
 * -DFUZZ_REPLAY (`make fuzz-replay`), the main() below makes it a plain
 * program that runs every file named on its command line (a directory:
 * every file in it) through the target once, and says how many it ran.
 * A crash, a sanitizer report or an abort() from a target's own checks is
 * a finding; returning is a pass.
 */
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A target's own check failed: report and abort, so that libFuzzer (and
 * the replay) keeps the input that did it. */
#define FUZZ_CHECK(cond, ...) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz check failed: %s: ", #cond); \
            fprintf(stderr, __VA_ARGS__); \
            fputc('\n', stderr); \
            abort(); \
        } \
    } while (0)

/* The XML the library wrote for an input it accepted must be one
 * well-formed element named root, with nothing beside it: whatever the
 * input held (a title, a kept element's text), it did not break out of
 * its place; a finding otherwise. @what is the caller's word for the
 * input in the message ("block", "definition"). */
static inline void fuzzOneElement(const char *xml, const char *root, const char *what)
{
    FUZZ_CHECK(xml != NULL, "cannot write the XML of an accepted %s", what);
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr r = doc ? xmlDocGetRootElement(doc) : NULL;
    FUZZ_CHECK(r && xmlStrEqual(r->name, BAD_CAST root) && !r->next,
               "the library's XML of an accepted %s is not one <%s>:\n%s", what, root, xml);
    xmlFreeDoc(doc);
}

/* A target that must hand its input to the library as a file: write
 * @data to @name in a directory of its own under $TMPDIR (default /tmp),
 * made at the first call, and return the file's path. The file and the
 * directory are removed when the process exits (libFuzzer ends its runs
 * with exit(), the replay returns from main()). Not thread-safe; one
 * file name per target. */
static char fuzzTempDir[256], fuzzTempPath[300];

static void fuzzTempRemove(void)
{
    (void)unlink(fuzzTempPath);
    (void)rmdir(fuzzTempDir);
}

static inline const char *fuzzTempFile(const char *name, const uint8_t *data, size_t size)
{
    if (!fuzzTempPath[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzzTempDir, sizeof(fuzzTempDir), "%s/virtsup-fuzz-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        FUZZ_CHECK(mkdtemp(fuzzTempDir) != NULL, "cannot create a directory %s: %m",
                   fuzzTempDir);
        snprintf(fuzzTempPath, sizeof(fuzzTempPath), "%s/%s", fuzzTempDir, name);
        atexit(fuzzTempRemove);
    }
    int fd = open(fuzzTempPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0, "cannot open %s: %m", fuzzTempPath);
    for (size_t off = 0; off < size;) {
        ssize_t n = write(fd, data + off, size - off);
        FUZZ_CHECK(n > 0, "cannot write %s: %m", fuzzTempPath);
        off += (size_t)n;
    }
    close(fd);
    return fuzzTempPath;
}

#ifdef FUZZ_REPLAY
static int fuzzReplayFile(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f) {
        perror(path);
        return -1;
    }
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            if (!(buf = realloc(buf, cap))) {
                fclose(f);
                return -1;
            }
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    /* An exact-size copy: a read past the input's end is an ASan report. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    int ran = 0, bad = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            perror(argv[i]);
            bad++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad += fuzzReplayFile(argv[i]) < 0;
            ran++;
            continue;
        }
        struct dirent **names;
        int n = scandir(argv[i], &names, NULL, alphasort);
        if (n < 0) {
            perror(argv[i]);
            bad++;
            continue;
        }
        for (int j = 0; j < n; j++) {
            char path[4096];
            if (names[j]->d_name[0] != '.') {
                snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name);
                bad += fuzzReplayFile(path) < 0;
                ran++;
            }
            free(names[j]);
        }
        free(names);
    }
    printf("%s: %d inputs replayed, %d unreadable\n", argv[0], ran, bad);
    return bad ? 1 : 0;
}
#endif
