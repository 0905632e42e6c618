//! `travdoc pki ...`: the country PKI (CSCA, signers, CRL, rollover, master list, export). Each
//! command calls `travdoc_pki::Pki`, the same library the service uses.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use travdoc_pki::{Pki, RevocationReason, SignerKind};

use super::Context;

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create the token, the CSCA and one signer of each kind (idempotent); print fingerprints.
    Init {
        /// ICAO three-letter code of the issuing state (default: the configured country).
        #[arg(long)]
        country: Option<String>,
    },
    /// Keys, certificates, expiry and key-usage periods, with warnings ahead of expiry.
    Status {
        /// One JSON object: `certificates` (role, serial, token, key label, state, not_after,
        /// key_usage_end, revoked), `crls` (number, this_update, next_update), `warnings`.
        #[arg(long)]
        json: bool,
    },
    /// Issue a new signer (new key in the HSM) under the current CSCA.
    IssueSigner {
        /// passport | ttd | legalization | master-list | ledger
        #[arg(long)]
        kind: SignerKind,
    },
    /// Revoke a signer certificate by serial (hex); a new CRL is issued at once.
    Revoke {
        /// Certificate serial number, hex.
        serial: String,
        /// unspecified | key-compromise | ca-compromise | affiliation-changed | superseded |
        /// cessation-of-operation
        #[arg(long)]
        reason: RevocationReason,
    },
    /// Issue a fresh CRL for every valid CSCA (a ceremony); optionally write the current one to
    /// a file. `pki crl import FILE` records a CRL a ceremony issued elsewhere.
    Crl {
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(subcommand)]
        import: Option<CrlCommand>,
    },
    /// A signer key in two steps around the ceremony: `request` (new key on the online token and
    /// its PKCS#10 request) and `import` (the ceremony's certificate makes it current).
    Signer {
        #[command(subcommand)]
        step: SignerCommand,
    },
    /// The acts with the CSCA key, held by two operators on the CSCA token.
    Ceremony {
        #[command(subcommand)]
        act: CeremonyCommand,
    },
    /// CSCA rollover: new CSCA key, link certificate, new CRL, master-list signer and master list.
    Rollover,
    /// Write every public artifact as DER into DIR (csca.der, link-*.der, signer-<kind>.der,
    /// crl.der, masterlist.der).
    /// With `--pkd`, also the ICAO PKD download LDIF files (icaopkd-001-dsccrl-<ICAO>.ldif:
    /// every signer certificate and CRL; icaopkd-002-ml-<ICAO>.ldif: the master list).
    Export {
        dir: PathBuf,
        #[arg(long)]
        pkd: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CrlCommand {
    /// Record a CRL issued by `pki ceremony crl` (checked against the CSCAs).
    Import { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum SignerCommand {
    /// A new signer key on the online token and its certification request (PKCS#10, DER).
    Request {
        /// passport | ttd | legalization | master-list | ledger
        #[arg(long)]
        kind: SignerKind,
        #[arg(long)]
        out: PathBuf,
    },
    /// The certificate `pki ceremony sign` issued: its key becomes the current signer.
    Import { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum CeremonyCommand {
    /// Issue, with the CSCA key, the certificate a `pki signer request` asked for.
    Sign {
        request: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Issue a fresh CRL for every valid CSCA and write the current one.
    Crl {
        #[arg(long)]
        out: PathBuf,
    },
}

fn date(seconds: u64) -> String {
    match der::DateTime::from_unix_duration(std::time::Duration::from_secs(seconds)) {
        Ok(time) => format!("{:04}-{:02}-{:02}", time.year(), time.month(), time.day()),
        Err(_) => format!("@{seconds}"),
    }
}

pub fn run(context: &Context, command: &PkiCommand) -> anyhow::Result<ExitCode> {
    let mut options = context.config.pki_options();
    if let PkiCommand::Init {
        country: Some(country),
    } = command
    {
        options.country = country.clone();
    }
    // Only `pki init` makes missing tokens: another command that cannot find its token fails
    // rather than making a new, empty one under the same label.
    options.create_tokens = matches!(command, PkiCommand::Init { .. });
    // The acts that sign with the CSCA key open its token; reading and exporting do not.
    options.open_csca = matches!(
        command,
        PkiCommand::Init { .. }
            | PkiCommand::IssueSigner { .. }
            | PkiCommand::Revoke { .. }
            | PkiCommand::Crl { import: None, .. }
            | PkiCommand::Rollover
            | PkiCommand::Ceremony { .. }
    );
    // The embedded SoftHSM2 needs SOFTHSM2_CONF before the module loads: this may re-execute.
    crate::compose::prepare_process(&context.config)?;
    let ceremony = match command {
        PkiCommand::IssueSigner { .. } => Some("issue-signer"),
        PkiCommand::Revoke { .. } => Some("revoke"),
        PkiCommand::Crl { import: None, .. } => Some("crl"),
        PkiCommand::Rollover => Some("rollover"),
        PkiCommand::Ceremony {
            act: CeremonyCommand::Sign { .. },
        } => Some("sign"),
        PkiCommand::Ceremony {
            act: CeremonyCommand::Crl { .. },
        } => Some("crl"),
        _ => None,
    };
    let operators = match ceremony {
        Some(act) => Some(two_operators(context, act)?),
        None => None,
    };
    let witness = ceremony
        .zip(operators.as_ref())
        .map(|(act, [first, second])| (act, [first.id.as_str(), second.id.as_str()]));
    let pki = crate::compose::pki_witnessed(&context.config, &options, witness)?;
    let code = act(&pki, command)?;
    if let Some([first, second]) = &operators {
        println!(
            "ceremony held by {} and {} (recorded in the audit ledger)",
            first.name, second.name
        );
    }
    // Events journalled by an earlier version (before the PKI lived in the database).
    record_in_ledger(context);
    Ok(code)
}

/// The two operators a ceremony needs: two different administrators, each by an API token
/// (`TRAVDOC_OPERATOR_TOKEN` and `TRAVDOC_SECOND_OPERATOR_TOKEN`, or typed at the terminal
/// without echo), checked against the user store.
fn two_operators(context: &Context, act: &str) -> anyhow::Result<[crate::auth::Actor; 2]> {
    use std::io::IsTerminal as _;
    let token = |variable: &str, who: &str| -> anyhow::Result<String> {
        if let Ok(value) = std::env::var(variable)
            && !value.trim().is_empty()
        {
            return Ok(value.trim().to_owned());
        }
        if !std::io::stdin().is_terminal() {
            anyhow::bail!(
                "`pki {act}` is a ceremony held by two operators: set {variable} to the {who} \
                 operator's token (and the other variable to the other's), or run it at a terminal"
            );
        }
        let typed =
            rpassword::prompt_password(format!("{who} operator's token for `pki {act}`: "))?;
        Ok(typed.trim().to_owned())
    };
    let first = token("TRAVDOC_OPERATOR_TOKEN", "first")?;
    let second = token("TRAVDOC_SECOND_OPERATOR_TOKEN", "second")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let url = context.config.database_url();
    let (first, second) = runtime.block_on(async {
        let db = crate::issuance::Db::open(&url, 1).await?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let first = crate::auth::authenticate(&db, &first, now).await;
        let second = crate::auth::authenticate(&db, &second, now).await;
        db.close().await;
        anyhow::Ok((first?, second?))
    })?;
    let check = |actor: Option<crate::auth::Actor>, which: &str| -> anyhow::Result<_> {
        let actor = actor.ok_or_else(|| {
            anyhow::anyhow!("the {which} operator's token is not a valid token of an enabled user")
        })?;
        if actor.role != crate::auth::Role::Admin || !actor.granted {
            anyhow::bail!(
                "the {which} operator `{}` is {}, not an administrator: a PKI ceremony takes two administrators",
                actor.name,
                actor.role
            );
        }
        Ok(actor)
    };
    let first = check(first, "first")?;
    let second = check(second, "second")?;
    if first.id == second.id {
        anyhow::bail!(
            "both tokens are `{}`'s: a PKI ceremony takes two different operators",
            first.name
        );
    }
    Ok([first, second])
}

/// Moves the PKI events this command journalled into the audit ledger. When the database is
/// unreachable they stay journalled and the next command or `travdoc serve` records them.
fn record_in_ledger(context: &Context) {
    let moved = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| {
            runtime.block_on(async {
                let url = context.config.database_url();
                let store = travdoc_store::Store::connect(&url).await?;
                let moved =
                    crate::issuance::pki_events::drain(&context.config.data_dir, &store).await;
                store.close().await;
                Ok(moved?)
            })
        });
    match moved {
        Ok(0) => {}
        Ok(count) => println!("{count} PKI events recorded in the audit ledger"),
        Err(error) => eprintln!(
            "warning: PKI events kept in {} for the ledger: {error:#}",
            crate::issuance::pki_events::journal_path(&context.config.data_dir).display()
        ),
    }
}

/// `pki status --json`.
fn status_json(status: &travdoc_pki::PkiStatus) -> serde_json::Value {
    let certificates: Vec<serde_json::Value> = status
        .entries
        .iter()
        .map(|entry| {
            serde_json::json!({
                "role": entry.role,
                "serial": entry.serial_hex,
                "subject": entry.subject,
                "sha256": entry.fingerprint_sha256,
                "token": entry.key.as_ref().map(|key| key.token_label.clone()),
                "key_label": entry.key.as_ref().map(|key| key.key_label.clone()),
                "key_present": entry.key_present,
                "state": entry.state.as_str(),
                "not_after": crate::issuance::rfc3339_unix(entry.not_after),
                "key_usage_end": entry.key.as_ref().map(|_| crate::issuance::rfc3339_unix(entry.key_usage_not_after)),
                "revoked": entry.revocation.as_ref().map(|revocation| serde_json::json!({
                    "reason": revocation.reason.to_string(),
                    "date": crate::issuance::rfc3339_unix(revocation.at),
                })),
                "warnings": entry.warnings,
            })
        })
        .collect();
    let crls: Vec<serde_json::Value> = status
        .crls
        .iter()
        .map(|crl| {
            serde_json::json!({
                "csca_generation": crl.csca_generation,
                "number": crl.number,
                "this_update": crate::issuance::rfc3339_unix(crl.this_update),
                "next_update": crate::issuance::rfc3339_unix(crl.next_update),
            })
        })
        .collect();
    serde_json::json!({
        "country": status.country,
        "test": status.test,
        "token": status.token_label,
        "certificates": certificates,
        "crls": crls,
        "warnings": status.warnings,
    })
}

fn act(pki: &Pki, command: &PkiCommand) -> anyhow::Result<ExitCode> {
    match command {
        PkiCommand::Init { .. } => {
            let report = pki.init()?;
            if report.created.is_empty() && !report.crl_issued && !report.master_list_issued {
                println!(
                    "PKI for {} already initialised; nothing changed",
                    pki.country().icao()
                );
            }
            for (role, serial, fingerprint) in &report.created {
                println!("created {role:<13} serial {serial:<6} sha256 {fingerprint}");
            }
            let status = pki.status()?;
            println!(
                "current certificates (token `{}`{}):",
                status.token_label,
                if status.test { ", TEST PKI" } else { "" }
            );
            for entry in status.entries.iter().filter(|entry| entry.current) {
                println!(
                    "  {:<13} serial {:<6} sha256 {}",
                    entry.role, entry.serial_hex, entry.fingerprint_sha256
                );
            }
        }
        PkiCommand::Status { json } => {
            let status = pki.status()?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&status_json(&status))?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "country {}{}, token `{}`",
                status.country,
                if status.test { " (TEST PKI)" } else { "" },
                status.token_label
            );
            println!(
                "{:<13} {:<6} {:<8} {:<11} {:<11} {:<5} {:<24} subject",
                "role", "serial", "state", "key-use-end", "cert-end", "key", "revoked"
            );
            for entry in &status.entries {
                let state = entry.state.as_str();
                let key = match entry.key_present {
                    Some(true) => "ok",
                    Some(false) => "GONE",
                    None => "-",
                };
                let revoked = entry
                    .revocation
                    .as_ref()
                    .map(|revocation| format!("{} {}", date(revocation.at), revocation.reason))
                    .unwrap_or_default();
                println!(
                    "{:<13} {:<6} {:<8} {:<11} {:<11} {:<5} {:<24} {}",
                    entry.role,
                    entry.serial_hex,
                    state,
                    date(entry.key_usage_not_after),
                    date(entry.not_after),
                    key,
                    revoked,
                    entry.subject
                );
                for warning in &entry.warnings {
                    println!("  warning: {warning}");
                }
            }
            for crl in &status.crls {
                println!(
                    "CRL {} of CSCA g{}: thisUpdate {}, nextUpdate {}",
                    crl.number,
                    crl.csca_generation,
                    date(crl.this_update),
                    date(crl.next_update)
                );
            }
            for warning in &status.warnings {
                println!("warning: {warning}");
            }
            if status.warnings.is_empty()
                && status.entries.iter().all(|entry| entry.warnings.is_empty())
            {
                println!("no warnings");
            }
        }
        PkiCommand::IssueSigner { kind } => {
            let issued = pki.issue_signer(*kind)?;
            let fingerprint = travdoc_hex_sha256(&issued.certificate_der);
            println!(
                "issued {kind} signer serial {} sha256 {fingerprint}",
                issued.serial_hex
            );
            if let Some(identifier) = issued.vds_signer_identifier() {
                println!(
                    "VDS signer identifier {identifier}, certificate reference {}",
                    issued.serial_hex
                );
            }
        }
        PkiCommand::Revoke { serial, reason } => {
            pki.revoke(serial, *reason)?;
            println!("revoked {serial} ({reason}); new CRL issued");
        }
        PkiCommand::Crl {
            import: Some(CrlCommand::Import { file }),
            ..
        } => {
            let der = std::fs::read(file)
                .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
            let number = pki.import_crl(&der)?;
            println!("CRL {number} in force");
        }
        PkiCommand::Signer {
            step: SignerCommand::Request { kind, out },
        } => {
            let request = pki.request_signer(*kind)?;
            std::fs::write(out, &request)?;
            println!(
                "{kind} signer key made on the online token; certification request written to {} \
                 (take it to the CSCA ceremony: `travdoc pki ceremony sign`)",
                out.display()
            );
        }
        PkiCommand::Signer {
            step: SignerCommand::Import { file },
        } => {
            let der = std::fs::read(file)
                .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
            let issued = pki.import_signer(&der)?;
            println!(
                "{} signer serial {} is current (sha256 {})",
                issued.kind,
                issued.serial_hex,
                travdoc_hex_sha256(&issued.certificate_der)
            );
        }
        PkiCommand::Ceremony {
            act: CeremonyCommand::Sign { request, out },
        } => {
            let der = std::fs::read(request)
                .map_err(|error| anyhow::anyhow!("{}: {error}", request.display()))?;
            let certificate = pki.sign_request(&der)?;
            std::fs::write(out, &certificate)?;
            println!(
                "certificate issued, written to {} (sha256 {}); import it with `travdoc pki \
                 signer import`",
                out.display(),
                travdoc_hex_sha256(&certificate)
            );
        }
        PkiCommand::Ceremony {
            act: CeremonyCommand::Crl { out },
        } => {
            let crl = pki.issue_crl()?;
            std::fs::write(out, &crl)?;
            println!("CRL written to {}", out.display());
        }
        PkiCommand::Crl { out, import: None } => {
            let crl = pki.issue_crl()?;
            if let Some(path) = out {
                std::fs::write(path, &crl)?;
                println!("CRL written to {}", path.display());
            } else {
                println!(
                    "CRL issued ({} bytes, sha256 {})",
                    crl.len(),
                    travdoc_hex_sha256(&crl)
                );
            }
        }
        PkiCommand::Rollover => {
            let generation = pki.rollover()?;
            println!("CSCA rolled over to generation {generation}; link certificate issued");
            let status = pki.status()?;
            for entry in status.entries.iter().filter(|entry| entry.current) {
                println!(
                    "  {:<13} serial {:<6} sha256 {}",
                    entry.role, entry.serial_hex, entry.fingerprint_sha256
                );
            }
        }
        PkiCommand::Export { dir, pkd } => {
            for path in pki.export(dir)? {
                println!("{}", path.display());
            }
            if *pkd {
                for path in pki.export_pkd(dir)? {
                    println!("{}", path.display());
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn travdoc_hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
