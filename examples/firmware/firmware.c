/*
 * A terminal's day, in C99, through Tollgate's C ABI (include/tollgate.h):
 * load the fee and messages artifacts, price transactions, decide a
 * stream of messages, save the throttle state, "reboot" (free everything,
 * load again, restore the state) and carry on.
 *
 * Usage: firmware FEES.tga MESSAGES.tga TRANSACTIONS MESSAGES [CAPACITY.tga [WINDOWED.tga]]
 *
 * TRANSACTIONS: one per line, `CHANNEL AMOUNT`, the amount as decimal text
 * (`800.00`) or as fen (`fen:80000`). MESSAGES: one per line,
 * `KIND MERCHANT TERMINAL TXN_ID MSG_ID UNIX_MS OFFSET_SECS PROMO_CAP`,
 * `-` for a field left to its default. One answer line per input line on
 * standard output; the checks of every error path go to standard error.
 * CAPACITY.tga, when given, is a messages policy no terminal state can hold
 * (to show TG_CAPACITY). WINDOWED.tga, when given, is MESSAGES.tga's policy
 * in effect only on 2026-11-25 (Asia/Shanghai), to show TG_NOT_YET_EFFECTIVE
 * and TG_EXPIRED from tg_decide. Exit status 0 when every check held.
 *
 * Usage: firmware --vectors ARTIFACT VECTORS
 *
 * Replays a conformance pack in its C form (`tollgate-vectors POLICY -o
 * FILE --c-output VECTORS`, docs/vectors.md) through the C ABI: prints each
 * answer that differs from the expected one and a summary; exit status 0
 * when every vector agrees, 1 otherwise.
 */
#include "tollgate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

/* Checks that a call answered `want`. */
static void expect(tg_status got, tg_status want, const char *what) {
    if (got != want) {
        fprintf(stderr, "FAIL %s: %s, expected %s\n", what, tg_status_name((int32_t)got),
                tg_status_name((int32_t)want));
        failures++;
    } else {
        fprintf(stderr, "ok   %s: %s\n", what, tg_status_name((int32_t)got));
    }
}

/* What `message` holds before a call that must write its reason there. */
#define UNWRITTEN "(unwritten)"

/* Checks that a call answered `want` and wrote a reason into `message`
 * (set to UNWRITTEN before the call). */
static void expect_reason(tg_status got, tg_status want, char *message, const char *what) {
    expect(got, want, what);
    if (strcmp(message, UNWRITTEN) == 0 || message[0] == '\0') {
        fprintf(stderr, "FAIL %s: no reason in the message buffer\n", what);
        failures++;
    } else {
        fprintf(stderr, "     (%s)\n", message);
    }
    strcpy(message, UNWRITTEN);
}

/* Reads a whole file into a malloc'd buffer. */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

/* Loads an artifact file; exits on failure. */
static tg_policy *load(const char *path) {
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    tg_policy *policy = NULL;
    char message[200];
    tg_status s;
    if (bytes == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    s = tg_policy_load(bytes, len, &policy, message, sizeof message);
    free(bytes); /* the policy keeps nothing of the bytes */
    if (s != TG_OK) {
        fprintf(stderr, "cannot load %s: %s: %s\n", path, tg_status_name((int32_t)s), message);
        exit(2);
    }
    return policy;
}

/* Resolves a field index once; exits on failure. */
static uint32_t field(const tg_policy *policy, const char *name) {
    uint32_t index = 0;
    if (tg_policy_field(policy, name, &index) != TG_OK) {
        fprintf(stderr, "the policy has no field `%s`\n", name);
        exit(2);
    }
    return index;
}

/* The fees side: the Lakala schedule, its fields resolved once. */
typedef struct {
    tg_policy *policy;
    tg_record *record;
    tg_fee *fee;
    uint32_t channel, amount;
} fees;

static void fees_open(fees *f, const char *path) {
    f->policy = load(path);
    f->channel = field(f->policy, "channel");
    f->amount = field(f->policy, "amount");
    if (tg_record_new(f->policy, &f->record) != TG_OK || tg_fee_new(f->policy, &f->fee) != TG_OK) {
        exit(2);
    }
}

static void fees_close(fees *f) {
    tg_fee_free(f->fee);
    tg_record_free(f->record);
    tg_policy_free(f->policy);
}

/* Prices one transaction line and prints the answer. */
static void price_line(fees *f, const char *line) {
    char channel[64], amount[64], total[64], schedule[64], rule[64], part[64], message[200];
    int64_t total_fen = 0, part_fen = 0;
    size_t count = 0, i;
    tg_status s;
    if (sscanf(line, "%63s %63s", channel, amount) != 2) {
        printf("error bad input\n");
        return;
    }
    tg_record_reset(f->record);
    s = tg_record_set_enum(f->record, f->channel, channel);
    if (s == TG_OK) {
        s = strncmp(amount, "fen:", 4) == 0
                ? tg_record_set_minor(f->record, f->amount, strtoll(amount + 4, NULL, 10), 2)
                : tg_record_set_number(f->record, f->amount, amount);
    }
    if (s == TG_OK) {
        s = tg_price(f->policy, f->record, f->fee);
    }
    if (s != TG_OK) {
        tg_record_error(f->record, message, sizeof message);
        if (s == TG_INTERNAL) {
            /* A bug in the runtime, never an answer about the record:
               report it and stop, rather than print a fee or an error. */
            fprintf(stderr, "internal error in Tollgate: %s\n", message);
            exit(EXIT_FAILURE);
        }
        printf("error %s\n", message);
        return;
    }
    if (tg_fee_total(f->fee, total, sizeof total) != TG_OK ||
        tg_fee_total_minor(f->fee, 2, &total_fen) != TG_OK ||
        tg_fee_count(f->fee, &count) != TG_OK) {
        printf("error reading the fee\n");
        return;
    }
    printf("fee %s %lld", total, (long long)total_fen);
    for (i = 0; i < count; i++) {
        if (tg_fee_component(f->fee, i, schedule, sizeof schedule, rule, sizeof rule, part,
                             sizeof part) != TG_OK ||
            tg_fee_component_minor(f->fee, i, 2, &part_fen) != TG_OK) {
            printf(" error");
            continue;
        }
        printf(" %s/%s=%s/%lld", schedule, rule, part, (long long)part_fen);
    }
    printf("\n");
}

/* The messages side: the policy, its fields, one record, the state. */
typedef struct {
    tg_policy *policy;
    tg_record *record;
    tg_state *state;
    uint32_t kind, merchant, terminal, txn_id, msg_id, at, promo_cap;
} messages;

#define CAPACITY 64
#define ID_CAPACITY 256

static void messages_open(messages *m, const char *path) {
    char message[200];
    m->policy = load(path);
    m->kind = field(m->policy, "kind");
    m->merchant = field(m->policy, "merchant");
    m->terminal = field(m->policy, "terminal");
    m->txn_id = field(m->policy, "txn_id");
    m->msg_id = field(m->policy, "msg_id");
    m->at = field(m->policy, "at");
    m->promo_cap = field(m->policy, "promo_cap");
    if (tg_record_new(m->policy, &m->record) != TG_OK ||
        tg_state_new(m->policy, CAPACITY, ID_CAPACITY, TG_EVICT_OLDEST, &m->state, message,
                     sizeof message) != TG_OK) {
        fprintf(stderr, "cannot make the state: %s\n", message);
        exit(2);
    }
}

static void messages_close(messages *m) {
    tg_state_free(m->state);
    tg_record_free(m->record);
    tg_policy_free(m->policy);
}

/* Decides one message line and prints the answer. */
static void decide_line(messages *m, const char *line) {
    char kind[64], merchant[64], terminal[64], txn[64], id[64], cap[32], rule[64], message[200];
    long long at = 0;
    long offset = 0;
    tg_decision d;
    tg_status s;
    if (sscanf(line, "%63s %63s %63s %63s %63s %lld %ld %31s", kind, merchant, terminal, txn, id,
               &at, &offset, cap) != 8) {
        printf("error bad input\n");
        return;
    }
    tg_record_reset(m->record);
    s = tg_record_set_enum(m->record, m->kind, kind);
    if (s == TG_OK) s = tg_record_set_string(m->record, m->merchant, merchant);
    if (s == TG_OK) s = tg_record_set_string(m->record, m->terminal, terminal);
    if (s == TG_OK && strcmp(txn, "-") != 0) s = tg_record_set_string(m->record, m->txn_id, txn);
    if (s == TG_OK && strcmp(id, "-") != 0) s = tg_record_set_string(m->record, m->msg_id, id);
    if (s == TG_OK) s = tg_record_set_time(m->record, m->at, (int64_t)at, (int32_t)offset);
    if (s == TG_OK && strcmp(cap, "-") != 0) {
        s = tg_record_set_int(m->record, m->promo_cap, strtoll(cap, NULL, 10));
    }
    if (s == TG_OK) s = tg_decide(m->state, m->record, &d);
    if (s != TG_OK) {
        tg_record_error(m->record, message, sizeof message);
        printf("error %s\n", message);
        return;
    }
    rule[0] = '\0';
    if (d.rule != TG_NO_RULE && tg_policy_rule_name(m->policy, d.rule, rule, sizeof rule) != TG_OK) {
        printf("error rule name\n");
        return;
    }
    switch (d.verdict) {
    case TG_DELIVER:
        printf("deliver");
        break;
    case TG_SUPPRESS:
        printf("suppress %s", rule);
        break;
    case TG_DEFER:
        printf("defer %s %lld", rule, (long long)d.until_ms);
        break;
    }
    if (d.clamped_rule != TG_NO_RULE) {
        if (tg_policy_rule_name(m->policy, d.clamped_rule, rule, sizeof rule) != TG_OK) {
            printf(" error rule name\n");
            return;
        }
        printf(" clamped %s %lld %u", rule, (long long)d.clamped_from, (unsigned)d.clamped_to);
    }
    printf("%s\n", d.repeat ? " repeat" : "");
}

/* Saves the state to a buffer of the size the library asks for. */
static uint8_t *save_state(const messages *m, size_t *len) {
    size_t needed = 0, written = 0;
    uint8_t small[8];
    uint8_t *buf;
    expect(tg_state_saved_len(m->state, &needed), TG_OK, "tg_state_saved_len");
    expect(tg_state_save(m->state, small, sizeof small, &written), TG_SHORT_BUFFER,
           "tg_state_save into 8 bytes");
    if (written != needed) {
        fprintf(stderr, "FAIL the short-buffer answer gives the size needed\n");
        failures++;
    }
    buf = malloc(needed);
    if (buf == NULL) {
        exit(2);
    }
    expect(tg_state_save(m->state, buf, needed, &written), TG_OK, "tg_state_save");
    *len = written;
    return buf;
}

/* Every error path the header documents, on scratch handles. */
static void check_errors(const char *fees_path, const char *messages_path, const char *capacity_path,
                         const char *windowed_path) {
    fees f;
    messages m;
    tg_policy *none = NULL;
    tg_record *scratch = NULL;
    tg_state *state = NULL;
    tg_fee *fee = NULL;
    tg_kind kind;
    tg_decision d;
    uint32_t index = 0;
    size_t len = 0, written = 0;
    uint8_t *bytes = read_file(fees_path, &len);
    uint8_t *saved;
    int64_t fen = 0;
    char text[64], message[200];

    expect(tg_policy_load(NULL, 0, &none, NULL, 0), TG_NULL_POINTER, "load NULL bytes");
    /* Loading and making a state write the reason of every refusal. */
    strcpy(message, UNWRITTEN);
    expect_reason(tg_policy_load(NULL, 0, &none, message, sizeof message), TG_NULL_POINTER,
                  message, "load NULL bytes, with a message");
    expect_reason(tg_policy_load(bytes, len, NULL, message, sizeof message), TG_NULL_POINTER,
                  message, "load into NULL");
    if (bytes != NULL) {
        /* The Ed25519 base point: a valid public key (that signed nothing). */
        uint8_t key[32];
        memset(key, 0x66, sizeof key);
        key[0] = 0x58;
        expect_reason(tg_policy_load_trusted(bytes, len, key, 0, NULL, &none, message,
                                             sizeof message),
                      TG_OUT_OF_RANGE, message, "trusted load with no keys");
        expect_reason(tg_policy_load_trusted(bytes, len, NULL, 1, NULL, &none, message,
                                             sizeof message),
                      TG_NULL_POINTER, message, "trusted load with NULL keys");
        expect_reason(tg_policy_load_trusted(bytes, len, key, 1, NULL, NULL, message,
                                             sizeof message),
                      TG_NULL_POINTER, message, "trusted load into NULL");
        expect_reason(tg_policy_load_trusted(bytes, len, key, 1, NULL, &none, message,
                                             sizeof message),
                      TG_UNSIGNED, message, "trusted load of an unsigned artifact");
        tg_floor unnamed = {NULL, 1, 0};
        expect_reason(tg_policy_load_trusted(bytes, len, key, 1, &unnamed, &none, message,
                                             sizeof message),
                      TG_NULL_POINTER, message, "trusted load with a floor without a name");
    }
    if (bytes != NULL && len > 40) {
        bytes[len / 2] ^= 0x5a;
        expect(tg_policy_load(bytes, len, &none, message, sizeof message), TG_BAD_ARTIFACT,
               "load a damaged artifact");
        fprintf(stderr, "     (%s)\n", message);
        expect(tg_policy_load(bytes, 10, &none, NULL, 0), TG_BAD_ARTIFACT, "load 10 bytes");
    }
    free(bytes);
    expect(none == NULL ? TG_OK : TG_BAD_HANDLE, TG_OK, "a failed load gives NULL");

    fees_open(&f, fees_path);
    messages_open(&m, messages_path);
    expect(tg_policy_kind(f.policy, &kind), TG_OK, "tg_policy_kind fees");
    expect(kind == TG_KIND_FEES ? TG_OK : TG_WRONG_KIND, TG_OK, "fees are fees");
    expect(tg_policy_kind(m.policy, &kind), TG_OK, "tg_policy_kind messages");
    expect(kind == TG_KIND_NOTIFICATIONS ? TG_OK : TG_WRONG_KIND, TG_OK, "messages are messages");
    expect(tg_policy_kind(NULL, &kind), TG_NULL_POINTER, "tg_policy_kind NULL");
    expect(tg_policy_kind((const tg_policy *)f.record, &kind), TG_BAD_HANDLE,
           "a record given as a policy");
    expect(tg_policy_field(f.policy, "amout", &index), TG_UNKNOWN_FIELD, "unknown field");
    expect(tg_policy_field(f.policy, NULL, &index), TG_NULL_POINTER, "field name NULL");
    expect(tg_policy_rule_name(f.policy, 0, text, sizeof text), TG_WRONG_KIND,
           "rule name of a fees policy");
    expect(tg_policy_rule_name(m.policy, 999, text, sizeof text), TG_OUT_OF_RANGE,
           "rule 999");
    expect(tg_policy_rule_name(m.policy, 0, text, 2), TG_SHORT_BUFFER, "rule name into 2 bytes");

    /* Records. */
    expect(tg_record_new(NULL, &scratch), TG_NULL_POINTER, "tg_record_new NULL");
    expect(tg_record_set_enum(f.record, f.channel, "bitcoin"), TG_UNKNOWN_VARIANT, "bad variant");
    expect(tg_record_error(f.record, message, sizeof message), TG_OK, "tg_record_error");
    fprintf(stderr, "     (%s)\n", message);
    expect(tg_record_set_number(f.record, f.amount, "1,000.00"), TG_BAD_NUMBER, "malformed number");
    expect(tg_record_set_number(f.record, f.amount, "-5.00"), TG_NEGATIVE_MONEY,
           "negative money without refunds");
    expect(tg_record_set_minor(f.record, f.amount, 1, 29), TG_BAD_NUMBER, "scale 29");
    expect(tg_record_set_bool(f.record, f.amount, true), TG_WRONG_TYPE, "a bool for money");
    expect(tg_record_set_int(f.record, 99, 1), TG_UNKNOWN_FIELD, "field index 99");
    expect(tg_record_set_time(m.record, m.at, 0, 86400), TG_BAD_TIME, "offset of 24 hours");
    expect(tg_record_set_string(m.record, m.merchant, "\xff"), TG_BAD_UTF8, "a string not UTF-8");
    expect(tg_record_set_string(m.record, m.merchant, NULL), TG_NULL_POINTER, "a NULL string");
    expect(tg_record_set_int(m.record, m.promo_cap, 1), TG_OK, "tg_record_set_int");
    expect(tg_record_unset(m.record, m.promo_cap), TG_OK, "tg_record_unset");
    expect(tg_record_unset(m.record, 99), TG_UNKNOWN_FIELD, "unset field 99");
    expect(tg_record_reset(NULL), TG_NULL_POINTER, "tg_record_reset NULL");

    /* Prices. */
    expect(tg_fee_total(f.fee, text, sizeof text), TG_NO_FEE, "a total before any price");
    tg_record_reset(f.record);
    tg_record_set_enum(f.record, f.channel, "wechat");
    expect(tg_price(f.policy, f.record, f.fee), TG_MISSING_FIELD, "price without an amount");
    expect(tg_record_set_minor(f.record, f.amount, 500, 2), TG_OK, "5.00 yuan as fen");
    expect(tg_price(f.policy, f.record, f.fee), TG_OK, "tg_price");
    expect(tg_fee_total(f.fee, text, 2), TG_SHORT_BUFFER, "total into 2 bytes");
    expect(tg_fee_total_minor(f.fee, 1, &fen), TG_INEXACT, "0.02 in tenths");
    expect(tg_fee_total_minor(f.fee, 2, NULL), TG_NULL_POINTER, "total into NULL");
    expect(tg_fee_component(f.fee, 9, text, sizeof text, text, sizeof text, text, sizeof text),
           TG_OUT_OF_RANGE, "component 9");
    expect(tg_fee_component_minor(f.fee, 9, 2, &fen), TG_OUT_OF_RANGE, "component 9 in fen");
    expect(tg_fee_count(NULL, &len), TG_NULL_POINTER, "tg_fee_count NULL");
    expect(tg_fee_new(m.policy, &fee), TG_WRONG_KIND, "a fee for a messages policy");
    expect(tg_price(m.policy, m.record, f.fee), TG_WRONG_KIND, "price with a messages policy");
    expect(tg_price(f.policy, m.record, f.fee), TG_WRONG_POLICY, "price another policy's record");
    expect(tg_price(f.policy, f.record, (tg_fee *)f.record), TG_BAD_HANDLE,
           "a record given as a fee");

    /* Decisions and states. */
    expect(tg_state_new(f.policy, 8, 8, TG_EVICT_OLDEST, &state, NULL, 0), TG_WRONG_KIND,
           "a state for a fees policy");
    expect(tg_state_new(m.policy, 8, 8, 7, &state, NULL, 0), TG_OUT_OF_RANGE, "when_full 7");
    strcpy(message, UNWRITTEN);
    expect_reason(tg_state_new(f.policy, 8, 8, TG_EVICT_OLDEST, &state, message, sizeof message),
                  TG_WRONG_KIND, message, "a state for a fees policy, with a message");
    expect_reason(tg_state_new(NULL, 8, 8, TG_EVICT_OLDEST, &state, message, sizeof message),
                  TG_NULL_POINTER, message, "a state for a NULL policy");
    expect_reason(tg_state_new((const tg_policy *)f.record, 8, 8, TG_EVICT_OLDEST, &state,
                               message, sizeof message),
                  TG_BAD_HANDLE, message, "a state for a record given as a policy");
    expect_reason(tg_state_new(m.policy, 8, 8, TG_EVICT_OLDEST, NULL, message, sizeof message),
                  TG_NULL_POINTER, message, "a state into NULL");
    expect_reason(tg_state_new(m.policy, 8, 8, 7, &state, message, sizeof message),
                  TG_OUT_OF_RANGE, message, "when_full 7, with a message");
    expect_reason(tg_state_new(m.policy, 0, 8, TG_EVICT_OLDEST, &state, message, sizeof message),
                  TG_OUT_OF_RANGE, message, "a state with room for no key");
    expect(state == NULL ? TG_OK : TG_BAD_HANDLE, TG_OK, "a refused state gives NULL");
    expect_reason(tg_state_new(m.policy, 8, 0, TG_EVICT_OLDEST, &state, message, sizeof message),
                  TG_OUT_OF_RANGE, message, "a state with room for no message id");
    tg_state_free(state);
    state = NULL;
    if (capacity_path != NULL) {
        tg_policy *big = load(capacity_path);
        strcpy(message, UNWRITTEN);
        expect_reason(tg_state_new(big, 8, 8, TG_REFUSE_NEW_KEYS, &state, message,
                                   sizeof message),
                      TG_CAPACITY, message, "a state no terminal can hold");
        tg_policy_free(big);
    }
    expect(tg_decide(m.state, f.record, &d), TG_WRONG_POLICY, "decide a fees record");
    expect(tg_decide(m.state, m.record, NULL), TG_NULL_POINTER, "decide into NULL");
    expect(tg_decide((tg_state *)m.policy, m.record, &d), TG_BAD_HANDLE, "a policy given as a state");
    tg_record_reset(m.record);
    tg_record_set_enum(m.record, m.kind, "network_status");
    tg_record_set_string(m.record, m.merchant, "m0");
    tg_record_set_string(m.record, m.terminal, "t0");
    expect(tg_decide(m.state, m.record, &d), TG_MISSING_FIELD, "decide without a time");
    tg_record_set_time(m.record, m.at, 1795536000000LL, 28800);
    expect(tg_decide(m.state, m.record, &d), TG_OK, "tg_decide");
    tg_record_set_time(m.record, m.at, 1795536000000LL - 36000000LL, 28800);
    expect(tg_decide(m.state, m.record, &d), TG_NOT_DECIDED, "a message ten hours late");
    tg_record_error(m.record, message, sizeof message);
    fprintf(stderr, "     (%s)\n", message);
    if (windowed_path != NULL) {
        /* In effect on 2026-11-25 only: a message of the day before or
           after gets the statuses a terminal's route gives, and one that
           always goes out is still delivered. */
        messages w;
        messages_open(&w, windowed_path);
        tg_record_set_enum(w.record, w.kind, "network_status");
        tg_record_set_string(w.record, w.merchant, "m0");
        tg_record_set_string(w.record, w.terminal, "t0");
        tg_record_set_time(w.record, w.at, 1795536000000LL - 86400000LL, 28800);
        expect(tg_decide(w.state, w.record, &d), TG_NOT_YET_EFFECTIVE,
               "decide before the policy takes effect");
        tg_record_error(w.record, message, sizeof message);
        fprintf(stderr, "     (%s)\n", message);
        tg_record_set_time(w.record, w.at, 1795536000000LL + 86400000LL, 28800);
        expect(tg_decide(w.state, w.record, &d), TG_EXPIRED, "decide after the policy's window");
        tg_record_error(w.record, message, sizeof message);
        fprintf(stderr, "     (%s)\n", message);
        tg_record_set_enum(w.record, w.kind, "security");
        expect(tg_decide(w.state, w.record, &d), TG_OK, "an always-deliver message after the window");
        expect(d.verdict == TG_DELIVER ? TG_OK : TG_NOT_DECIDED, TG_OK, "it is delivered");
        tg_record_set_enum(w.record, w.kind, "network_status");
        tg_record_set_time(w.record, w.at, 1795536000000LL, 28800);
        expect(tg_decide(w.state, w.record, &d), TG_OK, "decide within the window");
        messages_close(&w);
    }
    saved = save_state(&m, &len);
    expect(tg_state_save(m.state, NULL, 0, &written), TG_NULL_POINTER, "save into NULL");
    saved[len / 2] ^= 1;
    expect(tg_state_restore(m.state, saved, len), TG_BAD_STATE, "restore damaged bytes");
    expect(tg_state_restore(m.state, saved, 3), TG_BAD_STATE, "restore 3 bytes");
    expect(tg_state_restore(m.state, NULL, 0), TG_NULL_POINTER, "restore NULL");
    free(saved);
    expect(tg_state_saved_len(NULL, &len), TG_NULL_POINTER, "tg_state_saved_len NULL");

    if (strcmp(tg_status_name(999), "TG_UNKNOWN") != 0) {
        fprintf(stderr, "FAIL tg_status_name(999)\n");
        failures++;
    }
    /* Freeing NULL, and freeing a handle as another type, do nothing. */
    tg_policy_free(NULL);
    tg_record_free(NULL);
    tg_fee_free(NULL);
    tg_state_free(NULL);
    tg_policy_free((tg_policy *)m.record);
    messages_close(&m);
    fees_close(&f);
}

/* Reads the lines of a text file into an array (both malloc'd). */
static char **read_lines(const char *path, size_t *count) {
    size_t len = 0, n = 0, i;
    char *text = (char *)read_file(path, &len);
    char **lines;
    char *p;
    if (text == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    text[len] = '\0';
    for (i = 0; i < len; i++) {
        n += text[i] == '\n';
    }
    lines = malloc((n + 2) * sizeof *lines);
    if (lines == NULL) {
        exit(2);
    }
    n = 0;
    for (p = strtok(text, "\n"); p != NULL; p = strtok(NULL, "\n")) {
        lines[n++] = p;
    }
    lines[n] = text; /* kept to free it */
    *count = n;
    return lines;
}

/* Splits `line` at its tabs, in place: up to `max` fields; returns how many. */
static size_t split_tabs(char *line, char **fields, size_t max) {
    size_t n = 0;
    char *p = line;
    while (n < max) {
        char *tab = strchr(p, '\t');
        fields[n++] = p;
        if (tab == NULL) {
            break;
        }
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

/* Sets one field of `record` from a setter line's fields: KIND NAME VALUE [OFFSET]. */
static tg_status set_field(const tg_policy *policy, tg_record *record, char **f, size_t n) {
    uint32_t index = 0;
    tg_status s;
    if (n < 3) {
        return TG_BAD_NUMBER;
    }
    s = tg_policy_field(policy, f[1], &index);
    if (s != TG_OK) {
        return s;
    }
    if (strcmp(f[0], "enum") == 0) {
        return tg_record_set_enum(record, index, f[2]);
    }
    if (strcmp(f[0], "number") == 0) {
        return tg_record_set_number(record, index, f[2]);
    }
    if (strcmp(f[0], "int") == 0) {
        return tg_record_set_int(record, index, strtoll(f[2], NULL, 10));
    }
    if (strcmp(f[0], "bool") == 0) {
        return tg_record_set_bool(record, index, strcmp(f[2], "1") == 0);
    }
    if (strcmp(f[0], "string") == 0) {
        return tg_record_set_string(record, index, f[2]);
    }
    if (strcmp(f[0], "time") == 0 && n >= 4) {
        return tg_record_set_time(record, index, strtoll(f[2], NULL, 10),
                                  (int32_t)strtol(f[3], NULL, 10));
    }
    return TG_BAD_NUMBER;
}

/* Appends `text` to `out` (of `len` bytes) at `*at`. */
static void append(char *out, size_t len, size_t *at, const char *text) {
    int n = snprintf(out + *at, len - *at, "%s", text);
    if (n > 0) {
        *at += (size_t)n < len - *at ? (size_t)n : len - *at - 1;
    }
}

/* A fee in minor units at `scale` as text, or `inexact`. */
static void minor_text(tg_status s, int64_t units, char *buf, size_t len) {
    if (s == TG_OK) {
        snprintf(buf, len, "%lld", (long long)units);
    } else {
        snprintf(buf, len, "inexact");
    }
}

/* Prices `record` and words the answer as the vectors do. */
static void price_words(const tg_policy *policy, tg_record *record, tg_fee *fee, uint32_t scale,
                        char *out, size_t len) {
    char total[64], schedule[64], rule[64], part[64], units[32], piece[256];
    int64_t minor = 0;
    size_t count = 0, i, at = 0;
    tg_status s;
    if (tg_price(policy, record, fee) != TG_OK || tg_fee_total(fee, total, sizeof total) != TG_OK ||
        tg_fee_count(fee, &count) != TG_OK) {
        snprintf(out, len, "error");
        return;
    }
    s = tg_fee_total_minor(fee, scale, &minor);
    minor_text(s, minor, units, sizeof units);
    snprintf(piece, sizeof piece, "fee %s %s", total, units);
    append(out, len, &at, piece);
    for (i = 0; i < count; i++) {
        if (tg_fee_component(fee, i, schedule, sizeof schedule, rule, sizeof rule, part,
                             sizeof part) != TG_OK) {
            append(out, len, &at, " error");
            continue;
        }
        s = tg_fee_component_minor(fee, i, scale, &minor);
        minor_text(s, minor, units, sizeof units);
        snprintf(piece, sizeof piece, " %s/%s=%s/%s", schedule, rule, part, units);
        append(out, len, &at, piece);
    }
}

/* Decides `record` and words the answer as the vectors do. */
static void decide_words(const tg_policy *policy, tg_state *state, tg_record *record, char *out,
                         size_t len) {
    char rule[64];
    tg_decision d;
    if (tg_decide(state, record, &d) != TG_OK) {
        snprintf(out, len, "error");
        return;
    }
    rule[0] = '\0';
    if (d.rule != TG_NO_RULE && tg_policy_rule_name(policy, d.rule, rule, sizeof rule) != TG_OK) {
        snprintf(out, len, "error rule name");
        return;
    }
    switch (d.verdict) {
    case TG_DELIVER:
        snprintf(out, len, "deliver%s", d.repeat ? " repeat" : "");
        break;
    case TG_SUPPRESS:
        snprintf(out, len, "suppress %s%s", rule, d.repeat ? " repeat" : "");
        break;
    case TG_DEFER:
        snprintf(out, len, "defer %s %lld%s", rule, (long long)d.until_ms,
                 d.repeat ? " repeat" : "");
        break;
    }
}

/* Replays a vectors file in the C form through the policy in `artifact`. */
static int replay_vectors(const char *artifact, const char *path) {
    tg_policy *policy = load(artifact);
    tg_record *record = NULL;
    tg_fee *fee = NULL;
    tg_state *state = NULL;
    tg_kind kind;
    tg_status building = TG_OK;
    char **lines, *f[8], got[1024], message[200];
    size_t count = 0, i, n, vectors = 0, mismatches = 0;
    uint32_t scale = 2;
    lines = read_lines(path, &count);
    if (count == 0 || split_tabs(lines[0], f, 8) < 8 || strcmp(f[0], "tollgate-vectors") != 0 ||
        strcmp(f[1], "1") != 0) {
        fprintf(stderr, "%s is not a vectors file of format 1 in the C form\n", path);
        exit(2);
    }
    scale = (uint32_t)strtoul(f[6], NULL, 10);
    if (tg_policy_kind(policy, &kind) != TG_OK || tg_record_new(policy, &record) != TG_OK ||
        (kind == TG_KIND_FEES && tg_fee_new(policy, &fee) != TG_OK)) {
        exit(2);
    }
    for (i = 1; i < count; i++) {
        n = split_tabs(lines[i], f, 8);
        if (strcmp(f[0], "stream") == 0) {
            if (kind == TG_KIND_NOTIFICATIONS) {
                tg_state_free(state);
                state = NULL;
                if (tg_state_new(policy, CAPACITY, ID_CAPACITY, TG_EVICT_OLDEST, &state, message,
                                 sizeof message) != TG_OK) {
                    fprintf(stderr, "cannot make the state: %s\n", message);
                    exit(2);
                }
            }
        } else if (strcmp(f[0], "record") == 0) {
            tg_record_reset(record);
            building = TG_OK;
        } else if (strcmp(f[0], "expect") == 0 && n >= 2) {
            got[0] = '\0';
            if (building != TG_OK) {
                snprintf(got, sizeof got, "error");
            } else if (kind == TG_KIND_FEES) {
                price_words(policy, record, fee, scale, got, sizeof got);
            } else if (state != NULL) {
                decide_words(policy, state, record, got, sizeof got);
            }
            vectors++;
            if (strcmp(got, f[1]) != 0) {
                mismatches++;
                printf("MISMATCH line %lu: expected `%s`, got `%s`\n", (unsigned long)(i + 1), f[1],
                       got);
            }
        } else if (building == TG_OK) {
            building = set_field(policy, record, f, n);
        }
    }
    printf("%lu vectors, %lu mismatches\n", (unsigned long)vectors, (unsigned long)mismatches);
    tg_state_free(state);
    tg_fee_free(fee);
    tg_record_free(record);
    tg_policy_free(policy);
    free(lines[count]);
    free(lines);
    return mismatches == 0 && vectors > 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    fees f;
    messages m;
    char **txns, **msgs;
    size_t ntxns = 0, nmsgs = 0, i, saved_len = 0;
    uint8_t *saved;
    if (argc == 4 && strcmp(argv[1], "--vectors") == 0) {
        return replay_vectors(argv[2], argv[3]);
    }
    if (argc < 5) {
        fprintf(stderr, "usage: firmware FEES.tga MESSAGES.tga TRANSACTIONS MESSAGES [CAPACITY.tga [WINDOWED.tga]]\n"
                        "       firmware --vectors ARTIFACT VECTORS\n");
        return 2;
    }
    check_errors(argv[1], argv[2], argc > 5 ? argv[5] : NULL, argc > 6 ? argv[6] : NULL);

    txns = read_lines(argv[3], &ntxns);
    msgs = read_lines(argv[4], &nmsgs);
    fees_open(&f, argv[1]);
    messages_open(&m, argv[2]);
    for (i = 0; i < ntxns; i++) {
        price_line(&f, txns[i]);
    }
    for (i = 0; i < nmsgs / 2; i++) {
        decide_line(&m, msgs[i]);
    }

    /* Reboot: keep the state's bytes, free everything, load again. */
    saved = save_state(&m, &saved_len);
    messages_close(&m);
    fees_close(&f);
    fees_open(&f, argv[1]);
    messages_open(&m, argv[2]);
    expect(tg_state_restore(m.state, saved, saved_len), TG_OK, "tg_state_restore");
    free(saved);
    for (; i < nmsgs; i++) {
        decide_line(&m, msgs[i]);
    }

    messages_close(&m);
    fees_close(&f);
    free(txns[ntxns]);
    free(txns);
    free(msgs[nmsgs]);
    free(msgs);
    fprintf(stderr, "%d failed checks\n", failures);
    return failures == 0 ? 0 : 1;
}
