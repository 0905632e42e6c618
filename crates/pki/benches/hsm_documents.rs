//! Documents signed through the HSM per second, against raw HSM signatures per second measured in
//! the same run, on one thread (travdoc issues 5 and 6):
//!
//! * `hsm_etd_seal`: ETD visible digital seals (header v4, C40 MRZ feature, SHA-256, raw `r||s`
//!   from the TTD bar-code signer's token key, encoded to bytes);
//! * `hsm_legalization_seal`: legalization seals (field validation, features, signature by the
//!   legalization signer; the document's SHA-256 is computed once outside the loop, as the CLI
//!   hashes the file before it builds the seal);
//! * `hsm_sod`: EF.SOD (DG1 + a 15 kB DG2 stand-in hashed, LDSSecurityObject, CMS SignedData with
//!   the DSC, signature by the passport Document Signer, encoded to bytes);
//! * `verify`: seal verifications and Passive Authentications per second (software), against raw
//!   P-256 verifications (RustCrypto) in the same run.
//!
//! The baseline of each HSM group is `HsmSigner::sign_digest_raw` with the same token key over a
//! SHA-256 digest: one `C_Sign` through travdoc's session pool. Baseline and document batches are
//! interleaved so both run under the same conditions. Times are the benchmark thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`): SoftHSM2 computes inside the calling thread, so the token's work
//! is counted, while time spent waiting for a core on a shared 2-core build machine is not (wall
//! clock under load mostly measures the scheduler). After criterion's groups a paired run prints
//! per document kind `ratio = documents/s / raw signatures/s` to stderr (target >= 0.80), with
//! the wall-clock figures in brackets, plus the SOD's DG-hashing share; nothing is asserted about
//! timings.
//!
//! Run: `CARGO_TARGET_DIR=/work/tgt/hsm-bench cargo bench -p travdoc-pki --bench hsm_documents`.
//! The bench re-executes itself with a private `SOFTHSM2_CONF` (PKI and token under
//! `CARGO_TARGET_TMPDIR/hsm-documents`, recreated on every run).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::Digest;
use signature::hazmat::{PrehashSigner, PrehashVerifier};
use travdoc_hsm::softhsm::DEFAULT_MODULE;
use travdoc_hsm::{HsmSigner, KeyAlgorithm};
use travdoc_lds::{PaOptions, SodBuilder, Verdict, passive_authentication};
use travdoc_pki::{HsmSettings, IssuedSigner, Pki, PkiConfig, PkiOptions, SignerKind};
use travdoc_seal::etd::{self, EtdMrz};
use travdoc_seal::travdoc_pkix::TrustStore;
use travdoc_seal::{
    Curve, Legalization, LegalizationFields, Presented, RawDigestSigner, SealDate, SignerReference,
    Verifier, legalization,
};

const LINE1: &str = "PULKAPERERA<<KAMALA<NIROSHA<<<<<<<<<";
const LINE2: &str = "N123456785LKA9001011F2612317<<<<<<<0";
const PASSPORT_MRZ: &str =
    "P<LKAPERERA<<KAMALA<NIROSHA<<<<<<<<<<<<<<<<<N123456785LKA9001011F3012317<<<<<<<<<<<<<<00";

/// The seal crate's signer trait over a token key.
struct TokenSealKey<'a>(&'a HsmSigner);

impl RawDigestSigner for TokenSealKey<'_> {
    fn curve(&self) -> Curve {
        match self.0.algorithm() {
            KeyAlgorithm::EcP384 => Curve::P384,
            KeyAlgorithm::EcBrainpoolP256r1 => Curve::BrainpoolP256r1,
            _ => Curve::P256,
        }
    }
    fn sign_digest_raw(
        &self,
        digest: &[u8],
    ) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.0.sign_digest_raw(digest)?)
    }
}

/// What one seal kind needs: the signer, its header reference and the certificate.
struct SealSigner {
    issued: IssuedSigner,
    reference: SignerReference,
}

impl SealSigner {
    fn new(issued: IssuedSigner) -> Self {
        let identifier = issued
            .vds_signer_identifier()
            .expect("bar-code signer identifier");
        let serial = issued.certificate.tbs_certificate().serial_number().clone();
        let reference =
            SignerReference::from_serial(&identifier, serial.as_bytes()).expect("reference");
        Self { issued, reference }
    }
}

struct Fixture {
    _pki: Pki,
    ttd: SealSigner,
    legalization: SealSigner,
    passport: IssuedSigner,
    trust: TrustStore,
    today: SealDate,
    now: u64,
    document_sha256: [u8; 32],
    dg1: Vec<u8>,
    dg2: Vec<u8>,
    digest: Vec<u8>,
}

/// Civil date of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (u16, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        u16::try_from(year).expect("year"),
        u8::try_from(month).expect("month"),
        u8::try_from(day).expect("day"),
    )
}

fn setup() -> Fixture {
    let data_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hsm-documents");
    let options = PkiOptions {
        data_dir: data_dir.clone(),
        country: "LKA".to_owned(),
        hsm: HsmSettings {
            module: DEFAULT_MODULE.into(),
            token_label: "travdoc-bench".to_owned(),
            pin_file: None,
            pin_env: None,
        },
        pki: PkiConfig::default(),
        open_csca: true,
        create_tokens: true,
    };
    if !options.softhsm_home().conf_active() {
        // First execution: start from an empty token; the re-executed process keeps it.
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    options
        .prepare_process()
        .expect("private SoftHSM2 configuration");
    let pki = Pki::open_or_init(&options).expect("PKI on SoftHSM2");
    let ttd = SealSigner::new(pki.signer(SignerKind::Ttd).expect("TTD signer"));
    let legalization = SealSigner::new(
        pki.signer(SignerKind::Legalization)
            .expect("legalization signer"),
    );
    let passport = pki.signer(SignerKind::Passport).expect("Document Signer");
    let mut trust = TrustStore::new();
    trust.add_csca(pki.csca().expect("CSCA"));
    trust
        .add_crl_der(&pki.crl().expect("CRL"))
        .expect("CRL parses");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let (year, month, day) = civil_from_days(i64::try_from(now / 86_400).expect("days"));
    let dg1 = travdoc_lds::dg::Dg1::new(PASSPORT_MRZ)
        .expect("DG1")
        .to_bytes();
    // A 15 kB stand-in for the face data group (the hashing cost of a typical DG2).
    let dg2 = travdoc_lds::tlv::encode(0x75, &vec![0x5A; 15_000]);
    Fixture {
        _pki: pki,
        ttd,
        legalization,
        passport,
        trust,
        today: SealDate::from_ymd(year, month, day).expect("date"),
        now,
        document_sha256: sha2::Sha256::digest(b"%PDF-1.7 a legalized document").into(),
        dg1,
        dg2,
        digest: sha2::Sha256::digest(b"raw HSM signature baseline").to_vec(),
    }
}

fn raw_signature(signer: &HsmSigner, digest: &[u8]) -> Vec<u8> {
    signer.sign_digest_raw(digest).expect("raw HSM signature")
}

fn etd_seal(fixture: &Fixture) -> Vec<u8> {
    let mrz = EtdMrz::new(LINE1, LINE2).expect("MRZ");
    let header = etd::header(
        "LKA",
        fixture.ttd.reference.clone(),
        fixture.today,
        fixture.today,
    )
    .expect("header");
    etd::builder(header, &mrz)
        .expect("builder")
        .sign(&TokenSealKey(&fixture.ttd.issued.signer))
        .expect("sign")
        .to_bytes()
        .expect("encode")
}

fn legalization_seal(fixture: &Fixture) -> Vec<u8> {
    let fields = Legalization::new(LegalizationFields {
        certificate_number: "LG2026X7Q4M9".to_owned(),
        issue_date: fixture.today,
        document_sha256: fixture.document_sha256,
        document_type: "Birth certificate".to_owned(),
        signatory: Some("K. N. Perera".to_owned()),
        capacity: Some("Registrar of Births".to_owned()),
        authority: "Consular Affairs Division".to_owned(),
        place: Some("Colombo".to_owned()),
        country_of_use: Some("DEU".to_owned()),
        seal_of: None,
    })
    .expect("fields");
    let header = legalization::header(
        "LKA",
        fixture.legalization.reference.clone(),
        &fields,
        fixture.today,
    )
    .expect("header");
    legalization::builder(header, &fields)
        .expect("builder")
        .sign(&TokenSealKey(&fixture.legalization.issued.signer))
        .expect("sign")
        .to_bytes()
        .expect("encode")
}

fn sod(fixture: &Fixture) -> Vec<u8> {
    SodBuilder::new()
        .add_data_group(&fixture.dg1)
        .and_then(|builder| builder.add_data_group(&fixture.dg2))
        .expect("data groups")
        .build::<HsmSigner, p256::ecdsa::DerSignature>(
            &fixture.passport.certificate,
            &fixture.passport.signer,
        )
        .expect("SOD")
        .to_bytes()
        .expect("encode")
}

/// Batch size of the interleaving (an HSM signature takes a few hundred microseconds on SoftHSM2).
const CHUNK: u64 = 16;

/// On-CPU time of the calling thread. SoftHSM2 signs inside the calling thread, so its work is
/// counted; time the thread spends waiting for a core on the shared machine is not.
fn thread_cpu() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// Wall-clock and thread CPU time of `count` runs of `work`.
#[derive(Clone, Copy, Default)]
struct Spent {
    wall: Duration,
    cpu: Duration,
}

impl std::ops::AddAssign for Spent {
    fn add_assign(&mut self, other: Self) {
        self.wall += other.wall;
        self.cpu += other.cpu;
    }
}

fn timed(count: u64, work: &impl Fn()) -> Spent {
    let (start, start_cpu) = (Instant::now(), thread_cpu());
    for _ in 0..count {
        work();
    }
    Spent {
        cpu: thread_cpu().saturating_sub(start_cpu),
        wall: start.elapsed(),
    }
}

/// Thread CPU time of `measured` over `iterations`, with an equal untimed batch of `other`
/// before each timed batch, so both sides of a comparison run under the same conditions.
fn interleaved(iterations: u64, measured: &impl Fn(), other: &impl Fn()) -> Duration {
    let mut total = Duration::ZERO;
    let mut remaining = iterations;
    while remaining > 0 {
        let batch = remaining.min(CHUNK);
        timed(batch, other);
        total += timed(batch, measured).cpu;
        remaining -= batch;
    }
    total
}

/// Paired run: `rounds` batches of each side, alternating which goes first.
fn paired(rounds: u64, raw: &impl Fn(), document: &impl Fn()) -> (Spent, Spent) {
    let (mut raw_spent, mut document_spent) = (Spent::default(), Spent::default());
    for round in 0..rounds {
        if round % 2 == 0 {
            raw_spent += timed(CHUNK, raw);
            document_spent += timed(CHUNK, document);
        } else {
            document_spent += timed(CHUNK, document);
            raw_spent += timed(CHUNK, raw);
        }
    }
    (raw_spent, document_spent)
}

fn per_second(count: u64, time: Duration) -> f64 {
    count as f64 / time.as_secs_f64()
}

fn hsm_group(
    c: &mut Criterion,
    name: &str,
    document_name: &str,
    raw: &impl Fn(),
    document: &impl Fn(),
) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("raw_hsm_sign", |b| {
        b.iter_custom(|iterations| interleaved(iterations, raw, document))
    });
    group.bench_function(document_name, |b| {
        b.iter_custom(|iterations| interleaved(iterations, document, raw))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let fixture = setup();
    let raw_ttd = || {
        black_box(raw_signature(&fixture.ttd.issued.signer, &fixture.digest));
    };
    let raw_legalization = || {
        black_box(raw_signature(
            &fixture.legalization.issued.signer,
            &fixture.digest,
        ));
    };
    let raw_passport = || {
        black_box(raw_signature(&fixture.passport.signer, &fixture.digest));
    };
    let etd = || {
        black_box(etd_seal(black_box(&fixture)));
    };
    let legal = || {
        black_box(legalization_seal(black_box(&fixture)));
    };
    let passport = || {
        black_box(sod(black_box(&fixture)));
    };

    // What is measured must also be right: every document verifies before it is timed.
    let etd_bytes = etd_seal(&fixture);
    let legalization_bytes = legalization_seal(&fixture);
    let sod_bytes = sod(&fixture);
    let ttd_certificates = [fixture.ttd.issued.certificate.clone()];
    let legalization_certificates = [fixture.legalization.issued.certificate.clone()];
    let etd_verifier = Verifier::new(&ttd_certificates, &fixture.trust, fixture.now);
    let legalization_verifier =
        Verifier::new(&legalization_certificates, &fixture.trust, fixture.now);
    let etd_result = etd_verifier.verify(&etd_bytes, Presented::PrintedMrz([LINE1, LINE2]));
    assert!(etd_result.is_valid(), "ETD seal: {:?}", etd_result.codes());
    let legalization_result = legalization_verifier.verify(
        &legalization_bytes,
        Presented::DocumentSha256(fixture.document_sha256),
    );
    assert!(
        legalization_result.is_valid(),
        "legalization seal: {:?}",
        legalization_result.codes()
    );
    let pa_options = PaOptions {
        at_unix_seconds: fixture.now,
        document_code: None,
        require_crl: false,
    };
    let data_groups: [&[u8]; 2] = [&fixture.dg1, &fixture.dg2];
    let report = passive_authentication(&sod_bytes, &data_groups, &fixture.trust, &pa_options);
    assert_eq!(report.verdict, Verdict::Valid, "{report:?}");

    hsm_group(c, "hsm_etd_seal", "etd_seal_build_and_sign", &raw_ttd, &etd);
    hsm_group(
        c,
        "hsm_legalization_seal",
        "legalization_seal_build_and_sign",
        &raw_legalization,
        &legal,
    );
    hsm_group(c, "hsm_sod", "sod_build_and_sign", &raw_passport, &passport);

    // Verification is software only: compare with a raw P-256 prehash verification.
    let software = p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("software key");
    let software_signature: p256::ecdsa::Signature =
        software.sign_prehash(&fixture.digest).expect("sign");
    let software_public = *software.verifying_key();
    let raw_verify = || {
        software_public
            .verify_prehash(black_box(&fixture.digest), &software_signature)
            .expect("verifies");
    };
    let verify_etd = || {
        black_box(
            etd_verifier.verify(black_box(&etd_bytes), Presented::PrintedMrz([LINE1, LINE2])),
        );
    };
    let verify_legalization = || {
        black_box(legalization_verifier.verify(
            black_box(&legalization_bytes),
            Presented::DocumentSha256(fixture.document_sha256),
        ));
    };
    let verify_sod = || {
        black_box(passive_authentication(
            black_box(&sod_bytes),
            &data_groups,
            &fixture.trust,
            &pa_options,
        ));
    };
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("raw_p256_verify_software", |b| {
        b.iter_custom(|iterations| timed(iterations, &raw_verify).cpu)
    });
    group.bench_function("etd_seal_verify", |b| {
        b.iter_custom(|iterations| timed(iterations, &verify_etd).cpu)
    });
    group.bench_function("legalization_seal_verify", |b| {
        b.iter_custom(|iterations| timed(iterations, &verify_legalization).cpu)
    });
    group.bench_function("passive_authentication", |b| {
        b.iter_custom(|iterations| timed(iterations, &verify_sod).cpu)
    });
    group.finish();

    // The summary: a paired, interleaved run per document kind.
    const ROUNDS: u64 = 60;
    let count = ROUNDS * CHUNK;
    eprintln!(
        "\nSummary (one thread; {count} documents and {count} raw signatures per kind, interleaved in \
         batches of {CHUNK}; rates per second of thread CPU time, wall-clock rates in brackets):"
    );
    for (name, raw, document) in [
        ("ETD seal", &raw_ttd as &dyn Fn(), &etd as &dyn Fn()),
        ("legalization seal", &raw_legalization, &legal),
        ("SOD", &raw_passport, &passport),
    ] {
        let (raw_spent, document_spent) = paired(ROUNDS, &raw, &document);
        let (raw_rate, document_rate) = (
            per_second(count, raw_spent.cpu),
            per_second(count, document_spent.cpu),
        );
        let (raw_wall, document_wall) = (
            per_second(count, raw_spent.wall),
            per_second(count, document_spent.wall),
        );
        eprintln!(
            "{name:>18}: raw HSM {raw_rate:7.1} sign/s [{raw_wall:7.1}], documents {document_rate:7.1}/s \
             [{document_wall:7.1}], ratio = {:.2} [{:.2}] (target >= 0.80)",
            document_rate / raw_rate,
            document_wall / raw_wall
        );
    }
    // Where a SOD's time goes beyond the signature: hashing DG1 and the 15 kB DG2.
    let hashing = SodBuilder::new()
        .add_data_group(&fixture.dg1)
        .and_then(|builder| builder.add_data_group(&fixture.dg2))
        .expect("data groups");
    let hash = || {
        black_box(hashing.lds_security_object().expect("LDSSecurityObject"));
    };
    let (raw_spent, hash_spent) = paired(ROUNDS, &raw_passport, &hash);
    let hash_then_sign = || {
        hash();
        raw_passport();
    };
    let (_, both_spent) = paired(ROUNDS, &raw_passport, &hash_then_sign);
    let micros = |spent: Spent| spent.cpu.as_secs_f64() * 1e6 / count as f64;
    eprintln!(
        "{:>18}: thread CPU per SOD: DG1 + DG2 hashing {:.0} us; hashing then a raw signature {:.0} us; \
         raw signature alone {:.0} us",
        "SOD components",
        micros(hash_spent),
        micros(both_spent),
        micros(raw_spent),
    );
    let verify_count = 2_000u64;
    for (name, work) in [
        ("raw P-256 verify", &raw_verify as &dyn Fn()),
        ("ETD seal verify", &verify_etd),
        ("legalization verify", &verify_legalization),
        ("passive auth.", &verify_sod),
    ] {
        let spent = timed(verify_count, &work);
        eprintln!(
            "{name:>20}: {:8.1}/s [{:8.1}]",
            per_second(verify_count, spent.cpu),
            per_second(verify_count, spent.wall)
        );
    }
}

criterion_group!(hsm_documents, benches);
criterion_main!(hsm_documents);
