//! travdoc: the issuance service of a national travel-document authority.
//!
//! The format crates (`travdoc-mrz`, `travdoc-lds`, `travdoc-seal`, `travdoc-tlog`, `travdoc-pkix`)
//! are pure; this crate composes them with the HSM, the database, printers and HTTP.
#![forbid(unsafe_code)]

pub mod cli;
// The composition root: builds travdoc from its configuration.
pub mod compose;
pub mod config;
// The database the service runs on (SQLite or PostgreSQL, through travdoc-store), and its faults.
pub mod db;
// Service (HTTP API, issuance domain, auth, verification, metrics).
pub mod api;
// What the API and the web pages share (state, error mapping, extractors).
pub mod auth;
pub mod http;
pub mod identity;
pub mod issuance;
pub mod live;
pub mod metrics;
// Times as the service writes them (RFC 3339).
pub mod timefmt;
// Use cases: one module per job, called by the API, the web pages and the CLI alike.
pub mod usecase;
// Staff console and public verification page (server-rendered HTML).
pub mod web;
