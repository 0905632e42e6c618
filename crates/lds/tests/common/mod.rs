//! A throwaway test PKI: a P-256 CSCA and Document Signers built with x509-cert's builder.
#![allow(dead_code)]

use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use der::asn1::OctetString;
use der::{Decode, Encode};
use sha2::Digest;
use signature::Keypair;
use spki::{
    DynSignatureAlgorithmIdentifier, EncodePublicKey, SubjectPublicKeyInfoOwned,
    SubjectPublicKeyInfoRef,
};
use travdoc_pkix::DocumentTypeList;
use travdoc_pkix::alg::oids;
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// 2026-01-01T00:00:00Z.
pub const NOT_BEFORE: u64 = 1_767_225_600;
/// 2036-01-01T00:00:00Z.
pub const NOT_AFTER: u64 = 2_082_758_400;
/// A time inside the validity period (2026-06-01).
pub const NOW: u64 = 1_780_272_000;

pub fn time(unix: u64) -> Time {
    Time::try_from(UNIX_EPOCH + Duration::from_secs(unix)).expect("time")
}

fn key_id(spk: SubjectPublicKeyInfoRef<'_>) -> Vec<u8> {
    sha2::Sha256::digest(spk.subject_public_key.raw_bytes())[..20].to_vec()
}

fn ext<T: Encode>(oid: der::asn1::ObjectIdentifier, critical: bool, value: &T) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().expect("ext")).expect("octets"),
    }
}

struct Profile {
    subject: Name,
    issuer: Option<Name>,
    csca: bool,
    document_types: Vec<&'static str>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, subject: &Name) -> Name {
        self.issuer.clone().unwrap_or_else(|| subject.clone())
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut out = Vec::new();
        let ski = OctetString::new(key_id(spk)).expect("ski");
        out.push(ext(
            const_oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
            false,
            &ski,
        ));
        let aki = x509_cert::ext::pkix::AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(key_id(issuer_spk)).expect("aki")),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        out.push(ext(
            const_oid::db::rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
            false,
            &aki,
        ));
        if self.csca {
            out.push(ext(
                const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS,
                true,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(0),
                },
            ));
            out.push(ext(
                const_oid::db::rfc5280::ID_CE_KEY_USAGE,
                true,
                &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            ));
        } else {
            out.push(ext(
                const_oid::db::rfc5280::ID_CE_KEY_USAGE,
                true,
                &KeyUsage(KeyUsages::DigitalSignature.into()),
            ));
            if !self.document_types.is_empty() {
                let list = DocumentTypeList::new(&self.document_types).expect("doc types");
                out.push(ext(oids::DOCUMENT_TYPE_LIST, false, &list));
            }
        }
        Ok(out)
    }
}

fn spki_of<K: EncodePublicKey>(key: &K) -> SubjectPublicKeyInfoOwned {
    SubjectPublicKeyInfoOwned::from_der(key.to_public_key_der().expect("spki").as_bytes())
        .expect("spki")
}

/// A self-signed P-256 CSCA.
pub fn csca(seed: u8, name: &str) -> (p256::ecdsa::SigningKey, Certificate) {
    let key = p256::ecdsa::SigningKey::from_slice(&[seed; 32]).expect("key");
    let profile = Profile {
        subject: Name::from_str(name).expect("name"),
        issuer: None,
        csca: true,
        document_types: vec![],
    };
    let builder = CertificateBuilder::new(
        profile,
        SerialNumber::from(u32::from(seed) + 1000),
        Validity::new(time(NOT_BEFORE), time(NOT_AFTER)),
        spki_of(key.verifying_key()),
    )
    .expect("builder");
    let cert = builder
        .build::<_, p256::ecdsa::DerSignature>(&key)
        .expect("csca");
    (key, cert)
}

/// A DSC for `public_key`, issued by the CSCA.
pub fn dsc<K: EncodePublicKey>(
    csca_key: &p256::ecdsa::SigningKey,
    csca_cert: &Certificate,
    public_key: &K,
    serial: u32,
    document_types: Vec<&'static str>,
    not_before: u64,
    not_after: u64,
) -> Certificate {
    let profile = Profile {
        subject: Name::from_str("CN=Test Document Signer,O=travdoc test,C=UT").expect("name"),
        issuer: Some(csca_cert.tbs_certificate().subject().clone()),
        csca: false,
        document_types,
    };
    let builder = CertificateBuilder::new(
        profile,
        SerialNumber::from(serial),
        Validity::new(time(not_before), time(not_after)),
        spki_of(public_key),
    )
    .expect("builder");
    builder
        .build::<_, p256::ecdsa::DerSignature>(csca_key)
        .expect("dsc")
}

/// Write `cert` as PEM.
pub fn pem(cert: &Certificate) -> String {
    use der::EncodePem;
    cert.to_pem(der::pem::LineEnding::LF).expect("pem")
}

pub fn assert_signer<S: Keypair + DynSignatureAlgorithmIdentifier>(_s: &S) {}

/// DG1 with a TD3 specimen MRZ.
pub fn dg1() -> Vec<u8> {
    let mrz =
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    travdoc_lds::dg::Dg1::new(mrz).expect("mrz").to_bytes()
}

/// A minimal baseline JPEG header with SOF0 (width x height), enough for the SOF parser.
pub fn jpeg(width: u16, height: u16, padding: usize) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    out.extend_from_slice(b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00");
    out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    out.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02]);
    out.extend(std::iter::repeat_n(0x55, padding));
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// DG2 from a synthetic JPEG.
pub fn dg2() -> Vec<u8> {
    let photo = jpeg(480, 640, 2000);
    travdoc_lds::dg2::Dg2::from_photo(&photo, &Default::default())
        .expect("dg2")
        .to_bytes()
        .expect("encode")
}
