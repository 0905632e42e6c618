//! ICAO 9303 Part 12 country PKI of travdoc.
//!
//! A CSCA (self-signed; rollover with link certificates) and its signers, each with its own key
//! in the HSM and its own profile ([`profile::IcaoProfile`]): Document Signer for passports,
//! bar-code signers for TTD and legalization seals, the master-list signer and the ledger's
//! checkpoint key; CRLs in the Part 12 profile (v2, AKI, cRLNumber, no entry extensions; reasons
//! kept in our store) and CSCA master lists (CMS SignedData, eContentType 2.23.136.1.1.2).
//!
//! Entry point: [`Pki::open_or_init`]. Public state lives behind [`store::PkiStore`] (files under
//! `DATA_DIR/pki/` by default); events go to a [`PkiEventSink`] that the service connects to the
//! ledger.
#![forbid(unsafe_code)]

mod config;
pub mod country;
mod error;
mod kind;
mod pkd;
mod pki;
pub mod profile;
pub mod store;

pub use config::{Lifetime, Period, PkiConfig};
pub use country::Country;
pub use error::{PkiError, Result};
pub use kind::{NoEvents, PkiEvent, PkiEventKind, PkiEventSink, RevocationReason, SignerKind};
pub use pki::{
    CertificateState, Clock, CscaGeneration, HsmSettings, InitReport, IssuedSigner, Pki,
    PkiOptions, PkiStatus, PublishedCertificate, PublishedCrl, RenewReport, StatusEntry,
    SystemClock,
};
pub use travdoc_hsm as hsm;
pub use travdoc_pkix::EcParameterEncoding;
