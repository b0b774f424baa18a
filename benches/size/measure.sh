#!/bin/sh
# The code size Tollgate adds to a C terminal program (BENCHMARKS.md,
# "Code size and memory"). Run from the repository's root:
#   sh benches/size/measure.sh
# Builds crates/ffi for release (opt-level "z", LTO, one codegen unit,
# panic = "abort": its Cargo.toml profile) and links the C programs with
# -Os and --gc-sections, each against the static library or against
# benches/size/stub.c (every function, doing nothing).
set -eu
out=${TMPDIR:-/tmp}/tollgate-size
mkdir -p "$out"
CARGO_TARGET_DIR=target/size cargo build --quiet --release --locked \
    --manifest-path crates/ffi/Cargo.toml
lib=target/size/release/libtollgate_ffi.a
cc_() {
    cc -std=c99 -Wall -Wextra -Werror -Os -ffunction-sections -fdata-sections \
        -Wl,--gc-sections -Icrates/ffi/include "$@"
}
cc_ examples/firmware/firmware.c benches/size/stub.c -o "$out/firmware-without"
cc_ examples/firmware/firmware.c "$lib" -o "$out/firmware-with"
cc_ benches/size/variants.c -o "$out/none"
for part in LOAD TRUSTED FEES NOTIFY; do
    cc_ -DPART_$part benches/size/variants.c "$lib" -o "$out/$part"
done
cc_ -DPART_FEES -DPART_NOTIFY benches/size/variants.c "$lib" -o "$out/ALL"
size "$out/firmware-without" "$out/firmware-with" "$out/none" "$out/LOAD" \
    "$out/TRUSTED" "$out/FEES" "$out/NOTIFY" "$out/ALL"
echo "largest functions of the firmware example with Tollgate:"
nm --size-sort --radix=d -C "$out/firmware-with" | tail -25
