//! Fuzzes the MRZ parser with arbitrary bytes. The invariants live in
//! `travdoc_mrz::fuzzing::check_parse_invariants`, which the proptest smoke test
//! (`crates/mrz/tests/properties.rs`) runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = travdoc_mrz::fuzzing::check_parse_invariants(data) {
        panic!("MRZ parser invariant broken: {broken}");
    }
});
