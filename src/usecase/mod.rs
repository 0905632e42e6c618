//! Use cases: one module per job, called by the API, the web pages and the CLI alike. Each
//! applies its job's rules once and returns a typed result that every caller renders in its
//! own way. Verification takes input that its constructor has checked (`VerifyInput`); the
//! other jobs parse their request bodies with `validate()` into the typed requests of
//! `issuance/input.rs`. The jobs run over `issuance::Service`, the bundle of their
//! dependencies.

pub mod accounts;
pub mod approve;
pub mod clear_arrival;
pub mod decide;
pub mod issue_ttd;
pub mod ledger;
pub mod legalize;
pub mod passkeys;
pub mod personalize;
pub mod print;
pub mod publication;
pub mod read;
pub mod reports;
pub mod request;
pub mod revoke;
pub mod signin;
pub mod sltd;
pub mod verify;
