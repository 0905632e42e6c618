//! Fuzz the EF.SOD parser and Passive Authentication over arbitrary bytes: they must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sod) = travdoc_lds::Sod::from_bytes(data) {
        let _ = sod.to_bytes();
        let _ = sod.document_signer();
    }
    let trust = travdoc_pkix::TrustStore::new();
    let options = travdoc_lds::PaOptions { at_unix_seconds: 1_800_000_000, document_code: None, require_crl: false };
    let _ = travdoc_lds::passive_authentication(data, &[data], &trust, &options);
    let _ = travdoc_lds::dg2::Dg2::from_bytes(data);
    let _ = travdoc_lds::dg::EfCom::from_bytes(data);
});
