//! Command line: global options and one subcommand module per area. Each command calls the same
//! library code the HTTP API calls.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

mod mrz;

#[derive(Debug, Parser)]
#[command(name = "travdoc", version, about = "Travel-document issuance: MRZ, SOD, seals, PKI, ledger")]
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
}

/// Global options resolved into a configuration.
pub struct Context {
    pub config: Config,
}

impl Cli {
    fn context(&self) -> anyhow::Result<Context> {
        let config = Config::load(self.config.as_deref(), Some(&self.data_dir))?;
        Ok(Context { config })
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Mrz(command) => mrz::run(command),
        Command::Demo => cli.context().and_then(|context| mrz::demo(&context)),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
