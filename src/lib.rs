//! travdoc: the issuance service of a national travel-document authority.
//!
//! The format crates (`travdoc-mrz`, `travdoc-lds`, `travdoc-seal`, `travdoc-tlog`, `travdoc-pkix`)
//! are pure; this crate composes them with the HSM, the database, printers and HTTP.
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
