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
