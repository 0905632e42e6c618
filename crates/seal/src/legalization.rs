//! travdoc's legalization seal profile (national, see `docs/legalization-seal-profile.md`).
//!
//! Header version 4, feature definition reference [`FEATURE_DEFINITION_REFERENCE`] (`0xF1`) and
//! the national (even) document type category [`DOCUMENT_TYPE_CATEGORY`] (`0x4C`). Features:
//!
//! | tag | field | type | presence |
//! |---|---|---|---|
//! | `0x01` | certificate number | C40, 1–30 of `A`–`Z`, `0`–`9` | mandatory |
//! | `0x02` | issue date | date (3 bytes), equal to the header issue date | mandatory |
//! | `0x03` | SHA-256 of the legalized document file | 32 bytes | mandatory |
//! | `0x04` | document type | UTF-8, 1–200 bytes | mandatory |
//! | `0x05` | signatory of the document | UTF-8, 1–200 bytes | at least one of 0x05/0x0A |
//! | `0x06` | capacity of the signatory | UTF-8, 1–200 bytes | optional, only with 0x05 |
//! | `0x07` | certifying authority | UTF-8, 1–200 bytes | mandatory |
//! | `0x08` | place of certification | UTF-8, 1–200 bytes | optional |
//! | `0x09` | country of use | C40, 3 letters (ICAO code) | optional |
//! | `0x0A` | seal/stamp borne by the document | UTF-8, 1–200 bytes | at least one of 0x05/0x0A |
//!
//! Features are written in ascending tag order; a reader accepts any order, refuses a known tag
//! that appears twice, and keeps unknown tags (reported as `UNKNOWN_FEATURE`).

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::builder::SealBuilder;
use crate::c40;
use crate::date::SealDate;
use crate::error::SealError;
use crate::header::{Header, HeaderVersion, SignerReference};
use crate::seal::Seal;

/// Feature definition reference of the legalization profile (version 1 of its feature set).
pub const FEATURE_DEFINITION_REFERENCE: u8 = 0xF1;
/// National (even) document type category for legalization certificates.
pub const DOCUMENT_TYPE_CATEGORY: u8 = 0x4C;

pub const TAG_CERTIFICATE_NUMBER: u8 = 0x01;
pub const TAG_ISSUE_DATE: u8 = 0x02;
pub const TAG_DOCUMENT_SHA256: u8 = 0x03;
pub const TAG_DOCUMENT_TYPE: u8 = 0x04;
pub const TAG_SIGNATORY: u8 = 0x05;
pub const TAG_CAPACITY: u8 = 0x06;
pub const TAG_AUTHORITY: u8 = 0x07;
pub const TAG_PLACE: u8 = 0x08;
pub const TAG_COUNTRY_OF_USE: u8 = 0x09;
pub const TAG_SEAL_OF: u8 = 0x0A;

/// Longest certificate number.
pub const MAX_CERTIFICATE_NUMBER_LEN: usize = 30;
/// Longest text field, in UTF-8 bytes.
pub const MAX_TEXT_LEN: usize = 200;

const PROFILE: &str = "legalization";

/// Name of a known legalization feature tag.
pub fn feature_name(tag: u8) -> Option<&'static str> {
    Some(match tag {
        TAG_CERTIFICATE_NUMBER => "certificate number",
        TAG_ISSUE_DATE => "issue date",
        TAG_DOCUMENT_SHA256 => "document SHA-256",
        TAG_DOCUMENT_TYPE => "document type",
        TAG_SIGNATORY => "signatory",
        TAG_CAPACITY => "capacity",
        TAG_AUTHORITY => "authority",
        TAG_PLACE => "place",
        TAG_COUNTRY_OF_USE => "country of use",
        TAG_SEAL_OF => "seal/stamp of",
        _ => return None,
    })
}

/// The fields of a legalization certificate, as given by the caller (unvalidated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalizationFields {
    pub certificate_number: String,
    pub issue_date: SealDate,
    /// SHA-256 of the legalized document file.
    pub document_sha256: [u8; 32],
    pub document_type: String,
    pub signatory: Option<String>,
    pub capacity: Option<String>,
    pub authority: String,
    pub place: Option<String>,
    /// ICAO 3-letter code of the country where the document will be used.
    pub country_of_use: Option<String>,
    /// Authority whose seal or stamp the document bears.
    pub seal_of: Option<String>,
}

/// A validated set of legalization fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Legalization {
    certificate_number: String,
    issue_date: SealDate,
    #[serde(serialize_with = "serialize_hex")]
    document_sha256: [u8; 32],
    document_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    signatory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    capacity: Option<String>,
    authority: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country_of_use: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seal_of: Option<String>,
}

fn serialize_hex<S: serde::Serializer>(value: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex::encode(value))
}

fn invalid(tag: u8, reason: String) -> SealError {
    SealError::InvalidFeature {
        profile: PROFILE,
        tag,
        name: feature_name(tag).unwrap_or("unknown"),
        reason,
    }
}

fn check_text(tag: u8, text: &str) -> Result<(), SealError> {
    if text.is_empty() || text.len() > MAX_TEXT_LEN {
        return Err(invalid(
            tag,
            format!(
                "must be 1 to {MAX_TEXT_LEN} bytes of UTF-8, got {}",
                text.len()
            ),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(tag, "contains control characters".into()));
    }
    Ok(())
}

fn check_optional_text(tag: u8, text: Option<&str>) -> Result<(), SealError> {
    text.map_or(Ok(()), |text| check_text(tag, text))
}

impl Legalization {
    /// Validates `fields`.
    pub fn new(fields: LegalizationFields) -> Result<Self, SealError> {
        let number = &fields.certificate_number;
        if number.is_empty()
            || number.len() > MAX_CERTIFICATE_NUMBER_LEN
            || !number
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(invalid(
                TAG_CERTIFICATE_NUMBER,
                format!(
                    "{number:?} is not 1 to {MAX_CERTIFICATE_NUMBER_LEN} characters A-Z or 0-9"
                ),
            ));
        }
        check_text(TAG_DOCUMENT_TYPE, &fields.document_type)?;
        check_optional_text(TAG_SIGNATORY, fields.signatory.as_deref())?;
        check_optional_text(TAG_CAPACITY, fields.capacity.as_deref())?;
        check_text(TAG_AUTHORITY, &fields.authority)?;
        check_optional_text(TAG_PLACE, fields.place.as_deref())?;
        check_optional_text(TAG_SEAL_OF, fields.seal_of.as_deref())?;
        if let Some(country) = &fields.country_of_use
            && (country.len() != 3 || !country.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(invalid(
                TAG_COUNTRY_OF_USE,
                format!("{country:?} is not a 3-letter code"),
            ));
        }
        if fields.signatory.is_none() && fields.seal_of.is_none() {
            return Err(invalid(
                TAG_SIGNATORY,
                "either the signatory (0x05) or the seal/stamp (0x0a) must be given".into(),
            ));
        }
        if fields.capacity.is_some() && fields.signatory.is_none() {
            return Err(invalid(
                TAG_CAPACITY,
                "a capacity needs a signatory (0x05)".into(),
            ));
        }
        Ok(Self {
            certificate_number: fields.certificate_number,
            issue_date: fields.issue_date,
            document_sha256: fields.document_sha256,
            document_type: fields.document_type,
            signatory: fields.signatory,
            capacity: fields.capacity,
            authority: fields.authority,
            place: fields.place,
            country_of_use: fields.country_of_use,
            seal_of: fields.seal_of,
        })
    }

    pub fn certificate_number(&self) -> &str {
        &self.certificate_number
    }
    pub fn issue_date(&self) -> SealDate {
        self.issue_date
    }
    pub fn document_sha256(&self) -> &[u8; 32] {
        &self.document_sha256
    }
    pub fn document_type(&self) -> &str {
        &self.document_type
    }
    pub fn signatory(&self) -> Option<&str> {
        self.signatory.as_deref()
    }
    pub fn capacity(&self) -> Option<&str> {
        self.capacity.as_deref()
    }
    pub fn authority(&self) -> &str {
        &self.authority
    }
    pub fn place(&self) -> Option<&str> {
        self.place.as_deref()
    }
    pub fn country_of_use(&self) -> Option<&str> {
        self.country_of_use.as_deref()
    }
    pub fn seal_of(&self) -> Option<&str> {
        self.seal_of.as_deref()
    }

    /// Whether `document` (the file's bytes) is the legalized document.
    pub fn matches_document(&self, document: &[u8]) -> bool {
        sha2::Sha256::digest(document).as_slice() == self.document_sha256
    }

    /// The features in ascending tag order.
    pub fn to_features(&self) -> Result<Vec<(u8, Vec<u8>)>, SealError> {
        let mut features = vec![
            (
                TAG_CERTIFICATE_NUMBER,
                c40::encode(&self.certificate_number)?,
            ),
            (TAG_ISSUE_DATE, self.issue_date.to_bytes().to_vec()),
            (TAG_DOCUMENT_SHA256, self.document_sha256.to_vec()),
            (TAG_DOCUMENT_TYPE, self.document_type.as_bytes().to_vec()),
        ];
        if let Some(signatory) = &self.signatory {
            features.push((TAG_SIGNATORY, signatory.as_bytes().to_vec()));
        }
        if let Some(capacity) = &self.capacity {
            features.push((TAG_CAPACITY, capacity.as_bytes().to_vec()));
        }
        features.push((TAG_AUTHORITY, self.authority.as_bytes().to_vec()));
        if let Some(place) = &self.place {
            features.push((TAG_PLACE, place.as_bytes().to_vec()));
        }
        if let Some(country) = &self.country_of_use {
            features.push((TAG_COUNTRY_OF_USE, c40::encode(country)?));
        }
        if let Some(seal_of) = &self.seal_of {
            features.push((TAG_SEAL_OF, seal_of.as_bytes().to_vec()));
        }
        Ok(features)
    }

    /// Reads the legalization fields of `seal` after checking its header.
    pub fn from_seal(seal: &Seal) -> Result<Self, SealError> {
        check_header(seal.header())?;
        let single = |tag: u8| -> Result<Option<&[u8]>, SealError> {
            let mut matching = seal
                .features()
                .iter()
                .filter(|feature| feature.tag() == tag);
            let first = matching.next();
            if matching.next().is_some() {
                return Err(invalid(tag, "appears more than once".into()));
            }
            Ok(first.map(|feature| feature.value()))
        };
        let required = |tag: u8| -> Result<&[u8], SealError> {
            single(tag)?.ok_or(SealError::MissingFeature {
                profile: PROFILE,
                tag,
                name: feature_name(tag).unwrap_or("unknown"),
            })
        };
        let text = |tag: u8, value: &[u8]| -> Result<String, SealError> {
            String::from_utf8(value.to_vec()).map_err(|_| invalid(tag, "is not UTF-8".into()))
        };
        let optional_text = |tag: u8| -> Result<Option<String>, SealError> {
            single(tag)?.map(|value| text(tag, value)).transpose()
        };
        let c40_text = |tag: u8, value: &[u8]| -> Result<String, SealError> {
            c40::decode(value).map_err(|error| invalid(tag, error.to_string()))
        };

        let issue_date_bytes: [u8; 3] = required(TAG_ISSUE_DATE)?
            .try_into()
            .map_err(|_| invalid(TAG_ISSUE_DATE, "must be 3 bytes".into()))?;
        let issue_date = SealDate::from_bytes(issue_date_bytes, "legalization issue date")?;
        if issue_date != seal.header().issue_date() {
            return Err(invalid(
                TAG_ISSUE_DATE,
                format!(
                    "{issue_date} differs from the header issue date {}",
                    seal.header().issue_date()
                ),
            ));
        }
        let document_sha256: [u8; 32] = required(TAG_DOCUMENT_SHA256)?
            .try_into()
            .map_err(|_| invalid(TAG_DOCUMENT_SHA256, "must be 32 bytes".into()))?;
        let country_of_use = single(TAG_COUNTRY_OF_USE)?
            .map(|value| c40_text(TAG_COUNTRY_OF_USE, value))
            .transpose()?;
        let fields = LegalizationFields {
            certificate_number: c40_text(
                TAG_CERTIFICATE_NUMBER,
                required(TAG_CERTIFICATE_NUMBER)?,
            )?,
            issue_date,
            document_sha256,
            document_type: text(TAG_DOCUMENT_TYPE, required(TAG_DOCUMENT_TYPE)?)?,
            signatory: optional_text(TAG_SIGNATORY)?,
            capacity: optional_text(TAG_CAPACITY)?,
            authority: text(TAG_AUTHORITY, required(TAG_AUTHORITY)?)?,
            place: optional_text(TAG_PLACE)?,
            country_of_use,
            seal_of: optional_text(TAG_SEAL_OF)?,
        };
        Self::new(fields)
    }
}

/// Whether `header` announces the legalization profile.
pub fn is_legalization(header: &Header) -> bool {
    header.feature_definition_reference() == FEATURE_DEFINITION_REFERENCE
        && header.document_type_category() == DOCUMENT_TYPE_CATEGORY
}

/// Checks that `header` announces the legalization profile (version 4, FDR 0xF1, category 0x4C).
pub fn check_header(header: &Header) -> Result<(), SealError> {
    if header.version() != HeaderVersion::V4 || !is_legalization(header) {
        return Err(SealError::Profile {
            profile: PROFILE,
            reason: format!(
                "header v{} FDR {:#04x} category {:#04x} (expected v4, 0xf1, 0x4c)",
                header.version().number(),
                header.feature_definition_reference(),
                header.document_type_category()
            ),
        });
    }
    Ok(())
}

/// A legalization profile header: version 4, FDR 0xF1, category 0x4C, issue date = certificate date.
pub fn header(
    issuing_country: &str,
    signer: SignerReference,
    legalization: &Legalization,
    signature_date: SealDate,
) -> Result<Header, SealError> {
    Header::new(
        HeaderVersion::V4,
        issuing_country,
        signer,
        legalization.issue_date,
        signature_date,
        FEATURE_DEFINITION_REFERENCE,
        DOCUMENT_TYPE_CATEGORY,
    )
}

/// A builder for the legalization seal with `header` (see [`header`]).
pub fn builder(header: Header, legalization: &Legalization) -> Result<SealBuilder, SealError> {
    check_header(&header)?;
    if header.issue_date() != legalization.issue_date {
        return Err(invalid(
            TAG_ISSUE_DATE,
            "differs from the header issue date".into(),
        ));
    }
    legalization
        .to_features()?
        .into_iter()
        .try_fold(SealBuilder::new(header), |builder, (tag, value)| {
            builder.feature(tag, value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> LegalizationFields {
        LegalizationFields {
            certificate_number: "LG2026X7Q4M9".into(),
            issue_date: SealDate::from_ymd(2026, 6, 2).unwrap(),
            document_sha256: [0x11; 32],
            document_type: "Birth certificate".into(),
            signatory: Some("A. B. Jayasinghe".into()),
            capacity: Some("Registrar".into()),
            authority: "Consular Affairs Division".into(),
            place: None,
            country_of_use: None,
            seal_of: None,
        }
    }

    fn unsigned_seal(features: Vec<(u8, Vec<u8>)>) -> Seal {
        let signer = SignerReference::new("LKLG", "42").unwrap();
        let date = SealDate::from_ymd(2026, 6, 2).unwrap();
        let header = Header::new(
            HeaderVersion::V4,
            "LKA",
            signer,
            date,
            date,
            FEATURE_DEFINITION_REFERENCE,
            DOCUMENT_TYPE_CATEGORY,
        )
        .unwrap();
        let features = features
            .into_iter()
            .map(|(tag, value)| crate::Feature::new(tag, value).unwrap())
            .collect();
        Seal::from_parts(header, features, vec![0; 64])
    }

    #[test]
    fn fields_round_trip_through_features() {
        let legalization = Legalization::new(fields()).unwrap();
        let seal = unsigned_seal(legalization.to_features().unwrap());
        assert_eq!(Legalization::from_seal(&seal).unwrap(), legalization);
        assert!(!legalization.matches_document(b"anything"));
    }

    #[test]
    fn validation_names_the_field() {
        let mut no_signer = fields();
        no_signer.signatory = None;
        no_signer.capacity = None;
        assert!(matches!(
            Legalization::new(no_signer.clone()),
            Err(SealError::InvalidFeature {
                tag: TAG_SIGNATORY,
                ..
            })
        ));
        no_signer.seal_of = Some("Registrar General's Department".into());
        assert!(Legalization::new(no_signer).is_ok());

        let mut capacity_only = fields();
        capacity_only.signatory = None;
        capacity_only.seal_of = Some("Registrar".into());
        assert!(matches!(
            Legalization::new(capacity_only),
            Err(SealError::InvalidFeature {
                tag: TAG_CAPACITY,
                ..
            })
        ));

        let mut bad_number = fields();
        bad_number.certificate_number = "lg-1".into();
        assert!(matches!(
            Legalization::new(bad_number),
            Err(SealError::InvalidFeature {
                tag: TAG_CERTIFICATE_NUMBER,
                ..
            })
        ));

        let mut long_text = fields();
        long_text.authority = "x".repeat(MAX_TEXT_LEN + 1);
        assert!(matches!(
            Legalization::new(long_text),
            Err(SealError::InvalidFeature {
                tag: TAG_AUTHORITY,
                ..
            })
        ));

        let mut bad_country = fields();
        bad_country.country_of_use = Some("AE".into());
        assert!(matches!(
            Legalization::new(bad_country),
            Err(SealError::InvalidFeature {
                tag: TAG_COUNTRY_OF_USE,
                ..
            })
        ));
    }

    #[test]
    fn duplicate_missing_and_inconsistent_features_are_refused() {
        let legalization = Legalization::new(fields()).unwrap();
        let mut features = legalization.to_features().unwrap();
        features.push((TAG_AUTHORITY, b"Another authority".to_vec()));
        assert!(matches!(
            Legalization::from_seal(&unsigned_seal(features)),
            Err(SealError::InvalidFeature {
                tag: TAG_AUTHORITY,
                ..
            })
        ));

        let features: Vec<_> = legalization
            .to_features()
            .unwrap()
            .into_iter()
            .filter(|(tag, _)| *tag != TAG_DOCUMENT_SHA256)
            .collect();
        assert!(matches!(
            Legalization::from_seal(&unsigned_seal(features)),
            Err(SealError::MissingFeature {
                tag: TAG_DOCUMENT_SHA256,
                ..
            })
        ));

        let features: Vec<_> = legalization
            .to_features()
            .unwrap()
            .into_iter()
            .map(|(tag, value)| {
                if tag == TAG_ISSUE_DATE {
                    (
                        tag,
                        SealDate::from_ymd(2026, 6, 3).unwrap().to_bytes().to_vec(),
                    )
                } else {
                    (tag, value)
                }
            })
            .collect();
        assert!(matches!(
            Legalization::from_seal(&unsigned_seal(features)),
            Err(SealError::InvalidFeature {
                tag: TAG_ISSUE_DATE,
                ..
            })
        ));

        // Unknown tags are kept and ignored by the profile.
        let mut features = legalization.to_features().unwrap();
        features.push((0x60, vec![1, 2, 3]));
        assert_eq!(
            Legalization::from_seal(&unsigned_seal(features)).unwrap(),
            legalization
        );
    }
}
