//! The checks before issuance over HTTP, on SQLite and PostgreSQL: a NIC that is malformed or
//! disagrees with the application holds the request; a held request can be neither approved
//! nor issued; an approver (never the requester) clears each hit with a reason, returns or
//! rejects the request; every decision is on the ledger.

use serde_json::{Value, json};

use crate::common::{self, Server, Staff, TestResult, ttd_body};

type BoxError = Box<dyn std::error::Error>;

async fn post(
    server: &Server,
    token: &str,
    path: &str,
    body: Value,
) -> Result<common::Answer, BoxError> {
    server.call("POST", path, Some(token), Some(&body)).await
}

async fn ttd_with(
    server: &Server,
    staff: &Staff,
    fields: Value,
) -> Result<common::Answer, BoxError> {
    let mut body = ttd_body("LON");
    if let (Value::Object(body), Value::Object(fields)) = (&mut body, fields) {
        for (key, value) in fields {
            if value.is_null() {
                body.remove(&key);
            } else {
                body.insert(key, value);
            }
        }
    }
    post(server, &staff.mission, "/v1/ttds", body).await
}

async fn holds_and_decisions(server: Server) -> TestResult {
    let staff = Staff::create(&server).await?;
    // A second approver, for the four eyes on decisions made after a first approver's.
    let approver2 = server.user("approver2", "approver", None).await?;

    // The NIC is required, or a reason for its absence; not both.
    let missing = ttd_with(&server, &staff, json!({"nic": null})).await?;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert_eq!(missing.field(), "nic");
    let both = ttd_with(
        &server,
        &staff,
        json!({"nic_absent_reason": "a minor, no card yet"}),
    )
    .await?;
    assert_eq!(both.status, 422, "{}", both.body);
    assert_eq!(both.field(), "nic_absent_reason");
    let spaced = ttd_with(&server, &staff, json!({"nic": "850741234 V"})).await?;
    assert_eq!(spaced.status, 422, "{}", spaced.body);
    assert_eq!(spaced.field(), "nic");
    let minor = ttd_with(
        &server,
        &staff,
        json!({"nic": null, "nic_absent_reason": "a minor, no card yet"}),
    )
    .await?;
    assert_eq!(minor.status, 201, "{}", minor.body);
    assert_eq!(minor.body["state"], "requested");
    assert_eq!(minor.body["checks"], json!([]));
    // The old layout of the same person is the same NIC, and agrees.
    let old = ttd_with(&server, &staff, json!({"nic": "850741234v"})).await?;
    assert_eq!(old.body["state"], "requested", "{}", old.body);

    // A NIC of a woman born on another day: held with NIC_MISMATCH, naming both.
    let held = ttd_with(&server, &staff, json!({"nic": "199053201234"})).await?;
    assert_eq!(held.status, 201, "{}", held.body);
    assert_eq!(held.body["state"], "on_hold", "{}", held.body);
    let hit = &held.body["checks"][0];
    assert_eq!(hit["code"], "NIC_MISMATCH", "{}", held.body);
    assert_eq!(hit["source"], "nic");
    let detail = hit["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("1990-02-01") && detail.contains("1985-03-14"),
        "{detail}"
    );
    assert!(detail.contains("the NIC gives the sex F"), "{detail}");
    let id = held.body["id"].as_str().ok_or("id")?.to_owned();

    // Held: neither approved nor issued.
    let approve = format!("/v1/ttds/{id}/approve");
    let early = server
        .call("POST", &approve, Some(&staff.approver), None)
        .await?;
    assert_eq!(early.status, 409, "{}", early.body);
    let issue = server
        .call(
            "POST",
            &format!("/v1/ttds/{id}/issue"),
            Some(&staff.mission),
            None,
        )
        .await?;
    assert_eq!(issue.status, 409, "{}", issue.body);

    // Only an approver clears, with a reason, and only a standing hit.
    let clear = format!("/v1/ttds/{id}/clear-hold");
    let by_requester = post(
        &server,
        &staff.mission,
        &clear,
        json!({"code": "NIC_MISMATCH", "reason": "seen the card"}),
    )
    .await?;
    assert_eq!(by_requester.status, 403, "{}", by_requester.body);
    let no_reason = post(
        &server,
        &staff.approver,
        &clear,
        json!({"code": "NIC_MISMATCH", "reason": ""}),
    )
    .await?;
    assert_eq!(no_reason.status, 422, "{}", no_reason.body);
    assert_eq!(no_reason.field(), "reason");
    let other_code = post(
        &server,
        &staff.approver,
        &clear,
        json!({"code": "NIC_FORMAT", "reason": "seen the card"}),
    )
    .await?;
    assert_eq!(other_code.status, 409, "{}", other_code.body);
    let unknown_code = post(
        &server,
        &staff.approver,
        &clear,
        json!({"code": "NOT_A_CHECK", "reason": "seen the card"}),
    )
    .await?;
    assert_eq!(unknown_code.status, 422, "{}", unknown_code.body);
    assert_eq!(unknown_code.field(), "code");
    let cleared = post(
        &server,
        &staff.approver,
        &clear,
        json!({"code": "NIC_MISMATCH", "reason": "birth certificate seen: the NIC was mistyped by the DRP"}),
    )
    .await?;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert_eq!(cleared.body["state"], "requested", "{}", cleared.body);
    let clearance = &cleared.body["checks"][0]["cleared"];
    assert!(
        clearance["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("birth certificate")
    );
    assert!(clearance["by"].is_string());
    // The view says the same afterwards.
    let read = server
        .call("GET", &format!("/v1/ttds/{id}"), Some(&staff.mission), None)
        .await?;
    assert_eq!(read.body["state"], "requested", "{}", read.body);
    assert_eq!(read.body["checks"][0]["cleared"], *clearance);
    // Now approved by a second officer, and issued.
    let approved = server
        .call("POST", &approve, Some(&approver2), None)
        .await?;
    assert_eq!(approved.status, 200, "{}", approved.body);

    // A NIC naming 29 February 1985 (no such day): held with NIC_FORMAT, then rejected.
    let malformed = ttd_with(&server, &staff, json!({"nic": "198506001234"})).await?;
    assert_eq!(malformed.body["state"], "on_hold", "{}", malformed.body);
    assert_eq!(malformed.body["checks"][0]["code"], "NIC_FORMAT");
    assert!(
        malformed.body["checks"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("not a leap year")
    );
    let rejected_id = malformed.body["id"].as_str().ok_or("id")?.to_owned();
    let reject = format!("/v1/ttds/{rejected_id}/reject");
    let rejected = post(
        &server,
        &staff.approver,
        &reject,
        json!({"reason": "the applicant's identity could not be established"}),
    )
    .await?;
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    assert_eq!(rejected.body["state"], "rejected");
    let again = post(
        &server,
        &staff.approver,
        &reject,
        json!({"reason": "again"}),
    )
    .await?;
    assert_eq!(again.status, 409, "{}", again.body);
    let after = server
        .call(
            "POST",
            &format!("/v1/ttds/{rejected_id}/approve"),
            Some(&staff.approver),
            None,
        )
        .await?;
    assert_eq!(after.status, 409, "{}", after.body);

    // A passport application returned to its requester; the requester may not decide.
    let photo = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        crate::e2e_passport::portrait_jpeg()?,
    );
    let application = post(
        &server,
        &staff.issuer,
        "/v1/passport-applications",
        json!({"surname": "Silva", "given_names": "Ama", "nationality": "LKA",
               "birth_date": "1990-02-01", "sex": "F", "photo": photo, "nic": "199053209876",
               "previous_document_number": "N1234567", "previous_document_status": "lost"}),
    )
    .await?;
    assert_eq!(application.status, 201, "{}", application.body);
    assert_eq!(
        application.body["state"], "requested",
        "{}",
        application.body
    );
    let application_id = application.body["id"].as_str().ok_or("id")?.to_owned();
    let returned_path = format!("/v1/passport-applications/{application_id}/return");
    let own = post(
        &server,
        &staff.issuer,
        &returned_path,
        json!({"reason": "photo too dark"}),
    )
    .await?;
    assert_eq!(own.status, 403, "{}", own.body);
    let returned = post(
        &server,
        &staff.approver,
        &returned_path,
        json!({"reason": "photo too dark"}),
    )
    .await?;
    assert_eq!(returned.status, 200, "{}", returned.body);
    assert_eq!(returned.body["state"], "returned");
    // Corrected by its requester only, checked again: a new photo, and the NIC typed wrong
    // this time holds it; corrected again, it is requested.
    let application_path = format!("/v1/passport-applications/{application_id}");
    let corrected_body = |nic: &str| {
        json!({"surname": "Silva", "given_names": "Ama", "nationality": "LKA",
               "birth_date": "1990-02-01", "sex": "F", "photo": photo, "nic": nic,
               "previous_document_number": "N1234567", "previous_document_status": "lost"})
    };
    let by_approver = server
        .call(
            "PUT",
            &application_path,
            Some(&staff.approver),
            Some(&corrected_body("199053209876")),
        )
        .await?;
    assert_eq!(by_approver.status, 403, "{}", by_approver.body);
    let mistyped = server
        .call(
            "PUT",
            &application_path,
            Some(&staff.issuer),
            Some(&corrected_body("199053309876")),
        )
        .await?;
    assert_eq!(mistyped.status, 200, "{}", mistyped.body);
    assert_eq!(mistyped.body["state"], "on_hold", "{}", mistyped.body);
    assert_eq!(mistyped.body["checks"][0]["code"], "NIC_MISMATCH");
    // Only a returned request is corrected.
    let not_returned = server
        .call(
            "PUT",
            &application_path,
            Some(&staff.issuer),
            Some(&corrected_body("199053209876")),
        )
        .await?;
    assert_eq!(not_returned.status, 409, "{}", not_returned.body);
    let returned_again = post(
        &server,
        &staff.approver,
        &returned_path,
        json!({"reason": "the NIC is mistyped"}),
    )
    .await?;
    assert_eq!(
        returned_again.body["state"], "returned",
        "{}",
        returned_again.body
    );
    let corrected = server
        .call(
            "PUT",
            &application_path,
            Some(&staff.issuer),
            Some(&corrected_body("199053209876")),
        )
        .await?;
    assert_eq!(corrected.status, 200, "{}", corrected.body);
    assert_eq!(corrected.body["state"], "requested", "{}", corrected.body);
    assert_eq!(corrected.body["checks"], json!([]));
    // A previous passport needs its status, and the reverse.
    let half = post(
        &server,
        &staff.issuer,
        "/v1/passport-applications",
        json!({"surname": "Silva", "given_names": "Ama", "nationality": "LKA",
               "birth_date": "1990-02-01", "sex": "F", "photo": photo, "nic": "199053209876",
               "previous_document_number": "N1234567"}),
    )
    .await?;
    assert_eq!(half.status, 422, "{}", half.body);
    assert_eq!(half.field(), "previous_document_status");

    // Every decision is on the ledger.
    let exported = server.cli(&["ledger", "export"])?;
    let text = String::from_utf8_lossy(&exported.stdout);
    for kind in [
        "request_held",
        "hold_cleared",
        "request_rejected",
        "request_returned",
        "request_approved",
    ] {
        assert!(
            text.contains(&format!("\"kind\":\"{kind}\"")),
            "no {kind} in the ledger"
        );
    }
    // The leaf names the hit's code, not the applicant's birth date.
    assert!(text.contains("NIC_MISMATCH"));
    assert!(!text.contains("1985-03-14"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nic_check_holds_a_request_until_an_approver_decides_on_sqlite() -> TestResult {
    holds_and_decisions(Server::start()?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nic_check_holds_a_request_until_an_approver_decides_on_postgresql() -> TestResult {
    let (server, _cluster) = crate::e2e_postgres::server_on_postgres()?;
    holds_and_decisions(server).await
}
