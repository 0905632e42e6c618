//! travdoc's own SODs: built over software signers, checked by `openssl cms -verify` and by
//! Passive Authentication, and rejected when anything is altered.

mod common;

use std::process::Command;

use common::*;
use der::{Decode, Encode};
use travdoc_lds::asn1::{LdsSecurityObject, LdsVersionInfo};
use travdoc_lds::{LdsError, PaOptions, Sod, SodBuilder, Verdict, passive_authentication};
use travdoc_pkix::{HashAlgorithm, TrustStore};

fn options() -> PaOptions {
    PaOptions {
        at_unix_seconds: NOW,
        document_code: None,
        require_crl: false,
    }
}

fn p256_sod() -> (Vec<u8>, x509_cert::Certificate, Vec<u8>, Vec<u8>) {
    let (csca_key, csca_cert) = csca(1, "CN=Test CSCA,O=travdoc test,C=UT");
    let signer = p256::ecdsa::SigningKey::from_slice(&[2; 32]).expect("key");
    let dsc_cert = dsc(
        &csca_key,
        &csca_cert,
        signer.verifying_key(),
        7,
        vec!["P"],
        NOT_BEFORE,
        NOT_AFTER,
    );
    let (dg1, dg2) = (dg1(), dg2());
    let sod = SodBuilder::new()
        .add_data_group(&dg1)
        .and_then(|b| b.add_data_group(&dg2))
        .expect("dgs")
        .build::<_, p256::ecdsa::DerSignature>(&dsc_cert, &signer)
        .expect("build");
    (sod.to_bytes().expect("encode"), csca_cert, dg1, dg2)
}

#[test]
fn openssl_cms_verifies_our_sod() {
    let (sod, csca_cert, _, _) = p256_sod();
    let dir = tempfile::tempdir().expect("tempdir");
    let parsed = Sod::from_bytes(&sod).expect("parse");
    let cms_path = dir.path().join("sod.der");
    std::fs::write(&cms_path, parsed.content_info_der().expect("der")).expect("write");
    let ca_path = dir.path().join("csca.pem");
    std::fs::write(&ca_path, pem(&csca_cert)).expect("write");
    let out_path = dir.path().join("econtent.bin");
    let output = Command::new("openssl")
        .args(["cms", "-verify", "-inform", "DER", "-in"])
        .arg(&cms_path)
        .arg("-CAfile")
        .arg(&ca_path)
        .args(["-binary", "-out"])
        .arg(&out_path)
        .output()
        .expect("openssl must be installed to run this test");
    assert!(
        output.status.success(),
        "openssl cms -verify failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("Verification successful"));
    assert_eq!(
        std::fs::read(&out_path).expect("econtent"),
        parsed.econtent()
    );

    // The profile as openssl prints it: version 3, eContentType, two signed attributes.
    let printed = Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
        .arg(&cms_path)
        .output()
        .expect("openssl");
    let text = String::from_utf8_lossy(&printed.stdout);
    assert!(text.contains("version: 3"), "{text}");
    assert!(text.contains("2.23.136.1.1.1"), "{text}");
    assert!(text.contains("d.issuerAndSerialNumber"), "{text}");
    assert!(
        text.contains("contentType") && text.contains("messageDigest"),
        "{text}"
    );
    assert!(!text.contains("signingTime"), "{text}");
}

#[test]
fn passive_authentication_accepts_ours_and_rejects_alterations() {
    let (sod, csca_cert, dg1, dg2) = p256_sod();
    let mut trust = TrustStore::new();
    trust.add_csca(csca_cert);
    let report = passive_authentication(&sod, &[&dg1, &dg2], &trust, &options());
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert!(report.check("dsc.document_type").expect("doc type").passed);

    // Altered data group.
    let mut bad_dg2 = dg2.clone();
    let at = bad_dg2.len() - 10;
    bad_dg2[at] ^= 0x40;
    let report = passive_authentication(&sod, &[&dg1, &bad_dg2], &trust, &options());
    assert_eq!(report.verdict, Verdict::Invalid);
    assert!(!report.check("dg.2.hash").expect("dg2").passed);
    assert!(report.check("dg.1.hash").expect("dg1").passed);
    assert!(report.check("sod.signature").expect("sig").passed);

    // Altered signature (last byte of the file is inside the SignerInfo signature).
    let parsed = Sod::from_bytes(&sod).expect("parse");
    let signature = parsed
        .signer_info()
        .expect("si")
        .signature
        .as_bytes()
        .to_vec();
    let position = sod
        .windows(signature.len())
        .position(|w| w == signature.as_slice())
        .expect("signature bytes");
    let mut bad_sig = sod.clone();
    bad_sig[position + signature.len() - 3] ^= 0x01;
    let report = passive_authentication(&bad_sig, &[&dg1, &dg2], &trust, &options());
    assert_eq!(report.verdict, Verdict::Invalid);
    assert!(!report.check("sod.signature").expect("sig").passed);

    // Trust store holding another CSCA with the same name.
    let (_, other_csca) = csca(3, "CN=Test CSCA,O=travdoc test,C=UT");
    let mut other = TrustStore::new();
    other.add_csca(other_csca);
    let report = passive_authentication(&sod, &[&dg1, &dg2], &other, &options());
    assert_eq!(report.verdict, Verdict::Invalid);
    let chain = report.check("dsc.chain").expect("chain");
    assert!(!chain.passed, "{chain:?}");

    // Another CSCA with another name.
    let (_, stranger) = csca(4, "CN=Other CSCA,O=elsewhere,C=XX");
    let mut other = TrustStore::new();
    other.add_csca(stranger);
    let report = passive_authentication(&sod, &[&dg1, &dg2], &other, &options());
    assert!(!report.check("dsc.chain").expect("chain").passed);

    // Expired at verification time.
    let late = PaOptions {
        at_unix_seconds: NOT_AFTER + 1,
        ..options()
    };
    let report = passive_authentication(&sod, &[&dg1, &dg2], &trust, &late);
    assert!(!report.check("dsc.validity").expect("validity").passed);

    // Document code not covered by the DSC's DocumentTypeList {"P"}.
    let visa = PaOptions {
        document_code: Some("V<".into()),
        ..options()
    };
    let report = passive_authentication(&sod, &[&dg2], &trust, &visa);
    assert!(!report.check("dsc.document_type").expect("doc type").passed);
}

#[test]
fn revoked_dsc_is_reported() {
    use x509_cert::builder::{Builder, CrlBuilder};
    use x509_cert::crl::RevokedCert;
    let (csca_key, csca_cert) = csca(5, "CN=Revoking CSCA,O=travdoc test,C=UT");
    let signer = p256::ecdsa::SigningKey::from_slice(&[6; 32]).expect("key");
    let dsc_cert = dsc(
        &csca_key,
        &csca_cert,
        signer.verifying_key(),
        99,
        vec!["P"],
        NOT_BEFORE,
        NOT_AFTER,
    );
    let (dg1, dg2) = (dg1(), dg2());
    let sod = SodBuilder::new()
        .add_data_group(&dg1)
        .and_then(|b| b.add_data_group(&dg2))
        .expect("dgs")
        .build::<_, p256::ecdsa::DerSignature>(&dsc_cert, &signer)
        .expect("build")
        .to_bytes()
        .expect("encode");
    let revoked = RevokedCert {
        serial_number: dsc_cert.tbs_certificate().serial_number().clone(),
        revocation_date: time(NOW - 10),
        crl_entry_extensions: None,
    };
    let crl = CrlBuilder::new_with_this_update(
        &csca_cert,
        x509_cert::ext::pkix::CrlNumber::from(der::asn1::Uint::new(&[1]).expect("uint")),
        time(NOW - 5),
    )
    .expect("crl builder")
    .with_certificates(std::iter::once(revoked))
    .build::<_, p256::ecdsa::DerSignature>(&csca_key)
    .expect("crl");
    let mut trust = TrustStore::new();
    trust.add_csca(csca_cert.clone());
    let report = passive_authentication(
        &sod,
        &[&dg1, &dg2],
        &trust,
        &PaOptions {
            require_crl: true,
            ..options()
        },
    );
    assert!(
        !report.check("dsc.revocation").expect("rev").passed,
        "no CRL held and CRL required"
    );
    trust
        .add_crl_der(&crl.to_der().expect("crl der"))
        .expect("crl accepted");
    let report = passive_authentication(&sod, &[&dg1, &dg2], &trust, &options());
    let check = report.check("dsc.revocation").expect("rev");
    assert!(
        !check.passed && check.detail.contains("revoked"),
        "{check:?}"
    );
    assert_eq!(
        trust.chain(&dsc_cert, NOW),
        Err(travdoc_pkix::ChainError::Revoked {
            revocation_date: NOW - 10
        })
    );
}

#[test]
fn p384_and_rsa_pss_signers_and_algorithm_consistency() {
    let (csca_key, csca_cert) = csca(8, "CN=Algorithms CSCA,O=travdoc test,C=UT");
    let mut trust = TrustStore::new();
    trust.add_csca(csca_cert.clone());
    let (dg1, dg2) = (dg1(), dg2());
    let builder = SodBuilder::new()
        .hash_algorithm(HashAlgorithm::Sha384)
        .expect("sha384")
        .lds_version_info("0108", "040000")
        .add_data_group(&dg1)
        .and_then(|b| b.add_data_group(&dg2))
        .expect("dgs");

    // P-384.
    let p384_key = p384::ecdsa::SigningKey::from_slice(&[9; 48]).expect("key");
    let p384_dsc = dsc(
        &csca_key,
        &csca_cert,
        p384_key.verifying_key(),
        10,
        vec!["PP"],
        NOT_BEFORE,
        NOT_AFTER,
    );
    let sod = builder
        .build::<_, p384::ecdsa::DerSignature>(&p384_dsc, &p384_key)
        .expect("p384");
    assert_eq!(sod.lds_security_object().version, 1);
    assert_eq!(
        sod.signer_info().expect("si").digest_alg.oid,
        HashAlgorithm::Sha384.oid()
    );
    let report = passive_authentication(
        &sod.to_bytes().expect("encode"),
        &[&dg1, &dg2],
        &trust,
        &options(),
    );
    assert!(
        report.check("sod.signature").expect("sig").passed,
        "{report:#?}"
    );
    // "PP" DSC does not cover the "P<" MRZ from DG1.
    assert!(!report.check("dsc.document_type").expect("doc").passed);

    // RSA-PSS.
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let private = rsa::PrivateKey::from_pkcs1_der(include_bytes!(
        "../../pkix/tests/data/test-only-rsa2048.pkcs1.der"
    ))
    .expect("rsa");
    let pss = rsa::pss::SigningKey::<sha2::Sha256>::new(private);
    let rsa_dsc = dsc(
        &csca_key,
        &csca_cert,
        &rsa::PublicKey::from(pss.as_ref()),
        11,
        vec!["P"],
        NOT_BEFORE,
        NOT_AFTER,
    );
    let sod = builder
        .build::<_, rsa::pss::Signature>(&rsa_dsc, &pss)
        .expect("pss");
    let report = passive_authentication(
        &sod.to_bytes().expect("encode"),
        &[&dg1, &dg2],
        &trust,
        &options(),
    );
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");

    // A signer whose key is not the DSC's is refused.
    let stranger = p256::ecdsa::SigningKey::from_slice(&[12; 32]).expect("key");
    let p256_dsc = dsc(
        &csca_key,
        &csca_cert,
        stranger.verifying_key(),
        13,
        vec!["P"],
        NOT_BEFORE,
        NOT_AFTER,
    );
    let other = p256::ecdsa::SigningKey::from_slice(&[14; 32]).expect("key");
    assert_eq!(
        builder
            .build::<_, p256::ecdsa::DerSignature>(&p256_dsc, &other)
            .map(|_| ()),
        Err(LdsError::SignerKeyMismatch)
    );
}

/// A P-256 public key whose SPKI carries explicit domain parameters (ICAO 9303-12 DSC style).
struct ExplicitP256(p256::ecdsa::VerifyingKey);

impl spki::EncodePublicKey for ExplicitP256 {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        let named =
            spki::SubjectPublicKeyInfoOwned::from_der(self.0.to_public_key_der()?.as_bytes())?;
        let explicit = travdoc_pkix::key::encode_ec_parameters(
            &named,
            travdoc_pkix::EcParameterEncoding::Explicit,
        )
        .map_err(|_| spki::Error::KeyMalformed)?;
        Ok(der::Document::encode_msg(&explicit)?)
    }
}

#[test]
fn dsc_with_explicit_parameters_signs_and_passes_passive_authentication() {
    let (csca_key, csca_cert) = csca(21, "CN=Test CSCA,O=travdoc test,C=UT");
    let signer = p256::ecdsa::SigningKey::from_slice(&[22; 32]).expect("key");
    let dsc_cert = dsc(
        &csca_key,
        &csca_cert,
        &ExplicitP256(*signer.verifying_key()),
        23,
        vec!["P"],
        NOT_BEFORE,
        NOT_AFTER,
    );
    let parameters = dsc_cert
        .tbs_certificate()
        .subject_public_key_info()
        .algorithm
        .parameters
        .as_ref()
        .expect("parameters");
    assert_eq!(der::Tagged::tag(parameters), der::Tag::Sequence);
    let (dg1, dg2) = (dg1(), dg2());
    let builder = SodBuilder::new()
        .add_data_group(&dg1)
        .and_then(|b| b.add_data_group(&dg2))
        .expect("dgs");
    // The signer names its curve, the DSC spells it out: still the same key.
    let sod = builder
        .build::<_, p256::ecdsa::DerSignature>(&dsc_cert, &signer)
        .expect("build")
        .to_bytes()
        .expect("encode");
    let mut trust = TrustStore::new();
    trust.add_csca(csca_cert);
    let report = passive_authentication(&sod, &[&dg1, &dg2], &trust, &options());
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    // Another key under explicit parameters is still refused.
    let other = p256::ecdsa::SigningKey::from_slice(&[24; 32]).expect("key");
    assert_eq!(
        builder
            .build::<_, p256::ecdsa::DerSignature>(&dsc_cert, &other)
            .map(|_| ()),
        Err(LdsError::SignerKeyMismatch)
    );
}

#[test]
fn lds_types_round_trip_byte_exact() {
    // LDSVersionInfo: SEQUENCE { PrintableString "0108", PrintableString "040000" }.
    let known = hex::decode("300e1304303130381306303430303030").expect("hex");
    let info = LdsVersionInfo::from_der(&known).expect("decode");
    assert_eq!(info.lds_version.as_str(), "0108");
    assert_eq!(info.to_der().expect("encode"), known);

    // LDSSecurityObject v1 built by the builder decodes to the same value and bytes.
    let lso = SodBuilder::new()
        .lds_version_info("0108", "040000")
        .add_data_group(&dg1())
        .and_then(|b| b.add_data_group(&dg2()))
        .expect("dgs")
        .lds_security_object()
        .expect("lso");
    let der = lso.to_der().expect("encode");
    assert_eq!(LdsSecurityObject::from_der(&der).expect("decode"), lso);
    assert!(der.ends_with(&known), "ldsVersionInfo is the last element");
    assert_eq!(lso.version, 1);
}
