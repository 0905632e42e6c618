//! `travdoc ledger ...`: verify, checkpoint, prove and export the audit ledger.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;
use travdoc_store::Store;
use travdoc_store::ledger::{self, Entry, Event, LedgerSigner};
use travdoc_tlog::note::{AnyVerifier, NoteVerifier};

use super::Context;

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Recompute every leaf and node from the stored entries and check every checkpoint;
    /// exits 1 and names the first bad index on any tampering.
    Verify {
        /// Trust only this verifier key (`name+id+base64`), instead of the recorded ledger keys.
        #[arg(long = "key")]
        keys: Vec<String>,
    },
    /// Sign a checkpoint of the current tree, store it and print it.
    Checkpoint,
    /// Print an inclusion proof of one entry against the latest checkpoint (C2SP tlog-proof).
    Prove {
        #[arg(long)]
        index: u64,
        /// Print JSON instead of the tlog-proof text.
        #[arg(long)]
        json: bool,
    },
    /// Write every entry as JSON Lines, in index order.
    Export {
        /// Output file (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Append synthetic entries (load and crash tests).
    #[command(hide = true)]
    AppendSynthetic {
        #[arg(long)]
        count: u64,
        /// Entries per transaction.
        #[arg(long, default_value_t = 1)]
        batch: u64,
    },
}

/// The checkpoint signer: the PKI's ledger key in the HSM (created with the PKI on a fresh data
/// dir). Call before any thread is started: the embedded SoftHSM2 may re-execute the process.
fn ledger_signer(context: &Context) -> anyhow::Result<Arc<dyn LedgerSigner>> {
    let config = &context.config;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    crate::compose::prepare_process(config)?;
    let pki = crate::compose::open_pki(config)?;
    crate::compose::ledger_signer(&pki, &config.ledger_config().origin)
}

async fn open_store(context: &Context) -> anyhow::Result<Store> {
    let url = context.config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&context.config.data_dir)
            .with_context(|| format!("creating {}", context.config.data_dir.display()))?;
    }
    Ok(Store::connect(&url).await?)
}

pub fn run(command: &LedgerCommand, context: &Context) -> anyhow::Result<ExitCode> {
    let signer = match command {
        LedgerCommand::Checkpoint => Some(ledger_signer(context)?),
        _ => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_async(command, context, signer))
}

async fn run_async(
    command: &LedgerCommand,
    context: &Context,
    signer: Option<Arc<dyn LedgerSigner>>,
) -> anyhow::Result<ExitCode> {
    let store = open_store(context).await?;
    let result = match command {
        LedgerCommand::Verify { keys } => verify(&store, keys).await,
        LedgerCommand::Checkpoint => {
            let signer = signer.context("the ledger key is not open")?;
            crate::issuance::pki_events::drain(&context.config.data_dir, &store).await?;
            let origin = context.config.ledger_config().origin;
            let checkpoint =
                ledger::checkpoint(&store, signer.as_ref(), &origin, ledger::unix_now()).await?;
            print!("{}", checkpoint.note);
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Prove { index, json } => {
            let proof = ledger::prove_inclusion(&store, *index).await?;
            if *json {
                let value = serde_json::json!({
                    "index": proof.index,
                    "tree_size": proof.tree_size,
                    "leaf_hash": hex::encode(proof.leaf_hash),
                    "proof": proof.path.iter().map(hex::encode).collect::<Vec<_>>(),
                    "checkpoint": proof.checkpoint,
                });
                println!("{value}");
            } else {
                print!("{}", proof.to_tlog_proof().to_text());
            }
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Export { output } => {
            let mut out: Box<dyn std::io::Write> = match output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("creating {}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            ledger::export(&store, |entry| {
                serde_json::to_writer(&mut out, &entry)?;
                out.write_all(b"\n")
            })
            .await?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::AppendSynthetic { count, batch } => {
            append_synthetic(&store, *count, (*batch).max(1)).await?;
            Ok(ExitCode::SUCCESS)
        }
    };
    store.close().await;
    result
}

async fn verify(store: &Store, keys: &[String]) -> anyhow::Result<ExitCode> {
    let trusted = keys
        .iter()
        .map(|vkey| AnyVerifier::from_vkey(vkey).with_context(|| format!("--key {vkey}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let trusted: Vec<&dyn NoteVerifier> = trusted.iter().map(AnyVerifier::as_dyn).collect();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "verifying {bar:40} {pos}/{len} entries ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let mut progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let report = ledger::verify(store, &trusted, &mut progress).await?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if report.is_ok() {
        println!(
            "ledger OK: {} entries, root {}, {} checkpoints verified",
            report.entries,
            hex::encode(report.root),
            report.checkpoints
        );
        return Ok(ExitCode::SUCCESS);
    }
    match report.first_bad_index() {
        Some(index) => println!("ledger TAMPERED: first bad index {index}"),
        None => println!("ledger TAMPERED"),
    }
    for problem in &report.problems {
        println!("  {problem}");
    }
    Ok(ExitCode::from(1))
}

async fn append_synthetic(store: &Store, count: u64, batch: u64) -> anyhow::Result<()> {
    let tag = format!("{}-{}", std::process::id(), ledger::unix_now());
    let mut done = 0u64;
    while done < count {
        let n = batch.min(count - done);
        let entries: Vec<(String, Entry)> = (done..done + n)
            .map(|i| {
                let event = Event::BlankSpoiled {
                    blank_serial: format!("SYN-{tag}-{i}"),
                    reason: "synthetic load".to_owned(),
                    operator_ref: "synthetic".to_owned(),
                };
                (
                    format!("synthetic-{tag}-{i}"),
                    Entry::new(ledger::unix_now(), event),
                )
            })
            .collect();
        let refs: Vec<(&str, &Entry)> = entries.iter().map(|(k, e)| (k.as_str(), e)).collect();
        let mut tx = store.begin().await?;
        ledger::append_batch(&mut tx, &refs).await?;
        tx.commit().await?;
        done += n;
    }
    Ok(())
}
