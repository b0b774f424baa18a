//! Prints a generated rate sheet: one schedule of N narrow rules over six
//! columns, the policy `cargo bench --bench lint` measures.
//!
//! `cargo run --release --example generate_sheet -- 10000 > sheet.toll`

fn main() {
    let rules = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    print!("{}", tollgate::generate::rate_sheet(7, rules));
}
