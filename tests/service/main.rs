//! The service end to end, run as the built binary against real parts (SoftHSM2, SQLite,
//! PostgreSQL clusters and printers started by the tests): one test binary instead of one per
//! file, so the test code is compiled and linked once.

#[path = "../common/mod.rs"]
mod common;

mod api_domain;
mod api_input;
mod api_matrix;
mod backup;
mod checks;
mod contract;
mod e2e_crash;
mod e2e_passport;
mod e2e_postgres;
mod e2e_ttd;
mod hostile;
mod identity;
mod languages;
mod ledger_processes;
mod live_pki;
mod load_tool;
mod person_checks;
mod print_once;
mod reports;
mod sltd;
mod tls;
mod tour;
mod verify_callers;
