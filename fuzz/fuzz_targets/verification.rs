//! The verification use case's entry point (what `POST /v1/verify`, the public page and
//! `travdoc verify` call) over arbitrary bytes as a seal, QR text, barcode image and SOD.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use travdoc::usecase::verify::{Verifier, fuzzing};

fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        Verifier::new(travdoc_pkix::TrustStore::new(), Vec::new())
            .with_barcode_decoder(travdoc::compose::barcode_decoder(
                travdoc_render::DEFAULT_MAX_PIXELS,
            ))
    })
}

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = fuzzing::check_verification(verifier(), data) {
        panic!("{broken}");
    }
});
