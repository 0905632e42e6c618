//! DG1, DG2, DG11/DG12 build and parse; photo checks.

mod common;

use common::jpeg;
use travdoc_lds::LdsError;
use travdoc_lds::dg::{Dg1, FieldDataGroup, data_group_number_of, dg11_tags, dg12_tags};
use travdoc_lds::dg2::{Dg2, FaceEncoding, ImageFormat, PhotoLimits, check_photo, image_info};

fn jp2(width: u32, height: u32) -> Vec<u8> {
    let mut out = vec![
        0, 0, 0, 0x0C, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A,
    ];
    out.extend_from_slice(&[
        0, 0, 0, 0x14, b'f', b't', b'y', b'p', b'j', b'p', b'2', b' ', 0, 0, 0, 0, b'j', b'p',
        b'2', b' ',
    ]);
    // jp2h superbox holding ihdr (22 bytes: 8 header + 14 payload)
    out.extend_from_slice(&[
        0, 0, 0, 30, b'j', b'p', b'2', b'h', 0, 0, 0, 22, b'i', b'h', b'd', b'r',
    ]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[0, 3, 7, 7, 0, 0]);
    out.extend_from_slice(&[0, 0, 0, 8, b'j', b'p', b'2', b'c']);
    out
}

#[test]
fn jpeg_and_jp2_headers_give_type_and_dimensions() {
    let info = image_info(&jpeg(413, 531, 10)).expect("jpeg");
    assert_eq!(
        (info.format, info.width, info.height),
        (ImageFormat::Jpeg, 413, 531)
    );
    let info = image_info(&jp2(480, 640)).expect("jp2");
    assert_eq!(
        (info.format, info.width, info.height),
        (ImageFormat::Jpeg2000, 480, 640)
    );
    assert!(image_info(b"GIF89a....").is_err());
    assert!(image_info(&[0xFF, 0xD8, 0xFF]).is_err());
}

#[test]
fn photo_limits_are_enforced() {
    let limits = PhotoLimits::default();
    assert!(check_photo(&jpeg(480, 640, 100), &limits).is_ok());
    assert!(matches!(
        check_photo(&jpeg(200, 640, 100), &limits),
        Err(LdsError::PhotoRejected { .. })
    ));
    assert!(matches!(
        check_photo(&jpeg(480, 640, 70_000), &limits),
        Err(LdsError::PhotoRejected { .. })
    ));
}

#[test]
fn dg2_from_photo_round_trips() {
    for photo in [jpeg(480, 640, 5_000), jp2(480, 640)] {
        let dg2 = Dg2::from_photo(&photo, &PhotoLimits::default()).expect("dg2");
        let bytes = dg2.to_bytes().expect("encode");
        assert_eq!(data_group_number_of(&bytes).expect("number"), 2);
        let parsed = Dg2::from_bytes(&bytes).expect("parse");
        assert_eq!(parsed, dg2);
        assert_eq!(parsed.faces[0].encoding, FaceEncoding::Iso19794_5);
        assert_eq!(parsed.faces[0].image, photo);
        assert_eq!(parsed.to_bytes().expect("re-encode"), bytes);
        // The 19794-5 record starts "FAC\0" "010\0".
        let at = bytes
            .windows(4)
            .position(|w| w == b"FAC\0")
            .expect("record");
        assert_eq!(&bytes[at + 4..at + 8], b"010\0");
    }
}

#[test]
fn dg1_rejects_bad_mrz_and_round_trips() {
    assert!(Dg1::new("P<UTO").is_err());
    let mrz = "I<UTOD231458907<<<<<<<<<<<<<<<7408122F1204159UTO<<<<<<<<<<<6ERIKSSON<<ANNA<MARIA<<<<<<<<<<";
    let dg1 = Dg1::new(mrz).expect("td1");
    assert_eq!(dg1.lines().len(), 3);
    let bytes = dg1.to_bytes();
    assert_eq!(&bytes[..5], &[0x61, 0x5D, 0x5F, 0x1F, 0x5A]);
    assert_eq!(Dg1::from_bytes(&bytes).expect("parse"), dg1);
}

#[test]
fn dg11_and_dg12_round_trip_against_known_encoding() {
    let dg11 = FieldDataGroup::dg11(vec![
        (dg11_tags::FULL_NAME, b"ERIKSSON<<ANNA<MARIA".to_vec()),
        (dg11_tags::FULL_DATE_OF_BIRTH, b"19740812".to_vec()),
    ]);
    let bytes = dg11.to_bytes();
    let known = hex::decode(concat!(
        "6B28",
        "5C045F0E5F2B",
        "5F0E14",
        "4552494B53534F4E3C3C414E4E413C4D41524941",
        "5F2B08",
        "3139373430383132"
    ))
    .expect("hex");
    assert_eq!(bytes, known);
    assert_eq!(FieldDataGroup::from_bytes(&known).expect("parse"), dg11);

    let dg12 = FieldDataGroup::dg12(vec![
        (
            dg12_tags::ISSUING_AUTHORITY,
            b"DEPARTMENT OF IMMIGRATION".to_vec(),
        ),
        (dg12_tags::DATE_OF_ISSUE, b"20260101".to_vec()),
    ]);
    let parsed = FieldDataGroup::from_bytes(&dg12.to_bytes()).expect("dg12");
    assert_eq!(
        parsed.field(dg12_tags::DATE_OF_ISSUE),
        Some(&b"20260101"[..])
    );
    assert_eq!(data_group_number_of(&dg12.to_bytes()).expect("n"), 12);
}
