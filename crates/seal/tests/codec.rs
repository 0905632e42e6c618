//! Round trips of whole seals with random headers and features, and decoding of arbitrary bytes.

use proptest::prelude::*;
use travdoc_seal::{
    Curve, Feature, Header, HeaderVersion, Seal, SealBuilder, SealDate, SealError, SignerReference,
};

fn date_strategy() -> impl Strategy<Value = SealDate> {
    (0u16..=9999, 1u8..=12, 1u8..=28)
        .prop_map(|(year, month, day)| SealDate::from_ymd(year, month, day).unwrap())
}

fn header_strategy() -> impl Strategy<Value = Header> {
    (
        prop_oneof![Just(HeaderVersion::V3), Just(HeaderVersion::V4)],
        "[A-Z<]{3}",
        "[A-Z]{2}[A-Z0-9]{2}",
        "[0-9A-F]{0,40}",
        "[0-9A-F]{5}",
        date_strategy(),
        date_strategy(),
        any::<u8>(),
        any::<u8>(),
    )
        .prop_map(
            |(
                version,
                country,
                signer,
                reference_v4,
                reference_v3,
                issue,
                signature,
                fdr,
                category,
            )| {
                let reference = if version == HeaderVersion::V3 {
                    reference_v3
                } else {
                    reference_v4
                };
                let signer = SignerReference::new(&signer, &reference).unwrap();
                Header::new(version, &country, signer, issue, signature, fdr, category).unwrap()
            },
        )
}

fn features_strategy(max_len: usize) -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    proptest::collection::vec(
        (
            0u8..=0xFE,
            proptest::collection::vec(any::<u8>(), 0..max_len),
        ),
        0..6,
    )
}

proptest! {
    #[test]
    fn seals_round_trip(
        header in header_strategy(),
        features in features_strategy(300),
        signature in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let too_long = header.version() == HeaderVersion::V3 && features.iter().any(|(_, value)| value.len() > 255);
        let features: Vec<Feature> = features.into_iter().map(|(tag, value)| Feature::new(tag, value).unwrap()).collect();
        let seal = Seal::from_parts(header, features, signature);
        match seal.to_bytes() {
            Ok(bytes) => {
                prop_assert!(!too_long);
                let decoded = Seal::decode(&bytes).unwrap();
                prop_assert_eq!(&decoded, &seal);
                prop_assert_eq!(decoded.to_bytes().unwrap(), bytes);
            }
            Err(error) => {
                prop_assert!(too_long);
                let is_length_error = matches!(error, SealError::Length { .. });
                prop_assert!(is_length_error);
            }
        }
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        travdoc_seal::fuzzing::check_decode_invariants(&bytes).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn decode_never_panics_on_seal_like_bytes(
        tail in proptest::collection::vec(any::<u8>(), 0..200),
        version in 0x02u8..=0x03,
    ) {
        let mut bytes = vec![0xDC, version, 0xD9, 0xC5];
        bytes.extend_from_slice(&tail);
        travdoc_seal::fuzzing::check_decode_invariants(&bytes).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn version_3_header_layout() {
    let signer = SignerReference::new("DETS", "00032").unwrap();
    let header = Header::new(
        HeaderVersion::V3,
        "D<<",
        signer,
        SealDate::from_ymd(1957, 3, 25).unwrap(),
        SealDate::from_ymd(1957, 3, 25).unwrap(),
        0xFD,
        0x02,
    )
    .unwrap();
    let bytes = header.to_bytes().unwrap();
    assert_eq!(bytes.len(), 18);
    assert_eq!(&bytes[..4], [0xDC, 0x02, 0x6A, 0xBC]);
    assert_eq!(&bytes[10..13], [0x31, 0x9E, 0xF5]);
    assert_eq!(Header::decode(&bytes).unwrap(), (header, 18));
}

#[test]
fn version_4_lengths_are_der() {
    let header = Header::new(
        HeaderVersion::V4,
        "UTO",
        SignerReference::new("UTTS", "5B").unwrap(),
        SealDate::from_ymd(2026, 6, 13).unwrap(),
        SealDate::from_ymd(2023, 8, 23).unwrap(),
        0x5E,
        0x03,
    )
    .unwrap();
    let seal = SealBuilder::new(header)
        .feature(0x10, vec![0xAA; 0x80])
        .unwrap()
        .feature(0x11, vec![0xBB; 0x100])
        .unwrap()
        .sign_with(Curve::P256, |_digest: &[u8]| {
            Ok::<_, String>(vec![0x11; 64])
        })
        .unwrap();
    let bytes = seal.to_bytes().unwrap();
    assert_eq!(&bytes[18..21], [0x10, 0x81, 0x80]);
    assert_eq!(&bytes[21 + 0x80..21 + 0x80 + 4], [0x11, 0x82, 0x01, 0x00]);
    assert_eq!(&bytes[bytes.len() - 66..bytes.len() - 64], [0xFF, 0x40]);
    // A non-minimal length is refused, so decoding stays canonical.
    let mut non_minimal = bytes[..18].to_vec();
    non_minimal.extend_from_slice(&[0x10, 0x81, 0x01, 0xAA, 0xFF, 0x00]);
    assert!(matches!(
        Seal::decode(&non_minimal),
        Err(SealError::Length { .. })
    ));
}

#[test]
fn structural_errors_name_the_problem() {
    assert_eq!(Seal::decode(&[0xDD]), Err(SealError::Magic { found: 0xDD }));
    assert_eq!(
        Seal::decode(&[0xDC, 0x04]),
        Err(SealError::Version { found: 0x04 })
    );
    assert_eq!(
        Seal::decode(&[0xDC, 0x03, 0xD9]),
        Err(SealError::Truncated {
            field: "issuing country"
        })
    );
    let vector = hex::decode(
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/vectors/vds/etd_icao_9303_part8_appB.hex"
        ))
        .unwrap()
        .trim(),
    )
    .unwrap();
    assert_eq!(
        Seal::decode(&vector[..68]),
        Err(SealError::MissingSignature)
    );
    let mut trailing = vector.clone();
    trailing.push(0x00);
    assert_eq!(
        Seal::decode(&trailing),
        Err(SealError::TrailingBytes { count: 1 })
    );
    assert_eq!(
        Seal::decode(&vector[..100]),
        Err(SealError::Truncated { field: "signature" })
    );
}

#[test]
fn signer_with_a_wrong_signature_length_is_refused() {
    let header = Header::new(
        HeaderVersion::V4,
        "LKA",
        SignerReference::new("LKET", "01").unwrap(),
        SealDate::from_ymd(2026, 6, 13).unwrap(),
        SealDate::from_ymd(2026, 6, 13).unwrap(),
        0x5E,
        0x03,
    )
    .unwrap();
    let result = SealBuilder::new(header)
        .sign_with(Curve::P384, |_digest: &[u8]| Ok::<_, String>(vec![0; 64]));
    assert_eq!(
        result,
        Err(SealError::SignatureLength {
            expected: 96,
            found: 64
        })
    );
    assert_eq!(Feature::new(0xFF, vec![]), Err(SealError::ReservedTag));
}
