//! End to end over the real stack (SoftHSM2 token, development PKI, SQLite, `travdoc serve`):
//! request -> approve -> issue (MRZ TD2 `PU`, ETD seal signed in the HSM, ledger) -> verify ->
//! revoke -> verify says revoked; clear-arrival -> verify says used; legalization with QR.

use crate::common;

use base64::Engine as _;
use common::{Server, Staff, TestResult};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttd_issue_verify_revoke_and_clear_arrival() -> TestResult {
    let server = Server::start()?;
    let ready = server.call("GET", "/readyz", None, None).await?;
    assert_eq!(ready.status, 200, "{}", ready.body);
    let staff = Staff::create(&server).await?;

    let issued = common::issue_ttd(&server, &staff).await?;
    let number = issued["document_number"]
        .as_str()
        .ok_or("number")?
        .to_owned();
    assert!(number.starts_with('T') && number.len() == 8, "{number}");
    let mrz: Vec<String> = serde_json::from_value(issued["mrz"].clone())?;
    assert_eq!(mrz.len(), 2);
    assert!(mrz[0].starts_with("PULKAPERERA<<NIMAL<K"), "{mrz:?}");
    assert_eq!(mrz[0].len(), 36);
    assert!(mrz[1].starts_with(&number), "{mrz:?}");
    assert_eq!(issued["case_reference"], "RA-KWT-2026-0042");
    let seal = issued["seal"].as_str().ok_or("seal")?.to_owned();

    // The seal verifies, and the answer carries the MRZ and a ledger proof.
    let verified = server
        .call("POST", "/v1/verify", None, Some(&json!({"seal": seal})))
        .await?;
    assert_eq!(verified.status, 200);
    assert_eq!(verified.body["status"], "VALID", "{}", verified.body);
    assert_eq!(verified.body["document_status"], "valid");
    assert_eq!(verified.body["document_number"], number.as_str());
    assert_eq!(verified.body["data"]["mrz"][0], mrz[0].as_str());
    common::assert_issuance_proof(&server, &staff.auditor, &verified.body, &number).await?;

    // One flipped bit in the signature: INVALID_SIGNATURE.
    let mut bytes = base64::engine::general_purpose::STANDARD.decode(&seal)?;
    if let Some(last) = bytes.last_mut() {
        *last ^= 0x01;
    }
    let tampered = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let bad = server
        .call("POST", "/v1/verify", None, Some(&json!({"seal": tampered})))
        .await?;
    assert_eq!(bad.body["status"], "INVALID", "{}", bad.body);
    assert!(
        bad.body["reasons"]
            .as_array()
            .ok_or("reasons")?
            .iter()
            .any(|r| r == "INVALID_SIGNATURE")
    );

    // The document reads back for its mission, with the case reference carried through.
    let document = server
        .call(
            "GET",
            &format!("/v1/documents/{number}"),
            Some(&staff.mission),
            None,
        )
        .await?;
    assert_eq!(document.status, 200, "{}", document.body);
    assert_eq!(document.body["data"]["case_reference"], "RA-KWT-2026-0042");
    assert_eq!(document.body["status"], "valid");

    // Revoke: verification now says revoked.
    let revoked = server
        .call(
            "POST",
            &format!("/v1/documents/{number}/revoke"),
            Some(&staff.issuer),
            Some(&json!({"reason": "stolen"})),
        )
        .await?;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let after = server
        .call("POST", "/v1/verify", None, Some(&json!({"seal": seal})))
        .await?;
    assert_eq!(after.body["status"], "INVALID");
    assert_eq!(after.body["document_status"], "revoked");
    let cleared = server
        .call(
            "POST",
            &format!("/v1/documents/{number}/clear-arrival"),
            Some(&staff.immigration),
            None,
        )
        .await?;
    assert_eq!(cleared.status, 409, "{}", cleared.body);

    // A second TTD is cleared on arrival: verification says used, and it cannot be cleared twice.
    let second = common::issue_ttd(&server, &staff).await?;
    let number2 = second["document_number"]
        .as_str()
        .ok_or("number")?
        .to_owned();
    assert_ne!(number2, number);
    let cleared = server
        .call(
            "POST",
            &format!("/v1/documents/{number2}/clear-arrival"),
            Some(&staff.immigration),
            None,
        )
        .await?;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert_eq!(cleared.body["status"], "used");
    let used = server
        .call(
            "POST",
            "/v1/verify",
            None,
            Some(&json!({"seal": second["seal"]})),
        )
        .await?;
    assert_eq!(used.body["document_status"], "used", "{}", used.body);
    let twice = server
        .call(
            "POST",
            &format!("/v1/documents/{number2}/clear-arrival"),
            Some(&staff.immigration),
            None,
        )
        .await?;
    assert_eq!(twice.status, 409);

    // The other mission sees neither document.
    let hidden = server
        .call(
            "GET",
            &format!("/v1/documents/{number2}"),
            Some(&staff.other_mission),
            None,
        )
        .await?;
    assert_eq!(hidden.status, 404);
    let listed = server
        .call(
            "GET",
            "/v1/documents?type=ttd",
            Some(&staff.other_mission),
            None,
        )
        .await?;
    assert_eq!(listed.body, json!([]));
    let all = server
        .call("GET", "/v1/documents?type=ttd", Some(&staff.mission), None)
        .await?;
    assert_eq!(all.body.as_array().map(Vec::len), Some(2));

    // Metrics count the issuances.
    let metrics = server.call("GET", "/metrics", None, None).await?;
    let text = metrics.body.as_str().unwrap_or_default();
    assert!(
        text.contains("travdoc_issuances_total{type=\"ttd\"} 2"),
        "{text}"
    );
    // Both issuances went through the batched statements (one item per batch here).
    for statement in ["allocate", "issue"] {
        assert!(
            text.contains(&format!(
                "travdoc_db_batch_items_total{{statement=\"{statement}\"}} 2"
            )),
            "{text}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_issue_returns_the_same_document() -> TestResult {
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    idempotent_issue(&server, &staff).await?;
    let list = server
        .call("GET", "/v1/documents", Some(&staff.issuer), None)
        .await?;
    assert_eq!(list.body.as_array().map(Vec::len), Some(2));
    // The racers that lost had numbers allocated: each is void, none issued without a document.
    let url = format!(
        "sqlite://{}?mode=rw",
        server.data_dir.join("travdoc.db").display()
    );
    common::assert_numbers_accounted(&url).await?;
    Ok(())
}

/// Issues an approved request with an Idempotency-Key twice (the same answer) and once
/// without (a conflict: it is issued already); then races one key four times. Two documents.
pub(crate) async fn idempotent_issue(server: &Server, staff: &Staff) -> TestResult {
    let id = common::approved_ttd(server, staff).await?;
    let path = format!("/v1/ttds/{id}/issue");
    let key = [("idempotency-key", "issue-once")];
    let first = server
        .call_with("POST", &path, Some(&staff.mission), None, &key)
        .await?;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = server
        .call_with("POST", &path, Some(&staff.mission), None, &key)
        .await?;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body);
    let without_key = server
        .call("POST", &path, Some(&staff.mission), None)
        .await?;
    assert_eq!(without_key.status, 409, "{}", without_key.body);

    // The same key sent four times at once: one issues, the others get its answer (whether
    // they lose on the stored key or on the request the winner moved to issued).
    let id = common::approved_ttd(server, staff).await?;
    let path = format!("/v1/ttds/{id}/issue");
    let key = [("idempotency-key", "issue-once-racing")];
    let racers = (0..4)
        .map(|_| server.call_with("POST", &path, Some(&staff.mission), None, &key))
        .collect();
    let answers = common::join_all(racers).await;
    let mut bodies = Vec::new();
    for answer in answers {
        let answer = answer?;
        assert_eq!(answer.status, 200, "{}", answer.body);
        bodies.push(answer.body);
    }
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "{bodies:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legalization_certificate_with_qr_and_document_hash() -> TestResult {
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let document = b"%PDF-1.4 birth certificate of A. Silva";
    let encoded = base64::engine::general_purpose::STANDARD.encode(document);
    let issued = server
        .call("POST", "/v1/legalizations", Some(&staff.consular), Some(&json!({
            "document_type": "Birth certificate", "signatory": "K. Jayasuriya",
            "capacity": "Additional Registrar General", "authority": "Registrar General's Department",
            "country_of_use": "ITA", "document": encoded})))
        .await?;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let number = issued.body["certificate_number"].as_str().ok_or("number")?;
    assert!(number.starts_with('L') && number.len() == 11, "{number}");
    let qr = issued.body["qr_payload"].as_str().ok_or("qr")?;
    let ok = server
        .call(
            "POST",
            "/v1/verify",
            None,
            Some(&json!({"qr": qr, "document": encoded})),
        )
        .await?;
    assert_eq!(ok.body["status"], "VALID", "{}", ok.body);
    assert_eq!(ok.body["data"]["certificate_number"], number);
    let other = base64::engine::general_purpose::STANDARD.encode(b"another file");
    let mismatch = server
        .call(
            "POST",
            "/v1/verify",
            None,
            Some(&json!({"qr": qr, "document": other})),
        )
        .await?;
    assert_eq!(mismatch.body["status"], "INVALID");
    assert!(
        mismatch.body["reasons"]
            .as_array()
            .ok_or("reasons")?
            .iter()
            .any(|r| r == "DOCUMENT_HASH_MISMATCH")
    );
    Ok(())
}
