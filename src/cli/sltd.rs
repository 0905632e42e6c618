//! `travdoc sltd import FILE` and `travdoc sltd export [--since DATE]`: the lost, stolen and
//! revoked documents lists on the host (`usecase::sltd`, as `/v1/sltd/...`), for files larger
//! than a request may be.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

use super::{Context, offline};
use crate::auth::{Actor, Role};

#[derive(Debug, Subcommand)]
pub enum SltdCommand {
    /// Import a list (CSV with the header
    /// `issuing_state,document_type,document_number,status,reported_on`); prints the report as
    /// JSON; exits 1 when lines were refused (they are listed with their numbers).
    Import { file: PathBuf },
    /// Print our lost, stolen, revoked and invalidated documents in the same CSV.
    Export {
        /// Only documents revoked on or after this day (`YYYY-MM-DD`).
        #[arg(long)]
        since: Option<String>,
    },
}

pub fn run(context: &Context, command: &SltdCommand) -> anyhow::Result<ExitCode> {
    let operator = offline::operator();
    let actor = Actor {
        id: format!("cli:{operator}"),
        name: operator,
        role: Role::Admin,
        mission: None,
        granted: true,
    };
    match command {
        SltdCommand::Import { file } => {
            let bytes =
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let report = offline::with_service(context, async |service| {
                Ok(crate::usecase::sltd::import(service.records(), &actor, &bytes).await?)
            })?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if report.rejected == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        SltdCommand::Export { since } => {
            let text = offline::with_service(context, async |service| {
                Ok(crate::usecase::sltd::export(
                    service.records(),
                    service.country(),
                    since.as_deref(),
                )
                .await?)
            })?;
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
