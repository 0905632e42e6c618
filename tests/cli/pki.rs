//! `travdoc pki ...` end to end against the embedded SoftHSM2 default in a temporary data dir:
//! the binary creates its private token (re-executing itself with `SOFTHSM2_CONF`), `init` is
//! idempotent, and the exported artifacts verify with openssl.

use std::path::Path;
use std::process::Command;

/// Runs travdoc with named-curve certificates: these tests check the PKI with OpenSSL 3, which
/// refuses any chain whose keys carry explicit EC parameters (X509_V_ERR_EC_KEY_EXPLICIT_PARAMS),
/// the Part 12 default. The explicit default is checked in `crates/pki/tests/softhsm_pki.rs`
/// (encoding, OpenSSL signature checks over each TBSCertificate, travdoc's own chain checks).
fn travdoc(data_dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("TRAVDOC_PKI_EC_PARAMETERS", "named")
        .env_remove("SOFTHSM2_CONF")
        .env_remove("TRAVDOC_HSM_PIN")
        .env_remove("TRAVDOC_CONFIG")
        .env_remove("TRAVDOC_HSM_MODULE")
        .output()
        .expect("run travdoc");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "travdoc {args:?} failed: {text}");
    text
}

fn openssl(args: &[&str]) -> String {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl must be installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "openssl {args:?}: {text}");
    text
}

#[test]
fn pki_commands_create_an_idempotent_verifiable_pki() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("var");
    let first = travdoc(&data, &["pki", "init", "--country", "LKA"]);
    assert!(first.contains("created csca"), "{first}");
    assert!(first.contains("TEST PKI"), "{first}");
    let state = std::fs::read(data.join("pki/state.json")).expect("state");
    let pin = std::fs::metadata(data.join("hsm/user.pin")).expect("user.pin");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(pin.permissions().mode() & 0o777, 0o600);

    let second = travdoc(&data, &["pki", "init", "--country", "LKA"]);
    assert!(second.contains("nothing changed"), "{second}");
    assert_eq!(
        std::fs::read(data.join("pki/state.json")).expect("state"),
        state
    );
    let fingerprints = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|line| line.trim_start().starts_with("csca"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(fingerprints(&first).last(), fingerprints(&second).last());

    let status = travdoc(&data, &["pki", "status"]);
    assert!(
        status.contains("passport") && status.contains("current"),
        "{status}"
    );

    let export = dir.path().join("export");
    travdoc(&data, &["pki", "export", export.to_str().expect("utf8")]);
    let csca = export.join("csca.pem");
    openssl(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        export.join("csca.der").to_str().expect("utf8"),
        "-out",
        csca.to_str().expect("utf8"),
    ]);
    for kind in ["passport", "ttd", "legalization", "master-list", "ledger"] {
        let pem = export.join(format!("signer-{kind}.pem"));
        let der = export.join(format!("signer-{kind}.der"));
        openssl(&[
            "x509",
            "-inform",
            "DER",
            "-in",
            der.to_str().expect("utf8"),
            "-out",
            pem.to_str().expect("utf8"),
        ]);
        let verified = openssl(&[
            "verify",
            "-x509_strict",
            "-CAfile",
            csca.to_str().expect("utf8"),
            pem.to_str().expect("utf8"),
        ]);
        assert!(verified.contains(": OK"), "{verified}");
    }
    let crl = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        export.join("crl.der").to_str().expect("utf8"),
        "-CAfile",
        csca.to_str().expect("utf8"),
        "-verify",
        "-noout",
    ]);
    assert!(crl.contains("verify OK"), "{crl}");

    let issued = travdoc(&data, &["pki", "issue-signer", "--kind", "ttd"]);
    assert!(issued.contains("VDS signer identifier LKTD"), "{issued}");
    let serial = issued
        .split_whitespace()
        .skip_while(|word| *word != "serial")
        .nth(1)
        .expect("serial")
        .to_owned();
    let revoked = travdoc(&data, &["pki", "revoke", &serial, "--reason", "superseded"]);
    assert!(revoked.contains("revoked"), "{revoked}");
    // `pki status --json`: one object per certificate and key, one per CRL.
    let status: serde_json::Value =
        serde_json::from_str(&travdoc(&data, &["pki", "status", "--json"])).expect("status json");
    let certificates = status["certificates"].as_array().expect("certificates");
    let revoked_entry = certificates
        .iter()
        .find(|entry| entry["serial"] == serial.as_str())
        .expect("the revoked signer");
    assert_eq!(revoked_entry["state"], "revoked", "{revoked_entry}");
    assert_eq!(revoked_entry["revoked"]["reason"], "superseded");
    assert_eq!(revoked_entry["role"], "ttd");
    assert!(revoked_entry["token"].is_string() && revoked_entry["key_usage_end"].is_string());
    for role in [
        "csca-g1",
        "passport",
        "ttd",
        "legalization",
        "master-list",
        "ledger",
    ] {
        assert!(
            certificates
                .iter()
                .any(|entry| entry["role"] == role && entry["state"] == "current"),
            "no current {role}: {status}"
        );
    }
    let crls = status["crls"].as_array().expect("crls");
    assert!(
        crls.iter()
            .all(|crl| crl["number"].is_u64() && crl["next_update"].is_string()),
        "{status}"
    );
    let rollover = travdoc(&data, &["pki", "rollover"]);
    assert!(rollover.contains("generation 2"), "{rollover}");
    let export2 = dir.path().join("export2");
    travdoc(&data, &["pki", "export", export2.to_str().expect("utf8")]);
    assert!(export2.join("link-g2.der").exists());
    assert!(export2.join("masterlist.der").exists());

    // Every PKI act is in the audit ledger, once, and the ledger verifies.
    let exported = travdoc(&data, &["ledger", "export"]);
    let kinds: Vec<(String, String)> = exported
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|entry| {
            let event = &entry["entry"]["event"];
            (
                event["kind"].as_str().unwrap_or_default().to_owned(),
                event["serial"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let count = |kind: &str| kinds.iter().filter(|(k, _)| k == kind).count();
    // Two CSCAs and six signers at init, one more signer, a second CSCA with its own signers
    // after rollover: at least nine keys, all distinct entries.
    assert!(count("pki_key_generated") >= 9, "{kinds:?}");
    assert!(
        count("certificate_issued") >= count("pki_key_generated"),
        "{kinds:?}"
    );
    assert_eq!(count("csca_rollover"), 1, "{kinds:?}");
    assert!(count("crl_issued") >= 3, "{kinds:?}");
    assert!(count("master_list_issued") >= 2, "{kinds:?}");
    assert!(
        kinds
            .iter()
            .any(|(kind, revoked)| kind == "certificate_revoked" && *revoked == serial),
        "{kinds:?}"
    );
    let checkpoint = travdoc(&data, &["ledger", "checkpoint"]);
    assert!(
        checkpoint.starts_with("travdoc.invalid/lka/ledger\n"),
        "{checkpoint}"
    );
    let verified = travdoc(&data, &["ledger", "verify"]);
    assert!(verified.contains("ledger OK"), "{verified}");
    // A second init records nothing new.
    let before = travdoc(&data, &["ledger", "export"]).lines().count();
    travdoc(&data, &["pki", "init"]);
    assert_eq!(
        travdoc(&data, &["ledger", "export"]).lines().count(),
        before
    );
}
