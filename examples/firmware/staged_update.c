/* A staged policy update on a terminal (docs/releases.md): the running fee
 * schedule and a signed successor that takes effect at midnight are held
 * together; each transaction is priced by the schedule in effect at its own
 * instant, the successor swapped in at the first transaction at or after
 * midnight, the old schedule kept for late transactions for an hour. An
 * older artifact offered as an update is refused as a rollback. The floor
 * (the installed policy's name, version and content hash) is written to a
 * file when the successor takes over, as a terminal keeps it across
 * reboots.
 *
 *   staged_update KEY_HEX FLOOR_FILE INSTALLED SUCCESSOR OLDER OTHER_NAME OTHER_KIND
 *       < TRANSACTIONS
 *
 * KEY_HEX is the 32-byte Ed25519 public key in hex. A transaction is a line
 * "UNIX_MS CHANNEL AMOUNT" (AMOUNT a decimal in yen). Output: what was
 * installed and staged, the rollback's refusal, then one line per
 * transaction, "vVERSION FEE" or "refused STATUS", then "check WHAT STATUS"
 * for each error path of the terminal functions (OTHER_NAME: a signed
 * artifact of another policy; OTHER_KIND: of this policy's name and the
 * other kind). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate.h"
#include "update_io.h"

/* The policy handle, record and fee for one version, made again when the
 * version that decides changes. */
typedef struct {
    uint32_t version;
    tg_policy *policy;
    tg_record *record;
    tg_fee *fee;
    uint32_t channel, amount;
} pricer;

static void pricer_free(pricer *p) {
    tg_fee_free(p->fee);
    tg_record_free(p->record);
    tg_policy_free(p->policy);
    memset(p, 0, sizeof *p);
}

static tg_status pricer_for(pricer *p, tg_terminal *t, tg_slot slot) {
    tg_held held;
    tg_status s = tg_terminal_held(t, slot, &held);
    if (s != TG_OK) return s;
    if (p->policy != NULL && p->version == held.version) return TG_OK;
    pricer_free(p);
    s = tg_terminal_policy(t, slot, &p->policy);
    if (s == TG_OK) s = tg_record_new(p->policy, &p->record);
    if (s == TG_OK) s = tg_fee_new(p->policy, &p->fee);
    if (s == TG_OK) s = tg_policy_field(p->policy, "channel", &p->channel);
    if (s == TG_OK) s = tg_policy_field(p->policy, "amount", &p->amount);
    if (s != TG_OK) { pricer_free(p); return s; }
    p->version = held.version;
    return TG_OK;
}

/* Writes the current policy's floor: the name given, its version and hash. */
static int persist_floor(const char *path, const char *name, tg_terminal *t) {
    tg_held held;
    if (tg_terminal_held(t, TG_SLOT_CURRENT, &held) != TG_OK) return -1;
    FILE *ff = fopen(path, "w");
    if (ff == NULL) return -1;
    fprintf(ff, "%s %lu %016llx\n", name, (unsigned long)held.version,
            (unsigned long long)held.hash);
    return fclose(ff);
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: staged_update KEY_HEX FLOOR_FILE INSTALLED SUCCESSOR OLDER "
                        "OTHER_NAME OTHER_KIND\n");
        return 2;
    }
    uint8_t key[32];
    if (parse_key(argv[1], key) != 0) {
        fprintf(stderr, "bad key\n");
        return 2;
    }
    /* The floor, as persisted: absent before the first install. */
    char name[128] = "";
    unsigned long version = 0;
    unsigned long long hash = 0;
    tg_floor floor;
    const tg_floor *installed = NULL;
    FILE *ff = fopen(argv[2], "r");
    if (ff != NULL) {
        if (fscanf(ff, "%127s %lu %llx", name, &version, &hash) == 3) {
            floor.name = name;
            floor.version = (uint32_t)version;
            floor.hash = (uint64_t)hash;
            installed = &floor;
        }
        fclose(ff);
    }
    uint8_t *bytes[5];
    size_t lens[5];
    for (int i = 0; i < 5; i++) {
        if (read_file(argv[3 + i], &bytes[i], &lens[i]) != 0) {
            fprintf(stderr, "cannot read %s\n", argv[3 + i]);
            for (int j = 0; j < i; j++) free(bytes[j]);
            return 2;
        }
    }
    char message[256];
    tg_terminal *t = NULL;
    tg_status s = tg_terminal_new(bytes[0], lens[0], key, 1, installed, NULL, &t, message,
                                  sizeof message);
    char policy_name[128] = "";
    uint32_t v;
    uint64_t h;
    if (s == TG_OK) {
        s = tg_artifact_identity(bytes[0], lens[0], policy_name, sizeof policy_name, &v, &h);
    }
    if (s != TG_OK) {
        printf("refused %s: %s\n", tg_status_name(s), message);
        for (int i = 0; i < 5; i++) free(bytes[i]);
        tg_terminal_free(t);
        return 1;
    }
    tg_held held;
    tg_terminal_held(t, TG_SLOT_CURRENT, &held);
    printf("installed %s %lu\n", policy_name, (unsigned long)held.version);
    if (persist_floor(argv[2], policy_name, t) != 0) return 2;

    /* The successor: verified now, in effect from its activation. */
    s = tg_terminal_stage(t, bytes[1], lens[1], message, sizeof message);
    if (s == TG_OK && tg_terminal_held(t, TG_SLOT_STAGED, &held) == TG_OK) {
        printf("staged %lu from %" PRId64 "\n", (unsigned long)held.version,
               held.has_from ? held.from_ms : INT64_MIN);
    } else {
        printf("refused %s: %s\n", tg_status_name(s), message);
    }
    /* An older artifact: a rollback, refused; what is held is unchanged. */
    s = tg_terminal_stage(t, bytes[2], lens[2], message, sizeof message);
    printf("refused %s\n", tg_status_name(s));

    pricer p;
    memset(&p, 0, sizeof p);
    uint32_t current_version = 0;
    tg_terminal_held(t, TG_SLOT_CURRENT, &held);
    current_version = held.version;
    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        long long at;
        char channel[64], amount[64];
        if (sscanf(line, "%lld %63s %63s", &at, channel, amount) != 3) continue;
        tg_slot slot;
        s = tg_terminal_route(t, (int64_t)at, &slot);
        /* The successor took over: persist the new floor. */
        if (tg_terminal_held(t, TG_SLOT_CURRENT, &held) == TG_OK &&
            held.version != current_version) {
            current_version = held.version;
            if (persist_floor(argv[2], policy_name, t) != 0) break;
        }
        if (s != TG_OK) {
            printf("refused %s\n", tg_status_name(s));
            continue;
        }
        s = pricer_for(&p, t, slot);
        if (s == TG_OK) s = tg_record_reset(p.record);
        if (s == TG_OK) s = tg_record_set_enum(p.record, p.channel, channel);
        if (s == TG_OK) s = tg_record_set_number(p.record, p.amount, amount);
        if (s == TG_OK) s = tg_price(p.policy, p.record, p.fee);
        char total[64];
        if (s == TG_OK) s = tg_fee_total(p.fee, total, sizeof total);
        if (s != TG_OK) {
            printf("refused %s\n", tg_status_name(s));
            continue;
        }
        printf("v%lu %s\n", (unsigned long)p.version, total);
    }

    /* Every error path of the terminal functions. */
    tg_slot slot;
    tg_policy *none = NULL;
    tg_terminal *not_made = NULL;
    printf("check swap-nothing-staged %s\n", tg_status_name(tg_terminal_swap(t)));
    printf("check held-empty %s\n", tg_status_name(tg_terminal_held(t, TG_SLOT_STAGED, &held)));
    printf("check policy-empty %s\n",
           tg_status_name(tg_terminal_policy(t, TG_SLOT_STAGED, &none)));
    printf("check stage-same %s\n",
           tg_status_name(tg_terminal_stage(t, bytes[1], lens[1], NULL, 0)));
    printf("check stage-other-name %s\n",
           tg_status_name(tg_terminal_stage(t, bytes[3], lens[3], NULL, 0)));
    printf("check stage-other-kind %s\n",
           tg_status_name(tg_terminal_stage(t, bytes[4], lens[4], NULL, 0)));
    strcpy(message, UNWRITTEN);
    s = tg_terminal_stage(t, NULL, 0, message, sizeof message);
    printf("check stage-null %s %s\n", tg_status_name(s), reason(message));
    s = tg_terminal_stage((tg_terminal *)p.policy, bytes[1], lens[1], message, sizeof message);
    printf("check stage-bad-handle %s %s\n", tg_status_name(s), reason(message));
    printf("check route-null %s\n", tg_status_name(tg_terminal_route(t, 0, NULL)));
    printf("check held-null %s\n",
           tg_status_name(tg_terminal_held(t, TG_SLOT_CURRENT, NULL)));
    printf("check policy-null %s\n",
           tg_status_name(tg_terminal_policy(t, TG_SLOT_CURRENT, NULL)));
    printf("check bad-handle %s\n",
           tg_status_name(tg_terminal_route((tg_terminal *)p.policy, 0, &slot)));
    printf("check swap-null %s\n", tg_status_name(tg_terminal_swap(NULL)));
    s = tg_terminal_new(bytes[1], lens[1], key, 0, NULL, NULL, &not_made, message,
                        sizeof message);
    printf("check new-no-keys %s %s\n", tg_status_name(s), reason(message));
    s = tg_terminal_new(bytes[1], lens[1], key, 1, NULL, NULL, NULL, message, sizeof message);
    printf("check new-null %s %s\n", tg_status_name(s), reason(message));
    tg_terminal_held(t, TG_SLOT_CURRENT, &held);
    tg_floor now = {policy_name, held.version, held.hash};
    s = tg_terminal_new(bytes[2], lens[2], key, 1, &now, NULL, &not_made, message,
                        sizeof message);
    printf("check new-rollback %s %s\n", tg_status_name(s), reason(message));
    for (int i = 0; i < 5; i++) free(bytes[i]);
    pricer_free(&p);
    tg_terminal_free(t);
    tg_terminal_free(NULL);
    return 0;
}
