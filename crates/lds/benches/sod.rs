//! SODs built and signed per second with a software P-256 key, against raw P-256 signatures per
//! second in the same run (the baseline), and Passive Authentications per second.
//!
//! Run: `CARGO_TARGET_DIR=/work/tgt/lds cargo bench -p travdoc-lds --bench sod`

use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use der::Decode;
use p256::ecdsa::{DerSignature, SigningKey};
use signature::Signer;
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use travdoc_lds::{PaOptions, SodBuilder, passive_authentication};
use travdoc_pkix::TrustStore;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

struct Plain {
    subject: Name,
    issuer: Name,
}

impl BuilderProfile for Plain {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        _spk: spki::SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: spki::SubjectPublicKeyInfoRef<'_>,
        _tbs: &x509_cert::certificate::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<x509_cert::ext::Extension>> {
        Ok(Vec::new())
    }
}

fn cert(
    subject: &str,
    issuer: &str,
    key: &SigningKey,
    public: &p256::ecdsa::VerifyingKey,
) -> x509_cert::Certificate {
    let time = |s: u64| Time::try_from(UNIX_EPOCH + Duration::from_secs(s)).expect("time");
    let spki =
        SubjectPublicKeyInfoOwned::from_der(public.to_public_key_der().expect("spki").as_bytes())
            .expect("spki");
    CertificateBuilder::new(
        Plain {
            subject: Name::from_str(subject).expect("name"),
            issuer: Name::from_str(issuer).expect("name"),
        },
        SerialNumber::from(1u32),
        Validity::new(time(1_767_225_600), time(2_082_758_400)),
        spki,
    )
    .expect("builder")
    .build::<_, DerSignature>(key)
    .expect("cert")
}

fn bench(c: &mut Criterion) {
    let csca_key = SigningKey::from_slice(&[1; 32]).expect("key");
    let dsc_key = SigningKey::from_slice(&[2; 32]).expect("key");
    let csca = cert(
        "CN=Bench CSCA,C=UT",
        "CN=Bench CSCA,C=UT",
        &csca_key,
        csca_key.verifying_key(),
    );
    let dsc = cert(
        "CN=Bench DS,C=UT",
        "CN=Bench CSCA,C=UT",
        &csca_key,
        dsc_key.verifying_key(),
    );
    let mrz =
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let dg1 = travdoc_lds::dg::Dg1::new(mrz).expect("dg1").to_bytes();
    // A 15 kB stand-in for the face data group (hashing cost of a typical DG2).
    let dg2 = travdoc_lds::tlv::encode(0x75, &vec![0x5A; 15_000]);
    let builder = SodBuilder::new()
        .add_data_group(&dg1)
        .and_then(|b| b.add_data_group(&dg2))
        .expect("dgs");

    let mut group = c.benchmark_group("p256");
    group.throughput(Throughput::Elements(1));
    group.bench_function("raw_signature_baseline", |b| {
        b.iter(|| {
            let signature: DerSignature =
                dsc_key.sign(std::hint::black_box(b"signed attributes of a SOD"));
            signature
        })
    });
    group.bench_function("sod_build_and_sign", |b| {
        b.iter(|| {
            builder
                .build::<_, DerSignature>(&dsc, &dsc_key)
                .expect("sod")
                .to_bytes()
                .expect("encode")
        })
    });
    let sod = builder
        .build::<_, DerSignature>(&dsc, &dsc_key)
        .expect("sod")
        .to_bytes()
        .expect("encode");
    let mut trust = TrustStore::new();
    trust.add_csca(csca);
    let options = PaOptions {
        at_unix_seconds: 1_780_272_000,
        document_code: None,
        require_crl: false,
    };
    // The bench DSC carries no DocumentTypeList, so only that check fails; every other one passes.
    let report = passive_authentication(&sod, &[&dg1, &dg2], &trust, &options);
    assert!(
        report
            .checks
            .iter()
            .all(|c| c.passed || c.name == "dsc.document_type"),
        "{report:?}"
    );
    group.bench_function("passive_authentication", |b| {
        b.iter(|| {
            passive_authentication(std::hint::black_box(&sod), &[&dg1, &dg2], &trust, &options)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
