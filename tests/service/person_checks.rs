//! The person checks before issuance over HTTP, on SQLite and PostgreSQL: a second valid
//! passport (`PREVIOUS_DOCUMENT_VALID`), one NIC for two people or one person under two NICs
//! (`DUPLICATE_IDENTITY`, names compared in their MRZ transliteration), a second TTD
//! (`ACTIVE_TTD`, also within a readmission case), a document issued to the NIC on a list
//! (`SLTD_HIT`); the checks run again just before issuance; a renewal cancels the previous
//! passport in its issuing commit (ledgered, exported when stolen); the search by applicant.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::common::{self, Server, Staff, TestResult};

type BoxError = Box<dyn std::error::Error>;

fn photo() -> Result<String, BoxError> {
    Ok(base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        crate::e2e_passport::portrait_jpeg()?,
    ))
}

/// A passport application; `previous` is the number and status of the previous passport.
fn application(
    photo: &str,
    (surname, given_names, birth_date, sex): (&str, &str, &str, &str),
    nic: &str,
    previous: Option<(&str, &str)>,
) -> Value {
    let mut body = json!({
        "surname": surname, "given_names": given_names, "nationality": "LKA",
        "birth_date": birth_date, "sex": sex, "photo": photo, "nic": nic,
    });
    if let Some((number, status)) = previous {
        body["previous_document_number"] = number.into();
        body["previous_document_status"] = status.into();
    }
    body
}

async fn apply(server: &Server, staff: &Staff, body: &Value) -> Result<Value, BoxError> {
    let answer = server
        .call(
            "POST",
            "/v1/passport-applications",
            Some(&staff.issuer),
            Some(body),
        )
        .await?;
    assert_eq!(answer.status, 201, "{}", answer.body);
    Ok(answer.body)
}

fn id(view: &Value) -> Result<String, BoxError> {
    Ok(view["id"].as_str().ok_or("id")?.to_owned())
}

/// The codes of the standing hits of a request view.
fn codes(view: &Value) -> Vec<String> {
    view["checks"]
        .as_array()
        .map(|hits| {
            hits.iter()
                .filter(|hit| hit.get("cleared").is_none())
                .filter_map(|hit| hit["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn approve(server: &Server, staff: &Staff, path: &str) -> TestResult {
    let approved = server
        .call(
            "POST",
            &format!("{path}/approve"),
            Some(&staff.approver),
            None,
        )
        .await?;
    assert_eq!(approved.status, 200, "{}", approved.body);
    Ok(())
}

/// Approves and issues passport application `id`; returns the passport's number.
async fn issue_passport(server: &Server, staff: &Staff, id: &str) -> Result<String, BoxError> {
    let path = format!("/v1/passport-applications/{id}");
    approve(server, staff, &path).await?;
    let issued = server
        .call("POST", &format!("{path}/issue"), Some(&staff.issuer), None)
        .await?;
    assert_eq!(issued.status, 200, "{}", issued.body);
    Ok(issued.body["document_number"]
        .as_str()
        .ok_or("number")?
        .to_owned())
}

async fn document(server: &Server, staff: &Staff, number: &str) -> Result<Value, BoxError> {
    let answer = server
        .call(
            "GET",
            &format!("/v1/documents/{number}"),
            Some(&staff.issuer),
            None,
        )
        .await?;
    assert_eq!(answer.status, 200, "{}", answer.body);
    Ok(answer.body)
}

const AMA: (&str, &str, &str, &str) = ("Silva", "Ama", "1990-02-01", "F");
/// Ama Silva's NIC, new layout; `905321234V` is the same card in the old one.
const AMA_NIC: &str = "199053201234";

async fn person_checks(server: Server) -> TestResult {
    let staff = Staff::create(&server).await?;
    let photo = photo()?;

    // A first passport: no hit.
    let first = apply(&server, &staff, &application(&photo, AMA, AMA_NIC, None)).await?;
    assert_eq!(first["state"], "requested", "{first}");
    let passport = issue_passport(&server, &staff, &id(&first)?).await?;

    // A second application that does not name it: PREVIOUS_DOCUMENT_VALID, naming it.
    let second = apply(&server, &staff, &application(&photo, AMA, AMA_NIC, None)).await?;
    assert_eq!(second["state"], "on_hold", "{second}");
    assert_eq!(codes(&second), ["PREVIOUS_DOCUMENT_VALID"], "{second}");
    assert!(
        second["checks"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(&passport),
        "{second}"
    );

    // The same NIC (old layout) under another name: DUPLICATE_IDENTITY.
    let other_name = apply(
        &server,
        &staff,
        &application(
            &photo,
            ("Silva", "Kamala", "1990-02-01", "F"),
            "905321234V",
            None,
        ),
    )
    .await?;
    assert_eq!(other_name["state"], "on_hold", "{other_name}");
    assert!(
        codes(&other_name).contains(&"DUPLICATE_IDENTITY".to_owned()),
        "{other_name}"
    );
    // The same person, written with accents, under another NIC: DUPLICATE_IDENTITY too.
    let other_nic = apply(
        &server,
        &staff,
        &application(
            &photo,
            ("Sílva", "Áma", "1990-02-01", "F"),
            "199053209999",
            None,
        ),
    )
    .await?;
    assert_eq!(other_nic["state"], "on_hold", "{other_nic}");
    let duplicate = other_nic["checks"]
        .as_array()
        .and_then(|hits| {
            hits.iter()
                .find(|hit| hit["code"] == "DUPLICATE_IDENTITY")
                .cloned()
        })
        .ok_or("no DUPLICATE_IDENTITY")?;
    assert!(
        duplicate["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("under another NIC"),
        "{duplicate}"
    );

    // An approver rejects the three: rejected requests are out of every later check.
    for held in [&second, &other_name, &other_nic] {
        let rejected = server
            .call(
                "POST",
                &format!("/v1/passport-applications/{}/reject", id(held)?),
                Some(&staff.approver),
                Some(&json!({"reason": "not the card holder"})),
            )
            .await?;
        assert_eq!(rejected.status, 200, "{}", rejected.body);
    }

    // A renewal names the passport it replaces (handed in): no hit; issuing it cancels the
    // previous passport in the same commit, with its own ledger entry.
    let renewal = apply(
        &server,
        &staff,
        &application(&photo, AMA, AMA_NIC, Some((&passport, "presented"))),
    )
    .await?;
    assert_eq!(renewal["state"], "requested", "{renewal}");
    let renewed = issue_passport(&server, &staff, &id(&renewal)?).await?;
    let previous = document(&server, &staff, &passport).await?;
    assert_eq!(previous["state"], "revoked", "{previous}");
    assert_eq!(previous["state_reason"], "cancelled", "{previous}");
    assert_eq!(
        document(&server, &staff, &renewed).await?["state"],
        "issued"
    );

    // A passport declared stolen at its renewal is cancelled as stolen and goes to INTERPOL.
    let kamal = ("Perera", "Kamal", "1988-02-29", "M");
    let kamal_nic = "198806012345";
    let kamal_first = apply(
        &server,
        &staff,
        &application(&photo, kamal, kamal_nic, None),
    )
    .await?;
    let stolen = issue_passport(&server, &staff, &id(&kamal_first)?).await?;
    let replacement = apply(
        &server,
        &staff,
        &application(&photo, kamal, kamal_nic, Some((&stolen, "stolen"))),
    )
    .await?;
    assert_eq!(replacement["state"], "requested", "{replacement}");
    issue_passport(&server, &staff, &id(&replacement)?).await?;
    assert_eq!(
        document(&server, &staff, &stolen).await?["state_reason"],
        "stolen"
    );
    let export = server
        .call("GET", "/v1/sltd/export", Some(&staff.admin), None)
        .await?;
    assert_eq!(export.status, 200, "{}", export.body);
    let csv = export.text();
    assert!(csv.contains(&format!("LKA,P,{stolen},stolen,")), "{csv}");
    assert!(csv.contains(&format!("LKA,P,{passport},revoked,")), "{csv}");

    // Naming another person's passport as one's previous one: DUPLICATE_IDENTITY, and the
    // other person's passport is not touched.
    let impostor = apply(
        &server,
        &staff,
        &application(
            &photo,
            ("Fernando", "Ruwan", "1979-12-31", "M"),
            "197936601111",
            Some((&renewed, "lost")),
        ),
    )
    .await?;
    assert_eq!(impostor["state"], "on_hold", "{impostor}");
    assert!(
        codes(&impostor).contains(&"DUPLICATE_IDENTITY".to_owned()),
        "{impostor}"
    );

    // The checks run again just before issuance: two applications of one person, both
    // approved; the first issued holds the second at its issuance (nothing issued).
    let nuwan = ("De Silva", "Nuwan", "1982-01-15", "M");
    let nuwan_nic = "198201502222";
    let one = apply(
        &server,
        &staff,
        &application(&photo, nuwan, nuwan_nic, None),
    )
    .await?;
    let two = apply(
        &server,
        &staff,
        &application(&photo, nuwan, nuwan_nic, None),
    )
    .await?;
    assert_eq!(
        (one["state"].as_str(), two["state"].as_str()),
        (Some("requested"), Some("requested"))
    );
    let nuwan_passport = issue_passport(&server, &staff, &id(&one)?).await?;
    let two_path = format!("/v1/passport-applications/{}", id(&two)?);
    approve(&server, &staff, &two_path).await?;
    let refused = server
        .call(
            "POST",
            &format!("{two_path}/issue"),
            Some(&staff.issuer),
            None,
        )
        .await?;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let held = server
        .call("GET", &two_path, Some(&staff.issuer), None)
        .await?;
    assert_eq!(held.body["state"], "on_hold", "{}", held.body);
    assert_eq!(
        codes(&held.body),
        ["PREVIOUS_DOCUMENT_VALID"],
        "{}",
        held.body
    );

    // A document issued to the NIC is on an imported list: a TTD request of that person is
    // held with SLTD_HIT naming the list's line.
    let list = format!(
        "issuing_state,document_type,document_number,status,reported_on\nLKA,P,{nuwan_passport},lost,2026-12-01\n"
    );
    let imported = server
        .raw(
            "POST",
            "/v1/sltd/imports",
            Some(&staff.admin),
            Bytes::from(list),
            Some("text/csv"),
            &[],
        )
        .await?;
    assert_eq!(imported.status, 201, "{}", imported.body);
    let mut ttd = common::ttd_body("LON");
    ttd["surname"] = "De Silva".into();
    ttd["given_names"] = "Nuwan".into();
    ttd["birth_date"] = "1982-01-15".into();
    ttd["nic"] = "820152222V".into();
    ttd["previous_document"] = Value::Null;
    let listed = server
        .call("POST", "/v1/ttds", Some(&staff.mission), Some(&ttd))
        .await?;
    assert_eq!(listed.status, 201, "{}", listed.body);
    assert_eq!(codes(&listed.body), ["SLTD_HIT"], "{}", listed.body);
    assert!(
        listed.body["checks"][0]["source"]
            .as_str()
            .unwrap_or_default()
            .ends_with("line 2"),
        "{}",
        listed.body
    );

    // ACTIVE_TTD: a valid, unused TTD holds the next one of the same person.
    let carrier = common::person_ttd_body("LON", 9_001);
    let issued = common::issue_ttd_with(&server, &staff, &carrier).await?;
    let number = issued["document_number"].as_str().ok_or("number")?;
    let again = server
        .call("POST", "/v1/ttds", Some(&staff.mission), Some(&carrier))
        .await?;
    assert_eq!(codes(&again.body), ["ACTIVE_TTD"], "{}", again.body);
    assert!(
        again.body["checks"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(number),
        "{}",
        again.body
    );

    // A readmission case: the second open request for the same person in one case is held;
    // the case lists both.
    let mut returnee = common::person_ttd_body("LON", 9_002);
    returnee["case_reference"] = Value::Null;
    returnee["readmission"] =
        json!({"case_id": "KWT-RA-2026-117", "returning_from": "KWT", "agreement": "LKA-KWT 2019"});
    let case_first = server
        .call("POST", "/v1/ttds", Some(&staff.mission), Some(&returnee))
        .await?;
    assert_eq!(case_first.status, 201, "{}", case_first.body);
    assert_eq!(case_first.body["state"], "requested", "{}", case_first.body);
    assert_eq!(case_first.body["case_reference"], "KWT-RA-2026-117");
    assert_eq!(case_first.body["readmission"]["returning_from"], "KWT");
    let case_second = server
        .call("POST", "/v1/ttds", Some(&staff.mission), Some(&returnee))
        .await?;
    assert_eq!(
        codes(&case_second.body),
        ["ACTIVE_TTD"],
        "{}",
        case_second.body
    );
    let case = server
        .call(
            "GET",
            "/v1/ttds?case_id=KWT-RA-2026-117",
            Some(&staff.mission),
            None,
        )
        .await?;
    assert_eq!(case.status, 200, "{}", case.body);
    assert_eq!(case.body.as_array().map(Vec::len), Some(2), "{}", case.body);
    let mut mismatched = returnee.clone();
    mismatched["case_reference"] = "ANOTHER".into();
    let refused = server
        .call("POST", "/v1/ttds", Some(&staff.mission), Some(&mismatched))
        .await?;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.field(), "case_reference");

    // Search by applicant: the name in any spelling, the NIC in either layout.
    let by_name = server
        .call(
            "GET",
            "/v1/requests?name=s%C3%ADlva%20ama&type=passport",
            Some(&staff.issuer),
            None,
        )
        .await?;
    assert_eq!(by_name.status, 200, "{}", by_name.body);
    // Ama's first, second and renewal applications, and her accented namesake.
    assert_eq!(
        by_name.body.as_array().map(Vec::len),
        Some(4),
        "{}",
        by_name.body
    );
    let by_nic = server
        .call(
            "GET",
            "/v1/documents?nic=905321234v",
            Some(&staff.issuer),
            None,
        )
        .await?;
    assert_eq!(by_nic.status, 200, "{}", by_nic.body);
    let mut numbers: Vec<&str> = by_nic
        .body
        .as_array()
        .map(|documents| {
            documents
                .iter()
                .filter_map(|document| document["number"].as_str())
                .collect()
        })
        .unwrap_or_default();
    numbers.sort_unstable();
    let mut expected = vec![passport.as_str(), renewed.as_str()];
    expected.sort_unstable();
    assert_eq!(numbers, expected);
    let by_state = server
        .call(
            "GET",
            "/v1/requests?state=rejected&birth_date=1990-02-01",
            Some(&staff.approver),
            None,
        )
        .await?;
    assert_eq!(
        by_state.body.as_array().map(Vec::len),
        Some(3),
        "{}",
        by_state.body
    );
    // A mission sees only its own mission's requests: no passport application.
    let mission = server
        .call(
            "GET",
            "/v1/requests?birth_date=1990-02-01",
            Some(&staff.mission),
            None,
        )
        .await?;
    assert_eq!(mission.body, json!([]), "{}", mission.body);
    let bad = server
        .call(
            "GET",
            "/v1/requests?birth_date=1990-02-31",
            Some(&staff.issuer),
            None,
        )
        .await?;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.field(), "birth_date");

    // The cancellation and the holds are on the ledger.
    let exported = server.cli(&["ledger", "export"])?;
    let text = String::from_utf8_lossy(&exported.stdout);
    assert!(
        text.contains("\"kind\":\"document_revoked\""),
        "no revocation"
    );
    assert!(text.contains("PREVIOUS_DOCUMENT_VALID"));
    assert!(text.contains("ACTIVE_TTD"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn person_checks_hold_renewals_cancel_and_search_finds_on_sqlite() -> TestResult {
    person_checks(Server::start()?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn person_checks_hold_renewals_cancel_and_search_finds_on_postgresql() -> TestResult {
    let (server, _cluster) = crate::e2e_postgres::server_on_postgres()?;
    person_checks(server).await
}
