/* Notifications across a staged update (docs/releases.md): the running
 * message rules and a signed successor that takes effect at midnight are
 * held by one terminal, which keeps each version's throttle state itself
 * (sized once, when the terminal is made). Each message is decided by the
 * version in effect at its own instant; at the swap the successor takes
 * over the deliveries the old version counted, rule by rule, so a cap is
 * not passed across midnight; while the old version is kept for late
 * messages, a delivery either version makes is counted by both.
 *
 *   staged_messages KEY_HEX INSTALLED SUCCESSOR TOO_BIG FEES < MESSAGES
 *
 * KEY_HEX is the 32-byte Ed25519 public key in hex. TOO_BIG is a signed
 * successor whose cap the terminal's state cannot keep; FEES a signed fees
 * artifact. A message is a line "UNIX_MS TERMINAL KIND" (KIND: security or
 * promo). Output: one line per message, "vVERSION DECISION" (deliver,
 * suppress RULE, defer RULE UNTIL_MS) or "refused STATUS", then
 * "check WHAT STATUS" for each error path of tg_terminal_decide and of
 * making a terminal for notifications. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate.h"
#include "update_io.h"

/* The policy handle and record of one held version: records are built
 * from the handle the terminal gave for the slot that decides them. */
typedef struct {
    uint32_t version;
    tg_policy *policy;
    tg_record *record;
    uint32_t at, terminal, kind;
} builder;

static void builder_free(builder *b) {
    tg_record_free(b->record);
    tg_policy_free(b->policy);
    memset(b, 0, sizeof *b);
}

static tg_status builder_for(builder *b, tg_terminal *t, tg_slot slot) {
    tg_held held;
    tg_status s = tg_terminal_held(t, slot, &held);
    if (s != TG_OK) return s;
    if (b->policy != NULL && b->version == held.version) return TG_OK;
    builder_free(b);
    s = tg_terminal_policy(t, slot, &b->policy);
    if (s == TG_OK) s = tg_record_new(b->policy, &b->record);
    if (s == TG_OK) s = tg_policy_field(b->policy, "at", &b->at);
    if (s == TG_OK) s = tg_policy_field(b->policy, "terminal", &b->terminal);
    if (s == TG_OK) s = tg_policy_field(b->policy, "kind", &b->kind);
    if (s != TG_OK) { builder_free(b); return s; }
    b->version = held.version;
    return TG_OK;
}

static tg_status build(builder *b, int64_t at, const char *terminal, const char *kind) {
    tg_status s = tg_record_reset(b->record);
    if (s == TG_OK) s = tg_record_set_time(b->record, b->at, at, 28800);
    if (s == TG_OK) s = tg_record_set_string(b->record, b->terminal, terminal);
    if (s == TG_OK) s = tg_record_set_enum(b->record, b->kind, kind);
    return s;
}

static void print_decision(const builder *b, const tg_decision *d) {
    char rule[64] = "";
    if (d->rule != TG_NO_RULE) tg_policy_rule_name(b->policy, d->rule, rule, sizeof rule);
    switch (d->verdict) {
    case TG_DELIVER: printf("v%lu deliver\n", (unsigned long)b->version); break;
    case TG_SUPPRESS: printf("v%lu suppress %s\n", (unsigned long)b->version, rule); break;
    case TG_DEFER:
        printf("v%lu defer %s %" PRId64 "\n", (unsigned long)b->version, rule, d->until_ms);
        break;
    }
}

/* Routes, builds and decides one message; prints the answer. */
static void decide(tg_terminal *t, builder *b, int64_t at, const char *terminal,
                   const char *kind) {
    tg_slot slot;
    tg_status s = tg_terminal_route(t, at, &slot);
    /* Outside the deciding version's window: only an always-deliver
     * message may still go, and tg_terminal_decide says which. */
    if (s != TG_OK && s != TG_EXPIRED && s != TG_NOT_YET_EFFECTIVE) {
        printf("refused %s\n", tg_status_name(s));
        return;
    }
    s = builder_for(b, t, slot);
    if (s == TG_OK) s = build(b, at, terminal, kind);
    tg_decision d;
    if (s == TG_OK) s = tg_terminal_decide(t, slot, b->record, &d);
    if (s != TG_OK) {
        printf("refused %s\n", tg_status_name(s));
        return;
    }
    print_decision(b, &d);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: staged_messages KEY_HEX INSTALLED SUCCESSOR TOO_BIG FEES\n");
        return 2;
    }
    uint8_t key[32];
    if (parse_key(argv[1], key) != 0) {
        fprintf(stderr, "bad key\n");
        return 2;
    }
    uint8_t *bytes[4];
    size_t lens[4];
    for (int i = 0; i < 4; i++) {
        if (read_file(argv[2 + i], &bytes[i], &lens[i]) != 0) {
            fprintf(stderr, "cannot read %s\n", argv[2 + i]);
            for (int j = 0; j < i; j++) free(bytes[j]);
            return 2;
        }
    }
    /* Room for 16 keys per stateful rule and 16 message ids, in each
     * version held: allocated now for the running version and when the
     * successor is staged, never while deciding. */
    tg_state_sizes sizes = {16, 16, TG_EVICT_OLDEST};
    char message[256];
    tg_terminal *t = NULL;
    tg_status s = tg_terminal_new(bytes[0], lens[0], key, 1, NULL, &sizes, &t, message,
                                  sizeof message);
    if (s == TG_OK) s = tg_terminal_stage(t, bytes[1], lens[1], message, sizeof message);
    if (s != TG_OK) {
        printf("refused %s: %s\n", tg_status_name(s), message);
        for (int i = 0; i < 4; i++) free(bytes[i]);
        tg_terminal_free(t);
        return 1;
    }
    builder b;
    memset(&b, 0, sizeof b);
    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        long long at;
        char terminal[64], kind[64];
        if (sscanf(line, "%lld %63s %63s", &at, terminal, kind) != 3) continue;
        decide(t, &b, (int64_t)at, terminal, kind);
    }

    /* Every error path of tg_terminal_decide, and of making a terminal
     * or staging for notifications. The last message was within the hour
     * after midnight: the previous version is still kept. */
    tg_decision d;
    tg_slot slot;
    tg_held held;
    int64_t before = 0;
    if (tg_terminal_held(t, TG_SLOT_CURRENT, &held) == TG_OK) before = held.from_ms - 60000;
    if (builder_for(&b, t, TG_SLOT_CURRENT) == TG_OK) build(&b, before, "t1", "promo");
    printf("check decide-misrouted %s\n",
           tg_status_name(tg_terminal_decide(t, TG_SLOT_CURRENT, b.record, &d)));
    printf("check decide-previous-record %s\n",
           tg_status_name(tg_terminal_decide(t, TG_SLOT_PREVIOUS, b.record, &d)));
    printf("check decide-staged %s\n",
           tg_status_name(tg_terminal_decide(t, TG_SLOT_STAGED, b.record, &d)));
    printf("check decide-null %s\n",
           tg_status_name(tg_terminal_decide(t, TG_SLOT_CURRENT, b.record, NULL)));
    printf("check decide-bad-record %s\n",
           tg_status_name(tg_terminal_decide(t, TG_SLOT_CURRENT, (tg_record *)b.policy, &d)));
    tg_policy *loose = NULL;
    tg_record *loose_record = NULL;
    if (tg_policy_load(bytes[1], lens[1], &loose, NULL, 0) == TG_OK &&
        tg_record_new(loose, &loose_record) == TG_OK) {
        printf("check decide-other-handle %s\n",
               tg_status_name(tg_terminal_decide(t, TG_SLOT_CURRENT, loose_record, &d)));
    }
    tg_record_free(loose_record);
    tg_policy_free(loose);
    printf("check stage-capacity %s\n",
           tg_status_name(tg_terminal_stage(t, bytes[2], lens[2], message, sizeof message)));
    printf("check stage-capacity-staged-nothing %s\n",
           tg_status_name(tg_terminal_held(t, TG_SLOT_STAGED, &held)));

    tg_terminal *other = NULL;
    strcpy(message, UNWRITTEN);
    s = tg_terminal_new(bytes[0], lens[0], key, 1, NULL, NULL, &other, message, sizeof message);
    printf("check new-no-sizes %s %s\n", tg_status_name(s), reason(message));
    tg_state_sizes bad = {16, 16, 7};
    s = tg_terminal_new(bytes[0], lens[0], key, 1, NULL, &bad, &other, message, sizeof message);
    printf("check new-bad-when-full %s %s\n", tg_status_name(s), reason(message));
    s = tg_terminal_new(bytes[2], lens[2], key, 1, NULL, &sizes, &other, message,
                        sizeof message);
    printf("check new-capacity %s %s\n", tg_status_name(s), reason(message));
    tg_state_sizes no_keys = {0, 16, TG_EVICT_OLDEST};
    s = tg_terminal_new(bytes[0], lens[0], key, 1, NULL, &no_keys, &other, message,
                        sizeof message);
    printf("check new-no-keys %s %s\n", tg_status_name(s), reason(message));
    /* Version 1 names no message id: room for none is right. */
    tg_state_sizes no_ids = {16, 0, TG_EVICT_OLDEST};
    s = tg_terminal_new(bytes[0], lens[0], key, 1, NULL, &no_ids, &other, message,
                        sizeof message);
    printf("check new-no-ids-needed %s\n", tg_status_name(s));
    tg_terminal_free(other);
    other = NULL;
    /* A fees terminal keeps no throttle state. */
    s = tg_terminal_new(bytes[3], lens[3], key, 1, NULL, NULL, &other, NULL, 0);
    printf("check new-fees-no-sizes %s\n", tg_status_name(s));
    printf("check decide-fees %s\n",
           tg_status_name(tg_terminal_decide(other, TG_SLOT_CURRENT, b.record, &d)));
    tg_terminal_free(other);
    other = NULL;
    /* The old version alone, past its end: a promotion is refused, a
     * security message still delivered. */
    s = tg_terminal_new(bytes[0], lens[0], key, 1, NULL, &sizes, &other, NULL, 0);
    builder alone;
    memset(&alone, 0, sizeof alone);
    if (s == TG_OK && tg_terminal_held(other, TG_SLOT_CURRENT, &held) == TG_OK) {
        int64_t early = held.from_ms - 60000, after = held.until_ms + 60000;
        tg_terminal_route(other, early, &slot);
        if (builder_for(&alone, other, slot) == TG_OK) build(&alone, early, "t1", "promo");
        printf("check decide-not-yet-effective %s\n",
               tg_status_name(tg_terminal_decide(other, slot, alone.record, &d)));
        printf("check route-expired %s\n", tg_status_name(tg_terminal_route(other, after, &slot)));
        build(&alone, after, "t1", "promo");
        printf("check decide-expired %s\n",
               tg_status_name(tg_terminal_decide(other, slot, alone.record, &d)));
        build(&alone, after, "t1", "security");
        s = tg_terminal_decide(other, slot, alone.record, &d);
        printf("check decide-expired-security %s %s\n", tg_status_name(s),
               s == TG_OK && d.verdict == TG_DELIVER ? "deliver" : "-");
    }
    builder_free(&alone);
    tg_terminal_free(other);
    for (int i = 0; i < 4; i++) free(bytes[i]);
    builder_free(&b);
    tg_terminal_free(t);
    return 0;
}
