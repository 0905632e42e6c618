//! The README's first-hour tour, its API part run as written (the shell block between
//! `<!-- tour:begin -->` and `<!-- tour:end -->`) against `travdoc serve` on a fresh data dir:
//! users, a TTD requested, approved, issued, printed to the folder printer, and verified from
//! its seal and from the printed page's barcode.

use crate::common::{Server, TestResult};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_tour_runs_as_written() -> TestResult {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))?;
    let start = readme
        .find("<!-- tour:begin -->")
        .ok_or("no tour in the README")?;
    let end = readme
        .find("<!-- tour:end -->")
        .ok_or("no end of the tour")?;
    let block = readme[start..end]
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(script, _)| script.to_owned())
        .ok_or("no sh block in the tour")?;

    let server = Server::start()?;
    let work = tempfile::tempdir()?;
    let script = work.path().join("tour.sh");
    std::fs::write(&script, &block)?;
    let mut command = std::process::Command::new("bash");
    command
        .arg("-euo")
        .arg("pipefail")
        .arg(&script)
        .current_dir(work.path())
        .env("URL", &server.url)
        .env("TRAVDOC", env!("CARGO_BIN_EXE_travdoc"))
        .env("DATA", &server.data_dir)
        .env_remove("SOFTHSM2_CONF")
        .env_remove("TRAVDOC_OPERATOR_TOKEN")
        .env_remove("DATABASE_URL");
    for (key, value) in &server.env {
        command.env(key, value);
    }
    let output = command.output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.contains(&"approved"), "{stdout}");
    assert!(lines.contains(&"completed"), "{stdout}");
    assert_eq!(
        lines.iter().filter(|line| **line == "VALID").count(),
        2,
        "the seal and the scanned page: {stdout}\n{stderr}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("PULKAPERERA<<NIMAL<KUMAR")),
        "{stdout}"
    );
    Ok(())
}
