//! Property tests: the SOD parser and Passive Authentication never panic on mutated SODs, and
//! build/parse round trips keep every data-group hash.

mod common;

use common::*;
use proptest::prelude::*;
use travdoc_lds::dg2::Dg2;
use travdoc_lds::{PaOptions, Sod, SodBuilder, passive_authentication};
use travdoc_pkix::TrustStore;

fn vector_sods() -> Vec<Vec<u8>> {
    [
        "sod/bsi_tr03105_5/EF_SOD.bin",
        "sod/jmrtd_loes2006/EF_SOD.bin",
        "sod/jmrtd_bsi2008/EF_SOD.bin",
    ]
    .iter()
    .map(|p| {
        let full = format!("{}/../../../shared/vectors/{p}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&full).unwrap_or_else(|e| panic!("read {full}: {e}"))
    })
    .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Remove(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, x)| Mutation::Flip(i, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| Mutation::Insert(i, x)),
        any::<usize>().prop_map(Mutation::Remove),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match *mutation {
        Mutation::Flip(i, x) => {
            let i = i % bytes.len();
            bytes[i] ^= x;
        }
        Mutation::Truncate(i) => bytes.truncate(i % bytes.len()),
        Mutation::Insert(i, x) => {
            let i = i % bytes.len();
            bytes.insert(i, x)
        }
        Mutation::Remove(i) => {
            let i = i % bytes.len();
            bytes.remove(i);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn mutated_sods_never_panic(which in 0usize..3, mutations in proptest::collection::vec(mutation(), 1..6)) {
        let mut bytes = vector_sods().swap_remove(which);
        let original = bytes.clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let parsed = Sod::from_bytes(&bytes);
        if let Ok(sod) = &parsed {
            let _ = sod.to_bytes();
        }
        let report = passive_authentication(
            &bytes,
            &[],
            &TrustStore::new(),
            &PaOptions { at_unix_seconds: 1_400_000_000, document_code: None, require_crl: false },
        );
        // No trusted CSCA: never valid, mutated or not.
        prop_assert_eq!(report.verdict, travdoc_lds::Verdict::Invalid);
        if bytes != original {
            // A changed SOD must not keep a verifying signature over changed signed content.
            if let Ok(sod) = parsed
                && sod.econtent() != Sod::from_bytes(&original).expect("original").econtent()
            {
                prop_assert!(
                    !report.check("sod.signed_attributes").map(|c| c.passed).unwrap_or(false)
                        || !report.check("sod.signature").map(|c| c.passed).unwrap_or(false)
                );
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Sod::from_bytes(&bytes);
        let _ = Dg2::from_bytes(&bytes);
        let mut wrapped = vec![0x77, 0x82, (bytes.len() >> 8) as u8, bytes.len() as u8];
        wrapped.extend_from_slice(&bytes);
        let _ = Sod::from_bytes(&wrapped);
    }

    #[test]
    fn build_parse_round_trip(extra in proptest::collection::vec(any::<u8>(), 0..64)) {
        let (csca_key, csca_cert) = csca(21, "CN=Prop CSCA,O=travdoc test,C=UT");
        let signer = p256::ecdsa::SigningKey::from_slice(&[22; 32]).expect("key");
        let dsc_cert = dsc(&csca_key, &csca_cert, signer.verifying_key(), 23, vec!["P"], NOT_BEFORE, NOT_AFTER);
        let dg11 = travdoc_lds::dg::FieldDataGroup::dg11(vec![(0x5F10, extra.clone())]).to_bytes();
        let sod = SodBuilder::new()
            .add_data_group(&dg1())
            .and_then(|b| b.add_data_group(&dg11))
            .expect("dgs")
            .build::<_, p256::ecdsa::DerSignature>(&dsc_cert, &signer)
            .expect("build");
        let bytes = sod.to_bytes().expect("encode");
        let parsed = Sod::from_bytes(&bytes).expect("parse");
        prop_assert_eq!(parsed.to_bytes().expect("encode"), bytes);
        prop_assert_eq!(parsed.lds_security_object(), sod.lds_security_object());
        let parsed_dg11 = travdoc_lds::dg::FieldDataGroup::from_bytes(&dg11).expect("dg11");
        prop_assert_eq!(parsed_dg11.field(0x5F10), Some(extra.as_slice()));
    }
}
