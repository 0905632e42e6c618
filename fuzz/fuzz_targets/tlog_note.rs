//! Signed notes, checkpoints and proof bundles (C2SP): parse, round trip, never verify without a key.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = travdoc_tlog::fuzzing::check_note_and_checkpoint(data) {
        panic!("{broken}");
    }
});
