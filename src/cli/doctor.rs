//! `travdoc doctor [--json]`: is this deployment healthy? One line per check, `ok`, `warn` or
//! `fail` with what to do; exit 1 on any fail. It reads, never changes: the database is opened
//! read-only for its migrations and only connected to when they are current, the PKI is opened
//! without being created, nothing is printed on the printers.
//!
//! Checks: configuration; data dir and its free space; database reachable and migrations
//! current; HSM module, token and the current signers' keys; CSCA key not on the online token;
//! certificates, key-usage periods and CRLs against their warning windows; the audit ledger
//! against its hashes and checkpoints; every configured printer reachable.

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use super::Context;
use travdoc_pki::SignerKind;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// One check's line.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub status: Status,
    pub detail: String,
    /// What to do about a warn or a fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

fn ok(check: &'static str, detail: impl Into<String>) -> Check {
    Check {
        check,
        status: Status::Ok,
        detail: detail.into(),
        action: None,
    }
}

fn warn(check: &'static str, detail: impl Into<String>, action: impl Into<String>) -> Check {
    Check {
        check,
        status: Status::Warn,
        detail: detail.into(),
        action: Some(action.into()),
    }
}

fn fail(check: &'static str, detail: impl Into<String>, action: impl Into<String>) -> Check {
    Check {
        check,
        status: Status::Fail,
        detail: detail.into(),
        action: Some(action.into()),
    }
}

/// Free space below this warns; below a tenth of it fails.
const LOW_SPACE_BYTES: u64 = 1 << 30;

/// Runs every check and prints them.
pub fn run(context: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let checks = checks(context)?;
    print(&checks, json)
}

/// The line of a configuration that does not parse (the other checks need it).
pub fn config_failed(error: &anyhow::Error, json: bool) -> ExitCode {
    let checks = vec![fail(
        "config",
        format!("{error:#}"),
        "fix the configuration file or the TRAVDOC_* variable named",
    )];
    print(&checks, json).unwrap_or(ExitCode::from(1))
}

fn print(checks: &[Check], json: bool) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(checks)?);
    } else {
        for check in checks {
            let status = match check.status {
                Status::Ok => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "fail",
            };
            match &check.action {
                Some(action) => {
                    println!("{status} {:<10} {} -> {action}", check.check, check.detail)
                }
                None => println!("{status} {:<10} {}", check.check, check.detail),
            }
        }
    }
    Ok(if checks.iter().any(|check| check.status == Status::Fail) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn checks(context: &Context) -> anyhow::Result<Vec<Check>> {
    let config = &context.config;
    let mut checks = vec![ok(
        "config",
        format!(
            "parsed: country {}, data dir {}, {} database",
            config.country,
            config.data_dir.display(),
            if config.database_url().starts_with("postgres") {
                "PostgreSQL"
            } else {
                "SQLite"
            }
        ),
    )];
    let data_dir = &config.data_dir;
    if !data_dir.is_dir() {
        checks.push(fail(
            "data_dir",
            format!("{} does not exist", data_dir.display()),
            "run `travdoc pki init` (or scripts/run.sh) to create it, or give --data-dir",
        ));
        return Ok(checks);
    }
    checks.push(disk_space(data_dir));
    // The embedded SoftHSM2 token needs its configuration in the environment before any
    // thread starts (this may re-execute the process).
    if let Err(error) = crate::compose::prepare_process(config) {
        checks.push(fail(
            "hsm",
            format!("{error:#}"),
            "check [hsm] module and token in the configuration",
        ));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let database_ok = runtime.block_on(database(config, &mut checks));
    if !database_ok {
        return Ok(checks);
    }
    let pki = pki(config, &mut checks);
    runtime.block_on(ledger(config, &mut checks));
    runtime.block_on(printers(config, &mut checks));
    drop(pki);
    Ok(checks)
}

fn disk_space(data_dir: &Path) -> Check {
    match rustix::fs::statvfs(data_dir) {
        Ok(stats) => {
            let free = stats.f_bavail.saturating_mul(stats.f_frsize);
            let detail = format!("{} MiB free in {}", free >> 20, data_dir.display());
            if free < LOW_SPACE_BYTES / 10 {
                fail(
                    "disk",
                    detail,
                    "free space now: SQLite and the ledger stop when the disk is full",
                )
            } else if free < LOW_SPACE_BYTES {
                warn("disk", detail, "free space or move the data dir soon")
            } else {
                ok("disk", detail)
            }
        }
        Err(error) => fail(
            "disk",
            format!("cannot read {}: {error}", data_dir.display()),
            "check the data dir's permissions",
        ),
    }
}

/// Reachable, and every migration of this build applied; whether the rest may use it.
async fn database(config: &crate::config::Config, checks: &mut Vec<Check>) -> bool {
    let url = config.database_url();
    let shown = crate::db::redact(&url);
    match travdoc_store::migration_state(&url).await {
        Ok(state) => {
            let pending = state.pending();
            let unknown = state.unknown();
            if !unknown.is_empty() {
                checks.push(fail(
                    "database",
                    format!("{shown}: migrations {unknown:?} are from a newer travdoc"),
                    "run the newer travdoc, or restore the backup made before its upgrade",
                ));
                false
            } else if !pending.is_empty() {
                checks.push(warn(
                    "database",
                    format!(
                        "{shown}: {} of {} migrations applied, pending {pending:?}",
                        state.applied.len(),
                        state.known.len()
                    ),
                    "start `travdoc serve` (it applies them) after a backup",
                ));
                false
            } else {
                checks.push(ok(
                    "database",
                    format!(
                        "{shown}: reachable, {} migrations current",
                        state.known.len()
                    ),
                ));
                true
            }
        }
        Err(error) => {
            checks.push(fail(
                "database",
                format!("{shown}: {error}"),
                "start the database or fix database_url / DATABASE_URL",
            ));
            false
        }
    }
}

/// The HSM, the signers and the PKI's deadlines.
fn pki(config: &crate::config::Config, checks: &mut Vec<Check>) -> Option<travdoc_pki::Pki> {
    let pki = match crate::compose::pki_over_database(config, &config.pki_options()) {
        Ok(pki) => pki,
        Err(error) => {
            checks.push(fail(
                "hsm",
                format!("{error:#}"),
                "check that the PKCS#11 module loads and the token and its PIN are there",
            ));
            return None;
        }
    };
    checks.push(ok(
        "hsm",
        format!(
            "module {} loads, token `{}` open",
            config.hsm.module.display(),
            config.hsm.token_label
        ),
    ));
    match pki.online_csca_keys() {
        Ok(keys) if keys.is_empty() => {
            checks.push(ok("csca", "no CSCA private key on the online token"));
        }
        Ok(keys) if config.pki.allow_online_csca => checks.push(warn(
            "csca",
            format!("the online token holds CSCA keys ({})", keys.join(", ")),
            "move the CSCA to its own token (docs/pki-operations.md)",
        )),
        Ok(keys) => checks.push(fail(
            "csca",
            format!("the online token holds CSCA keys ({})", keys.join(", ")),
            "`serve` refuses to start: roll the CSCA over to its own token",
        )),
        Err(error) => checks.push(fail("csca", error.to_string(), "check the online token")),
    }
    for kind in SignerKind::ALL {
        match pki.signer(kind) {
            Ok(signer) => {
                let present = signer.signer.sign_digest_raw(&vec![
                    0x5A;
                    signer
                        .signer
                        .algorithm()
                        .hash()
                        .output_len()
                ]);
                match present {
                    Ok(_) => checks.push(ok(
                        "signer",
                        format!(
                            "{kind}: certificate {} current, its key signs",
                            signer.serial_hex
                        ),
                    )),
                    Err(error) => checks.push(fail(
                        "signer",
                        format!("{kind}: certificate {}: {error}", signer.serial_hex),
                        "the key is missing from the token: restore the token from its backup \
                         or issue a new signer (`travdoc pki signer request`)",
                    )),
                }
            }
            Err(error) => checks.push(fail(
                "signer",
                format!("{kind}: {error}"),
                "issue a signer of this kind (`travdoc pki signer request`, then the ceremony)",
            )),
        }
    }
    match pki.attention() {
        Ok(attention) if attention.is_empty() => checks.push(ok(
            "pki",
            "certificates, key-usage periods and CRLs outside their warning windows",
        )),
        Ok(attention) => {
            for item in attention {
                if item.ends_with("is past") {
                    checks.push(fail(
                        "pki",
                        item,
                        "issue a new CRL or signer now (docs/pki-operations.md)",
                    ));
                } else {
                    checks.push(warn(
                        "pki",
                        item,
                        "renew it before then (serve renews CRLs itself while it runs)",
                    ));
                }
            }
        }
        Err(error) => checks.push(fail("pki", error.to_string(), "check the PKI state")),
    }
    Some(pki)
}

async fn ledger(config: &crate::config::Config, checks: &mut Vec<Check>) {
    let store = match travdoc_store::Store::connect(&config.database_url()).await {
        Ok(store) => store,
        Err(error) => {
            checks.push(fail(
                "ledger",
                error.to_string(),
                "start the database or fix database_url",
            ));
            return;
        }
    };
    match travdoc_store::ledger::verify(&store, &[], &mut |_, _| {}).await {
        Ok(report) if report.is_ok() => checks.push(ok(
            "ledger",
            format!(
                "{} entries, root {}, {} checkpoints consistent",
                report.entries,
                hex::encode(report.root),
                report.checkpoints
            ),
        )),
        Ok(report) => checks.push(fail(
            "ledger",
            {
                let first = report
                    .problems
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                match report.first_bad_index() {
                    Some(index) => format!("TAMPERED: first bad entry {index} ({first})"),
                    None => format!("TAMPERED: {first}"),
                }
            },
            "stop issuing, keep the database as it is, and compare with the last backup and \
             the checkpoints published (`travdoc ledger verify`)",
        )),
        Err(error) => checks.push(fail(
            "ledger",
            error.to_string(),
            "run `travdoc ledger verify` for details",
        )),
    }
    store.close().await;
}

async fn printers(config: &crate::config::Config, checks: &mut Vec<Check>) {
    let printers = match crate::compose::printers_of(config) {
        Ok(printers) => printers,
        Err(error) => {
            checks.push(fail(
                "printer",
                format!("{error:#}"),
                "fix the printer profiles (TRAVDOC_PRINTER_PROFILES)",
            ));
            return;
        }
    };
    for (name, answer) in printers.check().await {
        match answer {
            Ok(status) => {
                let accepting = status["accepting_jobs"].as_bool().unwrap_or(true);
                let state = status["state"].as_str().unwrap_or("").to_owned();
                if accepting && state != "stopped" {
                    checks.push(ok(
                        "printer",
                        format!("{name}: reachable{}", described(&state)),
                    ));
                } else {
                    checks.push(warn(
                        "printer",
                        format!(
                            "{name}: reachable but not accepting jobs{}",
                            described(&state)
                        ),
                        "look at the printer (paper, cover, queue paused)",
                    ));
                }
            }
            Err(error) => checks.push(fail(
                "printer",
                format!("{name}: {error}"),
                "switch the printer on, check its network address in its profile",
            )),
        }
    }
}

fn described(state: &str) -> String {
    if state.is_empty() {
        String::new()
    } else {
        format!(" ({state})")
    }
}
