/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qmp-json.c: fuzz the shim's JSON reader (util/virjsonflat.c), which
 * turns what QEMU writes on its monitor (hostile when the guest has taken
 * QEMU over) into the flat text every client reads, and the escaping that
 * builds the strings clients send to QEMU.
 *
 * Checks beyond "no crash":
 *  - flat text is what shimproto.h promises: NUL-terminated at the length
 *    returned, one "PATH=VALUE\n" line per leaf, PATH of [A-Za-z0-9_?.-]
 *    only, VALUE printable ASCII: no line a string could forge;
 *  - every line's PATH is found by virJSONFlatGet, with that line's value
 *    when it is the PATH's first line;
 *  - a text that flattens and is an object is one for virJSONIsObject;
 *  - the input's bytes up to its first NUL, escaped by
 *    virJSONAppendString into {"k":...}, flatten back to themselves (the
 *    bytes flat text cannot hold as '?').
 */
#include <stdbool.h>

/* The reader itself, so that libFuzzer sees its branches (the library
 * archive is not instrumented). */
#include "../../src/util/virjsonflat.c"
#include "fuzz.h"

#define OUT_CAP (1u << 20)

static bool pathChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '?' || c == '.' || c == '-';
}

static void checkFlat(const char *flat, size_t n)
{
    static char value[OUT_CAP];
    char path[600];

    FUZZ_CHECK(n == 0 || flat[n - 1] == '\n', "the flat text does not end a line");
    for (size_t at = 0; at < n;) {
        const char *line = flat + at, *eol = memchr(line, '\n', n - at);
        FUZZ_CHECK(eol != NULL, "a line has no end");
        const char *eq = memchr(line, '=', (size_t)(eol - line));
        FUZZ_CHECK(eq != NULL, "a line has no '=': %.*s", (int)(eol - line), line);
        for (const char *c = line; c < eq; c++)
            FUZZ_CHECK(pathChar(*c), "a path holds byte 0x%02x", (unsigned char)*c);
        for (const char *c = eq + 1; c < eol; c++)
            FUZZ_CHECK(*c >= 0x20 && *c < 0x7f, "a value holds byte 0x%02x", (unsigned char)*c);
        size_t plen = (size_t)(eq - line), vlen = (size_t)(eol - eq - 1);
        FUZZ_CHECK(plen < sizeof(path), "a path of %zu bytes", plen);
        memcpy(path, line, plen);
        path[plen] = '\0';
        ssize_t got = virJSONFlatGet(flat, n, path, value, sizeof(value));
        FUZZ_CHECK(got >= 0, "path '%s' of a line is not found", path);
        bool first = true;
        for (size_t k = 0; k < at && first;) {
            const char *l2 = flat + k, *e2 = memchr(l2, '\n', n - k);
            first = !((size_t)(e2 - l2) > plen && memcmp(l2, path, plen) == 0 && l2[plen] == '=');
            k = (size_t)(e2 - flat) + 1;
        }
        if (first)
            FUZZ_CHECK((size_t)got == vlen && memcmp(value, eq + 1, vlen) == 0,
                       "path '%s': found '%s', the line says '%.*s'", path, value, (int)vlen,
                       eq + 1);
        at = (size_t)(eol - flat) + 1;
    }
}

static void checkEscape(const uint8_t *data, size_t size)
{
    static char str[OUT_CAP], doc[OUT_CAP], flat[OUT_CAP], back[OUT_CAP];
    size_t slen = strnlen((const char *)data, size), used = 0;

    if (slen >= sizeof(str))
        return;
    memcpy(str, data, slen);
    str[slen] = '\0';
    memcpy(doc, "{\"k\":", 5);
    used = 5;
    if (virJSONAppendString(doc, sizeof(doc) - 1, &used, str) < 0)
        return;                                 /* too long once escaped */
    FUZZ_CHECK(used < sizeof(doc) - 1, "the escaped string overran its buffer");
    doc[used++] = '}';
    ssize_t n = virJSONFlatten(doc, used, flat, sizeof(flat));
    FUZZ_CHECK(n >= 0, "an escaped string is not JSON: %.*s", (int)used, doc);
    ssize_t got = virJSONFlatGet(flat, (size_t)n, "k", back, sizeof(back));
    FUZZ_CHECK(got == (ssize_t)slen, "an escaped string of %zu bytes flattens to %zd", slen, got);
    for (size_t i = 0; i < slen; i++) {
        unsigned char c = (unsigned char)str[i];
        char want = c >= 0x20 && c < 0x7f ? (char)c : '?';
        FUZZ_CHECK(back[i] == want, "byte %zu: 0x%02x escaped came back as 0x%02x", i, c,
                   (unsigned char)back[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char flat[OUT_CAP];
    const char *in = (const char *)data;

    ssize_t n = virJSONFlatten(in, size, flat, sizeof(flat));
    if (n >= 0) {
        FUZZ_CHECK((size_t)n < sizeof(flat) && flat[n] == '\0' && strlen(flat) == (size_t)n,
                   "the flat text's length %zd is not where its NUL is", n);
        checkFlat(flat, (size_t)n);
        size_t i = 0;
        while (i < size && (in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r'))
            i++;
        if (i < size && in[i] == '{')
            FUZZ_CHECK(virJSONIsObject(in, size), "an object that flattens is not an object");
    }
    checkEscape(data, size);
    return 0;
}
