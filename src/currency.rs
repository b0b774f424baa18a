//! ISO 4217 currencies: which codes exist and how many decimals their minor
//! unit has. The default rounding step of a fees policy is one minor unit
//! of its currency (0.01 for CNY, 1 for JPY, 0.001 for KWD).

use rust_decimal::Decimal;

/// Active ISO 4217 codes that have a minor unit, with its number of
/// decimals, sorted by code. Codes without a minor unit (gold, SDR, test
/// and fund codes such as XAU, XDR, XTS, XXX) are not currencies a fee is
/// charged in and are left out.
const CODES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// Decimals of `code`'s minor unit (2 for CNY, 0 for JPY, 3 for KWD), or
/// `None` when `code` is not a known ISO 4217 currency.
pub fn minor_unit(code: &str) -> Option<u32> {
    CODES
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .and_then(|i| CODES.get(i))
        .map(|(_, dp)| u32::from(*dp))
}

/// One minor unit of `code` (0.01 for CNY, 1 for JPY, 0.001 for KWD): the
/// default rounding step. `None` for an unknown code.
pub fn minor_step(code: &str) -> Option<Decimal> {
    minor_unit(code).map(|dp| Decimal::new(1, dp))
}

/// ISO 4217 codes that have no minor unit: precious metals, the SDR, bond
/// market units, the test code and "no currency". Fees are not charged in
/// them; a policy naming one is told so.
const WITHOUT_MINOR_UNIT: &[&str] = &[
    "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX",
];

/// Whether `code` is an ISO 4217 code without a minor unit (`XAU`, `XDR`,
/// `XTS`...).
pub fn lacks_minor_unit(code: &str) -> bool {
    WITHOUT_MINOR_UNIT.contains(&code)
}

/// The ISO 4217 code of a currency often written another way: `RMB` and
/// the offshore `CNH` are `CNY`, `NTD` is `TWD`.
pub fn common_name(name: &str) -> Option<&'static str> {
    match name {
        "RMB" | "CNH" => Some("CNY"),
        "NTD" => Some("TWD"),
        _ => None,
    }
}

/// Every known code, sorted (for suggestions).
pub fn codes() -> impl Iterator<Item = &'static str> {
    CODES.iter().map(|(c, _)| *c)
}

/// Decimals to print amounts of `code` with: its minor unit, or 2 for an
/// unknown code.
pub fn display_decimals(code: &str) -> u32 {
    minor_unit(code).unwrap_or(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_distinct() {
        assert!(CODES.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0)));
        assert!(CODES
            .iter()
            .all(|(c, _)| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
    }

    #[test]
    fn minor_units() {
        assert_eq!(minor_unit("CNY"), Some(2));
        assert_eq!(minor_unit("JPY"), Some(0));
        assert_eq!(minor_unit("KRW"), Some(0));
        for three in ["BHD", "KWD", "JOD", "OMR", "TND", "IQD", "LYD"] {
            assert_eq!(minor_unit(three), Some(3), "{three}");
        }
        assert_eq!(minor_unit("CLF"), Some(4));
        assert_eq!(minor_unit("XAU"), None);
        assert_eq!(minor_unit("ABC"), None);
        assert_eq!(minor_step("JPY"), Some(Decimal::ONE));
        assert_eq!(
            minor_step("KWD").map(|d| d.to_string()),
            Some("0.001".into())
        );
    }
}
