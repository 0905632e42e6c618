//! `travdoc legalization issue --request leg.json --document FILE --out DIR`: issues a
//! legalization certificate offline (same validation, numbering, HSM seal and ledger as the API)
//! and writes `seal.bin`, `qr.txt`, `qr.png`, `certificate.pdf` and `manifest.json`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use base64::Engine as _;
use clap::Subcommand;
use serde::Deserialize;

use super::Context;
use super::offline::{self, Outputs};
use crate::auth::{Actor, Role};
use crate::issuance::input::LegalizationBody;

/// The files `legalization issue` writes.
const FILES: [&str; 5] = [
    "seal.bin",
    "qr.txt",
    "qr.png",
    "certificate.pdf",
    "manifest.json",
];

#[derive(Debug, Subcommand)]
pub enum LegalizationCommand {
    /// Issue a legalization certificate for a document file.
    Issue {
        /// The request (JSON): `document_type`, `signatory` and/or `seal_of`, `capacity`, `authority`, optional
        /// `country_of_use` and `place`.
        #[arg(long)]
        request: PathBuf,
        /// The legalized document (only its SHA-256 is kept and sealed).
        #[arg(long)]
        document: PathBuf,
        /// Output directory (created; existing files are never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// Printer resolution the QR image is made for (module >= 0.34 mm).
        #[arg(long, default_value_t = 300)]
        dpi: u32,
    },
}

/// `leg.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LegalizationFile {
    document_type: String,
    signatory: Option<String>,
    capacity: Option<String>,
    authority: String,
    #[serde(default)]
    seal_of: Option<String>,
    country_of_use: Option<String>,
    place: Option<String>,
}

pub fn run(context: &Context, command: &LegalizationCommand) -> anyhow::Result<ExitCode> {
    match command {
        LegalizationCommand::Issue {
            request,
            document,
            out,
            dpi,
        } => issue(context, request, document, out, *dpi),
    }
}

fn issue(
    context: &Context,
    request: &Path,
    document: &Path,
    out: &Path,
    dpi: u32,
) -> anyhow::Result<ExitCode> {
    let file: LegalizationFile = offline::read_request(request)?;
    let document_bytes = std::fs::read(document)
        .with_context(|| format!("--document: reading {}", document.display()))?;
    if document_bytes.is_empty() {
        anyhow::bail!("--document: {} is empty", document.display());
    }
    let body = LegalizationBody {
        document_type: file.document_type,
        signatory: file.signatory,
        capacity: file.capacity,
        authority: file.authority,
        seal_of: file.seal_of,
        country_of_use: file.country_of_use,
        place: file.place,
        document: base64::engine::general_purpose::STANDARD.encode(&document_bytes),
    };
    // Field checks before the HSM and database are touched.
    body.validate(&context.config.service.place)?;
    offline::check_out_dir(out, &FILES)?;
    let operator = offline::operator();
    let actor = Actor {
        id: format!("cli:{operator}"),
        name: operator,
        role: Role::Consular,
        mission: None,
        granted: true,
    };
    let (outputs, number) = offline::with_service(context, async |service| {
        let issued =
            crate::usecase::legalize::legalize(service.issuing(), &actor, &body, None).await?;
        let seal = base64::engine::general_purpose::STANDARD
            .decode(&issued.seal)
            .context("the service answered a seal that is not base64")?;
        let signers = service.signers();
        let key = signers.legalization()?;
        let pdf = crate::usecase::read::document_pdf(
            service.printing(),
            &actor,
            &issued.certificate_number,
        )
        .await?;
        let matrix = travdoc_render::barcode::encode_qr(issued.qr_payload.as_bytes())?;
        let png = travdoc_render::barcode::to_png(
            &matrix,
            dpi,
            travdoc_render::barcode::QR_QUIET_MODULES,
        )?;
        let manifest = serde_json::json!({
            "certificate_number": issued.certificate_number,
            "issue_date": issued.issue_date,
            "document_sha256": issued.document_sha256,
            "document_file": document.display().to_string(),
            "issuing_state": service.country(),
            "signer_certificate_serial": hex::encode_upper(key.certificate_serial()),
            "signer_identifier": key.signer_identifier(),
            "issued_by": actor.id,
            "qr": {"dpi": dpi, "module_mm": travdoc_render::barcode::module_size_mm(dpi, None),
                   "modules": [matrix.width(), matrix.height()]},
            "sha256": {
                "seal.bin": offline::sha256_hex(&seal),
                "certificate.pdf": offline::sha256_hex(&pdf),
            },
        });
        let mut outputs = Outputs::default();
        outputs.add("seal.bin", seal);
        outputs.add("qr.txt", format!("{}\n", issued.qr_payload));
        outputs.add("qr.png", png);
        outputs.add("certificate.pdf", pdf);
        outputs.add(
            "manifest.json",
            format!("{}\n", serde_json::to_string_pretty(&manifest)?),
        );
        Ok((outputs, issued.certificate_number))
    })?;
    let written = outputs.write(out)?;
    println!("issued legalization certificate {number}");
    for path in written {
        println!("  {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
