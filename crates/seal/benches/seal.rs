//! Seal throughput: ETD seals built and signed per second with a software P-256 key, against raw
//! P-256 prehash signatures per second measured in the same run (the baseline), and full
//! verifications per second against raw P-256 prehash verifications.
//!
//! Run: `cargo bench -p travdoc-seal --bench seal`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;

use common::{AT_2026_06_13, SignerSpec, TestKey, TestPki};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use sha2::Digest;
use travdoc_seal::etd::{self, EtdMrz};
use travdoc_seal::verify::{Presented, Verifier};
use travdoc_seal::{Curve, RawDigestSigner, SealDate, SignerReference};

const LINE1: &str = "PULKAPERERA<<KAMALA<NIROSHA<<<<<<<<<";
const LINE2: &str = "N123456785LKA9001011F2612317<<<<<<<0";

fn build_and_sign(key: &TestKey, mrz: &EtdMrz, date: SealDate) -> Vec<u8> {
    let signer = SignerReference::new("LKET", "012C").expect("signer");
    let header = etd::header("LKA", signer, date, date).expect("header");
    etd::builder(header, mrz)
        .expect("builder")
        .sign(key)
        .expect("sign")
        .to_bytes()
        .expect("bytes")
}

fn benches(c: &mut Criterion) {
    let key = TestKey::new(Curve::P256, "bench");
    let TestKey::P256(signing_key) = &key else {
        unreachable!("P-256 key")
    };
    let mrz = EtdMrz::new(LINE1, LINE2).expect("mrz");
    let date = SealDate::from_ymd(2026, 6, 13).expect("date");
    let digest =
        sha2::Sha256::digest(b"a 68-byte header and message zone stands in for the signed data...");

    let mut group = c.benchmark_group("seal_sign_p256");
    group.throughput(Throughput::Elements(1));
    group.bench_function("baseline_raw_prehash_sign", |b| {
        b.iter(|| {
            let signature: p256::ecdsa::Signature =
                signing_key.sign_prehash(black_box(&digest)).expect("sign");
            black_box(signature)
        })
    });
    group.bench_function("etd_seal_build_and_sign", |b| {
        b.iter(|| black_box(build_and_sign(&key, black_box(&mrz), date)))
    });
    group.finish();

    let pki = TestPki::new("bench");
    let certificate = pki.signer_certificate(&key, &SignerSpec::new("ET", &[0x01, 0x2C]));
    let certificates = [certificate];
    let verifier = Verifier::new(&certificates, &pki.store, AT_2026_06_13);
    let seal = build_and_sign(&key, &mrz, date);
    assert!(
        verifier
            .verify(&seal, Presented::PrintedMrz([LINE1, LINE2]))
            .is_valid()
    );
    let raw = key.sign_digest_raw(&digest).expect("raw signature");
    let raw_signature = p256::ecdsa::Signature::from_slice(&raw).expect("signature");

    let mut group = c.benchmark_group("seal_verify_p256");
    group.throughput(Throughput::Elements(1));
    group.bench_function("baseline_raw_prehash_verify", |b| {
        b.iter(|| {
            signing_key
                .verifying_key()
                .verify_prehash(black_box(&digest), &raw_signature)
                .expect("verifies")
        })
    });
    group.bench_function("etd_seal_verify_full", |b| {
        b.iter(|| {
            black_box(verifier.verify(black_box(&seal), Presented::PrintedMrz([LINE1, LINE2])))
        })
    });
    group.finish();
}

criterion_group!(seal, benches);
criterion_main!(seal);
