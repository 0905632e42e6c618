//! Passive Authentication (9303-11 §5.1; notes §2.9): every check reported separately.

use std::collections::BTreeMap;

use cms::content_info::CmsVersion;
use der::asn1::{ObjectIdentifier, OctetString};
use travdoc_pkix::cert::{ValidityStatus, document_type_list, validity_at};
use travdoc_pkix::cms_verify::{
    CONTENT_TYPE_ATTR, MESSAGE_DIGEST_ATTR, signed_attribute, signer_info_algorithm,
    verify_signer_info_signature,
};
use travdoc_pkix::{ChainError, RevocationStatus, TrustStore};

use crate::asn1::ID_LDS_SECURITY_OBJECT;
use crate::dg::{Dg1, data_group_number_of};
use crate::sod::Sod;

/// One check and its outcome.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Check {
    /// Stable name, e.g. `sod.signature`, `dg.2.hash`, `dsc.chain`.
    pub name: String,
    /// Whether the check passed.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

/// Overall outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed.
    Valid,
    /// At least one check failed.
    Invalid,
}

/// The Passive Authentication report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PaReport {
    /// The checks in the order performed.
    pub checks: Vec<Check>,
    /// Valid iff every check passed.
    pub verdict: Verdict,
}

impl PaReport {
    /// The check called `name`.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// Options for Passive Authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaOptions {
    /// The verification time, Unix seconds (injected; no clock is read).
    pub at_unix_seconds: u64,
    /// The MRZ document code to check against the DSC's DocumentTypeList (taken from DG1 when
    /// DG1 is supplied and this is `None`).
    pub document_code: Option<String>,
    /// Fail `dsc.revocation` when no CRL from the DSC's issuer is held.
    pub require_crl: bool,
}

struct Report(Vec<Check>);

impl Report {
    fn push(&mut self, name: impl Into<String>, passed: bool, detail: impl Into<String>) -> bool {
        self.0.push(Check {
            name: name.into(),
            passed,
            detail: detail.into(),
        });
        passed
    }

    fn finish(self) -> PaReport {
        let verdict = if !self.0.is_empty() && self.0.iter().all(|c| c.passed) {
            Verdict::Valid
        } else {
            Verdict::Invalid
        };
        PaReport {
            checks: self.0,
            verdict,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Run Passive Authentication of `sod` (EF.SOD bytes) and the given data-group files
/// against `trust`.
pub fn passive_authentication(
    sod: &[u8],
    data_groups: &[&[u8]],
    trust: &TrustStore,
    options: &PaOptions,
) -> PaReport {
    let mut report = Report(Vec::new());
    let sod = match Sod::from_bytes(sod) {
        Ok(sod) => {
            report.push(
                "sod.parse",
                true,
                "EF.SOD decodes: tag 77, ContentInfo, SignedData, LDSSecurityObject",
            );
            sod
        }
        Err(error) => {
            report.push("sod.parse", false, error.to_string());
            return report.finish();
        }
    };
    structure(&sod, &mut report);
    signed_attributes(&sod, &mut report);
    let dsc = match sod.document_signer() {
        Ok(dsc) => Some(dsc),
        Err(error) => {
            report.push(
                "sod.signature",
                false,
                format!("no Document Signer certificate: {error}"),
            );
            None
        }
    };
    // Chain first: the Document Signer's own key (of the submitter's choosing: its curve, its
    // size) is used only once a trusted CSCA's key has verified the certificate that carries it.
    let chained = dsc.is_some_and(|dsc| trust.find_issuer(dsc).is_ok());
    if let (Some(_), false) = (dsc, chained) {
        report.push(
            "sod.signature",
            false,
            "not checked: the Document Signer certificate does not chain to a trusted CSCA",
        );
    }
    if let (Some(dsc), true, Ok(signer_info)) = (dsc, chained, sod.signer_info()) {
        match verify_signer_info_signature(signer_info, dsc) {
            Ok(()) => report.push(
                "sod.signature",
                true,
                format!(
                    "{:?} signature over the signed attributes verifies with the DSC key",
                    signer_info_algorithm(signer_info).ok()
                ),
            ),
            Err(error) => report.push("sod.signature", false, error.to_string()),
        };
    }
    let mut dg1 = None;
    data_group_hashes(&sod, data_groups, &mut report, &mut dg1);
    if let Some(dsc) = dsc {
        certificate_checks(dsc, trust, options, dg1.as_ref(), &mut report);
    }
    report.finish()
}

fn structure(sod: &Sod, report: &mut Report) {
    let signed_data = sod.signed_data();
    let mut problems = Vec::new();
    if signed_data.version != CmsVersion::V3 {
        problems.push(format!(
            "SignedData version {:?}, expected 3",
            signed_data.version
        ));
    }
    if signed_data.encap_content_info.econtent_type != ID_LDS_SECURITY_OBJECT {
        problems.push(format!(
            "eContentType {}",
            signed_data.encap_content_info.econtent_type
        ));
    }
    match sod.signer_info() {
        Ok(signer_info) => {
            if !signed_data
                .digest_algorithms
                .iter()
                .any(|a| a.oid == signer_info.digest_alg.oid)
            {
                problems.push("SignerInfo digestAlgorithm not listed in digestAlgorithms".into());
            }
            if let Err(error) = signer_info_algorithm(signer_info) {
                problems.push(format!("signature algorithm: {error}"));
            }
        }
        Err(error) => problems.push(error.to_string()),
    }
    let lso = sod.lds_security_object();
    if lso.version != u8::from(lso.lds_version_info.is_some()) {
        problems.push(format!(
            "LDSSecurityObject version {} inconsistent with ldsVersionInfo",
            lso.version
        ));
    }
    if let Err(error) = sod.hash_algorithm() {
        problems.push(format!("hashAlgorithm: {error}"));
    }
    let mut seen = [false; 17];
    for hash in &lso.data_group_hash_values {
        let n = usize::from(hash.data_group_number);
        if !(1..=16).contains(&n) || seen[n] {
            problems.push(format!("data group number {n} out of range or repeated"));
        } else {
            seen[n] = true;
        }
    }
    if problems.is_empty() {
        report.push(
            "sod.structure",
            true,
            format!(
                "SignedData v3, eContentType 2.23.136.1.1.1, one SignerInfo, LDSSecurityObject v{}",
                lso.version
            ),
        );
    } else {
        report.push("sod.structure", false, problems.join("; "));
    }
}

fn signed_attributes(sod: &Sod, report: &mut Report) {
    let Ok(signer_info) = sod.signer_info() else {
        report.push("sod.signed_attributes", false, "no single SignerInfo");
        return;
    };
    let content_type = signed_attribute(signer_info, CONTENT_TYPE_ATTR);
    let content_type_ok = matches!(
        content_type,
        Ok(Some(value)) if value.decode_as::<ObjectIdentifier>().ok() == Some(ID_LDS_SECURITY_OBJECT)
    );
    let digest = signer_info_algorithm(signer_info).map(|alg| alg.hash().digest(sod.econtent()));
    let message_digest = signed_attribute(signer_info, MESSAGE_DIGEST_ATTR);
    let digest_ok = match (&digest, message_digest) {
        (Ok(computed), Ok(Some(value))) => value
            .decode_as::<OctetString>()
            .map(|o| o.as_bytes() == computed.as_slice())
            .unwrap_or(false),
        _ => false,
    };
    let passed = content_type_ok && digest_ok;
    let detail = format!(
        "contentType {}, messageDigest {}",
        if content_type_ok {
            "= 2.23.136.1.1.1"
        } else {
            "missing or wrong"
        },
        if digest_ok {
            "= hash of eContent"
        } else {
            "missing or differs from the hash of eContent"
        }
    );
    report.push("sod.signed_attributes", passed, detail);
}

fn data_group_hashes(sod: &Sod, data_groups: &[&[u8]], report: &mut Report, dg1: &mut Option<Dg1>) {
    let hash = match sod.hash_algorithm() {
        Ok(hash) => hash,
        Err(error) => {
            report.push("dg.hash_algorithm", false, error.to_string());
            return;
        }
    };
    let mut by_number = BTreeMap::new();
    for file in data_groups {
        match data_group_number_of(file) {
            Ok(number) => {
                if by_number.insert(number, *file).is_some() {
                    report.push(
                        format!("dg.{number}.hash"),
                        false,
                        "data group supplied twice",
                    );
                }
            }
            Err(error) => {
                report.push("dg.unknown.hash", false, error.to_string());
            }
        }
    }
    for (number, file) in by_number {
        let name = format!("dg.{number}.hash");
        let computed = hash.digest(file);
        match sod.data_group_hash(number) {
            Some(stored) if stored == computed.as_slice() => {
                report.push(
                    name,
                    true,
                    format!("{} {} matches the SOD", hash.name(), hex(&computed)),
                );
                if number == 1 {
                    *dg1 = Dg1::from_bytes(file).ok();
                }
            }
            Some(stored) => {
                report.push(
                    name,
                    false,
                    format!(
                        "{} {} differs from the SOD's {}",
                        hash.name(),
                        hex(&computed),
                        hex(stored)
                    ),
                );
            }
            None => {
                report.push(name, false, "the SOD holds no hash for this data group");
            }
        }
    }
}

fn certificate_checks(
    dsc: &x509_cert::Certificate,
    trust: &TrustStore,
    options: &PaOptions,
    dg1: Option<&Dg1>,
    report: &mut Report,
) {
    let issuer = match trust.find_issuer(dsc) {
        Ok(issuer) => {
            report.push(
                "dsc.chain",
                true,
                format!(
                    "issued by trusted CSCA {}",
                    issuer.tbs_certificate().subject()
                ),
            );
            Some(issuer)
        }
        Err(ChainError::UnknownIssuer) => {
            report.push(
                "dsc.chain",
                false,
                format!("no trusted CSCA named {}", dsc.tbs_certificate().issuer()),
            );
            None
        }
        Err(error) => {
            report.push("dsc.chain", false, error.to_string());
            None
        }
    };
    match validity_at(dsc, options.at_unix_seconds) {
        ValidityStatus::Valid => report.push("dsc.validity", true, "within notBefore..notAfter"),
        ValidityStatus::Expired { not_after } => report.push(
            "dsc.validity",
            false,
            format!("expired (notAfter {not_after} Unix seconds)"),
        ),
        ValidityStatus::NotYetValid { not_before } => report.push(
            "dsc.validity",
            false,
            format!("not yet valid (notBefore {not_before} Unix seconds)"),
        ),
        _ => report.push("dsc.validity", false, "unknown validity status"),
    };
    match issuer.map(|issuer| trust.revocation_status(dsc, issuer)) {
        Some(RevocationStatus::NotRevoked) => {
            report.push("dsc.revocation", true, "not on the issuer's CRL")
        }
        Some(RevocationStatus::Revoked { revocation_date }) => report.push(
            "dsc.revocation",
            false,
            format!("revoked at {revocation_date} Unix seconds"),
        ),
        Some(RevocationStatus::NoCrl) | Some(_) => report.push(
            "dsc.revocation",
            !options.require_crl,
            "no CRL from the issuer is held",
        ),
        None => report.push(
            "dsc.revocation",
            false,
            "issuer unknown, revocation not checked",
        ),
    };
    let code = options
        .document_code
        .clone()
        .or_else(|| dg1.map(|d| d.document_code().to_string()));
    if let Some(code) = code {
        match document_type_list(dsc) {
            Ok(Some(list)) if list.covers(&code) => report.push(
                "dsc.document_type",
                true,
                format!("DocumentTypeList {:?} covers {code}", list.codes()),
            ),
            Ok(Some(list)) => report.push(
                "dsc.document_type",
                false,
                format!("DocumentTypeList {:?} does not cover {code}", list.codes()),
            ),
            Ok(None) => report.push(
                "dsc.document_type",
                false,
                "DSC has no DocumentTypeList extension",
            ),
            Err(error) => report.push("dsc.document_type", false, error.to_string()),
        };
    }
}
