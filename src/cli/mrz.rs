//! `travdoc mrz build|check` (filled in by the MRZ work).
use std::process::ExitCode;

use clap::Subcommand;

use super::Context;

#[derive(Debug, Subcommand)]
pub enum MrzCommand {
    /// Read JSON Lines of MRZ fields on stdin, write one JSON line per input.
    Build,
    /// Read MRZ text on stdin (MRZs separated by a blank line) and check every check digit.
    Check {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(_command: &MrzCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet built")
}

pub fn demo(_context: &Context) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet built")
}
