/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virjsonflat.c: a strict JSON reader that writes leaves as flat text, and
 * the lookups and escaping that go with it (see virjsonflat.h).
 *
 * Hostile input is the normal case here (a compromised QEMU writes it):
 * every read is bounds-checked, nesting is limited, output never exceeds
 * its buffer, and the flat text holds printable ASCII only.
 */
#include <stdio.h>
#include <sys/types.h>

#include "util/internal.h"
#include "util/virjsonflat.h"

#define PATH_MAX_LEN 512

typedef struct flatState {
    const char *in;
    size_t len, pos;
    char *out;                /* NULL: validate only */
    size_t cap, used;
    char path[PATH_MAX_LEN];
    size_t pathlen;
} flatState;

static void skipWS(flatState *s)
{
    while (s->pos < s->len &&
           (s->in[s->pos] == ' ' || s->in[s->pos] == '\t' ||
            s->in[s->pos] == '\n' || s->in[s->pos] == '\r'))
        s->pos++;
}

static int emit(flatState *s, const char *p, size_t n)
{
    if (!s->out)
        return 0;
    if (s->used + n + 1 > s->cap)
        return -1;
    memcpy(s->out + s->used, p, n);
    s->used += n;
    return 0;
}

static int emitChar(flatState *s, char c)
{
    return emit(s, &c, 1);
}

static int emitPathEq(flatState *s)
{
    if (emit(s, s->path, s->pathlen) < 0)
        return -1;
    return emitChar(s, '=');
}

static int hex4(flatState *s, unsigned *v)
{
    *v = 0;
    if (s->pos + 4 > s->len)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = s->in[s->pos++];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

/* A string at s->pos (the opening quote). Each decoded character is handed
 * to @put as printable ASCII ('?' for anything else). */
static int readString(flatState *s, int (*put)(flatState *, char, void *), void *opaque)
{
    if (s->pos >= s->len || s->in[s->pos] != '"')
        return -1;
    s->pos++;
    while (s->pos < s->len) {
        unsigned char c = (unsigned char)s->in[s->pos++];
        char outc;
        if (c == '"')
            return 0;
        if (c < 0x20)
            return -1;                      /* raw control character: not JSON */
        if (c == '\\') {
            if (s->pos >= s->len)
                return -1;
            char e = s->in[s->pos++];
            unsigned u, lo;
            switch (e) {
            case '"': outc = '"'; break;
            case '\\': outc = '\\'; break;
            case '/': outc = '/'; break;
            case 'b': case 'f': case 'n': case 'r': case 't': outc = '?'; break;
            case 'u':
                if (hex4(s, &u) < 0)
                    return -1;
                if (u >= 0xd800 && u <= 0xdbff) {
                    /* A surrogate pair: the low half must follow. */
                    if (s->pos + 2 > s->len || s->in[s->pos] != '\\' ||
                        s->in[s->pos + 1] != 'u')
                        return -1;
                    s->pos += 2;
                    if (hex4(s, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                        return -1;
                    outc = '?';
                } else if (u >= 0xdc00 && u <= 0xdfff) {
                    return -1;
                } else {
                    outc = (u >= 0x20 && u < 0x7f) ? (char)u : '?';
                }
                break;
            default:
                return -1;
            }
        } else {
            outc = (c < 0x7f) ? (char)c : '?';
        }
        if (put && put(s, outc, opaque) < 0)
            return -1;
    }
    return -1;
}

static int putValue(flatState *s, char c, void *opaque ATTRIBUTE_UNUSED)
{
    return emitChar(s, c);
}

static int putKey(flatState *s, char c, void *opaque ATTRIBUTE_UNUSED)
{
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (s->pathlen + 1 >= PATH_MAX_LEN)
        return -1;
    s->path[s->pathlen++] = ok ? c : '?';
    return 0;
}

static int pushSep(flatState *s)
{
    if (s->pathlen == 0)
        return 0;
    if (s->pathlen + 1 >= PATH_MAX_LEN)
        return -1;
    s->path[s->pathlen++] = '.';
    return 0;
}

static int readNumber(flatState *s)
{
    size_t start = s->pos;
    const char *p = s->in;

    if (s->pos < s->len && p[s->pos] == '-')
        s->pos++;
    if (s->pos >= s->len)
        return -1;
    if (p[s->pos] == '0') {
        s->pos++;
    } else if (p[s->pos] >= '1' && p[s->pos] <= '9') {
        while (s->pos < s->len && p[s->pos] >= '0' && p[s->pos] <= '9')
            s->pos++;
    } else {
        return -1;
    }
    if (s->pos < s->len && p[s->pos] == '.') {
        s->pos++;
        if (s->pos >= s->len || p[s->pos] < '0' || p[s->pos] > '9')
            return -1;
        while (s->pos < s->len && p[s->pos] >= '0' && p[s->pos] <= '9')
            s->pos++;
    }
    if (s->pos < s->len && (p[s->pos] == 'e' || p[s->pos] == 'E')) {
        s->pos++;
        if (s->pos < s->len && (p[s->pos] == '+' || p[s->pos] == '-'))
            s->pos++;
        if (s->pos >= s->len || p[s->pos] < '0' || p[s->pos] > '9')
            return -1;
        while (s->pos < s->len && p[s->pos] >= '0' && p[s->pos] <= '9')
            s->pos++;
    }
    if (s->pos - start > 64)
        return -1;
    if (emitPathEq(s) < 0 || emit(s, p + start, s->pos - start) < 0)
        return -1;
    return emitChar(s, '\n');
}

static int readWord(flatState *s, const char *word)
{
    size_t n = strlen(word);
    if (s->pos + n > s->len || memcmp(s->in + s->pos, word, n) != 0)
        return -1;
    s->pos += n;
    if (emitPathEq(s) < 0 || emit(s, word, n) < 0)
        return -1;
    return emitChar(s, '\n');
}

/* After a member or element: 1 at @closer (consumed), 0 after a ','
 * (consumed), -1 otherwise. */
static int listNext(flatState *s, char closer)
{
    skipWS(s);
    if (s->pos >= s->len)
        return -1;
    if (s->in[s->pos] == closer) {
        s->pos++;
        return 1;
    }
    if (s->in[s->pos] != ',')
        return -1;
    s->pos++;
    return 0;
}

/* At an opening bracket: 1 if the container is empty (closer consumed). */
static int listOpen(flatState *s, char closer)
{
    s->pos++;
    skipWS(s);
    if (s->pos < s->len && s->in[s->pos] == closer) {
        s->pos++;
        return 1;
    }
    return 0;
}

static int readValue(flatState *s, int depth)
{
    int rc;
    size_t saved = s->pathlen;

    if (depth > VIR_JSON_FLAT_DEPTH_MAX)
        return -1;
    skipWS(s);
    if (s->pos >= s->len)
        return -1;
    switch (s->in[s->pos]) {
    case '{':
        if (listOpen(s, '}'))
            return 0;
        for (;;) {
            skipWS(s);
            if (pushSep(s) < 0 || readString(s, putKey, NULL) < 0)
                return -1;
            skipWS(s);
            if (s->pos >= s->len || s->in[s->pos] != ':')
                return -1;
            s->pos++;
            if (readValue(s, depth + 1) < 0)
                return -1;
            s->pathlen = saved;
            if ((rc = listNext(s, '}')) != 0)
                return rc < 0 ? -1 : 0;
        }
    case '[':
        if (listOpen(s, ']'))
            return 0;
        for (unsigned idx = 0; ; idx++) {
            char num[16];
            int n = snprintf(num, sizeof(num), "%u", idx);
            if (pushSep(s) < 0 || s->pathlen + (size_t)n >= PATH_MAX_LEN)
                return -1;
            memcpy(s->path + s->pathlen, num, (size_t)n);
            s->pathlen += (size_t)n;
            if (readValue(s, depth + 1) < 0)
                return -1;
            s->pathlen = saved;
            if ((rc = listNext(s, ']')) != 0)
                return rc < 0 ? -1 : 0;
        }
    case '"':
        if (emitPathEq(s) < 0 || readString(s, putValue, NULL) < 0)
            return -1;
        return emitChar(s, '\n');
    case 't':
        return readWord(s, "true");
    case 'f':
        return readWord(s, "false");
    case 'n':
        return readWord(s, "null");
    default:
        return readNumber(s);
    }
}

ssize_t virJSONFlatten(const char *in, size_t len, char *out, size_t cap)
{
    flatState s = { .in = in, .len = len, .out = out, .cap = cap };

    if (!in || !out || cap == 0)
        return -1;
    if (readValue(&s, 0) < 0)
        return -1;
    skipWS(&s);
    if (s.pos != s.len)
        return -1;
    out[s.used] = '\0';
    return (ssize_t)s.used;
}

bool virJSONIsObject(const char *in, size_t len)
{
    flatState s = { .in = in, .len = len };

    if (!in)
        return false;
    skipWS(&s);
    if (s.pos >= s.len || in[s.pos] != '{')
        return false;
    if (readValue(&s, 0) < 0)
        return false;
    skipWS(&s);
    return s.pos == s.len;
}

ssize_t virJSONFlatGet(const char *flat, size_t len, const char *path,
                       char *buf, size_t buflen)
{
    size_t plen = strlen(path);
    size_t pos = 0;

    while (pos < len) {
        const char *line = flat + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t linelen = nl ? (size_t)(nl - line) : len - pos;
        pos += linelen + 1;
        if (linelen > plen && line[plen] == '=' && memcmp(line, path, plen) == 0) {
            size_t vlen = linelen - plen - 1;
            if (buf && buflen) {
                size_t n = vlen < buflen - 1 ? vlen : buflen - 1;
                memcpy(buf, line + plen + 1, n);
                buf[n] = '\0';
            }
            return (ssize_t)vlen;
        }
    }
    return -1;
}

int virJSONFlatGetU64(const char *flat, size_t len, const char *path, uint64_t *out)
{
    char buf[32], *end;
    ssize_t n = virJSONFlatGet(flat, len, path, buf, sizeof(buf));
    unsigned long long v;

    if (n <= 0 || (size_t)n >= sizeof(buf) || buf[0] < '0' || buf[0] > '9')
        return -1;
    errno = 0;
    v = strtoull(buf, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int virJSONFlatGetI64(const char *flat, size_t len, const char *path, int64_t *out)
{
    char buf[32], *end;
    ssize_t n = virJSONFlatGet(flat, len, path, buf, sizeof(buf));
    long long v;

    if (n <= 0 || (size_t)n >= sizeof(buf))
        return -1;
    errno = 0;
    v = strtoll(buf, &end, 10);
    if (errno || *end || end == buf)
        return -1;
    *out = v;
    return 0;
}

int virJSONFlatGetBool(const char *flat, size_t len, const char *path, bool *out)
{
    char buf[8];
    ssize_t n = virJSONFlatGet(flat, len, path, buf, sizeof(buf));

    if (n == 4 && STREQ(buf, "true"))
        *out = true;
    else if (n == 5 && STREQ(buf, "false"))
        *out = false;
    else
        return -1;
    return 0;
}

int virJSONAppendString(char *buf, size_t cap, size_t *used, const char *s)
{
    size_t u = *used;

#define PUT(c) do { if (u + 1 >= cap) goto full; buf[u++] = (c); } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            PUT('\\');
            PUT((char)*p);
        } else if (*p < 0x20 || *p == 0x7f) {
            char esc[8];
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
            for (int i = 0; esc[i]; i++)
                PUT(esc[i]);
        } else {
            PUT((char)*p);
        }
    }
    PUT('"');
#undef PUT
    buf[u] = '\0';
    *used = u;
    return 0;

 full:
    if (cap)
        buf[*used < cap ? *used : cap - 1] = '\0';
    return -1;
}
