//! A `#![no_std]` crate that links the terminal runtime. It builds only if no
//! crate in the runtime's dependency graph links `std`: std brings its own
//! panic handler, which would collide with the one below.
#![no_std]

use tollgate_runtime::artifact;
use tollgate_runtime::value::Value;
use tollgate_runtime::Decimal;

#[panic_handler]
fn on_panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// Loads an artifact and prices one record: the terminal's whole job, so
/// every part of the runtime it needs is compiled here, not just named.
pub fn price(artifact_bytes: &[u8], record: &[Value]) -> Option<Decimal> {
    let table = artifact::decode(artifact_bytes).ok()?;
    table.total(record).ok()
}
