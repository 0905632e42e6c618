//! `travdoc ttd issue`, `travdoc legalization issue`, `travdoc seal decode` and `travdoc verify
//! seal` end to end on a fresh data dir (embedded SoftHSM2 token, SQLite, development PKI): the
//! seals are signed in the HSM, go through pixels (PNG written by the CLI, read back with rxing)
//! and verify; tampering, a different printed MRZ and a different document are caught; bad
//! requests name the field and write nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

fn travdoc(data_dir: &Path, args: &[&str]) -> Run {
    travdoc_with(data_dir, args, &[])
}

/// Runs the binary on `data_dir` with extra environment variables.
pub(crate) fn travdoc_with(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("SOFTHSM2_CONF")
        .env_remove("TRAVDOC_HSM_PIN")
        .env_remove("TRAVDOC_CONFIG")
        .env_remove("TRAVDOC_HSM_MODULE")
        .env_remove("TRAVDOC_DATABASE_URL")
        .env("TRAVDOC_OPERATOR", "officer-a")
        .output()
        .expect("run travdoc");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn ok(data_dir: &Path, args: &[&str]) -> String {
    let run = travdoc(data_dir, args);
    assert_eq!(
        run.code, 0,
        "travdoc {args:?}: {}{}",
        run.stdout, run.stderr
    );
    run.stdout
}

/// Two administrators for the PKI ceremonies (`user add`), as the environment of a ceremony
/// command: `TRAVDOC_OPERATOR_TOKEN` and `TRAVDOC_SECOND_OPERATOR_TOKEN`.
pub(crate) fn ceremony_operators(data_dir: &Path) -> [(&'static str, String); 2] {
    // The first admin (the host operator's, in force at once on a data dir without one)
    // confirms each operator's grant; the operators' API tokens come from `user token`.
    let ok = |run: Run, what: &str| {
        assert_eq!(run.code, 0, "{what}: {}", run.stderr);
        run.stdout.trim().to_owned()
    };
    let admin = first_admin_token(data_dir);
    let token = |name: &str| {
        ok(
            travdoc(data_dir, &["user", "add", name, "--role", "admin"]),
            "user add",
        );
        ok(
            travdoc_with(
                data_dir,
                &["user", "confirm", name],
                &[("TRAVDOC_OPERATOR_TOKEN", &admin)],
            ),
            "user confirm",
        );
        ok(travdoc(data_dir, &["user", "token", name]), "user token")
    };
    [
        ("TRAVDOC_OPERATOR_TOKEN", token("ceremony-a")),
        ("TRAVDOC_SECOND_OPERATOR_TOKEN", token("ceremony-b")),
    ]
}

/// An API token of the first admin (made here, by the host operator, when the data dir has
/// no admin yet).
fn first_admin_token(data_dir: &Path) -> String {
    let mut admin = travdoc(data_dir, &["user", "token", "admin"]);
    if admin.code != 0 {
        let added = travdoc(data_dir, &["user", "add", "admin", "--role", "admin"]);
        assert_eq!(added.code, 0, "user add admin: {}", added.stderr);
        admin = travdoc(data_dir, &["user", "token", "admin"]);
    }
    assert_eq!(admin.code, 0, "user token admin: {}", admin.stderr);
    admin.stdout.trim().to_owned()
}

/// An approver `name` whose grant the first admin confirmed, and an API token of it.
pub(crate) fn approver_token(data_dir: &Path, name: &str) -> String {
    let admin = first_admin_token(data_dir);
    let run = travdoc(data_dir, &["user", "add", name, "--role", "approver"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = travdoc_with(
        data_dir,
        &["user", "confirm", name],
        &[("TRAVDOC_OPERATOR_TOKEN", &admin)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = travdoc(data_dir, &["user", "token", name]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout.trim().to_owned()
}

pub(crate) fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

pub(crate) fn days_from_today(days: i64) -> String {
    let date = time::OffsetDateTime::now_utc().date() + time::Duration::days(days);
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

pub(crate) fn ttd_request(valid_until: &str) -> serde_json::Value {
    serde_json::json!({
        "surname": "Perera",
        "given_names": "Nimal Kumar",
        "nationality": "LKA",
        "birth_date": "1985-03-14",
        "sex": "M",
        "mission": "KWI",
        "destination": "LKA",
        "route": ["DOH"],
        "valid_until": valid_until,
        "case_reference": "RA-2026-0042",
        "nic": "198507401234",
    })
}

pub(crate) fn write_json(path: &Path, value: &serde_json::Value) -> PathBuf {
    std::fs::write(path, value.to_string()).expect("write request");
    path.to_owned()
}

fn verify_json(data_dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["verify", "seal"];
    all.extend_from_slice(args);
    all.push("--json");
    let run = travdoc(data_dir, &all);
    let value: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}{}", run.stdout, run.stderr));
    (run.code, value)
}

fn codes(result: &serde_json::Value) -> Vec<String> {
    result["reasons"]
        .as_array()
        .map(|reasons| {
            reasons
                .iter()
                .filter_map(|code| code.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn ttd_and_legalization_are_issued_decoded_and_verified_through_pixels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("var");
    let request = write_json(
        &dir.path().join("ttd.json"),
        &ttd_request(&days_from_today(60)),
    );
    let out = dir.path().join("ttd-out");
    let printed = ok(
        &data,
        &["ttd", "issue", "--request", s(&request), "--out", s(&out)],
    );
    assert!(printed.contains("issued TTD"), "{printed}");

    // The files of the contract, consistent with each other.
    let mrz = std::fs::read_to_string(out.join("mrz.txt")).expect("mrz.txt");
    let lines: Vec<&str> = mrz.lines().collect();
    assert_eq!(lines.len(), 2, "{mrz}");
    assert!(lines.iter().all(|line| line.len() == 36), "{mrz}");
    assert!(lines[0].starts_with("PULKAPERERA<<NIMAL<KUMAR"), "{mrz}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("manifest JSON");
    let number = manifest["document_number"].as_str().expect("number");
    assert_eq!(
        lines[1].get(0..9).map(|n| n.trim_end_matches('<')),
        Some(number)
    );
    assert_eq!(manifest["expiry"], days_from_today(60));
    assert_eq!(manifest["four_eyes"], false);
    assert!(
        !manifest["signer_certificate_serial"]
            .as_str()
            .unwrap_or("")
            .is_empty()
    );
    let seal = std::fs::read(out.join("seal.bin")).expect("seal.bin");
    assert_eq!(seal.first(), Some(&0xDC));
    assert!(
        std::fs::read(out.join("ttd.pdf"))
            .expect("pdf")
            .starts_with(b"%PDF")
    );

    // seal decode reads the PNG the CLI wrote (rxing) and finds the same MRZ.
    let decoded: serde_json::Value = serde_json::from_str(&ok(
        &data,
        &["seal", "decode", s(&out.join("datamatrix.png"))],
    ))
    .expect("decode JSON");
    assert_eq!(decoded["profile"], "etd");
    assert_eq!(decoded["mrz"][0], lines[0]);
    assert_eq!(decoded["mrz"][1], lines[1]);

    // Verified from the image against this data dir's PKI, and against an exported trust dir.
    let (code, result) = verify_json(
        &data,
        &[
            s(&out.join("datamatrix.png")),
            "--printed-mrz",
            s(&out.join("mrz.txt")),
        ],
    );
    assert_eq!(
        (code, result["status"].as_str()),
        (0, Some("VALID")),
        "{result}"
    );
    let trust = dir.path().join("trust");
    ok(&data, &["pki", "export", s(&trust)]);
    let (code, result) = verify_json(&data, &[s(&out.join("seal.bin")), "--trust", s(&trust)]);
    assert_eq!(
        (code, result["status"].as_str()),
        (0, Some("VALID")),
        "{result}"
    );

    // A printed MRZ that differs from the seal's.
    let other = dir.path().join("other-mrz.txt");
    std::fs::write(&other, mrz.replace("NIMAL", "NIMAR")).expect("write");
    let (code, result) = verify_json(
        &data,
        &[s(&out.join("seal.bin")), "--printed-mrz", s(&other)],
    );
    assert_eq!(code, 1);
    assert!(
        codes(&result).contains(&"SEAL_DOCUMENT_MISMATCH".to_owned()),
        "{result}"
    );

    // One byte of the signature, one of the message zone.
    let tampered = dir.path().join("tampered.bin");
    let mut bytes = seal.clone();
    if let Some(last) = bytes.last_mut() {
        *last ^= 0x01;
    }
    std::fs::write(&tampered, &bytes).expect("write");
    let (code, result) = verify_json(&data, &[s(&tampered)]);
    assert_eq!(code, 1);
    assert!(
        codes(&result).contains(&"INVALID_SIGNATURE".to_owned()),
        "{result}"
    );
    let mut bytes = seal.clone();
    let message_byte = bytes.len() / 2;
    bytes[message_byte] ^= 0x01;
    std::fs::write(&tampered, &bytes).expect("write");
    let (code, result) = verify_json(&data, &[s(&tampered)]);
    assert_eq!(code, 1, "{result}");
    assert_eq!(result["status"], "INVALID");

    // A trust dir without our CSCA: the signer is not trusted.
    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).expect("mkdir");
    std::fs::copy(trust.join("signer-ttd.der"), foreign.join("signer-ttd.der")).expect("copy");
    let (code, result) = verify_json(&data, &[s(&out.join("seal.bin")), "--trust", s(&foreign)]);
    assert_eq!(code, 1);
    assert!(
        codes(&result).contains(&"UNTRUSTED_CERTIFICATE".to_owned()),
        "{result}"
    );

    // Legalization: QR through pixels, checked against the document and another file.
    let document = dir.path().join("birth-certificate.pdf");
    std::fs::write(&document, b"%PDF-1.4 a birth certificate").expect("write");
    let leg = write_json(
        &dir.path().join("leg.json"),
        &serde_json::json!({
            "document_type": "Birth certificate",
            "signatory": "K. Silva",
            "capacity": "Registrar of Births",
            "authority": "Registrar General's Department",
            "country_of_use": "ITA",
        }),
    );
    let leg_out = dir.path().join("leg-out");
    ok(
        &data,
        &[
            "legalization",
            "issue",
            "--request",
            s(&leg),
            "--document",
            s(&document),
            "--out",
            s(&leg_out),
        ],
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(leg_out.join("manifest.json")).expect("manifest"))
            .expect("manifest JSON");
    use sha2::Digest as _;
    assert_eq!(
        manifest["document_sha256"],
        hex::encode(sha2::Sha256::digest(std::fs::read(&document).expect("doc")))
    );
    let qr = std::fs::read_to_string(leg_out.join("qr.txt")).expect("qr.txt");
    assert!(qr.contains('#'), "{qr}");
    let (code, result) = verify_json(
        &data,
        &[s(&leg_out.join("qr.png")), "--document", s(&document)],
    );
    assert_eq!(
        (code, result["status"].as_str()),
        (0, Some("VALID")),
        "{result}"
    );
    assert_eq!(
        result["data"]["certificate_number"],
        manifest["certificate_number"]
    );
    let (code, result) = verify_json(
        &data,
        &[s(&leg_out.join("qr.txt")), "--document", s(&request)],
    );
    assert_eq!(code, 1);
    assert!(
        codes(&result).contains(&"DOCUMENT_HASH_MISMATCH".to_owned()),
        "{result}"
    );

    // Everything issued is in the ledger, and the ledger verifies.
    let verified = ok(&data, &["ledger", "verify"]);
    assert!(verified.contains("ledger OK"), "{verified}");
}

#[test]
fn bad_requests_name_the_field_and_write_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("var");
    let cases: Vec<(&str, serde_json::Value)> = vec![
        ("valid_until", ttd_request(&days_from_today(-1))),
        ("valid_until", ttd_request(&days_from_today(400))),
        ("surname", {
            let mut request = ttd_request(&days_from_today(30));
            request["surname"] = "山田".into();
            request
        }),
        ("route", {
            let mut request = ttd_request(&days_from_today(30));
            request["route"] = serde_json::json!(["A", "B", "C", "D", "E", "F", "G", "H", "I"]);
            request
        }),
        ("given_names", {
            let mut request = ttd_request(&days_from_today(30));
            if let Some(object) = request.as_object_mut() {
                object.remove("given_names");
            }
            request
        }),
    ];
    for (index, (field, request)) in cases.into_iter().enumerate() {
        let path = write_json(&dir.path().join(format!("bad-{index}.json")), &request);
        let out = dir.path().join(format!("out-{index}"));
        let run = travdoc(
            &data,
            &["ttd", "issue", "--request", s(&path), "--out", s(&out)],
        );
        assert_eq!(run.code, 2, "case {index}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(&format!("`{field}`")),
            "case {index} should name `{field}`: {}",
            run.stderr
        );
        assert!(!out.exists(), "case {index} wrote {}", out.display());
    }
    // Nothing was issued: the ledger holds no TTD.
    let run = travdoc(&data, &["ledger", "export"]);
    assert!(!run.stdout.contains("ttd_issued"), "{}", run.stdout);
}

fn portrait_jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
        .encode_image(&image)
        .expect("encode JPEG");
    out
}

/// `travdoc passport personalize --request APP --photo PHOTO --out OUT`.
fn personalize(data: &Path, app: &Path, photo: &Path, out: &Path) -> Run {
    travdoc(
        data,
        &[
            "passport",
            "personalize",
            "--request",
            s(app),
            "--photo",
            s(photo),
            "--out",
            s(out),
        ],
    )
}

/// `travdoc verify sod FILES... --trust TRUST`.
fn verify_sod(data: &Path, files: &[PathBuf], trust: &Path) -> Run {
    let mut args: Vec<&str> = vec!["verify", "sod"];
    args.extend(files.iter().map(|p| s(p)));
    args.extend(["--trust", s(trust)]);
    travdoc(data, &args)
}

#[test]
fn passport_personalization_package_passes_passive_authentication() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("var");
    let photo = dir.path().join("face.jpg");
    std::fs::write(&photo, portrait_jpeg(480, 600)).expect("write photo");
    let app = write_json(
        &dir.path().join("app.json"),
        &serde_json::json!({
            "surname": "Jayasuriya",
            "given_names": "Anura Priyanka",
            "nationality": "LKA",
            "birth_date": "1990-07-21",
            "sex": "F",
            "place_of_birth": "Kandy",
            "personal_number": "199020301234",
            "nic": "199070301234",
        }),
    );
    let out = dir.path().join("passport");
    let args = [
        "passport",
        "personalize",
        "--request",
        s(&app),
        "--photo",
        s(&photo),
        "--out",
        s(&out),
        "--approved-by",
        "officer-b",
    ];
    // The second officer proves who they are: a name alone is no approval.
    let approver = approver_token(&data, "officer-b");
    let forged = travdoc_with(
        &data,
        &args,
        &[("TRAVDOC_APPROVER_TOKEN", "tdk_not-a-token")],
    );
    assert_ne!(forged.code, 0, "{}", forged.stdout);
    assert!(
        forged.stderr.contains("TRAVDOC_APPROVER_TOKEN"),
        "{}",
        forged.stderr
    );
    assert!(!out.exists(), "nothing is written for a refused approval");
    let approved = travdoc_with(&data, &args, &[("TRAVDOC_APPROVER_TOKEN", &approver)]);
    assert_eq!(approved.code, 0, "{}{}", approved.stdout, approved.stderr);
    let printed = approved.stdout;
    assert!(printed.contains("personalized passport"), "{printed}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("manifest JSON");
    assert_eq!(manifest["four_eyes"], true);
    let number = manifest["document_number"].as_str().expect("number");
    let mrz_line2 = manifest["mrz"][1].as_str().expect("mrz");
    assert!(mrz_line2.starts_with(number), "{manifest}");
    use sha2::Digest as _;
    let dg1 = std::fs::read(out.join("DG1.bin")).expect("DG1");
    assert_eq!(
        manifest["data_group_hashes"]["DG1"],
        hex::encode(sha2::Sha256::digest(&dg1))
    );
    assert_eq!(dg1.first(), Some(&0x61));
    assert_eq!(
        std::fs::read(out.join("EF_SOD.bin")).expect("SOD").first(),
        Some(&0x77)
    );
    assert!(
        std::fs::read(out.join("datapage.pdf"))
            .expect("data page")
            .starts_with(b"%PDF")
    );

    // Passive Authentication against the exported PKI; an altered DG2 and a foreign CSCA fail.
    let trust = dir.path().join("trust");
    ok(&data, &["pki", "export", s(&trust)]);
    let files = [
        out.join("EF_SOD.bin"),
        out.join("DG1.bin"),
        out.join("DG2.bin"),
    ];
    let run = verify_sod(&data, &files, &trust);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("verdict: VALID"), "{}", run.stdout);
    let mut dg2 = std::fs::read(out.join("DG2.bin")).expect("DG2");
    let middle = dg2.len() / 2;
    dg2[middle] ^= 0x01;
    let altered = dir.path().join("DG2-altered.bin");
    std::fs::write(&altered, &dg2).expect("write");
    let run = verify_sod(
        &data,
        &[files[0].clone(), files[1].clone(), altered.clone()],
        &trust,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let foreign = dir.path().join("foreign-trust");
    std::fs::create_dir_all(&foreign).expect("mkdir");
    std::fs::copy(
        Path::new("../shared/vectors/certs")
            .read_dir()
            .expect("certs")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.extension()
                    .is_some_and(|e| e == "der" || e == "cer" || e == "crt")
            })
            .expect("a public CSCA in the vectors"),
        foreign.join("other-csca.der"),
    )
    .expect("copy");
    let run = verify_sod(&data, &files, &foreign);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);

    // A master list is trusted only through a CSCA already trusted: alone, or altered, it is
    // refused (the export above held csca.der and masterlist.der, which verified).
    let ml_only = dir.path().join("ml-only");
    std::fs::create_dir_all(&ml_only).expect("mkdir");
    std::fs::copy(trust.join("masterlist.der"), ml_only.join("masterlist.der")).expect("copy");
    let run = verify_sod(&data, &files, &ml_only);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("master list not trusted"),
        "{}",
        run.stderr
    );
    let ml_altered = dir.path().join("ml-altered");
    std::fs::create_dir_all(&ml_altered).expect("mkdir");
    std::fs::copy(trust.join("csca.der"), ml_altered.join("csca.der")).expect("copy");
    let mut ml = std::fs::read(trust.join("masterlist.der")).expect("ml");
    let last = ml.len() - 1;
    ml[last] ^= 0x01; // the signature's last byte
    std::fs::write(ml_altered.join("masterlist.der"), &ml).expect("write");
    let run = verify_sod(&data, &files, &ml_altered);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("master list"), "{}", run.stderr);

    // Bad input is a clear error and writes nothing.
    let tiny = dir.path().join("tiny.jpg");
    std::fs::write(&tiny, portrait_jpeg(16, 20)).expect("write");
    let not_written = dir.path().join("nothing");
    let run = personalize(&data, &app, &tiny, &not_written);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("--photo"), "{}", run.stderr);
    assert!(!not_written.exists());
    // A booklet with a pre-printed number: that number is used, and only once.
    let booklet = write_json(
        &dir.path().join("app-booklet.json"),
        &serde_json::json!({"surname": "Perera", "given_names": "Kamal", "nationality": "LKA",
            "birth_date": "1988-02-29", "sex": "M", "document_number": "N7654321",
            "nic": "880601234V"}),
    );
    let booklet_out = dir.path().join("booklet");
    let run = personalize(&data, &booklet, &photo, &booklet_out);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(booklet_out.join("manifest.json")).expect("manifest"),
    )
    .expect("JSON");
    assert_eq!(manifest["document_number"], "N7654321");
    // Another applicant on the same booklet number.
    let booklet = write_json(
        &dir.path().join("app-booklet-again.json"),
        &serde_json::json!({"surname": "Perera", "given_names": "Sunil", "nationality": "LKA",
            "birth_date": "1988-02-29", "sex": "M", "document_number": "N7654321",
            "nic": "880601235V"}),
    );
    let again = dir.path().join("booklet-again");
    let run = personalize(&data, &booklet, &photo, &again);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("`document_number`"), "{}", run.stderr);
    assert!(!again.exists());

    let numbered = write_json(
        &dir.path().join("app-numbered.json"),
        &serde_json::json!({"surname": "A", "given_names": "B", "nationality": "LKA",
            "birth_date": "1990-07-21", "sex": "F", "birth_place": "Kandy"}),
    );
    let run = personalize(&data, &numbered, &photo, &not_written);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("birth_place"), "{}", run.stderr);
    assert!(!not_written.exists());
}

#[test]
fn seals_signed_before_a_new_signer_and_a_csca_rollover_still_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("var");
    let request = write_json(
        &dir.path().join("ttd.json"),
        &ttd_request(&days_from_today(90)),
    );
    let old = dir.path().join("old");
    ok(
        &data,
        &["ttd", "issue", "--request", s(&request), "--out", s(&old)],
    );
    let operators = ceremony_operators(&data);
    let env: Vec<(&str, &str)> = operators
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    for args in [
        &["pki", "issue-signer", "--kind", "ttd"][..],
        &["pki", "rollover"],
        &["pki", "issue-signer", "--kind", "ttd"],
    ] {
        let run = travdoc_with(&data, args, &env);
        assert_eq!(
            run.code, 0,
            "travdoc {args:?}: {}{}",
            run.stdout, run.stderr
        );
    }
    // The same person again is held by the checks before issuance (a valid, unused TTD):
    // nothing is issued, and the error names the hit.
    let new = dir.path().join("new");
    let held = travdoc(
        &data,
        &["ttd", "issue", "--request", s(&request), "--out", s(&new)],
    );
    assert_eq!(held.code, 2, "{}{}", held.stdout, held.stderr);
    assert!(
        held.stderr.contains("on hold") && held.stderr.contains("ACTIVE_TTD"),
        "{}",
        held.stderr
    );
    assert!(!new.exists());
    // Another person's TTD is signed by the new signer.
    let mut other = ttd_request(&days_from_today(90));
    other["given_names"] = "Kamal Kumar".into();
    other["nic"] = "198507401235".into();
    let other = write_json(&dir.path().join("other.json"), &other);
    ok(
        &data,
        &["ttd", "issue", "--request", s(&other), "--out", s(&new)],
    );
    let serial = |dir: &Path| -> String {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
                .expect("JSON");
        manifest["signer_certificate_serial"]
            .as_str()
            .expect("serial")
            .to_owned()
    };
    assert_ne!(
        serial(&old),
        serial(&new),
        "a new signer signed the new TTD"
    );
    for issued in [&old, &new] {
        let (code, result) = verify_json(
            &data,
            &[
                s(&issued.join("seal.bin")),
                "--printed-mrz",
                s(&issued.join("mrz.txt")),
            ],
        );
        assert_eq!(
            (code, result["status"].as_str()),
            (0, Some("VALID")),
            "{result}"
        );
    }
}
