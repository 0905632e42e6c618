//! A small software PKI for the tests: a P-256 CSCA, bar-code signer certificates on P-256,
//! brainpoolP256r1 or P-384, and CRLs. Times are fixed, never read from a clock.
#![allow(dead_code)]

use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use ecdsa::SigningKey;
use sha2::Digest;
use travdoc_pkix::TrustStore;
use travdoc_pkix::der::asn1::OctetString;
use travdoc_pkix::der::{Decode, Encode};
use travdoc_pkix::spki::{EncodePublicKey, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use travdoc_pkix::x509_cert::Certificate;
use travdoc_pkix::x509_cert::builder::profile::BuilderProfile;
use travdoc_pkix::x509_cert::builder::{Builder, CertificateBuilder, CrlBuilder};
use travdoc_pkix::x509_cert::certificate::TbsCertificate;
use travdoc_pkix::x509_cert::crl::RevokedCert;
use travdoc_pkix::x509_cert::ext::pkix::crl::CrlNumber;
use travdoc_pkix::x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use travdoc_pkix::x509_cert::ext::{Extension, ToExtension};
use travdoc_pkix::x509_cert::name::Name;
use travdoc_pkix::x509_cert::serial_number::SerialNumber;
use travdoc_pkix::x509_cert::time::{Time, Validity};
use travdoc_seal::{Curve, RawDigestSigner};

/// 2026-06-13T00:00:00Z.
pub const AT_2026_06_13: u64 = 1_781_308_800;
const DAY: u64 = 86_400;

pub fn time(unix_seconds: u64) -> Time {
    Time::try_from(UNIX_EPOCH + Duration::from_secs(unix_seconds)).expect("time in range")
}

fn key_bytes(label: &str) -> Vec<u8> {
    sha2::Sha256::digest(label.as_bytes()).to_vec()
}

/// A software key on one of the seal curves.
pub enum TestKey {
    P256(SigningKey<p256::NistP256>),
    Bp256(SigningKey<bp256::BrainpoolP256r1>),
    P384(SigningKey<p384::NistP384>),
}

impl TestKey {
    /// A deterministic key derived from `label`.
    pub fn new(curve: Curve, label: &str) -> Self {
        let seed = key_bytes(label);
        match curve {
            Curve::P256 => Self::P256(SigningKey::from_slice(&seed).expect("p256 key")),
            Curve::BrainpoolP256r1 => {
                // The brainpoolP256r1 order is below 2^256: rehash until the seed is a scalar.
                let key = (0..64)
                    .find_map(|round| {
                        SigningKey::from_slice(&key_bytes(&format!("{label}/{round}"))).ok()
                    })
                    .expect("bp256 key");
                Self::Bp256(key)
            }
            Curve::P384 => {
                let mut long = seed.clone();
                long.extend_from_slice(&key_bytes(&format!("{label}/2"))[..16]);
                Self::P384(SigningKey::from_slice(&long).expect("p384 key"))
            }
        }
    }

    pub fn spki(&self) -> SubjectPublicKeyInfoOwned {
        let der = match self {
            Self::P256(key) => key.verifying_key().to_public_key_der(),
            Self::Bp256(key) => key.verifying_key().to_public_key_der(),
            Self::P384(key) => key.verifying_key().to_public_key_der(),
        }
        .expect("public key der");
        SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("spki")
    }
}

impl RawDigestSigner for TestKey {
    fn curve(&self) -> Curve {
        match self {
            Self::P256(_) => Curve::P256,
            Self::Bp256(_) => Curve::BrainpoolP256r1,
            Self::P384(_) => Curve::P384,
        }
    }

    fn sign_digest_raw(
        &self,
        digest: &[u8],
    ) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        use ecdsa::signature::hazmat::PrehashSigner;
        Ok(match self {
            Self::P256(key) => {
                PrehashSigner::<ecdsa::Signature<p256::NistP256>>::sign_prehash(key, digest)?
                    .to_bytes()
                    .to_vec()
            }
            Self::Bp256(key) => {
                PrehashSigner::<ecdsa::Signature<bp256::BrainpoolP256r1>>::sign_prehash(
                    key, digest,
                )?
                .to_bytes()
                .to_vec()
            }
            Self::P384(key) => {
                PrehashSigner::<ecdsa::Signature<p384::NistP384>>::sign_prehash(key, digest)?
                    .to_bytes()
                    .to_vec()
            }
        })
    }
}

struct Profile {
    issuer: Name,
    subject: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> travdoc_pkix::x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

/// A test CSCA with its key and a trust store holding it.
pub struct TestPki {
    pub csca: Certificate,
    csca_key: SigningKey<p256::NistP256>,
    pub store: TrustStore,
}

pub struct SignerSpec<'a> {
    pub country: &'a str,
    pub common_name: &'a str,
    pub serial: &'a [u8],
    pub not_before: u64,
    pub not_after: u64,
    pub document_types: Option<&'a [&'a str]>,
}

impl<'a> SignerSpec<'a> {
    /// `C=LK, CN=<common_name>`, valid 2026-01-01 to 2027-03-01.
    pub fn new(common_name: &'a str, serial: &'a [u8]) -> Self {
        Self {
            country: "LK",
            common_name,
            serial,
            not_before: 1_767_225_600,
            not_after: 1_772_323_200 + 365 * DAY,
            document_types: None,
        }
    }
}

impl TestPki {
    /// A CSCA `C=LK, CN=travdoc test CSCA <label>` valid 2025-2035.
    pub fn new(label: &str) -> Self {
        let csca_key =
            SigningKey::<p256::NistP256>::from_slice(&key_bytes(&format!("csca {label}")))
                .expect("csca key");
        let name = Name::from_str(&format!("CN=travdoc test CSCA {label},C=LK")).expect("name");
        let basic = BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        };
        let usage = KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign);
        let extensions = vec![
            basic.to_extension(&name, &[]).expect("basic constraints"),
            usage.to_extension(&name, &[]).expect("key usage"),
        ];
        let profile = Profile {
            issuer: name.clone(),
            subject: name,
            extensions,
        };
        let spki = SubjectPublicKeyInfoOwned::from_key(csca_key.verifying_key()).expect("spki");
        let validity = Validity::new(time(1_735_689_600), time(1_735_689_600 + 3650 * DAY));
        let builder = CertificateBuilder::new(
            profile,
            SerialNumber::new(&[0x01]).expect("serial"),
            validity,
            spki,
        )
        .expect("builder");
        let csca = builder
            .build::<_, ecdsa::der::Signature<p256::NistP256>>(&csca_key)
            .expect("csca");
        let mut store = TrustStore::new();
        store.add_csca(csca.clone());
        Self {
            csca,
            csca_key,
            store,
        }
    }

    /// A bar-code signer certificate for `key`.
    pub fn signer_certificate(&self, key: &TestKey, spec: &SignerSpec<'_>) -> Certificate {
        let subject =
            Name::from_str(&format!("CN={},C={}", spec.common_name, spec.country)).expect("name");
        let mut extensions = Vec::new();
        if let Some(codes) = spec.document_types {
            let list = travdoc_pkix::DocumentTypeList::new(codes).expect("document types");
            extensions.push(Extension {
                extn_id: "2.23.136.1.1.6.2".parse().expect("oid"),
                critical: false,
                extn_value: OctetString::new(list.to_der().expect("der")).expect("octets"),
            });
        }
        let profile = Profile {
            issuer: self.csca.tbs_certificate().subject().clone(),
            subject,
            extensions,
        };
        let validity = Validity::new(time(spec.not_before), time(spec.not_after));
        let builder = CertificateBuilder::new(
            profile,
            SerialNumber::new(spec.serial).expect("serial"),
            validity,
            key.spki(),
        )
        .expect("builder");
        builder
            .build::<_, ecdsa::der::Signature<p256::NistP256>>(&self.csca_key)
            .expect("signer certificate")
    }

    /// Adds a CRL (signed by the CSCA) revoking `certificate` to the trust store.
    pub fn revoke(&mut self, certificate: &Certificate) {
        let revoked = RevokedCert {
            serial_number: certificate.tbs_certificate().serial_number().clone(),
            revocation_date: time(AT_2026_06_13 - 10 * DAY),
            crl_entry_extensions: None,
        };
        let number = CrlNumber(travdoc_pkix::der::asn1::Uint::new(&[1]).expect("crl number"));
        let crl =
            CrlBuilder::new_with_this_update(&self.csca, number, time(AT_2026_06_13 - 5 * DAY))
                .expect("crl builder")
                .with_next_update(Some(time(AT_2026_06_13 + 60 * DAY)))
                .with_certificates(std::iter::once(revoked))
                .build::<_, ecdsa::der::Signature<p256::NistP256>>(&self.csca_key)
                .expect("crl");
        self.store
            .add_crl_der(&crl.to_der().expect("crl der"))
            .expect("crl accepted");
    }
}
