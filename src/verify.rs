//! One verifier for every artifact the service issues: seal bytes (TTD ETD seals and
//! legalization seals), QR text, barcode images (decoded by an injected decoder) and SOD + data
//! groups (through an injected passive-authentication check). The cryptographic answer follows
//! ICAO 9303-13 App. D (VALID / INVALID with reasons); the caller adds the document's status.

use std::collections::BTreeMap;

use der::Decode as _;
use serde::Serialize;
use sha2::Digest as _;
use x509_cert::Certificate;

use travdoc_pkix::trust::{ChainError, TrustStore};

/// What was handed in.
#[derive(Debug, Clone)]
pub enum Artifact {
    /// Raw seal bytes.
    Seal(Vec<u8>),
    /// A PNG/JPEG photo or scan of the 2D barcode.
    BarcodeImage(Vec<u8>),
    /// The text of a QR code (legalization).
    Qr(String),
    /// EF.SOD and data groups by number.
    Sod {
        sod: Vec<u8>,
        data_groups: BTreeMap<u8, Vec<u8>>,
    },
}

/// The cryptographic result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub valid: bool,
    /// ICAO App. D sub-indications and our own checks (`INVALID_SIGNATURE`, `DOCUMENT_HASH_MISMATCH`…).
    pub reasons: Vec<String>,
    /// `ttd`, `legalization` or `passport`, when recognised.
    pub kind: Option<String>,
    /// The document number the artifact names.
    pub number: Option<String>,
    /// What the artifact says (MRZ lines, certificate fields).
    pub data: serde_json::Value,
}

impl Verification {
    fn invalid(reason: &str) -> Self {
        Verification {
            valid: false,
            reasons: vec![reason.to_owned()],
            kind: None,
            number: None,
            data: serde_json::Value::Null,
        }
    }
}

/// Decodes barcode images (rxing through `travdoc-render`).
pub trait BarcodeDecoder: Send + Sync {
    /// The payload bytes of the first 2D code found in the image.
    fn decode(&self, image: &[u8]) -> Result<Vec<u8>, String>;
}

/// Passive Authentication of SOD + data groups (`travdoc-lds`).
pub trait SodVerifier: Send + Sync {
    /// Checks the SOD against `trust` at `now` and the data groups against its hashes.
    fn verify(
        &self,
        sod: &[u8],
        data_groups: &BTreeMap<u8, Vec<u8>>,
        trust: &TrustStore,
        now_unix: u64,
    ) -> Verification;
}

/// The verifier: trusted CSCAs (with CRLs) and the known seal signer certificates.
pub struct Verifier {
    trust: TrustStore,
    signers: Vec<Certificate>,
    /// Chain check results per signer (index), with the time they were computed: the chain is
    /// re-checked at most once a minute (each check is a signature verification).
    chains: std::sync::Mutex<std::collections::HashMap<usize, (u64, Option<&'static str>)>>,
    barcode: Option<Box<dyn BarcodeDecoder>>,
    sod: Option<Box<dyn SodVerifier>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("cscas", &self.trust.len())
            .field("signers", &self.signers.len())
            .finish_non_exhaustive()
    }
}

/// Errors building a verifier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifierError {
    #[error("certificate {what} is not valid DER: {message}")]
    Certificate { what: &'static str, message: String },
}

impl Verifier {
    /// A verifier trusting `cscas` (DER), with CRLs (DER) and the seal signer certificates (DER).
    pub fn new(
        cscas: &[Vec<u8>],
        crls: &[Vec<u8>],
        signers: &[Vec<u8>],
    ) -> Result<Self, VerifierError> {
        let mut trust = TrustStore::new();
        for csca in cscas {
            trust
                .add_csca_der(csca)
                .map_err(|error| VerifierError::Certificate {
                    what: "CSCA",
                    message: error.to_string(),
                })?;
        }
        for crl in crls {
            if let Err(error) = trust.add_crl_der(crl) {
                tracing::warn!(%error, "CRL not added to the verifier");
            }
        }
        let signers = signers
            .iter()
            .map(|der| Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| VerifierError::Certificate {
                what: "signer",
                message: error.to_string(),
            })?;
        Ok(Verifier {
            trust,
            signers,
            chains: std::sync::Mutex::new(std::collections::HashMap::new()),
            barcode: None,
            sod: None,
        })
    }

    pub fn with_barcode_decoder(mut self, decoder: Box<dyn BarcodeDecoder>) -> Self {
        self.barcode = Some(decoder);
        self
    }

    pub fn with_sod_verifier(mut self, verifier: Box<dyn SodVerifier>) -> Self {
        self.sod = Some(verifier);
        self
    }

    /// Verifies an artifact at `now_unix`; `document` is the presented legalized file, if any.
    pub fn verify(
        &self,
        artifact: &Artifact,
        document: Option<&[u8]>,
        now_unix: u64,
    ) -> Verification {
        match artifact {
            Artifact::Seal(bytes) => self.verify_seal(bytes, document, now_unix),
            Artifact::Qr(text) => match travdoc_seal::parse_qr_payload(text) {
                Ok(bytes) => self.verify_seal(&bytes, document, now_unix),
                Err(_) => Verification::invalid("READ_ERROR"),
            },
            Artifact::BarcodeImage(image) => match &self.barcode {
                None => Verification::invalid("UNSUPPORTED_ARTIFACT"),
                Some(decoder) => match decoder.decode(image) {
                    Ok(bytes) => {
                        // A QR code carries URL text; a Data Matrix carries the seal bytes.
                        match std::str::from_utf8(&bytes)
                            .ok()
                            .filter(|text| text.contains('#'))
                            .map(travdoc_seal::parse_qr_payload)
                        {
                            Some(Ok(seal)) => self.verify_seal(&seal, document, now_unix),
                            _ => self.verify_seal(&bytes, document, now_unix),
                        }
                    }
                    Err(_) => Verification::invalid("READ_ERROR"),
                },
            },
            Artifact::Sod { sod, data_groups } => match &self.sod {
                None => Verification::invalid("UNSUPPORTED_ARTIFACT"),
                Some(verifier) => verifier.verify(sod, data_groups, &self.trust, now_unix),
            },
        }
    }

    /// Checks a seal: format, profile, signer certificate (known, chained to a CSCA, in date,
    /// not revoked, document type), signature, and the profile's content rules.
    pub fn verify_seal(
        &self,
        bytes: &[u8],
        document: Option<&[u8]>,
        now_unix: u64,
    ) -> Verification {
        let seal = match travdoc_seal::Seal::decode(bytes) {
            Ok(seal) => seal,
            Err(_) => return Verification::invalid("WRONG_FORMAT"),
        };
        let mut reasons = Vec::new();
        let header = seal.header();
        let (kind, number, data, document_code) = if travdoc_seal::etd::is_etd(header) {
            match travdoc_seal::etd::mrz(&seal) {
                Ok(mrz) => {
                    let [line1, line2] = mrz.lines();
                    let number = line2
                        .get(0..9)
                        .map(|field| field.trim_end_matches('<').to_owned());
                    if !td2_check_digits_ok(line1, line2) {
                        reasons.push("INVALID_SEAL_MRZ".to_owned());
                    }
                    let code = line1.get(0..2).unwrap_or("").to_owned();
                    (
                        "ttd",
                        number,
                        serde_json::json!({"mrz": [line1, line2]}),
                        Some(code),
                    )
                }
                Err(_) => return Verification::invalid("WRONG_FORMAT"),
            }
        } else if travdoc_seal::legalization::is_legalization(header) {
            match travdoc_seal::Legalization::from_seal(&seal) {
                Ok(legalization) => {
                    if let Some(document) = document
                        && !legalization.matches_document(document)
                    {
                        reasons.push("DOCUMENT_HASH_MISMATCH".to_owned());
                    }
                    let date = legalization.issue_date();
                    (
                        "legalization",
                        Some(legalization.certificate_number().to_owned()),
                        serde_json::json!({
                            "certificate_number": legalization.certificate_number(),
                            "issue_date": format!("{:?}", date),
                            "document_sha256": hex::encode(legalization.document_sha256()),
                            "document_type": legalization.document_type(),
                            "signatory": legalization.signatory(),
                            "capacity": legalization.capacity(),
                            "authority": legalization.authority(),
                            "place": legalization.place(),
                            "country_of_use": legalization.country_of_use(),
                            "document_checked": document.is_some(),
                        }),
                        None,
                    )
                }
                Err(_) => return Verification::invalid("WRONG_FORMAT"),
            }
        } else {
            return Verification::invalid("UNKNOWN_PROFILE");
        };
        let signer_ref = header.signer();
        let serial_hex = signer_ref.certificate_reference().to_ascii_uppercase();
        let country2 = signer_ref.signer_country().to_owned();
        let signer = self.signers.iter().enumerate().find(|(_, cert)| {
            let serial = cert.tbs_certificate().serial_number().as_bytes();
            let start = serial.iter().position(|b| *b != 0).unwrap_or(serial.len());
            hex::encode_upper(&serial[start..]) == serial_hex
                && subject_country(cert).as_deref() == Some(country2.as_str())
        });
        match signer {
            None => reasons.push("UNKNOWN_CERTIFICATE".to_owned()),
            Some((index, cert)) => {
                if let Some(reason) = self.chain_problem(index, cert, now_unix) {
                    reasons.push(reason.to_owned());
                }
                if let (Some(code), Ok(Some(list))) =
                    (&document_code, travdoc_pkix::cert::document_type_list(cert))
                    && !list.covers(code)
                {
                    reasons.push("INVALID_DOCUMENTTYPE".to_owned());
                }
                let signature = seal.signature();
                let signed = match seal.signed_data() {
                    Ok(signed) => signed,
                    Err(_) => return Verification::invalid("WRONG_FORMAT"),
                };
                let hash = if signature.len() > 64 {
                    travdoc_pkix::HashAlgorithm::Sha384
                } else {
                    travdoc_pkix::HashAlgorithm::Sha256
                };
                let spki = cert.tbs_certificate().subject_public_key_info();
                if travdoc_pkix::verify_ecdsa_raw(spki, hash, &signed, signature).is_err() {
                    reasons.push("INVALID_SIGNATURE".to_owned());
                }
            }
        }
        let valid = reasons.is_empty();
        Verification {
            valid,
            reasons,
            kind: Some(kind.to_owned()),
            number,
            data,
        }
    }
}

impl Verifier {
    /// The App. D reason why signer `index` does not chain to a trusted CSCA at `now_unix`.
    fn chain_problem(
        &self,
        index: usize,
        cert: &Certificate,
        now_unix: u64,
    ) -> Option<&'static str> {
        if let Ok(chains) = self.chains.lock()
            && let Some((at, problem)) = chains.get(&index)
            && now_unix >= *at
            && now_unix - *at < 60
        {
            return *problem;
        }
        let problem = match self.trust.chain(cert, now_unix) {
            Ok(_) => None,
            Err(ChainError::Expired { .. }) | Err(ChainError::NotYetValid { .. }) => {
                Some("EXPIRED_CERTIFICATE")
            }
            Err(ChainError::Revoked { .. }) => Some("REVOKED_CERTIFICATE"),
            Err(_) => Some("UNTRUSTED_CERTIFICATE"),
        };
        if let Ok(mut chains) = self.chains.lock() {
            chains.insert(index, (now_unix, problem));
        }
        problem
    }
}

fn subject_country(cert: &Certificate) -> Option<String> {
    cert.tbs_certificate()
        .subject()
        .country()
        .ok()
        .flatten()
        .map(|country| country.to_string())
}

/// Whether both TD2 lines parse as an MRZ with every check digit right.
fn td2_check_digits_ok(line1: &str, line2: &str) -> bool {
    travdoc_mrz::parse(&format!("{line1}\n{line2}"))
        .map(|parsed| parsed.is_valid())
        .unwrap_or(false)
}

/// SHA-256 hex of bytes (for answers that name a document by hash).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn td2_check_digits_from_the_icao_etd_example() {
        // ICAO 9303-8 worked example (seal MRZ, fillers restored).
        let line1 = "PUUTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<";
        let line2 = "D231458907UTO7408122F2606277<<<<<<<8";
        assert!(td2_check_digits_ok(line1, line2));
        let tampered = "D231458908UTO7408122F2606277<<<<<<<8";
        assert!(!td2_check_digits_ok(line1, tampered));
    }

    #[test]
    fn garbage_is_wrong_format_and_bad_qr_is_read_error() {
        let verifier = Verifier::new(&[], &[], &[]);
        let Ok(verifier) = verifier else {
            panic!("empty verifier")
        };
        let result = verifier.verify(&Artifact::Seal(vec![1, 2, 3]), None, 0);
        assert!(!result.valid);
        assert_eq!(result.reasons, vec!["WRONG_FORMAT".to_owned()]);
        let result = verifier.verify(&Artifact::Qr("https://x#***".into()), None, 0);
        assert_eq!(result.reasons, vec!["READ_ERROR".to_owned()]);
    }
}
