//! Fuzzes the visible digital seal decoder (binary seal bytes and QR text) and the verifier.
//! Run: `cargo +nightly fuzz run seal_decode` from the workspace root.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = travdoc_seal::fuzzing::check_decode_invariants(data) {
        panic!("seal decoder invariant broken: {broken}");
    }
});
