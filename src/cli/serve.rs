//! `travdoc serve [--listen ADDR]`: the service. On a fresh data dir it creates everything
//! (SoftHSM2 token, development PKI marked as test, SQLite database, a folder printer) and
//! the first admin account, printing its one-time enrolment code (no token is written).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::Context;
use crate::auth::{self, Role};
use crate::compose;
use crate::issuance;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Log as JSON lines.
    #[arg(long)]
    pub log_json: bool,
    /// Verifications per second allowed per client address (0 = no limit).
    #[arg(long, default_value_t = 50, env = "TRAVDOC_VERIFY_RATE")]
    pub verify_rate: u32,
    /// Serve HTTPS with this PEM certificate chain (leaf first; `[tls] cert`). Reloaded, with
    /// the key, on SIGHUP.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The certificate's PEM private key (`[tls] key`).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Ask API clients for a certificate from this PEM authority (`[tls] client_ca`); one
    /// presented names the enabled user with its common name.
    #[arg(long)]
    pub tls_client_ca: Option<std::path::PathBuf>,
}

/// Installs the tracing subscriber (`RUST_LOG` filters; default `info`, with cryptoki's
/// unknown-mechanism messages off).
pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // cryptoki logs an ERROR for every mechanism of the token it has no name for (SoftHSM2
    // offers about thirty on each C_GetMechanismList): noise that buries real errors. A filter
    // that names cryptoki itself keeps its own choice.
    let names_cryptoki = std::env::var("RUST_LOG").is_ok_and(|value| value.contains("cryptoki"));
    if !names_cryptoki && let Ok(directive) = "cryptoki::mechanism=off".parse() {
        filter = filter.add_directive(directive);
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

pub fn run(context: &Context, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = &context.config;
    std::fs::create_dir_all(&config.data_dir)?;
    // The HSM comes first: the embedded SoftHSM2 may need to re-execute this process with its
    // configuration, which must happen before any thread is started.
    let restored = compose::prepare_process(config)?;
    init_tracing(args.log_json);
    for path in restored {
        tracing::warn!(path = %path.display(), "HSM token file restored from its saved copy");
    }
    let parts = compose::open(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(context, args, parts))
}

async fn serve(
    context: &Context,
    args: &ServeArgs,
    parts: compose::Parts,
) -> anyhow::Result<ExitCode> {
    let config = &context.config;
    let (service, db) = compose::open_service(config, &parts).await?;

    // Crash recovery: numbers left `allocated` by an interrupted issuance become `void`. The
    // grace period keeps a pass from voiding another node's issuance in flight (PostgreSQL);
    // `TRAVDOC_RECOVERY_GRACE_SECS` changes it (0 for a single node).
    let grace_seconds: i64 = std::env::var("TRAVDOC_RECOVERY_GRACE_SECS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(120);
    let voided = service
        .records()
        .recover_numbers(time::Duration::seconds(grace_seconds))
        .await?;
    if !voided.is_empty() {
        tracing::warn!(count = voided.len(), numbers = ?voided, "voided numbers of interrupted issuances");
    }
    // Print jobs whose printer's answer was never recorded: closed as failed, blanks spoiled.
    let closed = crate::usecase::print::reconcile_interrupted(
        service.printing(),
        time::Duration::seconds(grace_seconds),
    )
    .await?;
    if !closed.is_empty() {
        tracing::warn!(count = closed.len(), jobs = ?closed, "closed interrupted print jobs");
    }
    // Requests made before the person index: indexed once, so that the checks see them.
    let indexed = crate::usecase::request::backfill_people(service.issuing()).await?;
    if indexed > 0 {
        tracing::info!(count = indexed, "requests added to the person index");
    }
    if !config.service.checks {
        tracing::warn!(
            "the checks before issuance are OFF ([service] checks / TRAVDOC_CHECKS): requests are issued unchecked"
        );
    }
    let recovery = service.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(60));
        loop {
            interval.tick().await;
            match recovery
                .records()
                .recover_numbers(time::Duration::minutes(2))
                .await
            {
                Ok(voided) if !voided.is_empty() => {
                    tracing::warn!(
                        count = voided.len(),
                        "voided numbers of interrupted issuances"
                    )
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "recovery pass failed"),
            }
            if let Err(error) = crate::usecase::print::reconcile_interrupted(
                recovery.printing(),
                time::Duration::minutes(10),
            )
            .await
            {
                tracing::warn!(%error, "print job reconciliation failed");
            }
        }
    });

    // First start: the first admin account, with a one-time enrolment code (no permanent
    // token is written anywhere). The code is printed once; `travdoc user reset admin` makes
    // a new one.
    let first = crate::usecase::accounts::add_user(
        &db,
        &crate::usecase::accounts::Party::Host("first-start".to_owned()),
        "admin",
        Role::Admin,
        None,
        time::OffsetDateTime::now_utc(),
    )
    .await;
    match first {
        Ok(created) => eprintln!(
            "travdoc: first start: account `admin` created. Enrol at /console/enrol with the \
             one-time code {} (valid until {}; shown nowhere else)",
            created.enrolment_code, created.enrolment_expires_at
        ),
        Err(auth::AuthError::DuplicateName(_)) => {}
        Err(error) => return Err(error.into()),
    }

    let ledger_config = config.ledger_config();
    // Checked at least every 30 s, more often when the configured interval is shorter.
    let tick = Duration::from_secs(ledger_config.checkpoint_interval_secs.clamp(1, 30));
    let ledger = Arc::new(compose::StoreLedger::new(
        db.clone(),
        compose::ledger_signer(&parts.pki, &ledger_config.origin)?,
        ledger_config,
    ));
    let checkpoints = ledger.clone();
    let journal_store = db.store().clone();
    let data_dir = config.data_dir.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(tick);
        loop {
            interval.tick().await;
            // PKI events journalled by `travdoc pki` or at start-up go in before a checkpoint.
            match issuance::pki_events::drain(&data_dir, &journal_store).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "PKI events recorded in the ledger"),
                Err(error) => tracing::warn!(%error, "PKI events not yet recorded"),
            }
            if let Err(error) = checkpoints.checkpoint_if_due().await {
                tracing::warn!(%error, "checkpoint not signed");
            }
        }
    });
    // A revocation, a new signer, a CRL or a rollover made by any node or `travdoc pki`
    // command is in force here within a poll interval, without a restart.
    compose::watch_trust(&parts);
    compose::renew_pki(&parts, config);
    let tls_files = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        _ => config.tls.cert.clone().zip(config.tls.key.clone()),
    };
    let tls = match tls_files {
        Some((cert, key)) => {
            let certificate = crate::http::tls::Reloading::open(&cert, &key)?;
            crate::http::tls::reload_on_hangup(certificate.clone());
            let client_ca = args.tls_client_ca.clone().or(config.tls.client_ca.clone());
            Some(crate::http::tls::acceptor(
                certificate,
                client_ca.as_deref(),
            )?)
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let local = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let passkeys = passkey_party(&config.auth, local, tls.is_some())?;
    let router = compose::router(
        &parts,
        service,
        ledger,
        args.verify_rate,
        config.http.metrics_allow.clone(),
        config.auth.clone(),
        passkeys,
    );
    eprintln!("travdoc: listening on {scheme}://{local}");
    tracing::info!(address = %local, scheme, "listening");
    crate::http::server::serve(
        listener,
        router,
        config.http.clone(),
        tls,
        shutdown_signal(),
    )
    .await?;
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The passkey relying party: the configured origin, else `http://localhost:PORT` on a
/// loopback listener without TLS (browsers allow WebAuthn over plain HTTP on localhost only),
/// else none (passkeys off; the sign-in page offers password and code).
fn passkey_party(
    auth: &crate::usecase::signin::AuthSettings,
    local: std::net::SocketAddr,
    tls: bool,
) -> Result<Option<crate::usecase::passkeys::Passkeys>, crate::auth::AuthError> {
    use crate::usecase::passkeys::Passkeys;
    let origin = match &auth.passkey_origin {
        Some(origin) => origin.clone(),
        None if local.ip().is_loopback() && !tls => format!("http://localhost:{}", local.port()),
        None => {
            tracing::info!("passkeys off: set [auth] passkey_origin to the console's origin");
            return Ok(None);
        }
    };
    let passkeys = Passkeys::new(&origin, &auth.totp_issuer)?;
    tracing::info!(origin = passkeys.origin(), "passkeys on");
    Ok(Some(passkeys))
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
