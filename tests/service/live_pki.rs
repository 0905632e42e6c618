//! The country PKI live (issue 17): a revocation made while `travdoc serve` runs is in force
//! within 5 seconds, without a restart, for verification (API, page, CLI) and issuance; the next
//! issuance uses a new valid signer or answers `no_valid_signer` with no number allocated; and on
//! PostgreSQL two nodes with their own data dirs, sharing one database and one token store
//! (standing in for a network HSM), both refuse the revoked key.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::common::{self, Server, Staff, TestResult};
use crate::e2e_postgres::Cluster;
use crate::verify_callers::{Case, Input, b64, by_cli, by_page, issue_passport};

type BoxError = Box<dyn std::error::Error>;

/// What the issue asks: every node honours a PKI change within this.
const IN_FORCE_WITHIN: Duration = Duration::from_secs(5);

/// Two new administrators of `data_dir`'s database (`travdoc user add`), as the environment of
/// a PKI ceremony: `TRAVDOC_OPERATOR_TOKEN`, `TRAVDOC_SECOND_OPERATOR_TOKEN`.
pub(crate) fn ceremony_env(
    data_dir: &Path,
    env: &[(&str, &str)],
) -> Result<Vec<(String, String)>, BoxError> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    let run = |args: &[&str], operator: Option<&str>| -> Result<String, BoxError> {
        let mut env = env.clone();
        if let Some(token) = operator {
            env.push(("TRAVDOC_OPERATOR_TOKEN".to_owned(), token.to_owned()));
        }
        let output = crate::common::cli(data_dir, &env, args)?;
        if !output.status.success() {
            return Err(format!("{args:?}: {}", String::from_utf8_lossy(&output.stderr)).into());
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    // The first admin (made by `serve`'s first start, or here on a data dir without one)
    // confirms each operator's grant, which the host operator asked for.
    let admin = match run(&["user", "token", "admin"], None) {
        Ok(token) => token,
        Err(_) => {
            run(&["user", "add", "admin", "--role", "admin"], None)?;
            run(&["user", "token", "admin"], None)?
        }
    };
    let mut out = Vec::new();
    for variable in ["TRAVDOC_OPERATOR_TOKEN", "TRAVDOC_SECOND_OPERATOR_TOKEN"] {
        let name = format!(
            "ceremony-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        run(&["user", "add", &name, "--role", "admin"], None)?;
        run(&["user", "confirm", &name], Some(&admin))?;
        out.push((variable.to_owned(), run(&["user", "token", &name], None)?));
    }
    Ok(out)
}

/// `travdoc pki ...` on `data_dir` (with extra environment), as operators run it while the
/// service is up: two new administrators hold each ceremony.
fn pki(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Result<String, BoxError> {
    let operators = ceremony_env(data_dir, env)?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_travdoc"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .arg("pki")
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SOFTHSM2_CONF")
        .env("RUST_LOG", "warn")
        .envs(operators);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output()?;
    if !output.status.success() {
        return Err(format!(
            "pki {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

async fn verify(server: &Server, body: &Value) -> Result<Value, BoxError> {
    let answer = server.call("POST", "/v1/verify", None, Some(body)).await?;
    if answer.status != 200 {
        return Err(format!("verify: {} {}", answer.status, answer.body).into());
    }
    Ok(answer.body)
}

fn codes(answer: &Value) -> Vec<String> {
    answer["reasons"]
        .as_array()
        .map(|reasons| {
            reasons
                .iter()
                .filter_map(|code| code.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Asks `server` until the answer to `body` is INVALID; fails when it is not within
/// [`IN_FORCE_WITHIN`] of `since`.
async fn until_invalid(server: &Server, body: &Value, since: Instant) -> Result<Value, BoxError> {
    loop {
        let answer = verify(server, body).await?;
        if answer["status"] == "INVALID" {
            return Ok(answer);
        }
        if since.elapsed() > IN_FORCE_WITHIN {
            return Err(format!(
                "still {} {:?} {:?} after the revocation",
                answer["status"],
                codes(&answer),
                since.elapsed()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The signer serial (upper-case hex) of a seal, as verification names it.
async fn seal_signer(server: &Server, seal: &str) -> Result<String, BoxError> {
    let answer = verify(server, &json!({ "seal": seal })).await?;
    Ok(answer["data"]["signer_certificate"]["serial_number"]
        .as_str()
        .ok_or(format!("no signer in {answer}"))?
        .to_owned())
}

/// The Document Signer serial (upper-case hex) of an EF.SOD.
fn sod_signer(sod: &[u8]) -> Result<String, BoxError> {
    let sod = travdoc_lds::Sod::from_bytes(sod)?;
    Ok(hex::encode_upper(
        sod.document_signer()?
            .tbs_certificate()
            .serial_number()
            .as_bytes(),
    ))
}

/// Issues approved request `id` (TTD) and returns the HTTP status and body.
async fn issue(server: &Server, staff: &Staff, id: &str) -> Result<(u16, Value), BoxError> {
    let answer = server
        .call(
            "POST",
            &format!("/v1/ttds/{id}/issue"),
            Some(&staff.mission),
            None,
        )
        .await?;
    Ok((answer.status, answer.body))
}

/// The sequence number of a TTD number (`T0000042` -> 42).
fn sequence(number: &str) -> Result<u64, BoxError> {
    Ok(number
        .trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .parse()?)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_is_in_force_at_once_for_verification_and_issuance() -> TestResult {
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let data_dir = server.data_dir.clone();
    let work = tempfile::tempdir()?;

    // Before: a TTD and a passport, both VALID.
    let issued = common::issue_ttd(&server, &staff).await?;
    let seal_b64 = issued["seal"].as_str().ok_or("seal")?.to_owned();
    let seal = base64::engine::general_purpose::STANDARD.decode(&seal_b64)?;
    let first_number = issued["document_number"]
        .as_str()
        .ok_or("number")?
        .to_owned();
    common::verify_issued_seal(&server, &issued).await?;
    let [sod, dg1, dg2] = issue_passport(&server, &staff).await?;
    let sod_body = json!({"sod": b64(&sod), "data_groups": {"1": b64(&dg1), "2": b64(&dg2)}});
    assert_eq!(verify(&server, &sod_body).await?["status"], "VALID");
    let ttd_signer = seal_signer(&server, &seal_b64).await?;
    let document_signer = sod_signer(&sod)?;
    // A request approved before the revocation, to issue after it.
    let waiting = common::approved_ttd(&server, &staff).await?;

    // Key compromise of both signers, through the CLI while the service runs.
    for serial in [&ttd_signer, &document_signer] {
        pki(
            &data_dir,
            &[],
            &["revoke", serial, "--reason", "key-compromise"],
        )?;
    }
    let revoked_at = Instant::now();

    // The API answers INVALID within 5 s, naming the revocation.
    let answer = until_invalid(&server, &json!({ "seal": seal_b64 }), revoked_at).await?;
    assert!(
        codes(&answer).contains(&"REVOKED_CERTIFICATE".to_owned()),
        "{answer}"
    );
    assert_eq!(answer["document_status"], "not_checked", "{answer}");
    let revocation = &answer["data"]["revocation"];
    assert_eq!(revocation["reason"], "key-compromise", "{answer}");
    assert_eq!(
        revocation["serial_number"],
        ttd_signer.trim_start_matches('0')
    );
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(
        revocation["date"],
        format!(
            "{:04}-{:02}-{:02}",
            today.year(),
            u8::from(today.month()),
            today.day()
        )
    );
    let answer = until_invalid(&server, &sod_body, revoked_at).await?;
    assert!(
        codes(&answer).contains(&"REVOKED_CERTIFICATE".to_owned()),
        "{answer}"
    );
    assert_eq!(answer["data"]["revocation"]["reason"], "key-compromise");

    // The page and the CLI (on the data dir) agree.
    let cases = [
        Case {
            name: "revoked-seal",
            kind: Input::Seal(seal.clone()),
            document: None,
            printed_mrz: None,
            expect_status: "INVALID",
            expect_codes: &["REVOKED_CERTIFICATE"],
        },
        Case {
            name: "revoked-sod",
            kind: Input::Sod {
                sod: sod.clone(),
                dgs: vec![dg1.clone(), dg2.clone()],
            },
            document: None,
            printed_mrz: None,
            expect_status: "INVALID",
            expect_codes: &["REVOKED_CERTIFICATE"],
        },
    ];
    for case in &cases {
        for verdict in [
            by_page(&server, case).await?,
            by_cli(&data_dir, work.path(), case)?,
        ] {
            assert_eq!(verdict.status, "INVALID", "{}", case.name);
            assert!(
                verdict.codes.contains("REVOKED_CERTIFICATE"),
                "{}: {verdict:?}",
                case.name
            );
        }
    }

    // The next TTD is not signed with the revoked key: no valid signer, 503, nothing numbered.
    let (status, body) = issue(&server, &staff, &waiting).await?;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "no_valid_signer", "{body}");
    let application = server
        .call(
            "POST",
            "/v1/passport-applications",
            Some(&staff.issuer),
            Some(&json!({
                "surname": "Silva", "given_names": "Ama", "nationality": "LKA",
                "birth_date": "1990-02-01", "sex": "F", "nic": "199053201234",
                "photo": b64(&crate::e2e_passport::portrait_jpeg()?)})),
        )
        .await?;
    let application_id = application.body["id"].as_str().ok_or("id")?.to_owned();
    server
        .call(
            "POST",
            &format!("/v1/passport-applications/{application_id}/approve"),
            Some(&staff.approver),
            None,
        )
        .await?;
    let refused = server
        .call(
            "POST",
            &format!("/v1/passport-applications/{application_id}/issue"),
            Some(&staff.issuer),
            None,
        )
        .await?;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.code(), "no_valid_signer");

    // A new TTD signer, and the waiting request issues with it, with the next number: the
    // refusals burned none.
    pki(&data_dir, &[], &["issue-signer", "--kind", "ttd"])?;
    let issued_at = Instant::now();
    let next = loop {
        let (status, body) = issue(&server, &staff, &waiting).await?;
        if status == 200 {
            break body;
        }
        assert_eq!(body["error"]["code"], "no_valid_signer", "{body}");
        if issued_at.elapsed() > IN_FORCE_WITHIN {
            return Err("the new signer was not in force within 5 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let number = next["document_number"].as_str().ok_or("number")?;
    assert_eq!(sequence(number)?, sequence(&first_number)? + 1, "{next}");
    let new_seal = next["seal"].as_str().ok_or("seal")?;
    assert_eq!(
        verify(&server, &json!({ "seal": new_seal })).await?["status"],
        "VALID"
    );
    assert_ne!(seal_signer(&server, new_seal).await?, ttd_signer);
    // The old seal stays INVALID.
    assert_eq!(
        verify(&server, &json!({ "seal": seal_b64 })).await?["status"],
        "INVALID"
    );
    Ok(())
}

/// Starts a node on `data_dir` over `url`, using `token_dir`'s SoftHSM2 token store (another
/// node's) as its network HSM when given.
fn node(data_dir: &Path, url: &str, token_of: Option<&Path>) -> Result<Server, BoxError> {
    let Some(first) = token_of else {
        return Server::start_in(data_dir, &[("DATABASE_URL", url)], None);
    };
    let hsm = first.join("hsm");
    let pin = std::fs::read_to_string(hsm.join("user.pin"))?;
    let conf = hsm.join("softhsm2.conf").display().to_string();
    // The admin account is in the shared database (the harness mints a token of it).
    std::fs::create_dir_all(data_dir)?;
    Server::start_in(
        data_dir,
        &[
            ("DATABASE_URL", url),
            ("SOFTHSM2_CONF", &conf),
            ("TRAVDOC_HSM_PIN", pin.trim()),
        ],
        None,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_on_postgresql_both_refuse_a_revoked_key() -> TestResult {
    let cluster = Cluster::start()?;
    let dirs = tempfile::tempdir()?;
    let (dir_a, dir_b) = (dirs.path().join("a"), dirs.path().join("b"));
    let node_a = node(&dir_a, &cluster.url, None)?;
    let node_b = node(&dir_b, &cluster.url, Some(&dir_a))?;
    let staff = Staff::create(&node_a).await?;

    let issued = common::issue_ttd(&node_a, &staff).await?;
    let seal = issued["seal"].as_str().ok_or("seal")?.to_owned();
    for node in [&node_a, &node_b] {
        assert_eq!(
            verify(node, &json!({ "seal": seal })).await?["status"],
            "VALID"
        );
    }
    let signer = seal_signer(&node_b, &seal).await?;
    let waiting = [
        common::approved_ttd(&node_a, &staff).await?,
        common::approved_ttd(&node_a, &staff).await?,
    ];

    // Revoked through node A's data dir; node B has its own and learns it from the database.
    pki(
        &dir_a,
        &[("DATABASE_URL", &cluster.url)],
        &["revoke", &signer, "--reason", "key-compromise"],
    )?;
    let revoked_at = Instant::now();
    for node in [&node_a, &node_b] {
        let answer = until_invalid(node, &json!({ "seal": seal }), revoked_at).await?;
        assert!(
            codes(&answer).contains(&"REVOKED_CERTIFICATE".to_owned()),
            "{answer}"
        );
    }
    for (node, id) in [&node_a, &node_b].into_iter().zip(&waiting) {
        let (status, body) = issue(node, &staff, id).await?;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"]["code"], "no_valid_signer", "{body}");
    }
    Ok(())
}

/// The ledger's entries of `kind` naming `serial`, from `travdoc ledger export`.
fn ledgered(data_dir: &Path, kind: &str, serial: &str) -> Result<usize, BoxError> {
    let output = Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["ledger", "export"])
        .env_remove("DATABASE_URL")
        .env_remove("SOFTHSM2_CONF")
        .env("RUST_LOG", "warn")
        .output()?;
    if !output.status.success() {
        return Err(format!("ledger export: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let text = String::from_utf8(output.stdout)?;
    let wanted = serial.trim_start_matches('0');
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| {
            let event = &line["entry"]["event"];
            event["kind"] == kind
                && event["serial"]
                    .as_str()
                    .is_some_and(|found| found.trim_start_matches('0') == wanted)
        })
        .count())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_killed_midway_is_whole_or_absent() -> TestResult {
    let mut server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let data_dir = server.data_dir.clone();
    let issued = common::issue_ttd(&server, &staff).await?;
    let seal = issued["seal"].as_str().ok_or("seal")?.to_owned();
    let signer = seal_signer(&server, &seal).await?;
    server.kill9();

    // `pki revoke` killed (SIGKILL) after a delay growing in small steps, until one run
    // completes: the kills land all along its work (start-up, HSM, the transaction, after it).
    let mut delay = Duration::from_millis(2);
    let mut revoked = false;
    let operators = ceremony_env(&data_dir, &[])?;
    while !revoked {
        let mut child = Command::new(env!("CARGO_BIN_EXE_travdoc"))
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["pki", "revoke", &signer, "--reason", "key-compromise"])
            .envs(operators.clone())
            .env_remove("DATABASE_URL")
            .env_remove("SOFTHSM2_CONF")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        std::thread::sleep(delay);
        let _ = child.kill();
        let finished = child.wait_with_output()?;
        let status = finished.status;
        if status.code().is_some_and(|code| code != 0) {
            eprintln!("pki revoke: {}", String::from_utf8_lossy(&finished.stderr));
        }
        // Whole or absent: the ledger holds the revocation exactly when verification refuses
        // the seal, and the ledger verifies.
        let entries = ledgered(&data_dir, "certificate_revoked", &signer)?;
        let server = Server::start_in(&data_dir, &[], None)?;
        let answer = verify(&server, &json!({ "seal": seal })).await?;
        drop(server);
        eprintln!(
            "kill after {delay:?}: exit {status}, verdict {}, {entries} revocation entries",
            answer["status"]
        );
        match answer["status"].as_str() {
            Some("INVALID") => {
                assert!(
                    codes(&answer).contains(&"REVOKED_CERTIFICATE".to_owned()),
                    "{answer}"
                );
                assert_eq!(
                    entries, 1,
                    "revoked without its ledger entry (after {delay:?})"
                );
                revoked = true;
            }
            Some("VALID") => {
                assert_eq!(entries, 0, "ledgered but not revoked (after {delay:?})");
                assert!(
                    !status.success(),
                    "the command succeeded yet nothing is revoked"
                );
            }
            other => return Err(format!("unexpected verdict {other:?}: {answer}").into()),
        }
        let check = Command::new(env!("CARGO_BIN_EXE_travdoc"))
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["ledger", "verify"])
            .env_remove("DATABASE_URL")
            .env_remove("SOFTHSM2_CONF")
            .env("RUST_LOG", "warn")
            .output()?;
        assert!(
            check.status.success(),
            "ledger verify after a kill at {delay:?}: {}",
            String::from_utf8_lossy(&check.stdout)
        );
        delay += delay / 4 + Duration::from_millis(1);
        if delay > Duration::from_secs(60) {
            return Err("the revocation never completed".into());
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn publication_lists_every_certificate_and_crl_with_entity_tags() -> TestResult {
    let server = Server::start()?;
    let data_dir = server.data_dir.clone();
    let listed = |answer: &common::Answer| -> Result<Vec<Value>, BoxError> {
        Ok(serde_json::from_slice::<Vec<Value>>(&answer.bytes)?)
    };
    let first = server
        .call("GET", "/v1/pki/certificates", None, None)
        .await?;
    assert_eq!(first.status, 200, "{}", first.body);
    let etag = first
        .headers
        .get("etag")
        .and_then(|value| value.to_str().ok())
        .ok_or("no ETag")?
        .to_owned();
    let list = listed(&first)?;
    for role in [
        "csca-g1",
        "passport",
        "ttd",
        "legalization",
        "master-list",
        "ledger",
    ] {
        assert!(
            list.iter()
                .any(|entry| entry["role"] == role && entry["state"] == "current"),
            "no current {role}: {list:?}"
        );
    }
    let old_ttd = list
        .iter()
        .find(|entry| entry["role"] == "ttd")
        .and_then(|entry| entry["serial"].as_str())
        .ok_or("ttd")?
        .to_owned();

    // Unchanged: 304 with the same tag, no body.
    let again = server
        .call_with(
            "GET",
            "/v1/pki/certificates",
            None,
            None,
            &[("if-none-match", &etag)],
        )
        .await?;
    assert_eq!(again.status, 304);
    assert!(again.bytes.is_empty());

    // Rotation and revocation: the list follows within 5 s, and the old tag no longer matches.
    pki(&data_dir, &[], &["issue-signer", "--kind", "ttd"])?;
    pki(
        &data_dir,
        &[],
        &["revoke", &old_ttd, "--reason", "superseded"],
    )?;
    let changed_at = Instant::now();
    let list = loop {
        let answer = server
            .call_with(
                "GET",
                "/v1/pki/certificates",
                None,
                None,
                &[("if-none-match", &etag)],
            )
            .await?;
        if answer.status == 200 {
            let list = listed(&answer)?;
            if list.iter().any(|entry| entry["state"] == "revoked") {
                break list;
            }
        }
        if changed_at.elapsed() > IN_FORCE_WITHIN {
            return Err("the publication did not follow the PKI within 5 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let revoked = list
        .iter()
        .find(|entry| entry["serial"] == old_ttd.as_str())
        .ok_or("old ttd signer")?;
    assert_eq!(revoked["state"], "revoked", "{revoked}");
    assert_eq!(revoked["revocation"]["reason"], "superseded");
    let ttds: Vec<&Value> = list.iter().filter(|entry| entry["role"] == "ttd").collect();
    assert_eq!(ttds.len(), 2);
    assert!(ttds.iter().any(|entry| entry["state"] == "current"));

    // Each certificate by serial, DER, immutable; with the leading zeros or without.
    for entry in &list {
        let serial = entry["serial"].as_str().ok_or("serial")?;
        let answer = server
            .call("GET", &format!("/v1/pki/certificates/{serial}"), None, None)
            .await?;
        assert_eq!(answer.status, 200, "{serial}");
        let certificate = <x509_cert::Certificate as der::Decode>::from_der(&answer.bytes)?;
        assert_eq!(
            hex::encode_upper(certificate.tbs_certificate().serial_number().as_bytes())
                .trim_start_matches('0'),
            serial.trim_start_matches('0')
        );
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&answer.bytes));
        assert_eq!(entry["sha256"], sha256.as_str());
    }
    // Every CRL by number, the current one among them.
    let current = server.call("GET", "/v1/pki/crl", None, None).await?;
    assert_eq!(current.status, 200);
    let mut numbers = 0;
    for number in 1..=16 {
        let answer = server
            .call("GET", &format!("/v1/pki/crls/{number}"), None, None)
            .await?;
        match answer.status {
            200 => {
                <x509_cert::crl::CertificateList as der::Decode>::from_der(&answer.bytes)?;
                numbers += 1;
                if answer.bytes == current.bytes {
                    numbers += 100;
                }
            }
            404 => {}
            other => return Err(format!("CRL {number}: {other}").into()),
        }
    }
    assert!(
        numbers > 100 + 1,
        "the first CRL and the current one: {numbers}"
    );
    // The master list: signed by our master-list signer under the CSCA a foreign authority
    // takes from the list above; a changed byte fails that check.
    let masterlist = server.call("GET", "/v1/pki/masterlist", None, None).await?;
    assert_eq!(masterlist.status, 200);
    assert!(
        masterlist.headers.get("etag").is_some(),
        "no ETag on the master list"
    );
    let csca_serial = list
        .iter()
        .find(|entry| entry["role"] == "csca-g1")
        .and_then(|entry| entry["serial"].as_str())
        .ok_or("csca")?;
    let csca = server
        .call(
            "GET",
            &format!("/v1/pki/certificates/{csca_serial}"),
            None,
            None,
        )
        .await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut trust = travdoc_pkix::TrustStore::new();
    trust.add_csca_der(&csca.bytes)?;
    trust.add_verified_master_list(&masterlist.bytes, now)?;
    let mut tampered = masterlist.bytes.to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    let mut trust = travdoc_pkix::TrustStore::new();
    trust.add_csca_der(&csca.bytes)?;
    assert!(
        trust.add_verified_master_list(&tampered, now).is_err(),
        "a tampered master list verified"
    );
    // Bad input names the field.
    for (path, field) in [
        ("/v1/pki/certificates/zz", "serial"),
        ("/v1/pki/crls/x", "number"),
    ] {
        let answer = server.call("GET", path, None, None).await?;
        assert_eq!(answer.status, 422, "{path}");
        assert_eq!(answer.field(), field, "{path}");
    }
    let unknown = server
        .call("GET", "/v1/pki/crls/999999", None, None)
        .await?;
    assert_eq!(unknown.status, 404);

    // The deadlines are watched: a gauge per deadline, and readiness says the PKI is well.
    let metrics = server.call("GET", "/metrics", None, None).await?;
    let text = String::from_utf8_lossy(&metrics.bytes);
    for what in ["crl:g1", "csca:g1", "key_usage:ttd", "key_usage:passport"] {
        let line = text
            .lines()
            .find(|line| line.starts_with(&format!("travdoc_pki_seconds_until{{what=\"{what}\"}}")))
            .ok_or(format!("no gauge for {what}"))?;
        let seconds: i64 = line.rsplit(' ').next().ok_or("value")?.parse()?;
        assert!(seconds > 86_400, "{line}");
    }
    let ready = server.call("GET", "/readyz", None, None).await?;
    assert_eq!(ready.body["pki"], "ok", "{}", ready.body);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_verifier_with_only_the_published_pki_checks_a_seal_from_two_rollovers_ago() -> TestResult
{
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let data_dir = server.data_dir.clone();
    let issued = common::issue_ttd(&server, &staff).await?;
    let seal =
        base64::engine::general_purpose::STANDARD.decode(issued["seal"].as_str().ok_or("seal")?)?;
    pki(&data_dir, &[], &["rollover"])?;
    pki(&data_dir, &[], &["rollover"])?;
    let changed_at = Instant::now();
    let certificates = loop {
        let answer = server
            .call("GET", "/v1/pki/certificates", None, None)
            .await?;
        let list: Vec<Value> = serde_json::from_slice(&answer.bytes)?;
        if list.iter().any(|entry| entry["role"] == "csca-g3") {
            break list;
        }
        if changed_at.elapsed() > IN_FORCE_WITHIN {
            return Err("the rollovers were not published within 5 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Everything a foreign authority can download: every certificate, the CRL in force of
    // every CSCA generation.
    let mut cscas = Vec::new();
    let mut signers = Vec::new();
    for entry in &certificates {
        let serial = entry["serial"].as_str().ok_or("serial")?;
        let der = server
            .call("GET", &format!("/v1/pki/certificates/{serial}"), None, None)
            .await?
            .bytes
            .to_vec();
        let role = entry["role"].as_str().ok_or("role")?;
        if role.starts_with("csca-") {
            cscas.push(der);
        } else if role == "ttd" || role == "legalization" {
            signers.push(der);
        }
    }
    assert_eq!(cscas.len(), 3);
    let crl_list: Vec<Value> =
        serde_json::from_slice(&server.call("GET", "/v1/pki/crls", None, None).await?.bytes)?;
    let mut crls = Vec::new();
    for entry in crl_list.iter().filter(|entry| entry["current"] == true) {
        let number = entry["number"].as_u64().ok_or("number")?;
        crls.push(
            server
                .call("GET", &format!("/v1/pki/crls/{number}"), None, None)
                .await?
                .bytes
                .to_vec(),
        );
    }
    assert_eq!(
        crls.len(),
        3,
        "one CRL in force per CSCA generation: {crl_list:?}"
    );
    let verifier = travdoc::usecase::verify::Verifier::from_der(&cscas, &crls, &signers)?;
    let input = travdoc::usecase::verify::VerifyInput::new(
        travdoc::usecase::verify::Artifact::Seal(seal),
        travdoc::usecase::verify::Presented::Nothing,
    )?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let outcome = verifier.check(&input, now);
    assert!(outcome.is_valid(), "{:?}", outcome.reasons);
    Ok(())
}
