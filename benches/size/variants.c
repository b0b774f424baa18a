/*
 * One terminal program per part of Tollgate, to attribute its code size
 * (benches/size/measure.sh; BENCHMARKS.md, "Code size and memory"). Built
 * with -DPART_LOAD (load and free an artifact), -DPART_FEES (load, build a
 * record, price it, read the fee), -DPART_NOTIFY (load, build a record,
 * make a state, decide, save and restore it), or both of the last two; with
 * none, the same program without Tollgate; -DPART_TRUSTED is PART_LOAD
 * through tg_policy_load_trusted (signature and floor checked). The linker
 * keeps only what a part reaches.
 */
#include "tollgate.h"

#include <stdio.h>
#include <stdlib.h>

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

int main(int argc, char **argv) {
    size_t len = 0;
    uint8_t *bytes;
    int status = 0;
    if (argc < 2 || (bytes = read_file(argv[1], &len)) == NULL) {
        return 2;
    }
#if defined(PART_LOAD) || defined(PART_TRUSTED) || defined(PART_FEES) || defined(PART_NOTIFY)
    {
        tg_policy *policy = NULL;
        tg_record *record = NULL;
        char message[128];
#ifdef PART_TRUSTED
        /* The key from the command line, so that nothing is known at link time. */
        uint8_t key[32] = {0};
        tg_floor floor = {"policy", 1, 0};
        for (int i = 0; i < 32 && argc > 6 && argv[6][i] != 0; i++) {
            key[i] = (uint8_t)argv[6][i];
        }
        tg_status s = tg_policy_load_trusted(bytes, len, key, 1, argc > 7 ? &floor : NULL,
                                             &policy, message, sizeof message);
#else
        tg_status s = tg_policy_load(bytes, len, &policy, message, sizeof message);
#endif
        uint32_t a = 0, b = 0;
        printf("%s\n", tg_status_name((int32_t)s));
        tg_policy_field(policy, argc > 2 ? argv[2] : "amount", &a);
        tg_policy_field(policy, argc > 3 ? argv[3] : "channel", &b);
        tg_record_new(policy, &record);
#ifdef PART_FEES
        {
            tg_fee *fee = NULL;
            char text[64], sched[64], rule[64];
            int64_t minor = 0;
            size_t count = 0;
            tg_fee_new(policy, &fee);
            tg_record_reset(record);
            tg_record_set_enum(record, b, argc > 4 ? argv[4] : "credit_card");
            tg_record_set_number(record, a, argc > 5 ? argv[5] : "800.00");
            tg_record_set_minor(record, a, 80000, 2);
            status |= tg_price(policy, record, fee);
            tg_fee_total(fee, text, sizeof text);
            tg_fee_total_minor(fee, 2, &minor);
            tg_fee_count(fee, &count);
            tg_fee_component(fee, 0, sched, sizeof sched, rule, sizeof rule, text, sizeof text);
            tg_fee_component_minor(fee, 0, 2, &minor);
            printf("%s %lld %lu\n", text, (long long)minor, (unsigned long)count);
            tg_fee_free(fee);
        }
#endif
#ifdef PART_NOTIFY
        {
            tg_state *state = NULL;
            tg_decision d;
            uint8_t saved[4096];
            size_t need = 0, written = 0;
            char rule[64];
            tg_state_new(policy, 64, 256, TG_EVICT_OLDEST, &state, message, sizeof message);
            tg_record_reset(record);
            tg_record_set_enum(record, b, "promo");
            tg_record_set_string(record, a, "m1");
            tg_record_set_int(record, a, 1);
            tg_record_set_bool(record, a, true);
            tg_record_unset(record, a);
            tg_record_set_time(record, a, 1795536000000LL, 28800);
            status |= tg_decide(state, record, &d);
            tg_policy_rule_name(policy, d.rule, rule, sizeof rule);
            tg_state_saved_len(state, &need);
            tg_state_save(state, saved, sizeof saved, &written);
            tg_state_restore(state, saved, written);
            printf("%d %s %lu\n", (int)d.verdict, rule, (unsigned long)need);
            tg_state_free(state);
        }
#endif
        tg_record_error(record, message, sizeof message);
        tg_record_free(record);
        tg_policy_free(policy);
    }
#endif
    free(bytes);
    return status == 0 ? 0 : 1;
}
