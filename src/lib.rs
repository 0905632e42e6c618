//! travdoc: the issuance service of a national travel-document authority.
//!
//! The format crates (`travdoc-mrz`, `travdoc-lds`, `travdoc-seal`, `travdoc-tlog`, `travdoc-pkix`)
//! are pure; this crate composes them with the HSM, the database, printers and HTTP.
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
// Service (HTTP API, issuance domain, auth, verification, metrics).
pub mod api;
pub mod auth;
pub mod issuance;
pub mod metrics;
// Use cases: one module per job, called by the API, the web pages and the CLI alike.
pub mod usecase;
// Staff console and public verification page (server-rendered HTML).
pub mod web;
