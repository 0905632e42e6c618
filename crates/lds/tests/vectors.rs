//! Public vectors: BSI TR-03105-5, JMRTD loes2006 and bsi2008 SODs with their data groups, and the
//! ICAO ISO/IEC 39794-5 DG2 examples.

use der::{Decode, Encode};
use travdoc_lds::asn1::{DataGroupHash, LdsSecurityObject};
use travdoc_lds::dg::{Dg1, EfCom, data_group_number_of};
use travdoc_lds::dg2::{Dg2, FaceEncoding, ImageFormat};
use travdoc_lds::{PaOptions, Sod, Verdict, passive_authentication};
use travdoc_pkix::TrustStore;
use travdoc_pkix::cms_verify::verify_signer_info_signature;

fn vector(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/../../../shared/vectors/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("read {full}: {e}"))
}

struct Set {
    dir: &'static str,
    sod: &'static str,
    dgs: &'static [&'static str],
    com: &'static str,
    signature: &'static str,
    hash: &'static str,
}

const SETS: [Set; 3] = [
    Set {
        dir: "sod/bsi_tr03105_5",
        sod: "EF_SOD.bin",
        dgs: &[
            "Datagroup1.bin",
            "Datagroup2.bin",
            "Datagroup3.bin",
            "Datagroup4.bin",
            "Datagroup14.bin",
            "Datagroup15.bin",
        ],
        com: "EF_COM.bin",
        signature: "RsaPss",
        hash: "SHA-256",
    },
    Set {
        dir: "sod/jmrtd_loes2006",
        sod: "EF_SOD.bin",
        dgs: &["DG1.bin", "DG2.bin", "DG15.bin"],
        com: "EF_COM.bin",
        signature: "RsaPkcs1v15",
        hash: "SHA-256",
    },
    Set {
        dir: "sod/jmrtd_bsi2008",
        sod: "EF_SOD.bin",
        dgs: &["Datagroup1.bin", "Datagroup14.bin", "Datagroup15.bin"],
        com: "EF_COM.bin",
        signature: "Ecdsa",
        hash: "SHA-1",
    },
];

#[test]
fn public_sods_parse_round_trip_and_verify() {
    for set in &SETS {
        let bytes = vector(&format!("{}/{}", set.dir, set.sod));
        // Real EF.SODs are well within the nesting and length bounds public input gets.
        assert!(
            travdoc_pkix::der_within(&bytes, 32),
            "{}: the SOD exceeds the DER bounds",
            set.dir
        );
        let sod = Sod::from_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", set.dir));
        assert_eq!(
            sod.to_bytes().expect("encode"),
            bytes,
            "{}: byte-exact round trip",
            set.dir
        );

        // LDSSecurityObject round trip against the signed eContent bytes.
        let lso = LdsSecurityObject::from_der(sod.econtent()).expect("lso");
        assert_eq!(lso.to_der().expect("encode"), sod.econtent(), "{}", set.dir);
        assert_eq!(&lso, sod.lds_security_object());
        for hash in &lso.data_group_hash_values {
            let der = hash.to_der().expect("encode");
            assert_eq!(DataGroupHash::from_der(&der).expect("decode"), *hash);
        }
        assert_eq!(
            sod.hash_algorithm().expect("hash").name(),
            set.hash,
            "{}",
            set.dir
        );

        // Signature with the embedded DSC.
        let signer_info = sod.signer_info().expect("one signer");
        let dsc = sod.document_signer().expect("DSC embedded");
        verify_signer_info_signature(signer_info, dsc)
            .unwrap_or_else(|e| panic!("{}: {e}", set.dir));
        let alg = travdoc_pkix::cms_verify::signer_info_algorithm(signer_info).expect("alg");
        assert!(
            format!("{alg:?}").starts_with(set.signature),
            "{}: {alg:?}",
            set.dir
        );

        // DG hashes: every DG in the SOD matches; DGs not in the SOD are reported as such.
        let files: Vec<Vec<u8>> = set
            .dgs
            .iter()
            .map(|f| vector(&format!("{}/{f}", set.dir)))
            .collect();
        let refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
        // 2014: inside every DSC's validity? No: use each DSC's own notBefore + 1 day.
        let at =
            travdoc_pkix::cert::unix_seconds(&dsc.tbs_certificate().validity().not_before) + 86_400;
        let report = passive_authentication(
            &bytes,
            &refs,
            &TrustStore::new(),
            &PaOptions {
                at_unix_seconds: at,
                document_code: None,
                require_crl: false,
            },
        );
        // Chain first: without the CSCA of these public SODs in the trust store, their DSC's
        // key is not used (the signature was checked above, directly, with the DSC).
        let unchained = report.check("sod.signature").expect("sod.signature");
        assert!(
            !unchained.passed && unchained.detail.contains("does not chain"),
            "{}: {unchained:?}",
            set.dir
        );
        for check in [
            "sod.parse",
            "sod.structure",
            "sod.signed_attributes",
            "dsc.validity",
        ] {
            assert!(
                report.check(check).expect(check).passed,
                "{}: {check}: {:?}",
                set.dir,
                report.check(check)
            );
        }
        for file in &files {
            let number = data_group_number_of(file).expect("dg number");
            let check = report
                .check(&format!("dg.{number}.hash"))
                .expect("dg check");
            assert_eq!(
                check.passed,
                sod.data_group_hash(number).is_some(),
                "{}: DG{number}: {check:?}",
                set.dir
            );
        }
        // No CSCA published for these test sets: the chain check fails, so the verdict is invalid.
        assert!(!report.check("dsc.chain").expect("chain").passed);
        assert_eq!(report.verdict, Verdict::Invalid);
        let json = serde_json::to_string(&report).expect("json");
        assert!(json.contains("\"sod.signature\""));
    }
}

#[test]
fn bsi_dg15_is_not_in_the_sod_and_altered_dg_fails() {
    let sod = vector("sod/bsi_tr03105_5/EF_SOD.bin");
    let parsed = Sod::from_bytes(&sod).expect("sod");
    assert!(parsed.data_group_hash(15).is_none());
    let mut dg1 = vector("sod/bsi_tr03105_5/Datagroup1.bin");
    let last = dg1.len() - 1;
    dg1[last] ^= 0x01;
    let report = passive_authentication(
        &sod,
        &[&dg1],
        &TrustStore::new(),
        &PaOptions {
            at_unix_seconds: 1_400_000_000,
            document_code: None,
            require_crl: false,
        },
    );
    assert!(!report.check("dg.1.hash").expect("dg1").passed);
}

#[test]
fn ef_com_files_parse_and_round_trip() {
    for set in &SETS {
        let bytes = vector(&format!("{}/{}", set.dir, set.com));
        let com = EfCom::from_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", set.dir));
        assert_eq!(com.to_bytes(), bytes, "{}", set.dir);
        assert_eq!(com.lds_version.len(), 4);
        assert!(
            com.data_groups().contains(&1),
            "{}: {:?}",
            set.dir,
            com.data_groups()
        );
    }
    // The sample seen in many test suites.
    let sample = hex::decode("60165F0104303130375F36063034303030305C046175636E").expect("hex");
    let com = EfCom::from_bytes(&sample).expect("sample");
    assert_eq!(com.lds_version, "0107");
    assert_eq!(com.unicode_version, "040000");
    assert_eq!(com.data_groups(), vec![1, 2, 3, 14]);
    assert_eq!(
        EfCom::new("0107", "040000", &[1, 2, 3, 14])
            .expect("new")
            .to_bytes(),
        sample
    );
}

#[test]
fn dg1_files_give_the_mrz() {
    let bsi = Dg1::from_bytes(&vector("sod/bsi_tr03105_5/Datagroup1.bin")).expect("bsi dg1");
    assert_eq!(bsi.document_code(), "P<");
    assert_eq!(bsi.lines().len(), 2);
    assert!(bsi.mrz.starts_with("P<D<<MUSTERMANN<<ERIKA"), "{}", bsi.mrz);
    for path in [
        "sod/jmrtd_loes2006/DG1.bin",
        "sod/jmrtd_bsi2008/Datagroup1.bin",
        "sod/bsi_tr03105_5/Datagroup1.bin",
    ] {
        let bytes = vector(path);
        let dg1 = Dg1::from_bytes(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(dg1.mrz.len(), 88, "{path}");
        assert_eq!(dg1.to_bytes(), bytes, "{path}");
    }
}

#[test]
fn dg2_19794_5_files_parse() {
    for path in [
        "sod/jmrtd_loes2006/DG2.bin",
        "sod/bsi_tr03105_5/Datagroup2.bin",
    ] {
        let dg2 = Dg2::from_bytes(&vector(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(dg2.faces.len(), 1, "{path}");
        let face = &dg2.faces[0];
        assert_eq!(face.encoding, FaceEncoding::Iso19794_5);
        assert!(
            face.info.width > 0 && face.info.height > 0,
            "{path}: {:?}",
            face.info
        );
    }
}

#[test]
fn icao_39794_5_dg2_examples_parse() {
    for path in [
        "dg2/ICAO_39794_5_AP_DG2_MandFields.dat",
        "dg2/ICAO_39794_5_AP_DG2_AllFields.dat",
    ] {
        let dg2 = Dg2::from_bytes(&vector(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(dg2.faces.len(), 1, "{path}");
        let face = &dg2.faces[0];
        assert_eq!(face.encoding, FaceEncoding::Iso39794_5);
        assert_eq!(face.info.format, ImageFormat::Jpeg2000);
        assert!(
            face.info.width >= 100 && face.info.height >= 100,
            "{path}: {:?}",
            face.info
        );
        // Header: format owner 0101, format type 002A (39794-5).
        assert!(
            face.header.contains(&(0x88, vec![0x00, 0x2A])),
            "{path}: {:?}",
            face.header
        );
    }
}
