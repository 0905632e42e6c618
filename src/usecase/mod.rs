//! Use cases: one module per job. Each takes typed input that its constructor has checked,
//! applies the job's rules once, and returns a typed result that the API, the web pages and
//! the CLI render each in their own way.

pub mod approve;
pub mod clear_arrival;
pub mod issue_ttd;
pub mod ledger;
pub mod legalize;
pub mod personalize;
pub mod print;
pub mod publication;
pub mod request;
pub mod revoke;
pub mod verify;
