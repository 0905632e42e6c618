//! Command line: global options and one subcommand module per area. Each command calls the same
//! library code the HTTP API calls.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

mod backup;
mod bench;
pub mod config_doc;
mod doctor;
mod ledger;
mod legalization;
mod mrz;
mod offline;
mod passport;
mod pki;
mod print;
mod seal;
mod serve;
mod sltd;
mod ttd;
mod user;
mod verify;

#[derive(Debug, Parser)]
#[command(
    name = "travdoc",
    version,
    about = "Travel-document issuance: MRZ, SOD, seals, PKI, ledger"
)]
pub struct Cli {
    /// Runtime state directory (token, database, spool, exports).
    #[arg(long, global = true, env = "TRAVDOC_DATA_DIR", default_value = "var")]
    pub data_dir: PathBuf,
    /// Configuration file (TOML).
    #[arg(long, global = true, env = "TRAVDOC_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build and check machine readable zones.
    #[command(subcommand)]
    Mrz(mrz::MrzCommand),
    /// A short demonstration: build an MRZ and check it.
    Demo,
    /// Run the issuance service (HTTP API); creates everything on a fresh data dir.
    Serve(serve::ServeArgs),
    /// Manage users and their bearer tokens.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Country PKI: CSCA, signers, CRL, rollover, master list, export.
    #[command(subcommand)]
    Pki(pki::PkiCommand),
    /// Load tool: time issuances or verifications against a running service.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Visible digital seals: `seal decode FILE` prints header and features as JSON.
    #[command(subcommand)]
    Seal(seal::SealCommand),
    /// Audit ledger: verify, checkpoint, prove, export.
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// Verify artifacts offline: `verify sod EF_SOD.bin [DG files] [--trust DIR] [--json]`,
    /// `verify seal FILE [--trust DIR] [--printed-mrz FILE] [--document FILE] [--json]`.
    #[command(subcommand)]
    Verify(verify::VerifyCommand),
    /// Temporary travel documents: `ttd issue --request ttd.json --out DIR`.
    #[command(subcommand)]
    Ttd(ttd::TtdCommand),
    /// Passports: `passport personalize --request app.json --photo face.jpg --out DIR`.
    #[command(subcommand)]
    Passport(passport::PassportCommand),
    /// Secure blank stock: `stock add --type ttd --location LON --from S1 --to S2`, `stock list`.
    #[command(subcommand)]
    Stock(print::StockCommand),
    /// Print a document: `print --document N --printer NAME [--reprint-reason TEXT]`.
    Print(print::PrintArgs),
    /// Printers: `printers check` (reachability and attributes of each configured printer).
    #[command(subcommand)]
    Printers(print::PrintersCommand),
    /// Legalization certificates: `legalization issue --request leg.json --document FILE --out DIR`.
    #[command(subcommand)]
    Legalization(legalization::LegalizationCommand),
    /// Lost and stolen documents lists: `sltd import FILE`, `sltd export [--since DATE]`.
    #[command(subcommand)]
    Sltd(sltd::SltdCommand),
    /// Checks this deployment: configuration, data dir space, database and migrations, HSM
    /// and signers' keys, certificates and CRLs against their warning windows, the ledger,
    /// printers. One line per check (ok, warn, fail, and what to do); exit 1 on any fail.
    Doctor {
        /// One JSON array of the checks instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// The configuration: `config example` (annotated TOML at the defaults), `config
    /// reference` (the table of docs/configuration.md).
    #[command(subcommand)]
    Config(config_doc::ConfigCommand),
    /// A consistent copy of the data dir's records while `serve` runs (SQLite snapshot, or
    /// pg_dump in one snapshot on PostgreSQL; PKI export, configuration; never the HSM's keys),
    /// with a manifest of checksums.
    Backup {
        /// The archive to write (a new file).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restores a backup into the (new) data dir given with --data-dir, or on PostgreSQL into
    /// the new, empty database of DATABASE_URL (pg_restore in one transaction); refuses a
    /// damaged or partial file and writes nothing then.
    Restore {
        /// The archive `travdoc backup` wrote.
        file: PathBuf,
    },
}

/// Global options resolved into a configuration.
pub struct Context {
    pub config: Config,
    /// The configuration file given (`--config`), if any.
    pub config_file: Option<PathBuf>,
}

impl Cli {
    fn context(&self) -> anyhow::Result<Context> {
        let config = Config::load(self.config.as_deref(), Some(&self.data_dir))?;
        Ok(Context {
            config,
            config_file: self.config.clone(),
        })
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Mrz(command) => mrz::run(command),
        Command::Demo => cli.context().and_then(|context| mrz::demo(&context)),
        Command::Serve(args) => cli.context().and_then(|context| serve::run(&context, args)),
        Command::User(command) => cli
            .context()
            .and_then(|context| user::run(&context, command)),
        Command::Pki(command) => cli
            .context()
            .and_then(|context| pki::run(&context, command)),
        Command::Bench(bench::BenchCommand::Seed { documents }) => cli
            .context()
            .and_then(|context| bench::seed(&context, *documents)),
        Command::Bench(command) => bench::run(command),
        Command::Seal(command) => seal::run(command),
        Command::Ledger(command) => cli
            .context()
            .and_then(|context| ledger::run(command, &context)),
        Command::Verify(command) => cli
            .context()
            .and_then(|context| verify::run(command, &context)),
        Command::Ttd(command) => cli
            .context()
            .and_then(|context| ttd::run(&context, command)),
        Command::Passport(command) => cli
            .context()
            .and_then(|context| passport::run(&context, command)),
        Command::Stock(command) => cli
            .context()
            .and_then(|context| print::stock(&context, command)),
        Command::Print(args) => cli
            .context()
            .and_then(|context| print::print(&context, args)),
        Command::Printers(command) => cli
            .context()
            .and_then(|context| print::printers(&context, command)),
        Command::Legalization(command) => cli
            .context()
            .and_then(|context| legalization::run(&context, command)),
        Command::Sltd(command) => cli
            .context()
            .and_then(|context| sltd::run(&context, command)),
        Command::Config(command) => config_doc::run(command),
        Command::Backup { out } => cli
            .context()
            .and_then(|context| backup::backup(&context, out)),
        Command::Restore { file } => cli
            .context()
            .and_then(|context| backup::restore(&context, file)),
        Command::Doctor { json } => match cli.context() {
            Ok(context) => doctor::run(&context, *json),
            Err(error) => return doctor::config_failed(&error, *json),
        },
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
