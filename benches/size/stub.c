/*
 * Every function of include/tollgate.h doing nothing: linked instead of the
 * library, it gives the size of a C program without Tollgate
 * (benches/size/measure.sh; BENCHMARKS.md, "Code size and memory").
 */
#include "tollgate.h"

void rust_eh_personality(void) {}
tg_status tg_state_new(const tg_policy *p, uint32_t c, uint32_t i, uint32_t w, tg_state **o,
                       char *m, size_t l) {
    (void)p, (void)c, (void)i, (void)w, (void)o, (void)m, (void)l;
    return TG_NULL_POINTER;
}
tg_status tg_decide(tg_state *s, tg_record *r, tg_decision *d) {
    (void)s, (void)r, (void)d;
    return TG_NULL_POINTER;
}
tg_status tg_state_saved_len(const tg_state *s, size_t *l) {
    (void)s, (void)l;
    return TG_NULL_POINTER;
}
tg_status tg_state_save(const tg_state *s, uint8_t *b, size_t l, size_t *w) {
    (void)s, (void)b, (void)l, (void)w;
    return TG_NULL_POINTER;
}
tg_status tg_state_restore(tg_state *s, const uint8_t *b, size_t l) {
    (void)s, (void)b, (void)l;
    return TG_NULL_POINTER;
}
void tg_state_free(tg_state *s) { (void)s; }
tg_status tg_policy_load(const uint8_t *b, size_t l, tg_policy **o, char *m, size_t ml) {
    (void)b, (void)l, (void)o, (void)m, (void)ml;
    return TG_NULL_POINTER;
}
tg_status tg_policy_kind(const tg_policy *p, tg_kind *k) {
    (void)p, (void)k;
    return TG_NULL_POINTER;
}
tg_status tg_policy_field(const tg_policy *p, const char *n, uint32_t *i) {
    (void)p, (void)n, (void)i;
    return TG_NULL_POINTER;
}
tg_status tg_policy_rule_name(const tg_policy *p, uint32_t r, char *b, size_t l) {
    (void)p, (void)r, (void)b, (void)l;
    return TG_NULL_POINTER;
}
void tg_policy_free(tg_policy *p) { (void)p; }
tg_status tg_fee_new(const tg_policy *p, tg_fee **o) {
    (void)p, (void)o;
    return TG_NULL_POINTER;
}
tg_status tg_price(const tg_policy *p, tg_record *r, tg_fee *f) {
    (void)p, (void)r, (void)f;
    return TG_NULL_POINTER;
}
tg_status tg_fee_total(const tg_fee *f, char *b, size_t l) {
    (void)f, (void)b, (void)l;
    return TG_NULL_POINTER;
}
tg_status tg_fee_total_minor(const tg_fee *f, uint32_t s, int64_t *u) {
    (void)f, (void)s, (void)u;
    return TG_NULL_POINTER;
}
tg_status tg_fee_count(const tg_fee *f, size_t *c) {
    (void)f, (void)c;
    return TG_NULL_POINTER;
}
tg_status tg_fee_component(const tg_fee *f, size_t i, char *s, size_t sl, char *r, size_t rl,
                           char *a, size_t al) {
    (void)f, (void)i, (void)s, (void)sl, (void)r, (void)rl, (void)a, (void)al;
    return TG_NULL_POINTER;
}
tg_status tg_fee_component_minor(const tg_fee *f, size_t i, uint32_t s, int64_t *u) {
    (void)f, (void)i, (void)s, (void)u;
    return TG_NULL_POINTER;
}
void tg_fee_free(tg_fee *f) { (void)f; }
tg_status tg_record_new(const tg_policy *p, tg_record **o) {
    (void)p, (void)o;
    return TG_NULL_POINTER;
}
tg_status tg_record_reset(tg_record *r) {
    (void)r;
    return TG_NULL_POINTER;
}
tg_status tg_record_unset(tg_record *r, uint32_t f) {
    (void)r, (void)f;
    return TG_NULL_POINTER;
}
tg_status tg_record_set_enum(tg_record *r, uint32_t f, const char *v) {
    (void)r, (void)f, (void)v;
    return TG_NULL_POINTER;
}
tg_status tg_record_set_number(tg_record *r, uint32_t f, const char *t) {
    (void)r, (void)f, (void)t;
    return TG_NULL_POINTER;
}
tg_status tg_record_set_minor(tg_record *r, uint32_t f, int64_t u, uint32_t s) {
    (void)r, (void)f, (void)u, (void)s;
    return TG_NULL_POINTER;
}
tg_status tg_record_set_int(tg_record *r, uint32_t f, int64_t v) {
    (void)r, (void)f, (void)v;
    return TG_NULL_POINTER;
}
tg_status tg_record_set_bool(tg_record *r, uint32_t f, bool v) {
    (void)r, (void)f, (void)v;
    return TG_NULL_POINTER;
}
tg_status tg_record_set_string(tg_record *r, uint32_t f, const char *v) {
    (void)r, (void)f, (void)v;
    return TG_NULL_POINTER;
}
tg_status tg_record_set_time(tg_record *r, uint32_t f, int64_t ms, int32_t o) {
    (void)r, (void)f, (void)ms, (void)o;
    return TG_NULL_POINTER;
}
tg_status tg_record_error(const tg_record *r, char *b, size_t l) {
    (void)r, (void)b, (void)l;
    return TG_NULL_POINTER;
}
void tg_record_free(tg_record *r) { (void)r; }
const char *tg_status_name(int32_t s) {
    (void)s;
    return "";
}
tg_status tg_policy_load_trusted(const uint8_t *b, size_t l, const uint8_t *k, size_t n,
                                 const tg_floor *f, tg_policy **o, char *m, size_t ml) {
    (void)b, (void)l, (void)k, (void)n, (void)f, (void)o, (void)m, (void)ml;
    return TG_NULL_POINTER;
}
tg_status tg_artifact_identity(const uint8_t *b, size_t l, char *n, size_t nl, uint32_t *v,
                               uint64_t *h) {
    (void)b, (void)l, (void)n, (void)nl, (void)v, (void)h;
    return TG_NULL_POINTER;
}
