//! Certificates, named or explicit EC parameters and RSA: decode, self-signature, chain to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = travdoc_pkix::fuzzing::check_certificate(data) {
        panic!("{broken}");
    }
});
