//! Prints a generated rate sheet: one schedule of N narrow rules over six
//! columns, the policy `cargo bench --bench lint` measures. With `--unique`,
//! a `hit unique` sheet of N disjoint rules ending in `otherwise` (what
//! `tollgate compile` proves disjoint).
//!
//! `cargo run --release --example generate_sheet -- 10000 > sheet.toll`
//! `cargo run --release --example generate_sheet -- 10000 --unique > unique.toll`

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rules = args.iter().find_map(|a| a.parse().ok()).unwrap_or(1000);
    if args.iter().any(|a| a == "--unique") {
        print!("{}", tollgate_oracle::generate::unique_sheet(7, rules));
    } else {
        print!("{}", tollgate_oracle::generate::rate_sheet(7, rules));
    }
}
