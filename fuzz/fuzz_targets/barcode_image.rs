//! Barcode images (PNG/JPEG, read by rxing): bounded decoding, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = travdoc_render::barcode::fuzzing::check_barcode_image(data) {
        panic!("{broken}");
    }
});
