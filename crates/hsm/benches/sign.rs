//! Signatures per second through travdoc's `HsmSigner` against raw `cryptoki` signing on the same
//! SoftHSM2 token in the same run, with 1 and 2 threads (ECDSA P-256 over a SHA-256 digest).
//! Summary: travdoc's overhead (session pool, recovery bookkeeping, cached key handle) should stay
//! within 10% of raw `C_Sign`. Raw and travdoc batches are interleaved so both see the same load.
//!
//! The bench re-executes itself with a private `SOFTHSM2_CONF` under `CARGO_TARGET_TMPDIR`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use secrecy::SecretString;
use sha2::Digest;
use travdoc_hsm::softhsm::{DEFAULT_MODULE, SoftHsmHome};
use travdoc_hsm::{Hsm, HsmSigner, KeyAlgorithm, KeyRef, PinSource};

const LABEL: &str = "bench";

struct Setup {
    signer: Arc<HsmSigner>,
    key: KeyRef,
    pkcs11: Pkcs11,
    pin: SecretString,
    digest: Vec<u8>,
}

fn setup() -> Setup {
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hsm-bench");
    let mut home = SoftHsmHome::new(&root);
    if !home.conf_active() {
        let _ = std::fs::remove_dir_all(&root);
        home.prepare().expect("prepare SoftHSM2 home");
        let error = travdoc_hsm::softhsm::reexec_with_conf(&home.conf_path());
        panic!("could not re-execute with a private SOFTHSM2_CONF: {error:?}");
    }
    home.prepare().expect("prepare SoftHSM2 home");
    let hsm =
        Hsm::open(home.hsm_config(DEFAULT_MODULE, LABEL).expect("config")).expect("open token");
    let key = hsm
        .generate_key_pair(KeyAlgorithm::EcP256, "bench-key")
        .expect("key");
    let signer = Arc::new(hsm.signer(&key).expect("signer"));
    let pkcs11 = Pkcs11::new(DEFAULT_MODULE).expect("module");
    match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(error) => panic!("initialize: {error}"),
    }
    let pin = PinSource::File(home.user_pin_path())
        .resolve()
        .expect("pin");
    Setup {
        signer,
        key,
        pkcs11,
        pin,
        digest: sha2::Sha256::digest(b"benchmark message").to_vec(),
    }
}

/// A raw cryptoki session on the same token, logged in, with the key handle.
fn raw_session(setup: &Setup) -> (Session, ObjectHandle) {
    let slot = setup
        .pkcs11
        .get_slots_with_token()
        .expect("slots")
        .into_iter()
        .find(|slot| {
            setup
                .pkcs11
                .get_token_info(*slot)
                .map(|info| info.label() == LABEL)
                .unwrap_or(false)
        })
        .expect("token");
    let session = setup.pkcs11.open_rw_session(slot).expect("session");
    match session.login(UserType::User, Some(&setup.pin)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(error) => panic!("login: {error}"),
    }
    let handle = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Id(setup.key.id.clone()),
        ])
        .expect("find")
        .into_iter()
        .next()
        .expect("key handle");
    (session, handle)
}

fn threaded(threads: u64, iterations: u64, work: &(impl Fn(u64) + Sync)) -> Duration {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let share = iterations / threads + u64::from(thread < iterations % threads);
            scope.spawn(move || work(share));
        }
    });
    start.elapsed()
}

/// Batch size of the interleaving below.
const CHUNK: u64 = 128;

/// Times `measured` over `iterations` signatures, running an equal untimed batch of `other`
/// before each timed batch, so both sides of the comparison see the same machine load (the
/// build machine is shared; without interleaving, load swings dominate a 10% comparison).
fn interleaved(
    threads: u64,
    iterations: u64,
    measured: &(impl Fn(u64) + Sync),
    other: &(impl Fn(u64) + Sync),
) -> Duration {
    let mut timed = Duration::ZERO;
    let mut remaining = iterations;
    while remaining > 0 {
        let batch = remaining.min(CHUNK);
        threaded(threads, batch, other);
        timed += threaded(threads, batch, measured);
        remaining -= batch;
    }
    timed
}

fn bench(c: &mut Criterion) {
    let setup = setup();
    let raw = |count: u64| {
        let (session, handle) = raw_session(&setup);
        for _ in 0..count {
            let signature = session
                .sign(&Mechanism::Ecdsa, handle, &setup.digest)
                .expect("sign");
            std::hint::black_box(signature);
        }
    };
    let travdoc = |count: u64| {
        for _ in 0..count {
            let signature = setup.signer.sign_digest_raw(&setup.digest).expect("sign");
            std::hint::black_box(signature);
        }
    };
    let mut group = c.benchmark_group("ecdsa_p256_sign");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    group.sample_size(30);
    for threads in [1u64, 2] {
        group.bench_function(format!("raw_cryptoki/{threads}_thread"), |b| {
            b.iter_custom(|iterations| interleaved(threads, iterations, &raw, &travdoc))
        });
        group.bench_function(format!("travdoc_signer/{threads}_thread"), |b| {
            b.iter_custom(|iterations| interleaved(threads, iterations, &travdoc, &raw))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
