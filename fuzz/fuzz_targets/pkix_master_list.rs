//! CSCA master lists: decode; never trusted by an empty trust store.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = travdoc_pkix::fuzzing::check_master_list(data) {
        panic!("{broken}");
    }
});
