//! `travdoc user add NAME --role ROLE [--mission CODE]`: creates a user and prints its bearer
//! token (shown once; only its SHA-256 is stored).

use std::process::ExitCode;

use clap::Subcommand;

use super::Context;
use crate::auth::{self, MissionCode, Role};
use crate::issuance::Db;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Adds a user and prints its bearer token.
    Add {
        /// User name (A-Z, a-z, 0-9, '.', '_', '-').
        name: String,
        /// issuer, approver, mission, consular, immigration, auditor or admin.
        #[arg(long)]
        role: String,
        /// The mission code (mission role only).
        #[arg(long)]
        mission: Option<String>,
    },
}

pub fn run(context: &Context, command: &UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add {
            name,
            role,
            mission,
        } => {
            let role: Role = role.parse()?;
            let mission = mission
                .as_deref()
                .map(str::parse::<MissionCode>)
                .transpose()?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let url = context.config.database_url();
            if url.starts_with("sqlite:") {
                std::fs::create_dir_all(&context.config.data_dir)?;
            }
            let user = runtime.block_on(async {
                let db = Db::open(&url, 1).await?;
                let now = crate::issuance::rfc3339(time::OffsetDateTime::now_utc());
                let user = auth::add_user(
                    &db,
                    name,
                    role,
                    mission,
                    &now,
                    &format!("cli:{}", super::offline::operator()),
                )
                .await;
                db.close().await;
                anyhow::Ok(user?)
            })?;
            eprintln!(
                "user `{}` ({}{}) created; its token is shown once:",
                user.name,
                user.role,
                user.mission
                    .as_deref()
                    .map(|m| format!(", mission {m}"))
                    .unwrap_or_default()
            );
            println!("{}", user.token);
            Ok(ExitCode::SUCCESS)
        }
    }
}
