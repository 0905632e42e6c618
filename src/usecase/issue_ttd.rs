//! Temporary travel documents (single-sheet ETD, ICAO 9303 Part 8): TD2-size MRZ with document
//! code `PU`, and a visible digital seal (ETD profile) signed in the HSM.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::auth::Actor;
use crate::issuance::documents::Built;
use crate::issuance::idempotency::IdempotencyKey;
use crate::issuance::input::TtdRequest;
use crate::issuance::input::mrz_error;
use crate::issuance::numbering::Kind;
use crate::issuance::ports::SealKey;
use crate::issuance::seal::{seal_date, seal_error, sign_seal};
use crate::issuance::{IssuanceError, Issuing};

/// `POST /v1/ttds/{id}/issue` answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuedTtd {
    pub document_number: String,
    /// The two 36-character TD2 lines.
    pub mrz: Vec<String>,
    /// The ETD visible digital seal, base64 (the bytes of the 2D barcode).
    pub seal: String,
    pub pdf_url: String,
    pub valid_until: String,
    pub case_reference: Option<String>,
}

/// The TD2 MRZ lines of a TTD.
pub(crate) fn ttd_mrz(
    country: &str,
    number: &str,
    request: &TtdRequest,
) -> Result<Vec<String>, IssuanceError> {
    let input = travdoc_mrz::MrzInput {
        format: "TD2",
        document_code: "PU",
        issuing_state: country,
        surname: request.person().surname(),
        given_names: request.person().given_names(),
        document_number: number,
        nationality: request.person().nationality(),
        birth_date: request.person().birth_date(),
        sex: request.person().sex(),
        expiry_date: request.valid_until(),
        optional_data: "",
        optional_data_2: "",
    };
    let mrz = input
        .build(&travdoc_mrz::BuildOptions::default())
        .map_err(mrz_error)?;
    Ok(mrz.lines().map(str::to_owned).collect())
}

/// Builds and signs the ETD seal over the MRZ lines.
pub(crate) fn ttd_seal(
    country: &str,
    lines: &[String],
    key: &dyn SealKey,
    today: Date,
) -> Result<Vec<u8>, IssuanceError> {
    let (Some(line1), Some(line2)) = (lines.first(), lines.get(1)) else {
        return Err(IssuanceError::Build("TD2 MRZ needs two lines".into()));
    };
    let etd_mrz = travdoc_seal::etd::EtdMrz::new(line1, line2).map_err(seal_error)?;
    let signer = travdoc_seal::SignerReference::from_serial(
        key.signer_identifier(),
        key.certificate_serial(),
    )
    .map_err(seal_error)?;
    let date = seal_date(today)?;
    let header = travdoc_seal::etd::header(country, signer, date, date).map_err(seal_error)?;
    let builder = travdoc_seal::etd::builder(header, &etd_mrz).map_err(seal_error)?;
    let seal = sign_seal(builder, key)?;
    seal.to_bytes().map_err(seal_error)
}

/// Checks that a TTD request would produce a valid MRZ (names transliterate, fields fit),
/// using a placeholder number of the series' length.
pub(crate) fn precheck_ttd(issuing: &Issuing, request: &TtdRequest) -> Result<(), IssuanceError> {
    let format = issuing.numbering.format(Kind::Ttd)?;
    let sample = format
        .render(issuing.now().year(), 1)
        .ok_or_else(|| IssuanceError::NumberFormat("ttd".into()))?;
    ttd_mrz(&issuing.country, &sample, request).map(|_| ())
}

/// `POST /v1/ttds/{id}/issue`: MRZ + ETD seal in the HSM + document + ledger.
pub async fn issue_ttd(
    issuing: &Issuing,
    actor: &Actor,
    id: &str,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<IssuedTtd, IssuanceError> {
    let key = issuing.signers.get().ttd()?.clone();
    let (record, source) =
        crate::usecase::request::load_checked_for_issue(issuing, actor, Kind::Ttd, id, None)
            .await?;
    let request: TtdRequest = match serde_json::from_value(record.data.clone()) {
        Ok(request) => request,
        Err(error) => return Err(issuing.abandon_source(actor, &source, error.into()).await),
    };
    let country = issuing.country.clone();
    let today = issuing.now().date();
    let public_url = issuing.settings.public_url.clone();
    let case_reference = request.case_reference().map(str::to_owned);
    let valid_until = request.valid_until().to_owned();
    issuing
        .issue_request(
            actor,
            &record,
            source,
            idempotency_key,
            move |number| {
                let mrz = ttd_mrz(&country, number, &request)?;
                let seal = ttd_seal(&country, &mrz, key.as_ref(), today)?;
                Ok(Built {
                    signer_key_id: hex::encode_upper(key.certificate_serial()),
                    payload: serde_json::json!({
                        "surname": request.person().surname(),
                        "given_names": request.person().given_names(),
                        "nationality": request.person().nationality(),
                        "birth_date": request.person().birth_date(),
                        "sex": request.person().sex(),
                        "mission": request.mission(),
                        "destination": request.destination(),
                        "route": request.route(),
                        "case_reference": request.case_reference(),
                        "previous_document": request.previous_document(),
                        "single_journey": true,
                    }),
                    valid_until: request.valid_until().to_owned(),
                    mrz: Some(mrz),
                    seal: Some(seal),
                    ..Built::default()
                })
            },
            |number, built| IssuedTtd {
                document_number: number.to_owned(),
                mrz: built.mrz.clone().unwrap_or_default(),
                seal: base64::engine::general_purpose::STANDARD
                    .encode(built.seal.as_deref().unwrap_or_default()),
                pdf_url: format!("{public_url}/v1/documents/{number}/pdf"),
                valid_until,
                case_reference,
            },
        )
        .await
}
