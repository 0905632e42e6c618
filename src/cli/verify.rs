//! `travdoc verify seal FILE [--trust DIR] [--printed-mrz FILE] [--document FILE] [--json]` and
//! `travdoc verify sod EF_SOD.bin [DG files...] [--trust DIR] [--json]`: the verification use
//! case (`crate::usecase::verify`), the same as `POST /v1/verify` and the public page.
//!
//! With `--trust DIR` it is a foreign verifier's offline check: the trust material is that
//! directory's, and no document record is consulted (`document_status: not_checked`). Without
//! it, the data dir's PKI and database are used, exactly as `travdoc serve` uses them, so the
//! document's status is part of the verdict. Both print every reason and the verdict and exit
//! 0 only when the artifact is valid (1 otherwise, 2 on a usage error).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use travdoc_pkix::TrustStore;
use travdoc_pkix::der::{DecodePem, Encode};
use travdoc_pkix::x509_cert::Certificate;
use travdoc_pkix::x509_cert::crl::CertificateList;

use crate::compose;
use crate::usecase::verify::{
    Artifact, Outcome, Presented, SodPolicy, Verification, Verifier, VerifyInput,
};

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
    /// masterlist.der master lists. Default: this data dir's PKI and database, as `serve` uses them.
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
    /// Directory of trust material: *.der/*.cer/*.crt CSCAs, *.crl CRLs, *.ml or masterlist.der
    /// master lists. Default: this data dir's PKI and database, as `serve` uses them.
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
    let (input, trust, at, json) = match command {
        VerifyCommand::Seal(args) => (seal_input(args)?, args.trust.as_deref(), args.at, args.json),
        VerifyCommand::Sod(args) => (sod_input(args)?, args.trust.as_deref(), args.at, args.json),
    };
    let at = now_or(at)?;
    let outcome = match trust {
        Some(dir) => {
            let (store, signers) = load_trust(dir, at)?;
            let verifier = Verifier::new(store, signers)
                .with_barcode_decoder(compose::barcode_decoder(context.config.max_image_pixels));
            let verification = Verification::new(verifier, None);
            tokio::runtime::Builder::new_current_thread()
                .build()?
                .block_on(verification.verify(input, at))?
        }
        None => super::offline::with_parts(context, async |parts, service| {
            let records = compose::ServiceRecords::new(service.clone(), None);
            let verification = Verification::new(parts.verifier.clone(), Some(Arc::new(records)));
            Ok(verification.verify(input, at).await?)
        })?,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print_outcome(&outcome);
    }
    Ok(if outcome.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_outcome(outcome: &Outcome) {
    let data = &outcome.data;
    if let Some(profile) = data.profile {
        println!("profile: {profile}");
    }
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
    for check in &data.checks {
        println!(
            "{:4}  {:<22} {}",
            if check.passed { "ok" } else { "FAIL" },
            check.name,
            check.detail
        );
    }
    for reason in &outcome.reasons {
        println!("{}  {}", reason.code, reason.message);
    }
    if let Some(number) = &outcome.document_number {
        println!("document: {number}");
    }
    println!("document status: {}", outcome.document_status.as_str());
    let verdict = if outcome.is_valid() {
        "VALID"
    } else {
        "INVALID"
    };
    println!("status: {verdict}");
    println!("verdict: {verdict}");
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

/// The seal file as the use case's artifact: a PNG or JPEG of the barcode, hexadecimal text,
/// QR text, or else raw seal bytes.
fn seal_artifact(input: Vec<u8>) -> anyhow::Result<Artifact> {
    if input.first() == Some(&travdoc_seal::header::MAGIC) {
        return Ok(Artifact::Seal(input));
    }
    if super::seal::is_image(&input) {
        return Ok(Artifact::BarcodeImage(input));
    }
    // Bytes that are not text are taken as seal bytes, as the API takes them: a damaged
    // seal is a verdict (WRONG_FORMAT), not a usage error.
    let Ok(text) = std::str::from_utf8(&input) else {
        return Ok(Artifact::Seal(input));
    };
    let text = text.trim();
    let compact: String = text.split_whitespace().collect();
    if !compact.is_empty() && compact.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Artifact::Seal(
            hex::decode(&compact).context("decoding hexadecimal seal text")?,
        ));
    }
    Ok(Artifact::Qr(text.to_owned()))
}

fn seal_input(args: &SealArgs) -> anyhow::Result<VerifyInput> {
    let input =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let presented = match (&args.printed_mrz, &args.document) {
        (Some(_), Some(_)) => {
            anyhow::bail!("--printed-mrz is for ETD seals, --document for legalizations: give one")
        }
        (Some(path), None) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--printed-mrz: reading {}", path.display()))?;
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect();
            match lines.as_slice() {
                [first, second] => {
                    Presented::PrintedMrz([(*first).to_owned(), (*second).to_owned()])
                }
                _ => anyhow::bail!(
                    "--printed-mrz: expected the two MRZ lines, found {} lines",
                    lines.len()
                ),
            }
        }
        (None, Some(path)) => Presented::Document(
            std::fs::read(path)
                .with_context(|| format!("--document: reading {}", path.display()))?,
        ),
        (None, None) => Presented::Nothing,
    };
    VerifyInput::new(seal_artifact(input)?, presented).map_err(|error| anyhow::anyhow!("{error}"))
}

fn sod_input(args: &SodArgs) -> anyhow::Result<VerifyInput> {
    let sod =
        std::fs::read(&args.sod).with_context(|| format!("reading {}", args.sod.display()))?;
    let mut data_groups = BTreeMap::new();
    for path in &args.data_groups {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let number = travdoc_lds::dg::data_group_number_of(&bytes)
            .with_context(|| format!("{}: not a data group", path.display()))?;
        if data_groups.insert(number, bytes).is_some() {
            anyhow::bail!("{}: DG{number} is given twice", path.display());
        }
    }
    VerifyInput::new(Artifact::Sod { sod, data_groups }, Presented::Nothing)
        .and_then(|input| {
            input.with_sod_policy(SodPolicy {
                document_code: args.document_code.clone(),
                require_crl: args.require_crl,
            })
        })
        .map_err(|error| anyhow::anyhow!("{error}"))
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
