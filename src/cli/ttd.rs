//! `travdoc ttd issue --request ttd.json --out DIR`: issues a temporary travel document offline
//! (same validation, numbering, HSM seal and ledger as the API) and writes `mrz.txt`, `seal.bin`,
//! `datamatrix.png`, `ttd.pdf` and `manifest.json`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use base64::Engine as _;
use clap::Subcommand;

use super::Context;
use super::offline::{self, Outputs};
use crate::auth::{Actor, MissionCode, Role};
use crate::issuance::input::TtdRequestBody;
use crate::issuance::numbering::Kind;

/// The files `ttd issue` writes.
const FILES: [&str; 5] = [
    "mrz.txt",
    "seal.bin",
    "datamatrix.png",
    "ttd.pdf",
    "manifest.json",
];

#[derive(Debug, Subcommand)]
pub enum TtdCommand {
    /// Issue a TTD from a request file: `surname`, `given_names`, `nationality`, `birth_date`,
    /// `sex`, `mission`, `destination`, `route`, `valid_until` (at most 12 months ahead),
    /// optional `case_reference` and `previous_document`.
    Issue {
        /// The request (JSON).
        #[arg(long)]
        request: PathBuf,
        /// Output directory (created; existing document files are never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// The second officer who approves the request (four-eyes rule), authenticated by
        /// `TRAVDOC_APPROVER_TOKEN` or by password and authenticator code typed at the
        /// terminal. Without it the approval is recorded as waived by the local operator
        /// (`"four_eyes": false`).
        #[arg(long)]
        approved_by: Option<String>,
        /// Printer resolution the barcode image is made for (module >= 0.34 mm).
        #[arg(long, default_value_t = 300)]
        dpi: u32,
    },
}

pub fn run(context: &Context, command: &TtdCommand) -> anyhow::Result<ExitCode> {
    match command {
        TtdCommand::Issue {
            request,
            out,
            approved_by,
            dpi,
        } => issue(context, request, out, approved_by.as_deref(), *dpi),
    }
}

fn issue(
    context: &Context,
    request: &std::path::Path,
    out: &std::path::Path,
    approved_by: Option<&str>,
    dpi: u32,
) -> anyhow::Result<ExitCode> {
    // Everything that can be checked before the HSM and database are touched is checked first.
    let body: TtdRequestBody = offline::read_request(request)?;
    if body.photo.is_some() {
        anyhow::bail!("field `photo`: not accepted by the command line; use the API");
    }
    offline::check_out_dir(out, &FILES)?;
    let operator = offline::operator();
    let requester = Actor {
        id: format!("cli:{operator}"),
        name: operator.clone(),
        role: Role::Mission,
        mission: body.mission.parse::<MissionCode>().ok(),
        granted: true,
    };
    let officer = approved_by
        .map(|name| offline::OfficerCredentials::read(name).map(|credentials| (name, credentials)))
        .transpose()?;
    let outputs = offline::with_service(context, async |service| {
        // The second officer first: nothing is stored for credentials that do not hold.
        let approver = match &officer {
            Some((name, credentials)) => Some(
                credentials
                    .check(
                        service.db(),
                        &context.config.auth,
                        name,
                        crate::auth::Act::ApproveTtd,
                    )
                    .await?,
            ),
            None => None,
        };
        let requested =
            crate::usecase::request::request_ttd(service.issuing(), &requester, &body, None)
                .await?;
        super::offline::stop_if_held(&requested)?;
        match &approver {
            Some(approver) => {
                crate::usecase::approve::approve(
                    service.records(),
                    approver,
                    Kind::Ttd,
                    &requested.id,
                    None,
                )
                .await?
            }
            None => {
                crate::usecase::approve::approve_waiving_four_eyes(
                    service.records(),
                    &requester,
                    Kind::Ttd,
                    &requested.id,
                )
                .await?
            }
        };
        let issued = crate::usecase::issue_ttd::issue_ttd(
            service.issuing(),
            &requester,
            &requested.id,
            None,
        )
        .await?;
        let seal = base64::engine::general_purpose::STANDARD
            .decode(&issued.seal)
            .context("the service answered a seal that is not base64")?;
        let signers = service.signers();
        let key = signers.ttd()?;
        let pdf = crate::usecase::read::document_pdf(
            service.printing(),
            &requester,
            &issued.document_number,
        )
        .await?;
        let matrix = travdoc_render::barcode::encode_datamatrix(&seal)?;
        let png = travdoc_render::barcode::to_png(
            &matrix,
            dpi,
            travdoc_render::barcode::DATAMATRIX_QUIET_MODULES,
        )?;
        let mrz_text = format!("{}\n", issued.mrz.join("\n"));
        let manifest = serde_json::json!({
            "document_number": issued.document_number,
            "document_code": "PU",
            "issuing_state": service.country(),
            "expiry": issued.valid_until,
            "signer_certificate_serial": hex::encode_upper(key.certificate_serial()),
            "signer_identifier": key.signer_identifier(),
            "request_id": requested.id,
            "requested_by": requester.id,
            "approved_by": approver.as_ref().map_or(requester.id.clone(), |a| a.id.clone()),
            "four_eyes": approver.is_some(),
            "case_reference": issued.case_reference,
            "datamatrix": {"dpi": dpi, "module_mm": travdoc_render::barcode::module_size_mm(dpi, None),
                           "modules": [matrix.width(), matrix.height()]},
            "sha256": {
                "mrz.txt": offline::sha256_hex(mrz_text.as_bytes()),
                "seal.bin": offline::sha256_hex(&seal),
                "ttd.pdf": offline::sha256_hex(&pdf),
            },
        });
        let mut outputs = Outputs::default();
        outputs.add("mrz.txt", mrz_text);
        outputs.add("seal.bin", seal);
        outputs.add("datamatrix.png", png);
        outputs.add("ttd.pdf", pdf);
        outputs.add(
            "manifest.json",
            format!("{}\n", serde_json::to_string_pretty(&manifest)?),
        );
        Ok((outputs, issued.document_number))
    })?;
    let (outputs, number) = outputs;
    let written = outputs.write(out)?;
    println!("issued TTD {number}");
    for path in written {
        println!("  {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
