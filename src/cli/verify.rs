//! Offline verification over the pure crates, as a foreign verifier would do it:
//! `travdoc verify sod EF_SOD.bin [DG files...] [--trust DIR] [--json]` (Passive Authentication,
//! `travdoc-lds`) and `travdoc verify seal FILE [--trust DIR] [--printed-mrz FILE] [--document
//! FILE] [--json]` (ICAO 9303-13 App. D statuses, `travdoc-seal`). Both print every check and the
//! verdict and exit 0 only when the artifact is valid (1 otherwise, 2 on a usage error).

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
    /// Verify a visible digital seal (raw bytes, hex, QR text, or a barcode image).
    Seal(SealArgs),
}

#[derive(Debug, Args)]
pub struct SealArgs {
    /// The seal: raw bytes, hexadecimal text, QR text, or a PNG/JPEG image of the barcode.
    pub file: PathBuf,
    /// Directory of trust material: CA certificates (*.der/*.cer/*.crt with basicConstraints
    /// cA) are CSCAs, other certificates are seal signer certificates, *.crl are CRLs, *.ml or
    /// masterlist.der master lists. Default: the public artifacts of this data dir's PKI.
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// A text file with the two MRZ lines printed on the document (ETD seals).
    #[arg(long)]
    pub printed_mrz: Option<PathBuf>,
    /// The legalized document file (legalization seals): its SHA-256 must match the seal's.
    #[arg(long)]
    pub document: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Verification time in Unix seconds (default: now).
    #[arg(long)]
    pub at: Option<u64>,
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

pub fn run(command: &VerifyCommand, context: &super::Context) -> anyhow::Result<ExitCode> {
    match command {
        VerifyCommand::Sod(args) => sod(args),
        VerifyCommand::Seal(args) => seal(args, context),
    }
}

fn now_or(at: Option<u64>) -> anyhow::Result<u64> {
    match at {
        Some(at) => Ok(at),
        None => Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("system clock before 1970")?
            .as_secs()),
    }
}

/// The trust directory given, or this data dir's PKI exported to `DATA_DIR/trust`.
fn trust_dir(trust: Option<&Path>, context: &super::Context) -> anyhow::Result<PathBuf> {
    if let Some(dir) = trust {
        return Ok(dir.to_owned());
    }
    let options = context.config.pki_options();
    options.prepare_process()?;
    let pki = travdoc_pki::Pki::open_with(
        &options,
        std::sync::Arc::new(travdoc_pki::SystemClock),
        std::sync::Arc::new(travdoc_pki::NoEvents),
    )
    .context("no --trust given and this data dir has no PKI")?;
    let dir = context.config.data_dir.join("trust");
    pki.export(&dir)
        .context("no --trust given and this data dir's PKI cannot be exported")?;
    Ok(dir)
}

fn seal(args: &SealArgs, context: &super::Context) -> anyhow::Result<ExitCode> {
    let input =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let printed = match &args.printed_mrz {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("--printed-mrz: reading {}", path.display()))?,
        ),
        None => None,
    };
    let printed_lines: Option<[&str; 2]> = match &printed {
        Some(text) => {
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect();
            match lines.as_slice() {
                [first, second] => Some([first, second]),
                _ => anyhow::bail!(
                    "--printed-mrz: expected the two MRZ lines, found {} lines",
                    lines.len()
                ),
            }
        }
        None => None,
    };
    let document = match &args.document {
        Some(path) => Some(
            std::fs::read(path)
                .with_context(|| format!("--document: reading {}", path.display()))?,
        ),
        None => None,
    };
    let presented = match (printed_lines, &document) {
        (Some(_), Some(_)) => {
            anyhow::bail!("--printed-mrz is for ETD seals, --document for legalizations: give one")
        }
        (Some(lines), None) => travdoc_seal::Presented::PrintedMrz(lines),
        (None, Some(bytes)) => travdoc_seal::Presented::DocumentFile(bytes),
        (None, None) => travdoc_seal::Presented::Nothing,
    };
    let at = now_or(args.at)?;
    let (trust, signers) = load_trust(&trust_dir(args.trust.as_deref(), context)?, at)?;
    let verifier = travdoc_seal::Verifier::new(&signers, &trust, at);
    // An unreadable image or text is READ_ERROR, reported like any other verdict.
    let result = match super::seal::seal_bytes(&input) {
        Ok(bytes) => verifier.verify(&bytes, presented),
        Err(error) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"status": "INVALID", "reasons": [{"code": "READ_ERROR",
                        "severity": "medium", "message": format!("{error:#}")}], "data": null})
                );
            } else {
                println!("READ_ERROR  {error:#}");
                println!("status: INVALID");
            }
            return Ok(ExitCode::from(1));
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        if let Some(data) = &result.data {
            println!("profile: {}", data.profile);
            if let Some([line1, line2]) = &data.mrz {
                println!("mrz:     {line1}\n         {line2}");
            }
            if let Some(legalization) = &data.legalization {
                println!("certificate: {}", legalization.certificate_number());
            }
            if let Some(signer) = &data.signer_certificate {
                println!(
                    "signer:  {} (serial {})",
                    signer.subject, signer.serial_number
                );
            }
        }
        for reason in &result.reasons {
            println!("{:?}  {}", reason.code, reason.message);
        }
        println!(
            "status: {}",
            if result.is_valid() {
                "VALID"
            } else {
                "INVALID"
            }
        );
    }
    Ok(if result.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn sod(args: &SodArgs) -> anyhow::Result<ExitCode> {
    let sod =
        std::fs::read(&args.sod).with_context(|| format!("reading {}", args.sod.display()))?;
    let mut files = Vec::new();
    for path in &args.data_groups {
        files.push(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?);
    }
    let at_unix_seconds = now_or(args.at)?;
    let trust = match &args.trust {
        Some(dir) => load_trust(dir, at_unix_seconds)?.0,
        None => TrustStore::new(),
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

/// Whether a certificate is a CA (basicConstraints cA = true): a CSCA or a link certificate.
fn is_ca(cert: &Certificate) -> anyhow::Result<bool> {
    use travdoc_pkix::x509_cert::ext::pkix::BasicConstraints;
    let constraints = cert
        .tbs_certificate()
        .get_extension::<BasicConstraints>()
        .context("basicConstraints cannot be decoded")?;
    Ok(constraints.is_some_and(|(_, constraints)| constraints.ca))
}

/// Load CSCAs, then master lists (their signatures checked against those CSCAs), then CRLs
/// (whose signatures are checked against all of them).
/// Certificates that are not CAs (document and seal signers) are returned apart: they are never
/// trust anchors.
fn load_trust(dir: &Path, at_unix_seconds: u64) -> anyhow::Result<(TrustStore, Vec<Certificate>)> {
    let mut store = TrustStore::new();
    let mut signers = Vec::new();
    let mut master_lists = Vec::new();
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
        if name.starts_with("masterlist") || extension == "ml" {
            master_lists.push((path.clone(), read()?));
        } else if extension == "crl" || (name.starts_with("crl") && extension == "der") {
            let bytes = read()?;
            let der = if bytes.starts_with(b"-----BEGIN") {
                <CertificateList as der::DecodePem>::from_pem(&bytes)
                    .with_context(|| format!("CRL {}", path.display()))?
                    .to_der()?
            } else {
                bytes
            };
            crls.push((path, der));
        } else if matches!(extension.as_str(), "der" | "cer" | "crt" | "pem") {
            let bytes = read()?;
            let der = if bytes.starts_with(b"-----BEGIN") {
                Certificate::from_pem(&bytes)
                    .with_context(|| format!("certificate {}", path.display()))?
                    .to_der()?
            } else {
                bytes
            };
            let cert = <Certificate as der::Decode>::from_der(&der)
                .with_context(|| format!("certificate {}", path.display()))?;
            if is_ca(&cert).with_context(|| format!("certificate {}", path.display()))? {
                store
                    .add_csca_der(&der)
                    .with_context(|| format!("certificate {}", path.display()))?;
            } else {
                signers.push(cert);
            }
        }
    }
    // A master list is trusted only when its signer chains to a CSCA given here (ICAO 9303-12).
    for (path, der) in master_lists {
        store
            .add_verified_master_list(&der, at_unix_seconds)
            .with_context(|| format!("master list {}", path.display()))?;
    }
    for (path, der) in crls {
        store
            .add_crl_der(&der)
            .with_context(|| format!("CRL {}", path.display()))?;
    }
    Ok((store, signers))
}
