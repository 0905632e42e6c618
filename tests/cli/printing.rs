//! Secure printing end to end on a real IPP Everywhere printer (`ippeveprinter`, started here
//! through scripts/ipp-test-printer.sh on a free port; the test fails if it cannot start): blank
//! stock, a job that fails while the printer is down and succeeds once it is back with one blank
//! consumed (not two), a reprint that needs a reason and spoils the replaced blank, and the
//! ledger entries of all of it.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::documents::{Run, days_from_today, s, travdoc_with, ttd_request, write_json};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/ipp-test-printer.sh");

struct Printer {
    port: u16,
    spool: PathBuf,
}

impl Printer {
    fn run(&self, action: &str) {
        let output = Command::new("bash")
            .arg(SCRIPT)
            .arg(action)
            .arg(self.port.to_string())
            .arg(&self.spool)
            .output()
            .expect("run ipp-test-printer.sh");
        assert!(
            output.status.success(),
            "ipp-test-printer.sh {action}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Printer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(SCRIPT)
            .arg("stop")
            .arg(self.port.to_string())
            .arg(&self.spool)
            .output();
    }
}

fn stock(data: &Path, env: &[(&str, &str)]) -> Vec<(String, i64)> {
    let run = travdoc_with(data, &["stock", "list", "--json"], env);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    lines
        .as_array()
        .expect("array")
        .iter()
        .map(|line| {
            (
                line["state"].as_str().unwrap_or_default().to_owned(),
                line["count"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

fn ok(run: Run, what: &str) -> String {
    assert_eq!(run.code, 0, "{what}: {}{}", run.stdout, run.stderr);
    run.stdout
}

#[test]
fn print_on_blank_stock_survives_a_printer_outage_and_reprints_spoil_the_old_blank() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("var");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let printer = Printer {
        port,
        spool: dir.path().join("spool"),
    };
    std::fs::create_dir_all(&printer.spool).expect("spool dir");
    let profiles = dir.path().join("profiles");
    std::fs::create_dir_all(&profiles).expect("profiles dir");
    std::fs::write(
        profiles.join("mission-kwi.toml"),
        format!(
            "name = \"mission-kwi\"\ndriver = \"ipp\"\nuri = \"ipp://localhost:{port}/ipp/print\"\n\
             media = \"iso_a4_210x297mm\"\ndpi = 600\noffset_x_mm = 0.0\noffset_y_mm = 0.0\n\
             templates = [\"ttd-sheet\", \"legalization-certificate\"]\n"
        ),
    )
    .expect("profile");
    let profiles_text = s(&profiles).to_owned();
    let env = [("TRAVDOC_PRINTER_PROFILES", profiles_text.as_str())];
    let run = |args: &[&str]| travdoc_with(&data, args, &env);

    let request = write_json(
        &dir.path().join("ttd.json"),
        &ttd_request(&days_from_today(30)),
    );
    let out = dir.path().join("ttd");
    ok(
        run(&["ttd", "issue", "--request", s(&request), "--out", s(&out)]),
        "ttd issue",
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    let number = manifest["document_number"]
        .as_str()
        .expect("number")
        .to_owned();
    ok(
        run(&[
            "stock",
            "add",
            "--type",
            "ttd",
            "--location",
            "KWI",
            "--from",
            "KWI-T000001",
            "--to",
            "KWI-T000005",
        ]),
        "stock add",
    );
    // Overlapping batches are refused whole, naming the field.
    let overlap = run(&[
        "stock",
        "add",
        "--type",
        "ttd",
        "--location",
        "KWI",
        "--from",
        "KWI-T000005",
        "--to",
        "KWI-T000009",
    ]);
    assert_eq!(overlap.code, 2);
    assert!(overlap.stderr.contains("`from`"), "{}", overlap.stderr);
    assert_eq!(stock(&data, &env), vec![("available".to_owned(), 5)]);

    // The printer is down: a clear failure, no blank consumed, printers check says so.
    let down = run(&["print", "--document", &number, "--printer", "mission-kwi"]);
    assert_eq!(down.code, 2, "{}{}", down.stdout, down.stderr);
    assert!(down.stderr.contains("failed"), "{}", down.stderr);
    assert_eq!(stock(&data, &env), vec![("available".to_owned(), 5)]);
    assert_eq!(run(&["printers", "check"]).code, 1);

    // Back up: the retry prints on one blank.
    printer.run("start");
    let check = ok(run(&["printers", "check", "--json"]), "printers check");
    let check: serde_json::Value = serde_json::from_str(&check).expect("JSON");
    assert_eq!(check["mission-kwi"]["reachable"], true, "{check}");
    let job: serde_json::Value = serde_json::from_str(&ok(
        run(&["print", "--document", &number, "--printer", "mission-kwi"]),
        "print",
    ))
    .expect("JSON");
    // ippeveprinter reports the job completed; a slower printer may leave it `sent`.
    assert!(
        job["state"] == "completed" || job["state"] == "sent",
        "{job}"
    );
    assert_eq!(job["attempt"], 2, "the failed try was attempt 1: {job}");
    assert_eq!(job["blank_serial"], "KWI-T000001", "{job}");
    assert_eq!(
        stock(&data, &env),
        vec![("available".to_owned(), 4), ("used".to_owned(), 1)]
    );

    // A second print is a reprint: it needs a reason, and spoils the first blank.
    let again = run(&["print", "--document", &number, "--printer", "mission-kwi"]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("`reprint_reason`"),
        "{}",
        again.stderr
    );
    let reprint: serde_json::Value = serde_json::from_str(&ok(
        run(&[
            "print",
            "--document",
            &number,
            "--printer",
            "mission-kwi",
            "--reprint-reason",
            "paper jam",
        ]),
        "reprint",
    ))
    .expect("JSON");
    assert_eq!(reprint["blank_serial"], "KWI-T000002", "{reprint}");
    assert_eq!(
        stock(&data, &env),
        vec![
            ("available".to_owned(), 3),
            ("spoiled".to_owned(), 1),
            ("used".to_owned(), 1)
        ]
    );

    // The printer spooled two PDFs; every act is in the ledger, which verifies.
    let spooled = std::fs::read_dir(&printer.spool)
        .expect("spool")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".pdf"))
        .count();
    assert_eq!(spooled, 2);
    let export = ok(run(&["ledger", "export"]), "ledger export");
    let events: Vec<serde_json::Value> = export
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|entry| entry["entry"]["event"].clone())
        .collect();
    let statuses: Vec<&str> = events
        .iter()
        .filter(|event| event["kind"] == "print_job")
        .filter_map(|event| event["status"].as_str())
        .collect();
    assert_eq!(statuses.len(), 3, "{events:?}");
    assert_eq!(statuses[0], "failed");
    assert!(
        statuses[1..]
            .iter()
            .all(|s| *s == "completed" || *s == "sent"),
        "{statuses:?}"
    );
    assert!(events.iter().any(|e| e["kind"] == "reprint"
        && e["reason"] == "paper jam"
        && e["previous_blank_serial"] == "KWI-T000001"));
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "blank_spoiled" && e["blank_serial"] == "KWI-T000001")
    );
    assert!(ok(run(&["ledger", "verify"]), "ledger verify").contains("ledger OK"));
}
