//! The embedded default: a private SoftHSM2 configuration and token directory under
//! `DATA_DIR/hsm/`, created on first use, with random PINs in files of mode 0600.
//!
//! SoftHSM2 reads its configuration path from `SOFTHSM2_CONF` once, at `C_Initialize`. A process
//! cannot set its own environment without `unsafe` (Rust 2024), so a binary that uses the
//! embedded token calls [`reexec_with_conf`] early (before any module is loaded): the process
//! replaces itself with the same program, arguments and environment plus `SOFTHSM2_CONF`.
//! `exec` does not fork, so this is safe with `library.reset_on_fork=false`.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use crate::config::{HsmConfig, PinSource, TokenInit};
use crate::error::{HsmError, Result};

/// The SoftHSM2 module path on Debian.
pub const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// Environment variable SoftHSM2 reads its configuration path from.
pub const CONF_ENV: &str = "SOFTHSM2_CONF";

/// Set in the re-executed process so a second re-exec can never loop.
const REEXEC_GUARD_ENV: &str = "TRAVDOC_SOFTHSM_REEXEC";

/// True when `module` looks like SoftHSM2.
pub fn is_softhsm_module(module: &Path) -> bool {
    module
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.contains("softhsm"))
}

/// Renders the SoftHSM2 configuration for a token directory (see `pki/softhsm2.conf.template`).
pub fn render_conf(tokens_dir: &Path) -> String {
    format!(
        "# Written by travdoc: private SoftHSM2 configuration (tokens below never leave this directory).\n\
         directories.tokendir = {}\n\
         objectstore.backend = file\n\
         log.level = ERROR\n\
         slots.removable = false\n\
         slots.mechanisms = ALL\n\
         library.reset_on_fork = false\n",
        tokens_dir.display()
    )
}

/// The private SoftHSM2 home: `DATA_DIR/hsm/`.
#[derive(Debug, Clone)]
pub struct SoftHsmHome {
    root: PathBuf,
}

impl SoftHsmHome {
    /// A home at `root` (usually `DATA_DIR/hsm`); nothing is created yet.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `softhsm2.conf`.
    pub fn conf_path(&self) -> PathBuf {
        self.root.join("softhsm2.conf")
    }

    /// `tokens/`.
    pub fn tokens_dir(&self) -> PathBuf {
        self.root.join("tokens")
    }

    /// `user.pin` (mode 0600).
    pub fn user_pin_path(&self) -> PathBuf {
        self.root.join("user.pin")
    }

    /// `so.pin` (mode 0600).
    pub fn so_pin_path(&self) -> PathBuf {
        self.root.join("so.pin")
    }

    /// Creates the directories, the configuration and random PIN files when missing; makes the
    /// root absolute. Idempotent.
    pub fn prepare(&mut self) -> Result<()> {
        let bootstrap = |path: &Path| {
            let path = path.to_owned();
            move |error: std::io::Error| HsmError::Bootstrap {
                path: path.clone(),
                message: error.to_string(),
            }
        };
        std::fs::create_dir_all(self.tokens_dir()).map_err(bootstrap(&self.root))?;
        self.root = std::fs::canonicalize(&self.root).map_err(bootstrap(&self.root))?;
        std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700))
            .map_err(bootstrap(&self.root))?;
        let conf = render_conf(&self.tokens_dir());
        let conf_path = self.conf_path();
        let current = std::fs::read_to_string(&conf_path).ok();
        if current.as_deref() != Some(conf.as_str()) {
            std::fs::write(&conf_path, conf).map_err(bootstrap(&conf_path))?;
        }
        for path in [self.user_pin_path(), self.so_pin_path()] {
            if !path.exists() {
                write_secret_file(&path)?;
            }
        }
        Ok(())
    }

    /// True when this process's `SOFTHSM2_CONF` names this home's configuration.
    pub fn conf_active(&self) -> bool {
        std::env::var_os(CONF_ENV).is_some_and(|value| {
            let value = PathBuf::from(value);
            value == self.conf_path()
                || std::fs::canonicalize(&value).ok()
                    == std::fs::canonicalize(self.conf_path()).ok()
        })
    }

    /// Fails unless `SOFTHSM2_CONF` names this home's configuration.
    pub fn require_active(&self) -> Result<()> {
        if self.conf_active() {
            Ok(())
        } else {
            Err(HsmError::SoftHsmConfNotActive {
                expected: self.conf_path(),
                found: std::env::var(CONF_ENV).ok(),
            })
        }
    }

    /// The [`HsmConfig`] of the embedded token: PIN from `user.pin`, initialised on first use
    /// with the SO PIN from `so.pin`.
    pub fn hsm_config(&self, module: impl Into<PathBuf>, token_label: &str) -> Result<HsmConfig> {
        let so_pin = PinSource::File(self.so_pin_path()).resolve()?;
        let mut config = HsmConfig::new(module, token_label, PinSource::File(self.user_pin_path()));
        config.init_token = Some(TokenInit { so_pin });
        Ok(config)
    }
}

fn write_secret_file(path: &Path) -> Result<()> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| HsmError::Bootstrap {
        path: path.to_owned(),
        message: error.to_string(),
    })?;
    let pin = SecretString::from(hex::encode(bytes));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|error| HsmError::Bootstrap {
            path: path.to_owned(),
            message: error.to_string(),
        })?;
    use secrecy::ExposeSecret;
    file.write_all(pin.expose_secret().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .map_err(|error| HsmError::Bootstrap {
            path: path.to_owned(),
            message: error.to_string(),
        })
}

/// SoftHSM2's name for the file that holds a token's label, flags and wrapped PIN blobs.
const TOKEN_OBJECT: &str = "token.object";
/// travdoc's copy of the last well-formed `token.object` of each token (SoftHSM2 reads only
/// names ending in `.object`, so it never sees this one).
const TOKEN_OBJECT_COPY: &str = "token.object.saved";

/// What [`SoftHsmHome::safeguard_tokens`] did to one token directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFile {
    /// `token.object` is well formed; the saved copy now equals it.
    Kept(PathBuf),
    /// `token.object` was empty or cut short and was written back from the saved copy.
    Restored(PathBuf),
}

impl SoftHsmHome {
    /// Keeps every token of this home readable across a killed process.
    ///
    /// SoftHSM2 rewrites a token's `token.object` in place (truncate, then write) at every
    /// `C_Login`, to clear a PIN-retry flag. A process killed between the two (SIGKILL, the OOM
    /// killer, a power cut) leaves the file empty, and SoftHSM2 then shows the slot as an
    /// uninitialised token: the keys are still on disk but wrapped by a token key nobody can
    /// unwrap. So, before the module is loaded in this process, each well-formed `token.object`
    /// is copied to `token.object.saved`, and an empty or cut short one is written back from that
    /// copy. Both happen under SoftHSM2's own `fcntl` lock on the file, so a concurrent process
    /// writing it is never raced. The PINs never change after initialisation, so the copy stays
    /// valid. A damaged file without a copy is an error: the caller must not initialise a new,
    /// empty token over it.
    ///
    /// Call only while no PKCS#11 module is loaded in this process: closing a file releases all
    /// of this process's `fcntl` locks on it, including any the module holds.
    pub fn safeguard_tokens(&self) -> Result<Vec<TokenFile>> {
        let fault = |path: &Path| {
            let path = path.to_owned();
            move |error: std::io::Error| HsmError::Bootstrap {
                path: path.clone(),
                message: error.to_string(),
            }
        };
        let tokens = self.tokens_dir();
        let mut done = Vec::new();
        let entries = match std::fs::read_dir(&tokens) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(done),
            Err(error) => return Err(fault(&tokens)(error)),
        };
        for entry in entries {
            let dir = entry.map_err(fault(&tokens))?.path();
            let object = dir.join(TOKEN_OBJECT);
            if !dir.is_dir() || !object.exists() {
                continue;
            }
            done.push(safeguard_token(&object, &dir.join(TOKEN_OBJECT_COPY))?);
        }
        Ok(done)
    }
}

fn safeguard_token(object: &Path, copy: &Path) -> Result<TokenFile> {
    use rustix::fs::{FlockOperation, fcntl_lock};
    use std::io::{Read, Seek};
    let fault = |path: &Path, error: std::io::Error| HsmError::Bootstrap {
        path: path.to_owned(),
        message: error.to_string(),
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(object)
        .map_err(|error| fault(object, error))?;
    // The same whole-file write lock SoftHSM2 takes around its own rewrite.
    fcntl_lock(&file, FlockOperation::LockExclusive)
        .map_err(|error| fault(object, error.into()))?;
    let mut current = Vec::new();
    file.read_to_end(&mut current)
        .map_err(|error| fault(object, error))?;
    if is_well_formed(&current) {
        let saved = std::fs::read(copy).ok();
        if saved.as_deref() != Some(current.as_slice()) {
            write_atomically(copy, &current)?;
        }
        return Ok(TokenFile::Kept(object.to_owned()));
    }
    let saved = match std::fs::read(copy) {
        Ok(saved) if is_well_formed(&saved) => saved,
        _ => {
            return Err(HsmError::Bootstrap {
                path: object.to_owned(),
                message: format!(
                    "this SoftHSM2 token file is damaged ({} bytes) and no saved copy exists; \
                     restore the token directory from backup (a new, empty token is not created \
                     over it)",
                    current.len()
                ),
            });
        }
    };
    file.set_len(0).map_err(|error| fault(object, error))?;
    file.rewind().map_err(|error| fault(object, error))?;
    std::io::Write::write_all(&mut file, &saved).map_err(|error| fault(object, error))?;
    file.sync_all().map_err(|error| fault(object, error))?;
    tracing::warn!(
        path = %object.display(),
        "SoftHSM2 token file was left empty by a killed process; restored from its saved copy"
    );
    Ok(TokenFile::Restored(object.to_owned()))
}

/// Writes `bytes` to `path` through a temporary file, fsync and rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let fault = |error: std::io::Error| HsmError::Bootstrap {
        path: path.to_owned(),
        message: error.to_string(),
    };
    let temporary = path.with_extension("saved.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(fault)?;
    file.write_all(bytes).map_err(fault)?;
    file.sync_all().map_err(fault)?;
    std::fs::rename(&temporary, path).map_err(fault)
}

/// True when `bytes` is a complete SoftHSM2 object file: a generation number, then attributes
/// (type, kind, value) up to the exact end, at least one of them. Numbers are 8 bytes, big-endian.
fn is_well_formed(bytes: &[u8]) -> bool {
    const BOOLEAN: u64 = 1;
    const ULONG: u64 = 2;
    const BYTES: u64 = 3;
    const ATTRIBUTE_MAP: u64 = 4;
    const MECHANISM_SET: u64 = 5;
    fn number(bytes: &[u8], at: usize) -> Option<u64> {
        let end = at.checked_add(8)?;
        Some(u64::from_be_bytes(bytes.get(at..end)?.try_into().ok()?))
    }
    fn length(bytes: &[u8], at: usize, unit: u64) -> Option<usize> {
        let count = number(bytes, at)?;
        usize::try_from(count.checked_mul(unit)?)
            .ok()?
            .checked_add(8)
    }
    let mut at = 8;
    if number(bytes, 0).is_none() {
        return false;
    }
    let mut attributes = 0;
    while at < bytes.len() {
        let Some(kind) = number(bytes, at + 8) else {
            return false;
        };
        let value = at + 16;
        let size = match kind {
            BOOLEAN => Some(1),
            ULONG => Some(8),
            BYTES | ATTRIBUTE_MAP => length(bytes, value, 1),
            MECHANISM_SET => length(bytes, value, 8),
            _ => None,
        };
        match size.and_then(|size| value.checked_add(size)) {
            Some(next) if next <= bytes.len() => at = next,
            _ => return false,
        }
        attributes += 1;
    }
    attributes > 0
}

/// Replaces this process with itself (same executable, arguments and environment) plus
/// `SOFTHSM2_CONF=conf`. Returns only on failure, or with `Ok(())` when the guard shows this
/// process already is the re-executed one (then the caller reports the mismatch).
pub fn reexec_with_conf(conf: &Path) -> Result<()> {
    use std::os::unix::process::CommandExt;
    if std::env::var_os(REEXEC_GUARD_ENV).is_some() {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|error| HsmError::Bootstrap {
        path: conf.to_owned(),
        message: format!("cannot find the current executable: {error}"),
    })?;
    let error = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(CONF_ENV, conf)
        .env(REEXEC_GUARD_ENV, "1")
        .exec();
    Err(HsmError::Bootstrap {
        path: conf.to_owned(),
        message: format!("re-executing with {CONF_ENV} failed: {error}"),
    })
}

/// Helpers for tests that need a real SoftHSM2 token: `SOFTHSM2_CONF` is process-global and read
/// once, so each test runs its body in a child process (the test binary itself, filtered to that
/// one test) with a private configuration in its own directory.
pub mod testing {
    use std::path::Path;
    use std::process::{Command, Output};

    use super::{CONF_ENV, SoftHsmHome};
    use crate::error::{HsmError, Result};

    /// Set in the child to the SoftHSM home directory.
    pub const HOME_ENV: &str = "TRAVDOC_TEST_SOFTHSM_HOME";

    /// In the child process: the prepared private home. `None` in the parent.
    pub fn child_home() -> Option<SoftHsmHome> {
        std::env::var_os(HOME_ENV).map(SoftHsmHome::new)
    }

    /// In the parent: prepares a SoftHSM home in `dir` and runs the single test `test_name` of
    /// this test binary in a child process with `SOFTHSM2_CONF` pointing at it.
    pub fn run_isolated(test_name: &str, dir: &Path) -> Result<Output> {
        let mut home = SoftHsmHome::new(dir);
        home.prepare()?;
        let exe = std::env::current_exe().map_err(|error| HsmError::Bootstrap {
            path: dir.to_owned(),
            message: error.to_string(),
        })?;
        Command::new(exe)
            .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
            .env(CONF_ENV, home.conf_path())
            .env(HOME_ENV, home.root())
            .output()
            .map_err(|error| HsmError::Bootstrap {
                path: dir.to_owned(),
                message: format!("cannot run the test child: {error}"),
            })
    }

    /// Output of a child run as text, for assertion messages.
    pub fn describe(output: &Output) -> String {
        format!(
            "status {}\n--- stdout\n{}\n--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }
}
