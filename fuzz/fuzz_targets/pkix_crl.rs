//! CRLs: decode, check against a real CSCA; never accepted without a valid signature.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use travdoc_pkix::der::Decode as _;
use travdoc_pkix::x509_cert::Certificate;

fn issuer() -> &'static Certificate {
    static ISSUER: OnceLock<Certificate> = OnceLock::new();
    ISSUER.get_or_init(|| {
        let der = include_bytes!("../../../shared/vectors/certs/NL_CSCA_7.cer");
        Certificate::from_der(der).expect("the NL CSCA vector decodes")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = travdoc_pkix::fuzzing::check_crl(data, issuer()) {
        panic!("{broken}");
    }
});
