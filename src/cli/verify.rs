//! `travdoc verify sod EF_SOD.bin [DG files...] [--trust DIR] [--json]`: Passive Authentication
//! over the pure `travdoc-lds` / `travdoc-pkix` crates. Prints every check and the verdict; exits
//! 1 when any check fails. `VerifyCommand` is an enum so other artifacts (seals) join it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use travdoc_lds::{PaOptions, Verdict, passive_authentication};
use travdoc_pkix::TrustStore;
use travdoc_pkix::der::{DecodePem, Encode};
use travdoc_pkix::x509_cert::Certificate;
use travdoc_pkix::x509_cert::crl::CertificateList;

#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Passive Authentication of an EF.SOD and data group files (DG numbers come from their tags).
    Sod(SodArgs),
}

#[derive(Debug, Args)]
pub struct SodArgs {
    /// The EF.SOD file (starts with tag 77).
    pub sod: PathBuf,
    /// Data group files to check against the SOD's hashes.
    pub data_groups: Vec<PathBuf>,
    /// Directory of trust material: *.der/*.cer/*.crt CSCAs, *.crl CRLs, *.ml or masterlist.der master lists.
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Verification time in Unix seconds (default: now).
    #[arg(long)]
    pub at: Option<u64>,
    /// MRZ document code to check against the DSC's DocumentTypeList (default: from DG1).
    #[arg(long)]
    pub document_code: Option<String>,
    /// Fail the revocation check when no CRL from the DSC's issuer is loaded.
    #[arg(long)]
    pub require_crl: bool,
}

pub fn run(command: &VerifyCommand) -> anyhow::Result<ExitCode> {
    match command {
        VerifyCommand::Sod(args) => sod(args),
    }
}

fn sod(args: &SodArgs) -> anyhow::Result<ExitCode> {
    let sod =
        std::fs::read(&args.sod).with_context(|| format!("reading {}", args.sod.display()))?;
    let mut files = Vec::new();
    for path in &args.data_groups {
        files.push(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?);
    }
    let trust = match &args.trust {
        Some(dir) => load_trust(dir)?,
        None => TrustStore::new(),
    };
    let at_unix_seconds = match args.at {
        Some(at) => at,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("system clock before 1970")?
            .as_secs(),
    };
    let options = PaOptions {
        at_unix_seconds,
        document_code: args.document_code.clone(),
        require_crl: args.require_crl,
    };
    let refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    let report = passive_authentication(&sod, &refs, &trust, &options);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for check in &report.checks {
            println!(
                "{:4}  {:<22} {}",
                if check.passed { "ok" } else { "FAIL" },
                check.name,
                check.detail
            );
        }
        println!(
            "verdict: {}",
            if report.verdict == Verdict::Valid {
                "VALID"
            } else {
                "INVALID"
            }
        );
    }
    Ok(if report.verdict == Verdict::Valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Load CSCAs and master lists first, then CRLs (whose signatures are checked against them).
fn load_trust(dir: &Path) -> anyhow::Result<TrustStore> {
    let mut store = TrustStore::new();
    let mut crls = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading trust directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let read = || std::fs::read(&path).with_context(|| format!("reading {}", path.display()));
        if name == "masterlist.der" || extension == "ml" {
            store
                .add_master_list(&read()?)
                .with_context(|| format!("master list {}", path.display()))?;
        } else if matches!(extension.as_str(), "der" | "cer" | "crt") {
            let bytes = read()?;
            let der = if bytes.starts_with(b"-----BEGIN") {
                Certificate::from_pem(&bytes)
                    .with_context(|| format!("certificate {}", path.display()))?
                    .to_der()?
            } else {
                bytes
            };
            store
                .add_csca_der(&der)
                .with_context(|| format!("certificate {}", path.display()))?;
        } else if extension == "crl" {
            let bytes = read()?;
            let der = if bytes.starts_with(b"-----BEGIN") {
                <CertificateList as der::DecodePem>::from_pem(&bytes)
                    .with_context(|| format!("CRL {}", path.display()))?
                    .to_der()?
            } else {
                bytes
            };
            crls.push((path, der));
        }
    }
    for (path, der) in crls {
        store
            .add_crl_der(&der)
            .with_context(|| format!("CRL {}", path.display()))?;
    }
    Ok(store)
}
