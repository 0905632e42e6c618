//! Shared by the offline issuance commands (`travdoc ttd issue`, `travdoc legalization issue`):
//! they open the same HSM, PKI, database and renderer as `travdoc serve` and call the same
//! domain methods the HTTP API calls, acting as the local operator.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::de::DeserializeOwned;

use super::Context;
use crate::issuance::{Db, Service};

/// The local operator's name (`$TRAVDOC_OPERATOR`, else `$USER`), recorded as `cli:<name>`.
pub fn operator() -> String {
    std::env::var("TRAVDOC_OPERATOR")
        .or_else(|_| std::env::var("USER"))
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "operator".to_owned())
}

/// Reads a JSON request file; an error names the field (`surname: missing field`, ...).
pub fn read_request<T: DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let field = error.path().to_string();
        let inner = error.into_inner();
        if field == "." {
            anyhow::anyhow!("{}: {inner}", path.display())
        } else {
            anyhow::anyhow!("{}: field `{field}`: {inner}", path.display())
        }
    })
}

/// Opens HSM + PKI (creating them on a fresh data dir, as `serve` does), then runs `act` with
/// the domain service on a single-threaded runtime.
pub fn with_service<T>(
    context: &Context,
    act: impl AsyncFnOnce(&Service) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    with_parts(context, async |_, service| act(service).await)
}

/// [`with_service`], with the composed parts too (the verifier, the PKI, ...).
pub fn with_parts<T>(
    context: &Context,
    act: impl AsyncFnOnce(&crate::compose::Parts, &Service) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let config = &context.config;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    crate::compose::prepare_process(config)?;
    let parts = crate::compose::open(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (service, db): (Service, Db) = crate::compose::open_service(config, &parts).await?;
        let result = act(&parts, &service).await;
        db.close().await;
        result
    })
}

/// The files of one issued document, written together into the output directory.
#[derive(Debug, Default)]
pub struct Outputs {
    files: Vec<(&'static str, Vec<u8>)>,
}

impl Outputs {
    pub fn add(&mut self, name: &'static str, bytes: impl Into<Vec<u8>>) {
        self.files.push((name, bytes.into()));
    }

    /// Writes every file (each through a temporary name and a rename, so a reader never sees
    /// half a file) and returns their paths.
    pub fn write(&self, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut written = Vec::new();
        for (name, bytes) in &self.files {
            let path = dir.join(name);
            let temporary = dir.join(format!(".{name}.partial"));
            std::fs::write(&temporary, bytes)
                .with_context(|| format!("writing {}", temporary.display()))?;
            std::fs::rename(&temporary, &path)
                .with_context(|| format!("writing {}", path.display()))?;
            written.push(path);
        }
        Ok(written)
    }
}

/// Refuses an output directory that already holds a document's files (nothing is overwritten).
pub fn check_out_dir(dir: &Path, names: &[&str]) -> anyhow::Result<()> {
    for name in names {
        let path = dir.join(name);
        if path.exists() {
            anyhow::bail!(
                "--out: {} already exists; choose an empty directory",
                path.display()
            );
        }
    }
    Ok(())
}

/// SHA-256 hex of bytes, for manifests.
/// Stops an offline issuance whose request the checks before issuance hold, naming every
/// hit: an approver decides on it (console or API) before anything is issued.
pub fn stop_if_held(view: &crate::issuance::requests::RequestView) -> anyhow::Result<()> {
    if view.state != crate::issuance::requests::RequestState::OnHold {
        return Ok(());
    }
    let hits: Vec<String> = view
        .checks
        .iter()
        .filter(|hit| hit.cleared.is_none())
        .map(|hit| format!("{} ({}): {}", hit.code.as_str(), hit.source, hit.detail))
        .collect();
    let path = if view.kind == "ttd" {
        "ttds"
    } else {
        "passport-applications"
    };
    anyhow::bail!(
        "request {} is on hold, nothing was issued: {}. An approver clears, returns or rejects it \
         on the console or with POST /v1/{path}/{}/clear-hold, return or reject",
        view.id,
        hits.join("; "),
        view.id
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The credentials of a second officer named on the command line (`--approved-by NAME`):
/// an API token from `TRAVDOC_APPROVER_TOKEN`, or the officer's password and current TOTP
/// code typed at the terminal (no echo).
pub enum OfficerCredentials {
    Token(String),
    Typed {
        name: String,
        password: String,
        code: String,
    },
}

impl OfficerCredentials {
    /// Reads them (prompting when no token is in the environment).
    pub fn read(name: &str) -> anyhow::Result<Self> {
        if let Ok(token) = std::env::var("TRAVDOC_APPROVER_TOKEN")
            && !token.trim().is_empty()
        {
            return Ok(OfficerCredentials::Token(token.trim().to_owned()));
        }
        let password = rpassword::prompt_password(format!("{name}'s password: "))?;
        let code = rpassword::prompt_password(format!("{name}'s authenticator code: "))?;
        Ok(OfficerCredentials::Typed {
            name: name.to_owned(),
            password,
            code,
        })
    }

    /// The officer they authenticate, who must be `name` and may perform `act`.
    pub async fn check(
        &self,
        db: &Db,
        settings: &crate::usecase::signin::AuthSettings,
        name: &str,
        act: crate::auth::Act,
    ) -> anyhow::Result<crate::auth::Actor> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let actor = match self {
            OfficerCredentials::Token(token) => crate::auth::authenticate(db, token, now)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "TRAVDOC_APPROVER_TOKEN is not a valid token of an enabled user"
                    )
                })?,
            OfficerCredentials::Typed {
                name,
                password,
                code,
            } => crate::usecase::signin::check_officer(db, settings, name, password, code, now)
                .await
                .map_err(|error| anyhow::anyhow!("--approved-by {name}: {error}"))?,
        };
        if actor.name != name {
            anyhow::bail!(
                "--approved-by {name}: the credentials are `{}`'s, not `{name}`'s",
                actor.name
            );
        }
        if !actor.may(act) {
            anyhow::bail!(
                "--approved-by {name}: `{name}` ({}) may not approve (or the grant awaits confirmation)",
                actor.role
            );
        }
        Ok(actor)
    }
}
