//! ICAO 9303-12 certificate profiles as x509-cert [`BuilderProfile`]s, and the ICAO ASN.1 types
//! they need.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519;
use der::asn1::{
    GeneralizedTime, Ia5String, OctetString, PrintableString, SetOfVec, Utf8StringRef,
};
use der::{Any, DateTime, Decode, Encode, Sequence, Tag, Tagged};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::TbsCertificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage,
    IssuerAltName, KeyUsage, KeyUsages, PrivateKeyUsagePeriod, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

use crate::error::{PkiError, Result, build_error};

/// id-icao-mrtd-security-extensions-documentTypeList (ICAO 9303-12).
pub const ID_ICAO_DOCUMENT_TYPE_LIST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.23.136.1.1.6.2");
/// id-icao-cscaMasterListSigningKey, the EKU of the master-list signer (ICAO 9303-12).
pub const ID_ICAO_CSCA_MASTER_LIST_SIGNING_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.23.136.1.1.3");
/// id-icao-cscaMasterList, the eContentType of a master list (ICAO 9303-12).
pub const ID_ICAO_CSCA_MASTER_LIST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.23.136.1.1.2");
/// id-icao-vdsSigner `{id-icao-mrtd-security-vds 1}`, the EKU of bar-code signers (ICAO 9303-12 §7.1.3).
pub const ID_ICAO_VDS_SIGNER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.136.1.1.11.1");

/// ```text
/// DocumentTypeListSyntax ::= SEQUENCE {
///     version DocumentTypeListVersion,   -- v0(0)
///     docTypeList SET OF DocumentType }
/// DocumentType ::= PrintableString(SIZE(1..2))
/// ```
/// ICAO 9303-12 §7.1.1.3 (extension `2.23.136.1.1.6.2`).
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
pub struct DocumentTypeListSyntax {
    pub version: u8,
    pub doc_type_list: SetOfVec<PrintableString>,
}

impl DocumentTypeListSyntax {
    /// Version 0 listing `codes` (already checked: 1–2 upper-case letters).
    pub fn new(codes: &[String]) -> Result<Self> {
        let mut doc_type_list = SetOfVec::new();
        for code in codes {
            let value = PrintableString::new(code).map_err(build_error("DocumentType"))?;
            if !doc_type_list.iter().any(|existing| existing == &value) {
                doc_type_list
                    .insert(value)
                    .map_err(build_error("DocumentType"))?;
            }
        }
        Ok(Self {
            version: 0,
            doc_type_list,
        })
    }
}

/// ```text
/// CscaMasterList ::= SEQUENCE {
///     version CscaMasterListVersion,   -- v0(0)
///     certList SET OF Certificate }
/// ```
/// ICAO 9303-12 §9 (eContent of a master list; certificates kept as DER `Any`).
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
pub struct CscaMasterList {
    pub version: u8,
    pub cert_list: SetOfVec<Any>,
}

/// Builds a Name from (attribute, value) pairs in order; `countryName` is a PrintableString,
/// other values PrintableString when possible, otherwise UTF8String.
pub fn name(attributes: &[(ObjectIdentifier, &str)]) -> Result<Name> {
    let mut rdns: Vec<RelativeDistinguishedName> = Vec::new();
    for (oid, value) in attributes {
        let any = match PrintableString::new(value) {
            Ok(printable) => Any::encode_from(&printable),
            Err(_) if *oid == rfc4519::COUNTRY_NAME => {
                return Err(PkiError::Build {
                    what: "name",
                    message: format!("country `{value}` is not printable"),
                });
            }
            Err(_) => Any::encode_from(&Utf8StringRef::new(value).map_err(build_error("name"))?),
        }
        .map_err(build_error("name"))?;
        let mut set = SetOfVec::new();
        set.insert(AttributeTypeAndValue {
            oid: *oid,
            value: any,
        })
        .map_err(build_error("name"))?;
        rdns.push(RelativeDistinguishedName::from(set));
    }
    let sequence = RdnSequence::from(rdns);
    let der = sequence.to_der().map_err(build_error("name"))?;
    Name::from_der(&der).map_err(build_error("name"))
}

/// `directoryName` with `L=<ICAO code>`, as Part 12 requires in subject/issuer alternative names.
fn country_general_names(icao: &str) -> Result<Vec<GeneralName>> {
    Ok(vec![GeneralName::DirectoryName(name(&[(
        rfc4519::LOCALITY_NAME,
        icao,
    )])?)])
}

/// What kind of certificate a profile builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileKind {
    /// Self-signed CSCA root.
    CscaRoot,
    /// CSCA link certificate (new CSCA key signed by the old one).
    CscaLink,
    /// Document Signer (passports).
    DocumentSigner,
    /// Bar-code (VDS) signer: subject C + CN, AKI, DocumentType (optional), EKU critical.
    BarcodeSigner,
    /// Master-list signer: EKU 2.23.136.1.1.3 critical.
    MasterListSigner,
    /// Ledger checkpoint key (national profile: like a Document Signer without DocumentType).
    LedgerSigner,
}

/// One ICAO 9303-12 certificate profile.
#[derive(Debug, Clone)]
pub struct IcaoProfile {
    pub kind: ProfileKind,
    pub subject: Name,
    /// `None` for self-signed.
    pub issuer: Option<Name>,
    /// ICAO three-letter code for the `L=` directory names.
    pub icao_country: String,
    /// Private-key usage period.
    pub key_usage_period: Option<(DateTime, DateTime)>,
    /// CRL distribution point URI.
    pub crl_url: Option<String>,
    /// DocumentType codes (Document Signer: mandatory; bar-code signer: optional).
    pub document_types: Vec<String>,
}

fn extension<T: Encode>(
    oid: ObjectIdentifier,
    critical: bool,
    value: &T,
) -> der::Result<Extension> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

fn generalized(time: DateTime) -> GeneralizedTime {
    GeneralizedTime::from_date_time(time)
}

impl BuilderProfile for IcaoProfile {
    fn get_issuer(&self, subject: &Name) -> Name {
        self.issuer.clone().unwrap_or_else(|| subject.clone())
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        use const_oid::AssociatedOid;
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        let issuer_ski = SubjectKeyIdentifier::try_from(issuer_spk)?;
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(issuer_ski.0.clone()),
            ..Default::default()
        };
        let kind = self.kind;
        let is_ca = matches!(kind, ProfileKind::CscaRoot | ProfileKind::CscaLink);
        let barcode = kind == ProfileKind::BarcodeSigner;
        let mut extensions = vec![extension(AuthorityKeyIdentifier::OID, false, &aki)?];
        if !barcode {
            extensions.push(extension(SubjectKeyIdentifier::OID, false, &ski)?);
            let usage = if is_ca {
                KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
            } else {
                KeyUsage(KeyUsages::DigitalSignature.into())
            };
            extensions.push(extension(KeyUsage::OID, true, &usage)?);
            if let Some((not_before, not_after)) = self.key_usage_period {
                let period = PrivateKeyUsagePeriod {
                    not_before: Some(generalized(not_before)),
                    not_after: Some(generalized(not_after)),
                };
                extensions.push(extension(PrivateKeyUsagePeriod::OID, false, &period)?);
            }
            let names = country_general_names(&self.icao_country)
                .map_err(|_| der::Error::from(der::ErrorKind::Failed))?;
            extensions.push(extension(
                SubjectAltName::OID,
                false,
                &SubjectAltName(names.clone()),
            )?);
            extensions.push(extension(IssuerAltName::OID, false, &IssuerAltName(names))?);
            if is_ca {
                let constraints = BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(0),
                };
                extensions.push(extension(BasicConstraints::OID, true, &constraints)?);
            }
            if kind == ProfileKind::MasterListSigner {
                let usage = ExtendedKeyUsage(vec![ID_ICAO_CSCA_MASTER_LIST_SIGNING_KEY]);
                extensions.push(extension(ExtendedKeyUsage::OID, true, &usage)?);
            }
            if let Some(url) = &self.crl_url {
                let point = DistributionPoint {
                    distribution_point: Some(DistributionPointName::FullName(vec![
                        GeneralName::UniformResourceIdentifier(Ia5String::new(url)?),
                    ])),
                    reasons: None,
                    crl_issuer: None,
                };
                extensions.push(extension(
                    CrlDistributionPoints::OID,
                    false,
                    &CrlDistributionPoints(vec![point]),
                )?);
            }
        }
        if (kind == ProfileKind::DocumentSigner || barcode) && !self.document_types.is_empty() {
            let list = DocumentTypeListSyntax::new(&self.document_types)
                .map_err(|_| der::Error::from(der::ErrorKind::Failed))?;
            extensions.push(extension(ID_ICAO_DOCUMENT_TYPE_LIST, false, &list)?);
        }
        if barcode {
            let usage = ExtendedKeyUsage(vec![ID_ICAO_VDS_SIGNER]);
            extensions.push(extension(ExtendedKeyUsage::OID, true, &usage)?);
        }
        Ok(extensions)
    }
}

/// A PrintableString-tagged `Any` check used by tests.
pub fn is_printable(any: &Any) -> bool {
    any.tag() == Tag::PrintableString
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_type_list_matches_known_encoding() {
        // AUS VDS-NC bar-code signer: version 0, {"NV"} (icao-9303-notes §2.5).
        let list = DocumentTypeListSyntax::new(&["NV".to_owned()]).expect("list");
        let der = list.to_der().expect("der");
        assert_eq!(
            hex::encode(&der),
            "300902010031041302 4e56".replace(' ', "")
        );
        assert_eq!(
            DocumentTypeListSyntax::from_der(&der).expect("decode"),
            list
        );
    }

    #[test]
    fn master_list_round_trips() {
        let mut certs = SetOfVec::new();
        certs
            .insert(Any::new(Tag::Sequence, vec![0x02, 0x01, 0x01]).expect("any"))
            .expect("insert");
        let list = CscaMasterList {
            version: 0,
            cert_list: certs,
        };
        let der = list.to_der().expect("der");
        assert_eq!(
            hex::encode(&der),
            "300a020100310530030201 01".replace(' ', "")
        );
        assert_eq!(CscaMasterList::from_der(&der).expect("decode"), list);
    }

    #[test]
    fn names_use_printable_country() {
        let name =
            name(&[(rfc4519::COUNTRY_NAME, "LK"), (rfc4519::COMMON_NAME, "TD")]).expect("name");
        let country = name.iter().next().expect("first attribute");
        assert_eq!(
            country.oid,
            rfc4519::COUNTRY_NAME,
            "countryName comes first in DER"
        );
        assert!(is_printable(&country.value));
        // RFC 4514 strings list the last RDN first.
        assert_eq!(name.to_string(), "CN=TD,C=LK");
    }
}
