/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virjsonflat.h: JSON for the QMP monitor without a JSON tree in any
 * trusted process. The shim (the only process that reads what QEMU writes)
 * turns each QMP message into "flat" text (one "PATH=VALUE" line per leaf,
 * format in shimproto.h); clients look values up in it. Clients build the
 * arguments they send with the escaping helper below.
 *
 * Pure functions, no allocation, no error reporting: thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VIR_JSON_FLAT_DEPTH_MAX 32

/* Flatten the JSON text @in (@len bytes, no NUL needed) into @out (@cap
 * bytes, NUL-terminated on success). The text must be one JSON value
 * (anything else after it but whitespace is an error); leaves under
 * @prefix (may be NULL or "") get "PREFIX." in front. Returns the length
 * written, or -1 when the text is not well-formed JSON, nests deeper than
 * VIR_JSON_FLAT_DEPTH_MAX, or does not fit. */
ssize_t virJSONFlatten(const char *in, size_t len, char *out, size_t cap);

/* True if @in is one well-formed JSON object (what a QMP "arguments" member
 * must be), within the same limits. */
bool virJSONIsObject(const char *in, size_t len);

/* The value of @path in the flat text @flat (@len bytes): copied into @buf
 * (@buflen, terminated, truncated). Returns the value's full length, or -1
 * when @path has no line. */
ssize_t virJSONFlatGet(const char *flat, size_t len, const char *path,
                       char *buf, size_t buflen);
/* The same for a number: 0, or -1 if absent or not an integer in range. */
int virJSONFlatGetU64(const char *flat, size_t len, const char *path, uint64_t *out);
int virJSONFlatGetI64(const char *flat, size_t len, const char *path, int64_t *out);
/* true/false: 0, or -1 if absent or not a boolean. */
int virJSONFlatGetBool(const char *flat, size_t len, const char *path, bool *out);

/* Append @s as a JSON string (quotes included, escaped) to @buf, which
 * holds @*used bytes of @cap. Returns 0, or -1 if it does not fit (the
 * buffer is then left terminated at its old length). */
int virJSONAppendString(char *buf, size_t cap, size_t *used, const char *s);
