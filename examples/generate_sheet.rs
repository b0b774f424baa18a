//! Prints a generated rate sheet: one schedule of N narrow rules over six
//! columns, the policy `cargo bench --bench lint` measures.
//!
//! `cargo run --release --example generate_sheet -- 10000 > sheet.toll`

use tollgate::generate::{policy, Shape};

fn main() {
    let rules = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    print!(
        "{}",
        policy(
            7,
            Shape {
                rules,
                schedules: 1,
                unique: false,
                specific: true,
            },
        )
    );
}
