//! `travdoc user ...`: staff accounts on the server host, through `usecase::accounts` (the same
//! acts as `/v1/users`). The command acts as the host operator (`cli:<login>`), or as an admin
//! when `TRAVDOC_OPERATOR_TOKEN` holds an admin's API token (needed to confirm a grant once the
//! service has two admins).

use std::process::ExitCode;

use clap::Subcommand;

use super::Context;
use crate::auth::{MissionCode, Role};
use crate::issuance::Db;
use crate::usecase::accounts::{self, AccountView, Party};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Adds an account and prints its one-time enrolment code (24 hours).
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
    /// Prints a new API bearer token for NAME (stored hashed; shown once).
    Token {
        name: String,
        /// Days until it expires (1 to 366).
        #[arg(long, default_value_t = 90)]
        expires: u32,
        /// What the token is for.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Lists NAME's API tokens (without their secrets).
    Tokens { name: String },
    /// Revokes an API token by its id.
    RevokeToken { id: String },
    /// Disables NAME: its sessions and tokens stop at once.
    Disable { name: String },
    /// Enables NAME (an approver or admin once a second admin confirms).
    Enable { name: String },
    /// Changes NAME's role (to approver or admin once a second admin confirms).
    SetRole {
        name: String,
        role: String,
        #[arg(long)]
        mission: Option<String>,
    },
    /// Clears NAME's password, second factor and passkeys and prints a new enrolment code.
    Reset { name: String },
    /// Lifts NAME's sign-in lock.
    Unlock { name: String },
    /// Confirms NAME's pending grant.
    Confirm { name: String },
    /// Lists the accounts.
    List {
        #[arg(long)]
        json: bool,
    },
}

fn describe(account: &AccountView) -> String {
    let mut state = Vec::new();
    if account.disabled {
        state.push("disabled".to_owned());
    }
    if let Some(pending) = &account.pending {
        state.push(format!(
            "{} {} awaits confirmation",
            pending.kind, pending.role
        ));
    }
    if !account.password {
        state.push("not enrolled".to_owned());
    }
    format!(
        "{} ({}{}){}",
        account.name,
        account.role,
        account
            .mission
            .as_deref()
            .map(|m| format!(", mission {m}"))
            .unwrap_or_default(),
        if state.is_empty() {
            String::new()
        } else {
            format!(": {}", state.join("; "))
        }
    )
}

/// The party of this command: an admin named by `TRAVDOC_OPERATOR_TOKEN`, else the host
/// operator.
async fn party(db: &Db) -> anyhow::Result<Party> {
    match std::env::var("TRAVDOC_OPERATOR_TOKEN") {
        Ok(token) if !token.trim().is_empty() => {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let actor = crate::auth::authenticate(db, token.trim(), now)
                .await?
                .filter(|actor| actor.may(crate::auth::Act::ManageUsers))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "TRAVDOC_OPERATOR_TOKEN is not a valid token of an enabled admin in force"
                    )
                })?;
            Ok(Party::Admin(actor))
        }
        _ => Ok(Party::Host(format!("cli:{}", super::offline::operator()))),
    }
}

pub fn run(context: &Context, command: &UserCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let url = context.config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&context.config.data_dir)?;
    }
    runtime.block_on(async {
        let db = Db::open(&url, 1).await?;
        let outcome = act(&db, command).await;
        db.close().await;
        outcome
    })
}

async fn act(db: &Db, command: &UserCommand) -> anyhow::Result<ExitCode> {
    let party = party(db).await?;
    let now = time::OffsetDateTime::now_utc();
    let mission = |code: &Option<String>| -> anyhow::Result<Option<MissionCode>> {
        Ok(code.as_deref().map(str::parse::<MissionCode>).transpose()?)
    };
    match command {
        UserCommand::Add {
            name,
            role,
            mission: code,
        } => {
            let role: Role = role.parse()?;
            let created = accounts::add_user(db, &party, name, role, mission(code)?, now).await?;
            eprintln!(
                "account {} created; its one-time enrolment code (until {}) is shown once:",
                describe(&created.account),
                created.enrolment_expires_at
            );
            println!("{}", created.enrolment_code);
        }
        UserCommand::Token {
            name,
            expires,
            label,
        } => {
            let token = accounts::issue_token(db, &party, name, label, *expires, now).await?;
            eprintln!(
                "API token {} for `{}` (expires {}); shown once:",
                token.id, token.user, token.expires_at
            );
            println!("{}", token.token);
        }
        UserCommand::Tokens { name } => {
            for token in accounts::tokens(db, name).await? {
                println!(
                    "{}\t{}\texpires {}\t{}",
                    token.id,
                    token.label,
                    token.expires_at,
                    token
                        .revoked_at
                        .map(|at| format!("revoked {at}"))
                        .unwrap_or_else(|| "active".to_owned())
                );
            }
        }
        UserCommand::RevokeToken { id } => {
            accounts::revoke_token(db, &party, id, now).await?;
            eprintln!("token {id} revoked");
        }
        UserCommand::Disable { name } => {
            let account = accounts::disable(db, &party, name, now).await?;
            eprintln!("{}", describe(&account));
        }
        UserCommand::Enable { name } => {
            let account = accounts::enable(db, &party, name, now).await?;
            eprintln!("{}", describe(&account));
        }
        UserCommand::SetRole {
            name,
            role,
            mission: code,
        } => {
            let account =
                accounts::set_role(db, &party, name, role.parse()?, mission(code)?, now).await?;
            eprintln!("{}", describe(&account));
        }
        UserCommand::Reset { name } => {
            let reset = accounts::reset(db, &party, name, now).await?;
            eprintln!(
                "{}: password and second factor cleared; new enrolment code (until {}):",
                describe(&reset.account),
                reset.enrolment_expires_at
            );
            println!("{}", reset.enrolment_code);
        }
        UserCommand::Unlock { name } => {
            accounts::unlock(db, &party, name, now).await?;
            eprintln!("`{name}` unlocked");
        }
        UserCommand::Confirm { name } => {
            let account = accounts::confirm(db, &party, name, now).await?;
            eprintln!("{}", describe(&account));
        }
        UserCommand::List { json } => {
            let list = accounts::list(db).await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for account in &list {
                    println!("{}", describe(account));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
