//! Integration tests against a real SoftHSM2 token in a temporary directory. Each test runs its
//! body in a child process with a private `SOFTHSM2_CONF`; a missing SoftHSM2 makes them fail.

use std::path::Path;
use std::sync::Arc;

use secrecy::SecretString;
use signature::{Keypair, Signer};
use spki::DynSignatureAlgorithmIdentifier;
use travdoc_hsm::softhsm::{DEFAULT_MODULE, SoftHsmHome, testing};
use travdoc_hsm::{Hsm, HsmConfig, HsmError, KeyAlgorithm, KeyRef, PinSource};

const LABEL: &str = "travdoc-test";

/// Runs `body` in a child process with its own token directory.
fn isolated(test_name: &str, body: impl FnOnce(SoftHsmHome)) {
    if let Some(home) = testing::child_home() {
        body(home);
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let output = testing::run_isolated(test_name, dir.path()).expect("spawn child");
    let text = testing::describe(&output);
    assert!(output.status.success(), "child test failed: {text}");
    assert!(
        text.contains("1 passed"),
        "child did not run the test: {text}"
    );
}

fn open(home: &SoftHsmHome) -> Hsm {
    home.require_active().expect("SOFTHSM2_CONF is private");
    Hsm::open(home.hsm_config(DEFAULT_MODULE, LABEL).expect("config")).expect("open token")
}

fn verify_p256(signer: &travdoc_hsm::HsmSigner, message: &[u8]) {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use spki::DecodePublicKey;
    let key = p256::ecdsa::VerifyingKey::from_public_key_der(&signer.public_key_spki_der())
        .expect("spki");
    let raw = signer.sign_message_raw(message).expect("sign");
    assert_eq!(raw.len(), 64);
    let signature = p256::ecdsa::Signature::from_slice(&raw).expect("r||s");
    let digest = sha2::Sha256::digest(message);
    key.verify_prehash(&digest, &signature)
        .expect("raw signature verifies");
    let der: p256::ecdsa::DerSignature = signer.try_sign(message).expect("der sign");
    signature::Verifier::verify(&key, message, &der).expect("DER signature verifies");
}

use sha2::Digest;

#[test]
fn every_algorithm_signs_and_verifies() {
    isolated("every_algorithm_signs_and_verifies", |home| {
        let hsm = open(&home);
        let message = b"travdoc signs this";

        let key = hsm
            .generate_key_pair(KeyAlgorithm::EcP256, "p256")
            .expect("p256 key");
        let signer = hsm.signer(&key).expect("signer");
        assert_eq!(signer.algorithm(), KeyAlgorithm::EcP256);
        assert_eq!(
            signer.signature_algorithm_identifier().expect("alg").oid,
            travdoc_hsm::ECDSA_WITH_SHA256
        );
        verify_p256(&signer, message);
        assert_eq!(
            signer.verifying_key().spki_der(),
            signer.public_key_spki_der().as_slice()
        );

        let key = hsm
            .generate_key_pair(KeyAlgorithm::EcP384, "p384")
            .expect("p384 key");
        let signer = hsm.signer(&key).expect("signer");
        let der: p384::ecdsa::DerSignature = signer.try_sign(message).expect("sign");
        let verifying = <p384::ecdsa::VerifyingKey as spki::DecodePublicKey>::from_public_key_der(
            &signer.public_key_spki_der(),
        )
        .expect("spki");
        signature::Verifier::verify(&verifying, message, &der).expect("p384 verifies");
        // A P-256 signature type from a P-384 key is refused, not mis-signed.
        let wrong: Result<p256::ecdsa::DerSignature, _> = signer.try_sign(message);
        assert!(wrong.is_err());

        for (algorithm, label) in [
            (KeyAlgorithm::EcBrainpoolP256r1, "bp256"),
            (KeyAlgorithm::EcBrainpoolP384r1, "bp384"),
        ] {
            let key = hsm
                .generate_key_pair(algorithm, label)
                .expect("brainpool key");
            let signer = hsm.signer(&key).expect("signer");
            let raw = signer.sign_message_raw(message).expect("sign");
            assert_eq!(raw.len(), algorithm.raw_signature_len());
            let spki = signer.public_key().spki().expect("spki");
            let point = spki.subject_public_key.raw_bytes();
            if algorithm == KeyAlgorithm::EcBrainpoolP256r1 {
                let key = ecdsa::VerifyingKey::<bp256::BrainpoolP256r1>::from_sec1_bytes(point)
                    .expect("point");
                let signature =
                    ecdsa::Signature::<bp256::BrainpoolP256r1>::from_slice(&raw).expect("sig");
                signature::hazmat::PrehashVerifier::verify_prehash(
                    &key,
                    &sha2::Sha256::digest(message),
                    &signature,
                )
                .expect("bp256 verifies");
            } else {
                let key = ecdsa::VerifyingKey::<bp384::BrainpoolP384r1>::from_sec1_bytes(point)
                    .expect("point");
                let signature =
                    ecdsa::Signature::<bp384::BrainpoolP384r1>::from_slice(&raw).expect("sig");
                signature::hazmat::PrehashVerifier::verify_prehash(
                    &key,
                    &sha2::Sha384::digest(message),
                    &signature,
                )
                .expect("bp384 verifies");
            }
        }

        let key = hsm
            .generate_key_pair(KeyAlgorithm::RsaPss3072, "rsa")
            .expect("rsa key");
        let signer = hsm.signer(&key).expect("signer");
        let signature: rsa::pss::Signature = signer.try_sign(message).expect("pss sign");
        let public = <rsa::PublicKey as spki::DecodePublicKey>::from_public_key_der(
            &signer.public_key_spki_der(),
        )
        .expect("rsa spki");
        let verifying = rsa::pss::VerifyingKey::<sha2::Sha256>::new(public);
        signature::Verifier::verify(&verifying, message, &signature).expect("pss verifies");

        let error = signer.sign_digest_raw(&[0u8; 5]).expect_err("short digest");
        assert!(
            matches!(
                error,
                HsmError::DigestLength {
                    expected: 32,
                    actual: 5,
                    ..
                }
            ),
            "{error}"
        );
    });
}

#[test]
fn wrong_pin_and_missing_token_are_clear_errors() {
    isolated("wrong_pin_and_missing_token_are_clear_errors", |home| {
        drop(open(&home)); // initialises the token
        let mut config = HsmConfig::new(
            DEFAULT_MODULE,
            LABEL,
            PinSource::Secret(SecretString::from("0000")),
        );
        let error = Hsm::open(config.clone()).expect_err("wrong PIN");
        assert!(matches!(error, HsmError::WrongPin { .. }), "{error}");
        config.token_label = "no-such-token".to_owned();
        config.pin = PinSource::File(home.user_pin_path());
        let error = Hsm::open(config.clone()).expect_err("missing token");
        assert!(
            matches!(error, HsmError::TokenNotFound { ref label } if label == "no-such-token"),
            "{error}"
        );
        assert!(error.is_unavailable());
        config.module = "/nonexistent/libpkcs11.so".into();
        let error = Hsm::open(config.clone()).expect_err("missing module");
        assert!(
            matches!(error, HsmError::ModuleNotLoadable { .. }),
            "{error}"
        );
        config.module = DEFAULT_MODULE.into();
        config.pin = PinSource::Env("TRAVDOC_TEST_UNSET_PIN_VARIABLE".to_owned());
        let error = Hsm::open(config).expect_err("unset PIN variable");
        assert!(matches!(error, HsmError::PinSource { .. }), "{error}");
    });
}

#[test]
fn deleted_key_is_key_not_found() {
    isolated("deleted_key_is_key_not_found", |home| {
        let hsm = open(&home);
        let key = hsm
            .generate_key_pair(KeyAlgorithm::EcP256, "doomed")
            .expect("key");
        let signer = hsm.signer(&key).expect("signer");
        signer
            .sign_message_raw(b"before")
            .expect("sign before deletion");
        hsm.destroy_key(&key).expect("destroy");
        let error = signer.sign_message_raw(b"after").expect_err("deleted key");
        assert!(
            matches!(error, HsmError::KeyNotFound { ref label, .. } if label == "doomed"),
            "{error}"
        );
        let error = hsm.signer(&key).expect_err("signer for deleted key");
        assert!(matches!(error, HsmError::KeyNotFound { .. }), "{error}");
        let unknown = KeyRef {
            label: "never".to_owned(),
            id: vec![1, 2, 3],
        };
        assert!(!hsm.key_exists(&unknown).expect("lookup"));
    });
}

#[test]
fn recovers_from_logout_and_token_removal_without_restart() {
    isolated(
        "recovers_from_logout_and_token_removal_without_restart",
        |home| {
            let hsm = open(&home);
            let key = hsm
                .generate_key_pair(KeyAlgorithm::EcP256, "survivor")
                .expect("key");
            let signer = hsm.signer(&key).expect("signer");
            verify_p256(&signer, b"first");
            assert!(signer.answered_within(std::time::Duration::from_secs(3600)));

            hsm.logout().expect("logout");
            verify_p256(&signer, b"after logout");

            let tokens = home.tokens_dir();
            let away = home.root().join("tokens.away");
            std::fs::rename(&tokens, &away).expect("move token away");
            let error = signer
                .sign_message_raw(b"while away")
                .expect_err("token is gone");
            eprintln!("while the token is away: {error}");
            assert!(error.is_unavailable(), "{error}");
            // A failure to reach the token withdraws the cheap liveness answer at once.
            assert!(!signer.answered_within(std::time::Duration::from_secs(3600)));
            std::fs::rename(&away, &tokens).expect("move token back");
            verify_p256(&signer, b"after return");
            assert!(signer.answered_within(std::time::Duration::from_secs(3600)));
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(!signer.answered_within(std::time::Duration::from_millis(10)));
        },
    );
}

#[test]
fn keys_are_found_again_after_a_restart() {
    // Two separate processes on the same token directory: the second finds the key by reference.
    let reference_file = |home: &SoftHsmHome| home.root().join("key.ref");
    if let Some(home) = testing::child_home() {
        let hsm = open(&home);
        let path = reference_file(&home);
        match std::fs::read_to_string(&path) {
            Err(_) => {
                let key = hsm
                    .generate_key_pair(KeyAlgorithm::EcP256, "persistent")
                    .expect("key");
                let signer = hsm.signer(&key).expect("signer");
                std::fs::write(
                    &path,
                    format!(
                        "{}\n{}",
                        key.id_hex(),
                        hex::encode(signer.public_key_spki_der())
                    ),
                )
                .expect("write ref");
            }
            Ok(text) => {
                let mut lines = text.lines();
                let id = hex::decode(lines.next().expect("id")).expect("hex");
                let spki = hex::decode(lines.next().expect("spki")).expect("hex");
                let signer = hsm
                    .signer(&KeyRef {
                        label: "persistent".to_owned(),
                        id,
                    })
                    .expect("found again");
                assert_eq!(signer.public_key_spki_der(), spki);
                verify_p256(&signer, b"after restart");
                std::fs::write(path.with_extension("ok"), "ok").expect("mark");
            }
        }
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for _ in 0..2 {
        let output = testing::run_isolated("keys_are_found_again_after_a_restart", dir.path())
            .expect("child");
        assert!(output.status.success(), "{}", testing::describe(&output));
    }
    assert!(
        Path::new(&dir.path().join("key.ok")).exists(),
        "second process did not find the key"
    );
}

#[test]
fn concurrent_signing_from_many_threads() {
    isolated("concurrent_signing_from_many_threads", |home| {
        let hsm = open(&home);
        let key = hsm
            .generate_key_pair(KeyAlgorithm::EcP256, "shared")
            .expect("key");
        let signer = Arc::new(hsm.signer(&key).expect("signer"));
        let threads: Vec<_> = (0..4)
            .map(|thread| {
                let signer = Arc::clone(&signer);
                std::thread::spawn(move || {
                    for index in 0..50 {
                        verify_p256(&signer, format!("{thread}/{index}").as_bytes());
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("thread");
        }
    });
}

#[test]
fn a_token_file_emptied_by_a_killed_login_is_restored_with_its_keys() {
    // SoftHSM2 truncates and rewrites `token.object` at every login; a process killed between
    // the two leaves it empty and the token unreadable. The safeguard keeps a copy of the good
    // file and writes it back before the next process loads the module.
    let reference_file = |home: &SoftHsmHome| home.root().join("key.ref");
    if let Some(home) = testing::child_home() {
        let hsm = open(&home);
        let path = reference_file(&home);
        match std::fs::read(&path) {
            Err(_) => {
                let key = hsm
                    .generate_key_pair(KeyAlgorithm::EcP256, "kept")
                    .expect("key");
                std::fs::write(&path, &key.id).expect("write ref");
            }
            Ok(id) => {
                let signer = hsm
                    .signer(&KeyRef {
                        label: "kept".to_owned(),
                        id,
                    })
                    .expect("the key is found on the restored token");
                verify_p256(&signer, b"after a restore");
            }
        }
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let run = || {
        let output = testing::run_isolated(
            "a_token_file_emptied_by_a_killed_login_is_restored_with_its_keys",
            dir.path(),
        )
        .expect("child");
        assert!(output.status.success(), "{}", testing::describe(&output));
    };
    run();
    let home = SoftHsmHome::new(dir.path());
    let kept = home.safeguard_tokens().expect("safeguard");
    assert_eq!(kept.len(), 1, "{kept:?}");
    let travdoc_hsm::softhsm::TokenFile::Kept(object) = &kept[0] else {
        panic!("a good token file is kept: {kept:?}");
    };
    let good = std::fs::read(object).expect("token.object");
    for damage in [0, good.len() / 2, good.len() - 1] {
        std::fs::write(object, &good[..damage]).expect("damage");
        let done = home.safeguard_tokens().expect("safeguard restores");
        assert_eq!(
            done,
            vec![travdoc_hsm::softhsm::TokenFile::Restored(object.clone())],
            "cut at {damage} bytes"
        );
        run();
    }
    // Without a saved copy, a damaged token is an error (never silently a new, empty token).
    std::fs::remove_file(object.with_file_name("token.object.saved")).expect("remove copy");
    std::fs::write(object, b"").expect("empty");
    let refused = home.safeguard_tokens().expect_err("no copy, no repair");
    assert!(refused.to_string().contains("damaged"), "{refused}");
}
