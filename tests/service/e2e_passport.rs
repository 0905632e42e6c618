//! Passport issuance over the real stack: application (issuer) -> approve (another officer) ->
//! issue (TD3 MRZ, DG1/DG2/EF.COM, EF.SOD signed by the Document Signer in SoftHSM2) ->
//! Passive Authentication through `POST /v1/verify`, and `openssl cms -verify` of the SOD
//! against the published CSCA as an independent check.

use crate::common;

use std::process::Command;

use base64::Engine as _;
use common::{Server, Staff, TestResult};
use serde_json::json;

pub(crate) fn portrait_jpeg() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let image = image::GrayImage::from_fn(240, 320, |x, y| {
        image::Luma([((x * 7 + y * 3) % 256) as u8])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 60).encode_image(&image)?;
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passport_issue_and_passive_authentication() -> TestResult {
    let server = Server::start()?;
    passport_flow(&server).await
}

/// The same on PostgreSQL, where the request is read and the number allocated in one
/// statement and the issuing transaction is one statement too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passport_issue_on_postgresql() -> TestResult {
    let (server, _cluster) = crate::e2e_postgres::server_on_postgres()?;
    passport_flow(&server).await
}

async fn passport_flow(server: &Server) -> TestResult {
    let staff = Staff::create(server).await?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let photo = b64.encode(portrait_jpeg()?);
    let created = server
        .call(
            "POST",
            "/v1/passport-applications",
            Some(&staff.issuer),
            Some(&json!({
            "surname": "Silva", "given_names": "Ama Kumari", "nationality": "LKA",
            "birth_date": "1990-02-01", "sex": "F", "place_of_birth": "Kandy", "photo": photo,
            "nic": "199053201234"})),
        )
        .await?;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().ok_or("id")?;
    let early = server
        .call(
            "POST",
            &format!("/v1/passport-applications/{id}/issue"),
            Some(&staff.issuer),
            None,
        )
        .await?;
    assert_eq!(early.status, 409, "{}", early.body);
    let approved = server
        .call(
            "POST",
            &format!("/v1/passport-applications/{id}/approve"),
            Some(&staff.approver),
            None,
        )
        .await?;
    assert_eq!(approved.status, 200, "{}", approved.body);
    let issued = server
        .call(
            "POST",
            &format!("/v1/passport-applications/{id}/issue"),
            Some(&staff.issuer),
            None,
        )
        .await?;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let number = issued.body["document_number"].as_str().ok_or("number")?;
    assert!(number.starts_with('N') && number.len() == 8, "{number}");
    let mrz = issued.body["mrz"].as_array().ok_or("mrz")?;
    assert_eq!(mrz[0].as_str().map(str::len), Some(44));
    assert!(
        mrz[0]
            .as_str()
            .unwrap_or_default()
            .starts_with("PPLKASILVA<<AMA<KUMARI")
    );
    let package = &issued.body["personalization"];
    let verified = server
        .call(
            "POST",
            "/v1/verify",
            None,
            Some(&json!({"sod": package["ef_sod"],
            "data_groups": {"1": package["dg1"], "2": package["dg2"]}})),
        )
        .await?;
    assert_eq!(verified.body["status"], "VALID", "{}", verified.body);
    assert_eq!(verified.body["document_number"], number);
    // A changed DG1 fails its hash check.
    let mut dg1 = b64.decode(package["dg1"].as_str().ok_or("dg1")?)?;
    if let Some(last) = dg1.last_mut() {
        *last = if *last == b'<' { b'A' } else { b'<' };
    }
    let tampered = server
        .call(
            "POST",
            "/v1/verify",
            None,
            Some(&json!({"sod": package["ef_sod"],
            "data_groups": {"1": b64.encode(&dg1), "2": package["dg2"]}})),
        )
        .await?;
    assert_eq!(tampered.body["status"], "INVALID", "{}", tampered.body);

    // Independent check: OpenSSL verifies the SOD's CMS signature with the Document Signer
    // certificate it carries. `-noverify`: OpenSSL 3 refuses to build chains over keys with
    // explicit EC parameters (Part 12's encoding, travdoc's default); the chain to the CSCA is
    // checked by Passive Authentication above.
    let dir = tempfile::tempdir()?;
    let sod = b64.decode(package["ef_sod"].as_str().ok_or("sod")?)?;
    let content_info = travdoc_lds::Sod::from_bytes(&sod)?.content_info_der()?;
    std::fs::write(dir.path().join("sod.der"), content_info)?;
    let csca_path = dir.path().join("csca.der");
    let csca = server.call("GET", "/v1/pki/csca", None, None).await?;
    assert_eq!(csca.status, 200);
    std::fs::write(&csca_path, &csca.bytes)?;
    let pem = Command::new("openssl")
        .args(["x509", "-inform", "DER", "-in"])
        .arg(&csca_path)
        .arg("-out")
        .arg(dir.path().join("csca.pem"))
        .status()?;
    assert!(pem.success());
    let output = Command::new("openssl")
        .args([
            "cms",
            "-verify",
            "-noverify",
            "-inform",
            "DER",
            "-binary",
            "-in",
        ])
        .arg(dir.path().join("sod.der"))
        .arg("-CAfile")
        .arg(dir.path().join("csca.pem"))
        .args(["-out", "/dev/null"])
        .output()?;
    assert!(
        output.status.success(),
        "openssl cms -verify: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}
