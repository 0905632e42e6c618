//! `travdoc pki ...` end to end against the embedded SoftHSM2 default in a temporary data dir:
//! the binary creates its private token (re-executing itself with `SOFTHSM2_CONF`), `init` is
//! idempotent, and the exported artifacts verify with openssl.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;

/// Runs travdoc with named-curve certificates: these tests check the PKI with OpenSSL 3, which
/// refuses any chain whose keys carry explicit EC parameters (X509_V_ERR_EC_KEY_EXPLICIT_PARAMS),
/// the Part 12 default. The explicit default is checked in `crates/pki/tests/softhsm_pki.rs`
/// (encoding, OpenSSL signature checks over each TBSCertificate, travdoc's own chain checks).
fn travdoc(data_dir: &Path, args: &[&str]) -> String {
    travdoc_env(data_dir, args, &[])
}

/// [`travdoc`] with extra environment variables.
fn travdoc_env(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .envs(env.iter().copied())
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

    // The acts with the CSCA key are ceremonies of two administrators.
    let operators = crate::documents::ceremony_operators(&data);
    let env: Vec<(&str, &str)> = operators
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let refused = |env: &[(&str, &str)], expected: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_travdoc"))
            .arg("--data-dir")
            .arg(&data)
            .args(["pki", "issue-signer", "--kind", "ttd"])
            .envs(env.iter().copied())
            .env_remove("SOFTHSM2_CONF")
            .env_remove("TRAVDOC_CONFIG")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run travdoc");
        let text = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "one operator was enough: {text}");
        assert!(text.contains(expected), "{text}");
    };
    refused(&env[..1], "TRAVDOC_SECOND_OPERATOR_TOKEN");
    refused(
        &[env[0], ("TRAVDOC_SECOND_OPERATOR_TOKEN", env[0].1)],
        "two different operators",
    );
    refused(
        &[env[0], ("TRAVDOC_SECOND_OPERATOR_TOKEN", "tdk_not-a-token")],
        "not a valid token",
    );
    let issued = travdoc_env(&data, &["pki", "issue-signer", "--kind", "ttd"], &env);
    assert!(
        issued.contains("ceremony held by ceremony-a and ceremony-b"),
        "{issued}"
    );
    assert!(issued.contains("VDS signer identifier LKTD"), "{issued}");
    let serial = issued
        .split_whitespace()
        .skip_while(|word| *word != "serial")
        .nth(1)
        .expect("serial")
        .to_owned();
    let revoked = travdoc_env(
        &data,
        &["pki", "revoke", &serial, "--reason", "superseded"],
        &env,
    );
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
    let rollover = travdoc_env(&data, &["pki", "rollover"], &env);
    assert!(rollover.contains("generation 2"), "{rollover}");
    let export2 = dir.path().join("export2");
    travdoc(
        &data,
        &["pki", "export", "--pkd", export2.to_str().expect("utf8")],
    );
    assert!(export2.join("link-g2.der").exists());
    assert!(export2.join("masterlist.der").exists());
    pkd_files_round_trip(&export2);

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
    // The three ceremonies (issue-signer, revoke, rollover), each with both operators; the
    // refused attempts left nothing.
    assert_eq!(count("pki_ceremony"), 3, "{kinds:?}");
    let ceremonies: Vec<serde_json::Value> = exported
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|entry| entry["entry"]["event"].clone())
        .filter(|event| event["kind"] == "pki_ceremony")
        .collect();
    for ceremony in &ceremonies {
        assert!(
            ceremony["operator_ref"].is_string()
                && ceremony["second_operator_ref"].is_string()
                && ceremony["operator_ref"] != ceremony["second_operator_ref"],
            "{ceremony}"
        );
    }
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

/// Parses the PKD LDIF files with python-ldap's LDIF parser (RFC 2849) and checks that every
/// signer certificate, every CRL and the master list come back byte for byte as exported in DER.
fn pkd_files_round_trip(export: &Path) {
    let script = r#"
import base64, json, sys, ldif
for path in sys.argv[1:]:
    with open(path, "rb") as handle:
        parser = ldif.LDIFRecordList(handle)
        parser.parse()
    for dn, entry in parser.all_records:
        print(json.dumps({"file": path.rsplit("/", 1)[-1], "dn": dn,
            "attributes": {name: [base64.b64encode(value).decode() for value in values]
                           for name, values in entry.items()}}))
"#;
    let files = ["icaopkd-001-dsccrl-LKA.ldif", "icaopkd-002-ml-LKA.ldif"];
    let output = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .args(files.iter().map(|name| export.join(name)))
        .output()
        .expect("/usr/bin/python3 with python3-ldap (scripts/install-system-deps.sh)");
    assert!(
        output.status.success(),
        "LDIF parser: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let engine = base64::engine::general_purpose::STANDARD;
    let entries: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("json"))
        .collect();
    let values = |entry: &serde_json::Value, name: &str| -> Vec<Vec<u8>> {
        entry["attributes"][name]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .map(|value| engine.decode(value.as_str().expect("b64")).expect("b64"))
                    .collect()
            })
            .unwrap_or_default()
    };
    // Every signer certificate the export wrote (signer-<kind>-<serial>.der, the ICAO kinds).
    let mut signers = 0;
    for file in std::fs::read_dir(export).expect("export").flatten() {
        let name = file.file_name().to_string_lossy().into_owned();
        let Some(rest) = name
            .strip_prefix("signer-")
            .and_then(|rest| rest.strip_suffix(".der"))
        else {
            continue;
        };
        let Some((kind, serial)) = rest.rsplit_once('-') else {
            continue;
        };
        if !["passport", "ttd", "legalization"].contains(&kind) {
            continue;
        }
        let der = std::fs::read(file.path()).expect("der");
        let entry = entries
            .iter()
            .find(|entry| {
                entry["dn"]
                    .as_str()
                    .is_some_and(|dn| dn.contains(&format!("+sn={serial},o=dsc,c=LK,")))
            })
            .unwrap_or_else(|| panic!("no o=dsc entry for {name}"));
        assert!(
            entry["dn"]
                .as_str()
                .is_some_and(|dn| dn.ends_with(",dc=data,dc=download,dc=pkd,dc=icao,dc=int")),
            "{entry}"
        );
        assert_eq!(values(entry, "userCertificate;binary"), vec![der], "{name}");
        signers += 1;
    }
    assert!(signers >= 4, "{signers} signer certificates");
    let dsc_entries = entries
        .iter()
        .filter(|entry| {
            entry["dn"]
                .as_str()
                .is_some_and(|dn| dn.contains(",o=dsc,"))
        })
        .count();
    assert_eq!(
        dsc_entries, signers,
        "one o=dsc entry per signer certificate"
    );
    // The CRL of each CSCA generation.
    for generation in [1, 2] {
        let der = std::fs::read(export.join(format!("crl-g{generation}.der"))).expect("crl");
        assert!(
            entries
                .iter()
                .filter(|entry| entry["dn"].as_str().is_some_and(|dn| dn.contains(",o=crl,")))
                .any(|entry| values(entry, "certificateRevocationList;binary") == vec![der.clone()]),
            "CRL g{generation} not in the LDIF"
        );
    }
    // The master list.
    let list = std::fs::read(export.join("masterlist.der")).expect("master list");
    let ml = entries
        .iter()
        .find(|entry| entry["file"] == "icaopkd-002-ml-LKA.ldif")
        .expect("o=ml entry");
    assert!(
        ml["dn"]
            .as_str()
            .is_some_and(|dn| dn.contains(",o=ml,c=LK,"))
    );
    assert_eq!(values(ml, "pkdMasterListContent"), vec![list]);
}

/// The objects of `token` in the data dir's SoftHSM2 home, listed through PKCS#11
/// (`pkcs11-tool` of OpenSC).
fn token_objects(data: &Path, token: &str) -> String {
    let hsm = data.join("hsm");
    let pin = std::fs::read_to_string(hsm.join("user.pin")).expect("user pin");
    let module = "/usr/lib/softhsm/libsofthsm2.so";
    // The slot whose token label is exactly `token` (pkcs11-tool's --token-label also takes a
    // token whose label only starts with it).
    let slots = Command::new("pkcs11-tool")
        .args(["--module", module, "--list-token-slots"])
        .env("SOFTHSM2_CONF", hsm.join("softhsm2.conf"))
        .output()
        .expect("pkcs11-tool (opensc)");
    let listing = String::from_utf8_lossy(&slots.stdout).into_owned();
    let mut slot = None;
    let mut current = None;
    for line in listing.lines() {
        if let Some(rest) = line.strip_prefix("Slot ") {
            current = rest
                .split_once("(0x")
                .and_then(|(_, hex)| hex.split_once(')'))
                .map(|(hex, _)| hex.to_owned());
        } else if let Some((key, value)) = line.split_once(':')
            && key.trim() == "token label"
            && value.trim() == token
        {
            slot = current.clone();
        }
    }
    let slot = slot.unwrap_or_else(|| panic!("no token `{token}`: {listing}"));
    let slot = u64::from_str_radix(&slot, 16).expect("slot id").to_string();
    let output = Command::new("pkcs11-tool")
        .args(["--module", module, "--slot", &slot])
        .args(["--login", "--pin", pin.trim(), "--list-objects"])
        .env("SOFTHSM2_CONF", hsm.join("softhsm2.conf"))
        .output()
        .expect("pkcs11-tool (opensc)");
    assert!(
        output.status.success(),
        "pkcs11-tool on {token}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_csca_key_lives_on_its_own_token_and_serve_refuses_one_online() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("var");
    travdoc(&data, &["pki", "init", "--country", "LKA"]);
    let online = token_objects(&data, "travdoc");
    let offline = token_objects(&data, "travdoc-csca");
    assert!(online.contains("travdoc-ttd"), "{online}");
    assert!(
        !online.contains("travdoc-csca"),
        "a CSCA object on the online token: {online}"
    );
    assert!(offline.contains("travdoc-csca-1"), "{offline}");
    let status: serde_json::Value =
        serde_json::from_str(&travdoc(&data, &["pki", "status", "--json"])).expect("status");
    let csca = status["certificates"]
        .as_array()
        .and_then(|list| list.iter().find(|entry| entry["role"] == "csca-g1"))
        .expect("csca")
        .clone();
    assert_eq!(csca["token"], "travdoc-csca", "{csca}");

    // A PKI whose CSCA was made on the online token: serve refuses it unless allowed.
    let legacy = dir.path().join("legacy");
    let config = dir.path().join("online-csca.toml");
    std::fs::write(&config, "[pki]\ncsca_token = \"travdoc\"\n").expect("config");
    let with_config = |extra: &[&str]| {
        let mut args = vec!["--config", config.to_str().expect("utf8")];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let init: Vec<String> = with_config(&["pki", "init"]);
    travdoc(
        &legacy,
        &init.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(token_objects(&legacy, "travdoc").contains("travdoc-csca-1"));
    let refused = Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .arg("--data-dir")
        .arg(&legacy)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("SOFTHSM2_CONF")
        .env_remove("TRAVDOC_HSM_PIN")
        .env_remove("TRAVDOC_CONFIG")
        .env_remove("DATABASE_URL")
        .output()
        .expect("serve");
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "serve started: {text}");
    assert!(text.contains("holds CSCA private keys"), "{text}");
    assert!(text.contains("allow_online_csca"), "{text}");
}

/// `der` converted to PEM beside it (for openssl verify).
fn to_pem(der: &Path) -> std::path::PathBuf {
    let pem = der.with_extension("pem");
    openssl(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        der.to_str().expect("utf8"),
        "-out",
        pem.to_str().expect("utf8"),
    ]);
    pem
}

#[test]
fn a_signer_through_request_ceremony_and_import() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("var");
    travdoc(&data, &["pki", "init", "--country", "LKA"]);
    let operators = crate::documents::ceremony_operators(&data);
    let env: Vec<(&str, &str)> = operators
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let path = |name: &str| dir.path().join(name).to_str().expect("utf8").to_owned();

    // 1. The request: a new key on the online token, PKCS#10 that openssl verifies.
    travdoc(
        &data,
        &[
            "pki",
            "signer",
            "request",
            "--kind",
            "ttd",
            "--out",
            &path("req.der"),
        ],
    );
    let checked = openssl(&[
        "req",
        "-inform",
        "DER",
        "-in",
        &path("req.der"),
        "-verify",
        "-noout",
    ]);
    assert!(checked.contains("OK"), "{checked}");
    assert!(token_objects(&data, "travdoc").contains("travdoc-ttd-request-"));

    // 2. The ceremony: two operators; one alone is refused.
    let alone = Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "pki",
            "ceremony",
            "sign",
            &path("req.der"),
            "--out",
            &path("cert.der"),
        ])
        .envs(env[..1].iter().copied())
        .env_remove("SOFTHSM2_CONF")
        .env_remove("TRAVDOC_CONFIG")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run travdoc");
    assert!(!alone.status.success());
    assert!(!dir.path().join("cert.der").exists());
    let signed = travdoc_env(
        &data,
        &[
            "pki",
            "ceremony",
            "sign",
            &path("req.der"),
            "--out",
            &path("cert.der"),
        ],
        &env,
    );
    assert!(signed.contains("ceremony held by"), "{signed}");
    // The same request is signed once.
    let again = Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "pki",
            "ceremony",
            "sign",
            &path("req.der"),
            "--out",
            &path("cert2.der"),
        ])
        .envs(env.iter().copied())
        .env_remove("SOFTHSM2_CONF")
        .env_remove("TRAVDOC_CONFIG")
        .output()
        .expect("run travdoc");
    assert!(!again.status.success());

    // Not current until imported; then current, chained to the CSCA by openssl.
    let status = |data: &Path| -> serde_json::Value {
        serde_json::from_str(&travdoc(data, &["pki", "status", "--json"])).expect("status")
    };
    let certificate = std::fs::read(dir.path().join("cert.der")).expect("cert");
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&certificate));
    let current_ttd = |status: &serde_json::Value| {
        status["certificates"]
            .as_array()
            .and_then(|list| {
                list.iter()
                    .find(|entry| entry["role"] == "ttd" && entry["state"] == "current")
            })
            .map(|entry| entry["sha256"].as_str().unwrap_or_default().to_owned())
    };
    assert_ne!(
        current_ttd(&status(&data)).as_deref(),
        Some(sha256.as_str())
    );
    // A certificate that is not for the pending key (the CSCA's own) is refused, naming why;
    // nothing becomes current.
    let early = dir.path().join("early-export");
    travdoc(&data, &["pki", "export", early.to_str().expect("utf8")]);
    let wrong = Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "pki",
            "signer",
            "import",
            early.join("csca.der").to_str().expect("utf8"),
        ])
        .env_remove("SOFTHSM2_CONF")
        .env_remove("TRAVDOC_CONFIG")
        .output()
        .expect("run travdoc");
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("pending key"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert_ne!(
        current_ttd(&status(&data)).as_deref(),
        Some(sha256.as_str())
    );
    let imported = travdoc(&data, &["pki", "signer", "import", &path("cert.der")]);
    assert!(imported.contains("is current"), "{imported}");
    assert_eq!(
        current_ttd(&status(&data)).as_deref(),
        Some(sha256.as_str())
    );
    let export = dir.path().join("export");
    travdoc(&data, &["pki", "export", export.to_str().expect("utf8")]);
    let chained = openssl(&[
        "verify",
        "-x509_strict",
        "-CAfile",
        to_pem(&export.join("csca.der")).to_str().expect("utf8"),
        to_pem(&dir.path().join("cert.der")).to_str().expect("utf8"),
    ]);
    assert!(chained.contains("OK"), "{chained}");

    // A CRL from the ceremony, and its import (already in force: accepted as is).
    travdoc_env(
        &data,
        &["pki", "ceremony", "crl", "--out", &path("crl.der")],
        &env,
    );
    let crl_import = travdoc(&data, &["pki", "crl", "import", &path("crl.der")]);
    assert!(crl_import.contains("in force"), "{crl_import}");

    // Every step is ledgered: the requested key, the certificate, its activation, and the
    // two ceremonies with both operators.
    let exported = travdoc(&data, &["ledger", "export"]);
    let kinds: Vec<String> = exported
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|entry| {
            entry["entry"]["event"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    for kind in ["signer_activated", "pki_ceremony"] {
        assert!(kinds.iter().any(|found| found == kind), "{kind}: {kinds:?}");
    }
    assert_eq!(
        kinds.iter().filter(|kind| *kind == "pki_ceremony").count(),
        2
    );
    travdoc(&data, &["ledger", "verify"]);
}

#[test]
fn a_file_based_pki_is_imported_into_the_database_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("var");
    travdoc(&data, &["pki", "init", "--country", "LKA"]);
    let before: serde_json::Value =
        serde_json::from_str(&travdoc(&data, &["pki", "status", "--json"])).expect("status");
    // A data dir from before the database held the PKI: the files under pki/ and no database.
    for name in ["travdoc.db", "travdoc.db-wal", "travdoc.db-shm"] {
        let _ = std::fs::remove_file(data.join(name));
    }
    let after: serde_json::Value =
        serde_json::from_str(&travdoc(&data, &["pki", "status", "--json"])).expect("status");
    let serials = |status: &serde_json::Value| -> Vec<(String, String)> {
        status["certificates"]
            .as_array()
            .expect("certificates")
            .iter()
            .map(|entry| {
                (
                    entry["serial"].as_str().unwrap_or_default().to_owned(),
                    entry["sha256"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(serials(&after), serials(&before));
    // Ledgered once: a second command does not import again.
    travdoc(&data, &["pki", "status"]);
    let exported = travdoc(&data, &["ledger", "export"]);
    let imports = exported
        .lines()
        .filter(|line| line.contains("\"pki_state_imported\""))
        .count();
    assert_eq!(imports, 1, "{exported}");
}
