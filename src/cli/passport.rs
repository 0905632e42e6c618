//! `travdoc passport personalize --request app.json --photo face.jpg --out DIR`: the chip
//! personalization package of a passport (EF.COM, DG1, DG2, EF.SOD signed by the passport
//! Document Signer in the HSM, the data page PDF, manifest), issued through the same domain path as the API
//! (application, approval, number from the passport series, ledger entry).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use base64::Engine as _;
use clap::Subcommand;
use serde::Deserialize;
use sha2::Digest as _;

use super::Context;
use super::offline::{self, Outputs};
use crate::auth::{Actor, Role};
use crate::issuance::input::{PassportApplicationBody, add_years, date_text};
use crate::issuance::numbering::Kind;

/// The files `passport personalize` writes.
const FILES: [&str; 6] = [
    "EF_COM.bin",
    "DG1.bin",
    "DG2.bin",
    "EF_SOD.bin",
    "datapage.pdf",
    "manifest.json",
];

#[derive(Debug, Subcommand)]
pub enum PassportCommand {
    /// Build and sign the chip personalization package of a new passport.
    Personalize {
        /// The application (JSON): the MRZ fields of `mrz build` without `format` (`surname`,
        /// `given_names`, `nationality`, `birth_date`, `sex`, optional `document_code`,
        /// `issuing_state`, `expiry_date`, `optional_data`), plus optional `place_of_birth`
        /// and `personal_number`. Without `document_number` (the booklet's pre-printed number)
        /// the next number of the passport series is used.
        #[arg(long)]
        request: PathBuf,
        /// The portrait (JPEG).
        #[arg(long)]
        photo: PathBuf,
        /// Output directory (created; existing files are never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// The second officer who approves the application (four-eyes rule), authenticated by
        /// `TRAVDOC_APPROVER_TOKEN` or by password and authenticator code typed at the
        /// terminal; without it the approval is recorded as waived by the local operator.
        #[arg(long)]
        approved_by: Option<String>,
    },
}

/// `app.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Application {
    document_code: Option<String>,
    issuing_state: Option<String>,
    surname: String,
    given_names: String,
    document_number: Option<String>,
    nationality: String,
    birth_date: String,
    sex: String,
    expiry_date: Option<String>,
    optional_data: Option<String>,
    place_of_birth: Option<String>,
    personal_number: Option<String>,
    /// The applicant's NIC, or why there is none.
    #[serde(default)]
    nic: Option<String>,
    #[serde(default)]
    nic_absent_reason: Option<String>,
    /// The passport this one renews or replaces, and `presented|lost|stolen|damaged`.
    #[serde(default)]
    previous_document_number: Option<String>,
    #[serde(default)]
    previous_document_status: Option<String>,
}

pub fn run(context: &Context, command: &PassportCommand) -> anyhow::Result<ExitCode> {
    match command {
        PassportCommand::Personalize {
            request,
            photo,
            out,
            approved_by,
        } => personalize(context, request, photo, out, approved_by.as_deref()),
    }
}

fn field(name: &str, message: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("field `{name}`: {message}")
}

/// Validity in years from an explicit expiry date: only the issuing policy's 5 or 10 years.
fn validity_years(expiry: Option<&str>, today: time::Date) -> anyhow::Result<Option<u8>> {
    let Some(expiry) = expiry else {
        return Ok(None);
    };
    for years in [5u8, 10] {
        if date_text(add_years(today, i32::from(years))) == expiry {
            return Ok(Some(years));
        }
    }
    Err(field(
        "expiry_date",
        format!(
            "passports are valid 5 or 10 years from the day of issue: {} or {}",
            date_text(add_years(today, 5)),
            date_text(add_years(today, 10))
        ),
    ))
}

fn personalize(
    context: &Context,
    request: &Path,
    photo: &Path,
    out: &Path,
    approved_by: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let app: Application = offline::read_request(request)?;
    if let Some(code) = app.document_code.as_deref()
        && !matches!(code, "P" | "PP" | "P<")
    {
        return Err(field(
            "document_code",
            "this service issues ordinary passports (PP)",
        ));
    }
    if let Some(state) = app.issuing_state.as_deref()
        && state != context.config.country
    {
        return Err(field(
            "issuing_state",
            format!("this service issues for {}", context.config.country),
        ));
    }
    let booklet_number = app
        .document_number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_ascii_uppercase);
    if let Some(number) = &booklet_number
        && !((1..=9).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(field(
            "document_number",
            "a TD3 document number is 1 to 9 characters A-Z or 0-9",
        ));
    }
    if let (Some(optional), Some(personal)) = (&app.optional_data, &app.personal_number)
        && optional != personal
    {
        return Err(field(
            "optional_data",
            "differs from personal_number (the MRZ optional data is the personal number)",
        ));
    }
    let today = time::OffsetDateTime::now_utc().date();
    let validity = validity_years(app.expiry_date.as_deref(), today)?;
    let photo_bytes =
        std::fs::read(photo).with_context(|| format!("--photo: reading {}", photo.display()))?;
    // The photo's type, size and dimensions are checked now, before anything is issued.
    travdoc_lds::dg2::Dg2::from_photo(&photo_bytes, &travdoc_lds::dg2::PhotoLimits::default())
        .map_err(|error| anyhow::anyhow!("--photo: {error}"))?;
    let body = PassportApplicationBody {
        surname: app.surname,
        given_names: app.given_names,
        nationality: app.nationality,
        birth_date: app.birth_date,
        sex: app.sex,
        place_of_birth: app.place_of_birth,
        personal_number: app.personal_number.or(app.optional_data),
        validity_years: validity,
        photo: base64::engine::general_purpose::STANDARD.encode(&photo_bytes),
        nic: app.nic,
        nic_absent_reason: app.nic_absent_reason,
        previous_document_number: app.previous_document_number,
        previous_document_status: app.previous_document_status,
    };
    body.validate(today)?;
    offline::check_out_dir(out, &FILES)?;
    let operator = offline::operator();
    let applicant_officer = Actor {
        id: format!("cli:{operator}"),
        name: operator,
        role: Role::Issuer,
        mission: None,
        granted: true,
    };
    let officer = approved_by
        .map(|name| offline::OfficerCredentials::read(name).map(|credentials| (name, credentials)))
        .transpose()?;
    let (outputs, number) = offline::with_service(context, async |service| {
        // The second officer first: nothing is stored for credentials that do not hold.
        let approver = match &officer {
            Some((name, credentials)) => Some(
                credentials
                    .check(
                        service.db(),
                        &context.config.auth,
                        name,
                        crate::auth::Act::ApprovePassport,
                    )
                    .await?,
            ),
            None => None,
        };
        let applied = crate::usecase::request::apply_passport(
            service.issuing(),
            &applicant_officer,
            &body,
            None,
        )
        .await?;
        super::offline::stop_if_held(&applied)?;
        match &approver {
            Some(approver) => {
                crate::usecase::approve::approve(
                    service.records(),
                    approver,
                    Kind::Passport,
                    &applied.id,
                    None,
                )
                .await?
            }
            None => {
                crate::usecase::approve::approve_waiving_four_eyes(
                    service.records(),
                    &applicant_officer,
                    Kind::Passport,
                    &applied.id,
                )
                .await?
            }
        };
        let issued = crate::usecase::personalize::issue_passport_numbered(
            service.issuing(),
            &applicant_officer,
            &applied.id,
            booklet_number.as_deref(),
            None,
        )
        .await?;
        let part = |name: &str| -> anyhow::Result<Vec<u8>> {
            let text = issued.personalization[name]
                .as_str()
                .with_context(|| format!("the personalization package has no {name}"))?;
            Ok(base64::engine::general_purpose::STANDARD.decode(text)?)
        };
        let (ef_com, dg1, dg2, sod) =
            (part("ef_com")?, part("dg1")?, part("dg2")?, part("ef_sod")?);
        let signers = service.signers();
        let signer = signers.passport()?;
        let datapage = crate::usecase::read::document_pdf(
            service.printing(),
            &applicant_officer,
            &issued.document_number,
        )
        .await?;
        let sha256 = |bytes: &[u8]| hex::encode(sha2::Sha256::digest(bytes));
        let manifest = serde_json::json!({
            "document_number": issued.document_number,
            "mrz": issued.mrz,
            "expiry": issued.valid_until,
            "data_group_hashes": {
                "algorithm": "sha-256",
                "DG1": sha256(&dg1),
                "DG2": sha256(&dg2),
            },
            "dsc_serial": signer.key_id(),
            "application_id": applied.id,
            "applied_by": applicant_officer.id,
            "approved_by": approver.as_ref().map_or(applicant_officer.id.clone(), |a| a.id.clone()),
            "four_eyes": approver.is_some(),
            "files_sha256": {
                "EF_COM.bin": sha256(&ef_com),
                "EF_SOD.bin": sha256(&sod),
                "datapage.pdf": sha256(&datapage),
            },
        });
        let mut outputs = Outputs::default();
        outputs.add("EF_COM.bin", ef_com);
        outputs.add("DG1.bin", dg1);
        outputs.add("DG2.bin", dg2);
        outputs.add("EF_SOD.bin", sod);
        outputs.add("datapage.pdf", datapage);
        outputs.add(
            "manifest.json",
            format!("{}\n", serde_json::to_string_pretty(&manifest)?),
        );
        Ok((outputs, issued.document_number))
    })?;
    let written = outputs.write(out)?;
    println!("personalized passport {number}");
    for path in written {
        println!("  {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
