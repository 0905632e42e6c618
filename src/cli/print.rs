//! Printing from the command line: `travdoc stock add|list`, `travdoc print --document N
//! --printer NAME [--reprint-reason TEXT]`, `travdoc printers check`. Each calls the same domain
//! methods as the API, as the local operator.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::Context;
use super::offline;
use crate::auth::{Actor, Role};

#[derive(Debug, Subcommand)]
pub enum StockCommand {
    /// Register a batch of secure blanks (serials FROM..=TO, same prefix and width).
    Add {
        /// ttd | passport | legalization
        #[arg(long = "type")]
        doc_type: String,
        /// Mission code, or HQ for headquarters.
        #[arg(long)]
        location: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// Blanks by type, location and state (available, reserved, used, spoiled).
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct PrintArgs {
    /// The document number.
    #[arg(long)]
    pub document: String,
    /// A configured printer name (`travdoc printers check` lists them).
    #[arg(long)]
    pub printer: String,
    /// Print an already printed document again; its previous blank is recorded as spoiled.
    #[arg(long)]
    pub reprint_reason: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PrintersCommand {
    /// Ask every configured printer for its state; exit 1 if any is unreachable.
    Check {
        #[arg(long)]
        json: bool,
    },
}

fn operator_actor() -> Actor {
    let operator = offline::operator();
    Actor {
        id: format!("cli:{operator}"),
        name: operator,
        role: Role::Admin,
        mission: None,
        granted: true,
    }
}

pub fn stock(context: &Context, command: &StockCommand) -> anyhow::Result<ExitCode> {
    let actor = operator_actor();
    match command {
        StockCommand::Add {
            doc_type,
            location,
            from,
            to,
        } => {
            let added = offline::with_service(context, async |service| {
                Ok(crate::usecase::print::add_stock(
                    service.printing(),
                    &actor,
                    doc_type,
                    location,
                    from,
                    to,
                )
                .await?)
            })?;
            println!("registered {added} {doc_type} blanks at {location} ({from} to {to})");
        }
        StockCommand::List { json } => {
            let lines = offline::with_service(context, async |service| {
                Ok(crate::usecase::print::stock(service.printing(), &actor).await?)
            })?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&lines)?);
            } else {
                println!(
                    "{:<13} {:<9} {:<10} {:>7}  serials",
                    "type", "location", "state", "count"
                );
                for line in &lines {
                    println!(
                        "{:<13} {:<9} {:<10} {:>7}  {}..{}",
                        line.doc_type, line.location, line.state, line.count, line.first, line.last
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn print(context: &Context, args: &PrintArgs) -> anyhow::Result<ExitCode> {
    let actor = operator_actor();
    let job = offline::with_service(context, async |service| {
        Ok(crate::usecase::print::print_document(
            service.printing(),
            &actor,
            &args.document,
            &args.printer,
            args.reprint_reason.as_deref(),
            None,
        )
        .await?)
    })?;
    println!("{}", serde_json::to_string_pretty(&job)?);
    Ok(ExitCode::SUCCESS)
}

pub fn printers(context: &Context, command: &PrintersCommand) -> anyhow::Result<ExitCode> {
    let PrintersCommand::Check { json } = command;
    let answers = offline::with_service(context, async |service| {
        Ok(crate::usecase::print::check_printers(service.printing()).await)
    })?;
    let all_ok = answers.iter().all(|(_, answer)| answer.is_ok());
    if *json {
        let value: serde_json::Map<String, serde_json::Value> = answers
            .into_iter()
            .map(|(name, answer)| {
                let value = match answer {
                    Ok(attributes) => {
                        serde_json::json!({"reachable": true, "attributes": attributes})
                    }
                    Err(error) => serde_json::json!({"reachable": false, "error": error}),
                };
                (name, value)
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        for (name, answer) in answers {
            match answer {
                Ok(attributes) => println!(
                    "{name:<24} ok    state {} accepting {} pdf {} ({})",
                    attributes["state"].as_str().unwrap_or("?"),
                    attributes["accepting_jobs"],
                    attributes["supports_pdf"],
                    attributes["make_and_model"].as_str().unwrap_or("-"),
                ),
                Err(error) => println!("{name:<24} DOWN  {error}"),
            }
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
