//! Bad input gets a 4xx naming the field (nothing stored); malformed JSON and wrong content
//! types use the same error model; request ids are echoed; Idempotency-Key replays.

use crate::common;

use bytes::Bytes;
use common::{Server, Staff, TestResult, ttd_body};
use serde_json::{Value, json};

fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

fn without(mut body: Value, field: &str) -> Value {
    if let Some(object) = body.as_object_mut() {
        object.remove(field);
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ttd_requests_name_the_field_and_store_nothing() -> TestResult {
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let good = ttd_body("LON");
    let cases: Vec<(&str, Value)> = vec![
        ("surname", with(good.clone(), "surname", json!(""))),
        ("surname", with(good.clone(), "surname", json!("Per3ra"))),
        ("surname", without(good.clone(), "surname")),
        (
            "nationality",
            with(good.clone(), "nationality", json!("Sri Lanka")),
        ),
        (
            "birth_date",
            with(good.clone(), "birth_date", json!("1985-13-01")),
        ),
        (
            "birth_date",
            with(good.clone(), "birth_date", json!(19850314)),
        ),
        ("sex", with(good.clone(), "sex", json!("male"))),
        ("mission", with(good.clone(), "mission", json!("PAR"))),
        (
            "destination",
            with(good.clone(), "destination", json!("lk")),
        ),
        ("route", with(good.clone(), "route", json!("DOH"))),
        (
            "valid_until",
            with(good.clone(), "valid_until", json!("2001-01-01")),
        ),
        (
            "valid_until",
            with(good.clone(), "valid_until", json!("2999-01-01")),
        ),
        (
            "photo",
            with(good.clone(), "photo", json!("bm90IGEganBlZw==")),
        ),
        // One limit per portrait, DG2's, at request time: more than 65,535 bytes, or smaller
        // than 240 x 320 pixels.
        (
            "photo",
            with(good.clone(), "photo", json!(oversized_portrait()?)),
        ),
        (
            "photo",
            with(good.clone(), "photo", json!(small_portrait()?)),
        ),
        (
            "previous_document",
            with(good.clone(), "previous_document", json!("n/1")),
        ),
        ("colour", with(good.clone(), "colour", json!("blue"))),
    ];
    for (field, body) in cases {
        let answer = server
            .call("POST", "/v1/ttds", Some(&staff.mission), Some(&body))
            .await?;
        assert!(
            answer.status == 422
                || answer.status == 400
                || (field == "mission" && answer.status == 403),
            "{field}: {} {}",
            answer.status,
            answer.body
        );
        assert_eq!(answer.field(), field, "{}", answer.body);
        assert!(
            answer.body["error"]["request_id"].is_string(),
            "{}",
            answer.body
        );
    }
    // Nothing was stored: the mission has no requests and no documents.
    let list = server
        .call("GET", "/v1/documents", Some(&staff.mission), None)
        .await?;
    assert_eq!(list.status, 200);
    assert_eq!(list.body, json!([]));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_and_content_types_use_the_error_model() -> TestResult {
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let broken = server
        .raw(
            "POST",
            "/v1/ttds",
            Some(&staff.mission),
            Bytes::from_static(b"{\"surname\": "),
            Some("application/json"),
            &[],
        )
        .await?;
    assert_eq!(broken.status, 400, "{}", broken.body);
    assert_eq!(broken.code(), "malformed_json");
    let text = server
        .raw(
            "POST",
            "/v1/ttds",
            Some(&staff.mission),
            Bytes::from_static(b"surname=x"),
            Some("text/plain"),
            &[],
        )
        .await?;
    assert_eq!(text.status, 415, "{}", text.body);
    assert_eq!(text.code(), "unsupported_media_type");
    let none = server
        .raw(
            "POST",
            "/v1/ttds",
            Some(&staff.mission),
            Bytes::new(),
            None,
            &[],
        )
        .await?;
    assert_eq!(none.status, 415, "{}", none.body);
    let wrong_type = server
        .call(
            "POST",
            "/v1/documents/T0000001/revoke",
            Some(&staff.issuer),
            Some(&json!({"reason": "bored"})),
        )
        .await?;
    assert_eq!(wrong_type.status, 422, "{}", wrong_type.body);
    assert_eq!(wrong_type.field(), "reason");
    let unknown = server.call("GET", "/v1/nothing-here", None, None).await?;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.code(), "not_found");
    let method = server
        .call("DELETE", "/v1/ttds", Some(&staff.mission), None)
        .await?;
    assert_eq!(method.status, 405, "{}", method.body);
    // The caller's request id is echoed in the header and the error body.
    let echoed = server
        .call_with(
            "GET",
            "/v1/documents/X",
            None,
            None,
            &[("x-request-id", "req-12345")],
        )
        .await?;
    assert_eq!(echoed.status, 401);
    assert_eq!(echoed.body["error"]["request_id"], "req-12345");
    assert_eq!(
        echoed
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("req-12345")
    );
    let filter = server
        .call("GET", "/v1/documents?state=lost", Some(&staff.issuer), None)
        .await?;
    assert_eq!(filter.status, 422);
    assert_eq!(filter.field(), "state");
    let verify = server
        .call(
            "POST",
            "/v1/verify",
            None,
            Some(&json!({"seal": "AAAA", "qr": "x"})),
        )
        .await?;
    assert_eq!(verify.status, 422);
    assert_eq!(verify.field(), "seal");
    let verify = server
        .call("POST", "/v1/verify", None, Some(&json!({"seal": "***"})))
        .await?;
    assert_eq!(verify.status, 422);
    assert_eq!(verify.field(), "seal");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_retries_return_the_same_answer() -> TestResult {
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let body = ttd_body("LON");
    let key = [("idempotency-key", "create-0001")];
    let first = server
        .call_with("POST", "/v1/ttds", Some(&staff.mission), Some(&body), &key)
        .await?;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = server
        .call_with("POST", "/v1/ttds", Some(&staff.mission), Some(&body), &key)
        .await?;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(
        again
            .headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    // Same key, another body: refused.
    let other = with(body.clone(), "surname", json!("Fernando"));
    let reused = server
        .call_with("POST", "/v1/ttds", Some(&staff.mission), Some(&other), &key)
        .await?;
    assert_eq!(reused.status, 409, "{}", reused.body);
    assert_eq!(reused.code(), "idempotency_key_reused");
    // Without a key, a second request is a second request.
    let second = server
        .call("POST", "/v1/ttds", Some(&staff.mission), Some(&body))
        .await?;
    assert_ne!(second.body["id"], first.body["id"]);
    // Approving twice with one key replays; without a key the second is a state conflict.
    let id = first.body["id"].as_str().ok_or("id")?;
    let path = format!("/v1/ttds/{id}/approve");
    let approve_key = [("idempotency-key", "approve-0001")];
    let approved = server
        .call_with("POST", &path, Some(&staff.approver), None, &approve_key)
        .await?;
    assert_eq!(approved.status, 200, "{}", approved.body);
    let replay = server
        .call_with("POST", &path, Some(&staff.approver), None, &approve_key)
        .await?;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.body, approved.body);
    let conflict = server
        .call("POST", &path, Some(&staff.approver), None)
        .await?;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    assert_eq!(conflict.code(), "invalid_state");
    Ok(())
}

/// A real JPEG portrait padded after its end marker to 70,000 bytes (base64).
fn oversized_portrait() -> Result<String, Box<dyn std::error::Error>> {
    use base64::Engine as _;
    let mut jpeg = crate::e2e_passport::portrait_jpeg()?;
    jpeg.resize(70_000, 0);
    Ok(base64::engine::general_purpose::STANDARD.encode(jpeg))
}

/// A JPEG of 120 x 160 pixels (base64).
fn small_portrait() -> Result<String, Box<dyn std::error::Error>> {
    use base64::Engine as _;
    let image = image::GrayImage::from_fn(120, 160, |x, y| image::Luma([((x + y) % 256) as u8]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 60).encode_image(&image)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}
