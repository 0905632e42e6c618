//! Passports (TD3 booklet): MRZ, chip data groups (EF.COM, DG1, DG2) and the EF.SOD signed by
//! the Document Signer in the HSM; the answer is the chip personalization package.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::issuance::documents::Built;
use crate::issuance::idempotency::IdempotencyKey;
use crate::issuance::input::{PassportApplication, add_years, date_text};
use crate::issuance::numbering::Kind;
use crate::issuance::{IssuanceError, Issuing};

/// `POST /v1/passport-applications/{id}/issue` answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuedPassport {
    pub document_number: String,
    /// The two 44-character TD3 lines.
    pub mrz: Vec<String>,
    /// Chip personalization package: `ef_com`, `dg1`, `dg2`, `ef_sod`, base64.
    #[schema(value_type = Object)]
    pub personalization: serde_json::Value,
    pub data_page_url: String,
    pub valid_until: String,
}

/// The TD3 MRZ lines of a passport.
pub(crate) fn passport_mrz(
    country: &str,
    number: &str,
    application: &PassportApplication,
    expiry: &str,
) -> Result<Vec<String>, IssuanceError> {
    let input = travdoc_mrz::MrzInput {
        format: "TD3",
        document_code: "PP",
        issuing_state: country,
        surname: application.person().surname(),
        given_names: application.person().given_names(),
        document_number: number,
        nationality: application.person().nationality(),
        birth_date: application.person().birth_date(),
        sex: application.person().sex(),
        expiry_date: expiry,
        optional_data: application.personal_number().unwrap_or(""),
        optional_data_2: "",
    };
    let mrz = input
        .build(&travdoc_mrz::BuildOptions::default())
        .map_err(crate::issuance::input::mrz_error)?;
    Ok(mrz.lines().map(str::to_owned).collect())
}

fn lds_error(error: travdoc_lds::LdsError) -> IssuanceError {
    IssuanceError::Build(error.to_string())
}

/// `POST /v1/passport-applications/{id}/issue`.
pub async fn issue_passport(
    issuing: &Issuing,
    actor: &Actor,
    id: &str,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<IssuedPassport, IssuanceError> {
    issue_passport_numbered(issuing, actor, id, None, idempotency_key).await
}

/// [`Issuing::issue_passport`] on a booklet whose number is pre-printed (`Some`), or with
/// the next number of the passport series (`None`).
pub async fn issue_passport_numbered(
    issuing: &Issuing,
    actor: &Actor,
    id: &str,
    booklet_number: Option<&str>,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<IssuedPassport, IssuanceError> {
    let signer = issuing.signers.get().passport()?.clone();
    let (record, source) = crate::usecase::request::load_checked_for_issue(
        issuing,
        actor,
        Kind::Passport,
        id,
        booklet_number,
    )
    .await?;
    let parsed = serde_json::from_value::<PassportApplication>(record.data.clone())
        .map_err(IssuanceError::from)
        .and_then(|application| {
            let photo = record.photo.clone().ok_or_else(|| {
                IssuanceError::Corrupt("passport application without photo".into())
            })?;
            Ok((application, photo))
        });
    let (application, photo) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => return Err(issuing.abandon_source(actor, &source, error).await),
    };
    let cancels = match crate::usecase::request::cancelled_previous(issuing, &application).await {
        Ok(cancels) => cancels,
        Err(error) => return Err(issuing.abandon_source(actor, &source, error).await),
    };
    let country = issuing.country.clone();
    let today = issuing.now().date();
    let expiry = date_text(add_years(today, i32::from(application.validity_years())));
    let public_url = issuing.settings.public_url.clone();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let built_expiry = expiry.clone();
    issuing.issue_request(
        actor,
        &record,
        source,
        idempotency_key,
        move |number| {
            let expiry = built_expiry;
            let mrz = passport_mrz(&country, number, &application, &expiry)?;
            let dg1 = travdoc_lds::dg::Dg1::new(&mrz.concat())
                .map_err(lds_error)?
                .to_bytes();
            let dg2 = travdoc_lds::dg2::Dg2::from_photo(
                &photo,
                &travdoc_lds::dg2::PhotoLimits::default(),
            )
            .map_err(|error| IssuanceError::invalid("photo", error.to_string()))?
            .to_bytes()
            .map_err(lds_error)?;
            let ef_com = travdoc_lds::dg::EfCom::new("0107", "040000", &[1, 2])
                .map_err(lds_error)?
                .to_bytes();
            let sod = signer.sign_sod(&[&dg1, &dg2])?;
            Ok(Built {
                payload: serde_json::json!({
                    "surname": application.person().surname(),
                    "given_names": application.person().given_names(),
                    "nationality": application.person().nationality(),
                    "birth_date": application.person().birth_date(),
                    "sex": application.person().sex(),
                    "place_of_birth": application.place_of_birth(),
                    "personal_number": application.personal_number(),
                    "personalization": {"ef_com": b64(&ef_com), "dg1": b64(&dg1), "ef_sod": b64(&sod)},
                }),
                response_extra: serde_json::json!({"dg2": b64(&dg2)}),
                valid_until: expiry.clone(),
                mrz: Some(mrz),
                signer_key_id: signer.key_id(),
                sod: Some(sod),
                cancels,
                ..Built::default()
            })
        },
        |number, built| {
            let mut personalization = built.payload["personalization"].clone();
            personalization["dg2"] = built.response_extra["dg2"].clone();
            IssuedPassport {
                document_number: number.to_owned(),
                mrz: built.mrz.clone().unwrap_or_default(),
                personalization,
                data_page_url: format!("{public_url}/v1/documents/{number}/pdf"),
                valid_until: expiry.clone(),
            }
        },
    )
    .await
}
