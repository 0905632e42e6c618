//! DG1, DG11, DG12 and EF.COM: parse and round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = travdoc_lds::fuzzing::check_data_groups(data) {
        panic!("{broken}");
    }
});
