//! A `#![no_std]` crate that links the terminal runtime. It builds only if no
//! crate in the runtime's dependency graph links `std`: std brings its own
//! panic handler, which would collide with the one below.
#![no_std]

use tollgate_runtime::fee::FeeFormula;
use tollgate_runtime::rounding::Rounding;
use tollgate_runtime::Decimal;

#[panic_handler]
fn on_panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// Uses the runtime's entry points so they are compiled, not just named.
pub fn fee_total(formula: &FeeFormula, amount: Decimal) -> Option<Decimal> {
    formula
        .compute(amount, &Rounding::half_up_fen())
        .ok()
        .map(|b| b.total)
}
