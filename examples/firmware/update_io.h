/* What the update examples (trusted_update.c, staged_update.c,
 * staged_messages.c) share: reading an artifact file whole, a trusted
 * public key given in hex, and telling whether a refusal wrote its
 * reason. Not part of the library: a terminal reads its
 * artifacts from flash and has its keys built in. */
#ifndef UPDATE_IO_H
#define UPDATE_IO_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the file at `path` into a new buffer (free it); -1 on failure. */
static int read_file(const char *path, uint8_t **bytes, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return -1;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) { free(buf); buf = NULL; break; }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL) return -1;
    *bytes = buf;
    *len = n;
    return 0;
}

/* Parses 64 hex digits into a 32-byte Ed25519 public key; -1 if not. */
static int parse_key(const char *hex, uint8_t key[32]) {
    if (strlen(hex) != 64) return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        key[i] = (uint8_t)v;
    }
    return 0;
}

/* What a message buffer holds before a call that must write its reason
 * there. */
#define UNWRITTEN "(unwritten)"

/* "reason" when the last call wrote a reason over UNWRITTEN in `message`,
 * "no-reason" when not; `message` is marked UNWRITTEN again. */
static inline const char *reason(char *message) {
    int written = message[0] != '\0' && strcmp(message, UNWRITTEN) != 0;
    strcpy(message, UNWRITTEN);
    return written ? "reason" : "no-reason";
}

#endif
