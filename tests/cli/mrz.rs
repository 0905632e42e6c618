//! `travdoc mrz build|check` and `travdoc demo`, run as the built binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const SPECIMENS: &str = "../shared/vectors/mrz/icao_specimens.json";

fn run(arguments: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .args(arguments)
        .env_remove("TRAVDOC_CONFIG")
        .env("TRAVDOC_DATA_DIR", std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the travdoc binary starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("travdoc finishes")
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{line}: {error}")))
        .collect()
}

const ANNA: &str = r#"{"format":"TD3","document_code":"P","issuing_state":"UTO","surname":"Eriksson","given_names":"Anna María","document_number":"L898902C3","nationality":"UTO","birth_date":"1974-08-12","sex":"F","expiry_date":"2012-04-15","optional_data":"ZE184226B","optional_data_2":""}"#;

#[test]
fn build_writes_one_line_per_input_in_order() {
    let pu = r#"{"format":"TD2","document_code":"PU","issuing_state":"UTO","surname":"Eriksson","given_names":"Anna Maria","document_number":"D23145890","nationality":"UTO","birth_date":"1974-08-12","sex":"F","expiry_date":"2026-06-27"}"#;
    let output = run(&["mrz", "build"], &format!("{ANNA}\n\n{pu}\n"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers = json_lines(&output);
    assert_eq!(answers.len(), 2, "the blank line is skipped");
    assert_eq!(
        answers[0],
        serde_json::json!({"lines": [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
        ]})
    );
    assert_eq!(
        answers[1],
        serde_json::json!({"lines": [
            "PUUTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
            "D231458907UTO7408122F2606277<<<<<<<8"
        ]})
    );
}

#[test]
fn build_reports_errors_per_line_and_exits_1() {
    let too_long = ANNA.replace("L898902C3", "L898902C3X");
    let unknown_state = ANNA.replace(r#""issuing_state":"UTO""#, r#""issuing_state":"QQQ""#);
    let no_surname = ANNA.replace(r#""surname":"Eriksson","#, "");
    let input = format!(
        "{too_long}\nnot json at all\n{ANNA}\n{unknown_state}\n{no_surname}\n{{\"format\":\"TD3\",\"colour\":\"red\"}}\n"
    );
    let output = run(&["mrz", "build"], &input);
    assert_eq!(output.status.code(), Some(1));
    let answers = json_lines(&output);
    assert_eq!(answers.len(), 6);
    let error = |index: usize| {
        (
            answers[index]["error"]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            answers[index]["error"]["field"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        )
    };
    assert_eq!(
        error(0),
        ("document_number_too_long".into(), "document_number".into())
    );
    assert!(
        answers[0]["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("TD3")
    );
    assert_eq!(error(1), ("invalid_json".into(), "json".into()));
    assert!(answers[2]["lines"].is_array());
    assert_eq!(
        error(3),
        ("unknown_country_code".into(), "issuing_state".into())
    );
    assert_eq!(error(4), ("missing_field".into(), "surname".into()));
    assert_eq!(error(5), ("invalid_request".into(), "json".into()));
}

#[test]
fn build_accepts_per_call_transliteration_choices() {
    let muller = ANNA
        .replace("Eriksson", "Müller")
        .replace("Anna María", "Åsa Nuñez");
    let plain = muller.replacen(
        '{',
        r#"{"transliteration":{"umlaut":"A","a_ring":"A","n_tilde":"NXX"},"#,
        1,
    );
    let bad = muller.replacen('{', r#"{"transliteration":{"umlaut":"Q"},"#, 1);
    let output = run(&["mrz", "build"], &format!("{muller}\n{plain}\n{bad}\n"));
    let answers = json_lines(&output);
    assert_eq!(
        answers[0]["lines"][0],
        "P<UTOMUELLER<<AASA<NUNEZ<<<<<<<<<<<<<<<<<<<<"
    );
    assert_eq!(
        answers[1]["lines"][0],
        "P<UTOMULLER<<ASA<NUNXXEZ<<<<<<<<<<<<<<<<<<<<"
    );
    assert_eq!(answers[2]["error"]["code"], "invalid_option");
    assert_eq!(output.status.code(), Some(1));
}

fn specimen_blocks() -> Vec<String> {
    let text = std::fs::read_to_string(SPECIMENS).expect("shared vectors present");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|entry| {
            entry["lines"]
                .as_array()
                .expect("lines")
                .iter()
                .map(|line| line.as_str().expect("line").to_owned())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

#[test]
fn check_json_accepts_every_specimen() {
    let blocks = specimen_blocks();
    let output = run(
        &["mrz", "check", "--json"],
        &format!("  {}\n", blocks.join("\n\n")),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let reports = json_lines(&output);
    assert_eq!(reports.len(), blocks.len());
    for report in &reports {
        assert_eq!(report["valid"], true, "{report}");
        assert!(
            report["checks"]
                .as_array()
                .is_some_and(|checks| !checks.is_empty())
        );
    }
    assert_eq!(reports[0]["format"], "TD3");
    assert_eq!(reports[0]["fields"]["primary_identifier"], "ERIKSSON");
    assert_eq!(reports[1]["format"], "TD1");
    assert_eq!(reports[3]["format"], "MRV-A");
    assert_eq!(reports[4]["format"], "MRV-B");
}

#[test]
fn check_reports_failed_check_digits_and_exits_1() {
    let tampered = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<11";
    let blocks = specimen_blocks();
    let input = format!("{}\n\n{tampered}\n\nGARBAGE\n", blocks[0]);
    let output = run(&["mrz", "check", "--json"], &input);
    assert_eq!(output.status.code(), Some(1));
    let reports = json_lines(&output);
    assert_eq!(reports.len(), 3);
    assert_eq!(reports[0]["valid"], true);
    assert_eq!(reports[1]["valid"], false);
    assert_eq!(
        reports[1]["failed_checks"],
        serde_json::json!(["composite"])
    );
    assert_eq!(reports[2]["valid"], false);
    assert_eq!(reports[2]["problems"][0]["code"], "invalid_line_count");

    let text = run(&["mrz", "check"], tampered);
    assert_eq!(text.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("TD3"), "{stdout}");
    assert!(
        stdout.contains("FAILED check digit composite: found 1, expected 0"),
        "{stdout}"
    );
    assert!(stdout.contains("ERIKSSON"), "{stdout}");

    let good = run(&["mrz", "check"], &blocks[1]);
    assert!(good.status.success());
    assert!(String::from_utf8_lossy(&good.stdout).contains("all 4 check digits pass"));
}

#[test]
fn demo_builds_and_verifies_a_specimen_for_the_configured_country() {
    let output = Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .arg("demo")
        .env_remove("TRAVDOC_CONFIG")
        .env("TRAVDOC_DATA_DIR", std::env::temp_dir())
        .output()
        .expect("demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The default country is LKA.
    assert!(stdout.contains("PPLKAERIKSSON<<ANNA<MARIA"), "{stdout}");
    assert!(stdout.contains("valid"), "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");
}
