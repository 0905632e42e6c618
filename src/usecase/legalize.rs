//! Legalization certificates (consular authentication of a public document, Apostille-like
//! fields): a number, the SHA-256 of the document, and a signed seal carried in a QR code.

use std::time::Instant;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::auth::Actor;
use crate::issuance::documents::Built;
use crate::issuance::idempotency::IdempotencyKey;
use crate::issuance::input::{LegalizationBody, LegalizationRequest, date_text};
use crate::issuance::ledger::{self, LedgerEvent};
use crate::issuance::numbering::{self, Kind};
use crate::issuance::ports::SealKey;
use crate::issuance::requests::RequestRecord;
use crate::issuance::seal::{seal_date, seal_error, sign_seal};
use crate::issuance::{IssuanceError, Issuing};

/// `POST /v1/legalizations` answer.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuedLegalization {
    pub certificate_number: String,
    pub issue_date: String,
    /// The text of the QR code: verification URL + `#` + the seal (base64url).
    pub qr_payload: String,
    /// The seal bytes, base64.
    pub seal: String,
    pub document_sha256: String,
    pub pdf_url: String,
}

fn sha256_array(hex_text: &str) -> Result<[u8; 32], IssuanceError> {
    let bytes =
        hex::decode(hex_text).map_err(|_| IssuanceError::Corrupt("document hash".into()))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| IssuanceError::Corrupt("document hash".into()))
}

/// Builds and signs the legalization seal.
pub(crate) fn legalization_seal(
    country: &str,
    number: &str,
    request: &LegalizationRequest,
    key: &dyn SealKey,
    today: time::Date,
) -> Result<Vec<u8>, IssuanceError> {
    let fields = travdoc_seal::LegalizationFields {
        certificate_number: number.to_owned(),
        issue_date: seal_date(today)?,
        document_sha256: sha256_array(request.document_sha256())?,
        document_type: request.document_type().to_owned(),
        signatory: request.signatory().map(str::to_owned),
        capacity: request.capacity().map(str::to_owned),
        authority: request.authority().to_owned(),
        place: Some(request.place().to_owned()),
        country_of_use: request.country_of_use().map(str::to_owned),
        seal_of: request.seal_of().map(str::to_owned),
    };
    let legalization = travdoc_seal::Legalization::new(fields).map_err(|error| {
        IssuanceError::invalid(
            "document_type",
            format!("the certificate fields do not fit the seal: {error}"),
        )
    })?;
    let signer = travdoc_seal::SignerReference::from_serial(
        key.signer_identifier(),
        key.certificate_serial(),
    )
    .map_err(seal_error)?;
    let header =
        travdoc_seal::legalization::header(country, signer, &legalization, seal_date(today)?)
            .map_err(seal_error)?;
    let builder = travdoc_seal::legalization::builder(header, &legalization).map_err(seal_error)?;
    sign_seal(builder, key)?.to_bytes().map_err(seal_error)
}

/// `POST /v1/legalizations`: validated, numbered, sealed and recorded in one act.
pub async fn legalize(
    issuing: &Issuing,
    actor: &Actor,
    body: &LegalizationBody,
    idempotency_key: Option<&IdempotencyKey>,
) -> Result<IssuedLegalization, IssuanceError> {
    let started = Instant::now();
    let (request, _document) = body.validate(&issuing.settings.place)?;
    let key = issuing.signers.get().legalization()?.clone();
    issuing.signers.get().check()?;
    let now = issuing.now();
    let now_text = issuing.now_text();
    let today = now.date();
    let data = serde_json::to_value(&request)?;
    let record = RequestRecord {
        id: uuid::Uuid::new_v4().to_string(),
        kind: Kind::Legalization,
        state: crate::issuance::requests::RequestState::Approved,
        mission: actor.mission.as_ref().map(|m| m.as_str().to_owned()),
        requested_by: actor.id.clone(),
        approved_by: Some(actor.id.clone()),
        data: data.clone(),
        photo: None,
        document_number: None,
        created_at: now_text.clone(),
        updated_at: now_text.clone(),
        checks: Vec::new(),
    };
    // The request and its number are recorded together; the seal follows.
    let mut tx = issuing.db.begin().await?;
    record.insert(&mut tx).await?;
    ledger::record(
        &mut tx,
        &LedgerEvent::new(
            "legalization.requested",
            &record.id,
            &actor.id,
            &data,
            &now_text,
        ),
    )
    .await?;
    let number = numbering::allocate_in(
        &mut tx,
        &issuing.numbering,
        Kind::Legalization,
        &record.id,
        now,
    )
    .await?;
    tx.commit().await?;
    let country = issuing.country.clone();
    let verify_url = issuing.settings.verify_url.clone();
    let public_url = issuing.settings.public_url.clone();
    let valid_until = date_text(crate::issuance::input::add_years(today, 100));
    // The officer who certifies (printed under the signature line of the certificate).
    let certified_by = actor.name.clone();
    issuing
        .finish_issue(
            actor,
            &record,
            &number,
            idempotency_key,
            move |number| {
                let seal = legalization_seal(&country, number, &request, key.as_ref(), today)?;
                let qr = travdoc_seal::qr_payload(&seal, &verify_url).map_err(seal_error)?;
                Ok(Built {
                    signer_key_id: hex::encode_upper(key.certificate_serial()),
                    payload: serde_json::json!({
                        "certificate_number": number,
                        "issue_date": date_text(today),
                        "document_type": request.document_type(),
                        "signatory": request.signatory(),
                        "capacity": request.capacity(),
                        "authority": request.authority(),
                        "seal_of": request.seal_of(),
                        "place": request.place(),
                        "country_of_use": request.country_of_use(),
                        "document_sha256": request.document_sha256(),
                        "qr_payload": qr,
                        "certified_by": certified_by,
                    }),
                    valid_until,
                    seal: Some(seal),
                    document_sha256: Some(request.document_sha256().to_owned()),
                    ..Built::default()
                })
            },
            |number, built| IssuedLegalization {
                certificate_number: number.to_owned(),
                issue_date: date_text(today),
                qr_payload: built
                    .payload
                    .get("qr_payload")
                    .and_then(|value| value.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                seal: base64::engine::general_purpose::STANDARD
                    .encode(built.seal.as_deref().unwrap_or_default()),
                document_sha256: built.document_sha256.clone().unwrap_or_default(),
                pdf_url: format!("{public_url}/v1/documents/{number}/pdf"),
            },
            started,
        )
        .await
}
