//! The fuzz targets' invariants (`travdoc_pkix::fuzzing`, also run by `fuzz/`) as property
//! tests on stable Rust: certificates (named and explicit EC parameters, RSA), CRLs and master
//! lists, mutated from real CSCA certificates, never panic and never verify by accident.

use proptest::prelude::*;
use travdoc_pkix::der::Decode as _;
use travdoc_pkix::fuzzing::{check_certificate, check_crl, check_master_list};
use travdoc_pkix::x509_cert::Certificate;

fn vectors() -> Vec<Vec<u8>> {
    [
        "DE_csca-germany_CSCA07.cer",
        "ID_CSCA_2016-01.cer",
        "ID_CSCA_2020-10.cer",
        "ID_CSCA_2020-10_LINK.cer",
        "NL_CSCA_7.cer",
    ]
    .iter()
    .map(|name| {
        let path = format!(
            "{}/../../../shared/vectors/certs/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
    })
    .collect()
}

/// One of the vectors with up to four bytes changed, or cut short.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let count = vectors().len();
    (
        0..count,
        proptest::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 0..4),
        proptest::option::of(any::<prop::sample::Index>()),
    )
        .prop_map(|(which, flips, cut)| {
            let mut bytes = vectors().swap_remove(which);
            for (index, mask) in flips {
                let at = index.index(bytes.len());
                bytes[at] ^= mask;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len()));
            }
            bytes
        })
}

#[test]
fn the_vectors_themselves_pass() {
    for vector in vectors() {
        assert_eq!(check_certificate(&vector), Ok(()));
        assert_eq!(check_master_list(&vector), Ok(()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn mutated_certificates(bytes in mutated()) {
        prop_assert_eq!(check_certificate(&bytes), Ok(()));
    }

    #[test]
    fn mutated_bytes_as_crls_and_master_lists(bytes in mutated()) {
        let issuer = Certificate::from_der(&vectors()[0]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(check_crl(&bytes, &issuer), Ok(()));
        prop_assert_eq!(check_master_list(&bytes), Ok(()));
    }

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let issuer = Certificate::from_der(&vectors()[1]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(check_certificate(&bytes), Ok(()));
        prop_assert_eq!(check_crl(&bytes, &issuer), Ok(()));
        prop_assert_eq!(check_master_list(&bytes), Ok(()));
    }
}
