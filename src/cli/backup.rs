//! `travdoc backup --out FILE` and `travdoc restore FILE`: a consistent copy of a data dir's
//! records, taken while `serve` is issuing, and its restoration into a new data dir.
//!
//! The archive is a tar file: the database snapshot (`travdoc.db`, SQLite's `VACUUM INTO`: one
//! read transaction, so every issuance is in it whole or not at all; on PostgreSQL
//! `travdoc.pgdump`, `pg_dump`'s custom format taken in an exported snapshot that the ledger's
//! size and root are read in too), the PKI export
//! (`pki/`), the configuration file when one is given (`config.toml`), and last `manifest.json`
//! with every file's size and SHA-256 and the ledger's size and root at the snapshot. Never the
//! HSM's key material (`hsm/`): the HSM's own backup covers it (docs/backup-restore.md).
//! Restore reads the whole archive into a hidden directory first and refuses a file that is
//! damaged, partial (no manifest, a file short or missing) or carries anything unlisted;
//! nothing is written into the data dir unless everything checks.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::Context;

const FORMAT: &str = "travdoc-backup";
const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "travdoc.db";
const PG_DUMP: &str = "travdoc.pgdump";

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    /// RFC 3339.
    created_at: String,
    travdoc: String,
    country: String,
    files: Vec<FileEntry>,
    /// The ledger in the snapshot.
    ledger_entries: i64,
    ledger_root: String,
}

impl Manifest {
    /// The database file the backup holds (`travdoc.db` or `travdoc.pgdump`).
    fn database(&self) -> Option<&str> {
        self.files
            .iter()
            .map(|file| file.path.as_str())
            .find(|path| *path == DATABASE || *path == PG_DUMP)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileEntry {
    path: String,
    bytes: u64,
    sha256: String,
}

/// `travdoc backup --out FILE`.
pub fn backup(context: &Context, out: &Path) -> anyhow::Result<ExitCode> {
    let config = &context.config;
    let url = config.database_url();
    let postgres = !url.starts_with("sqlite:");
    let database = config.data_dir.join(DATABASE);
    if !postgres && !database.is_file() {
        bail!("no database at {}: nothing to back up", database.display());
    }
    if out.exists() {
        bail!("{} exists: give a new file", out.display());
    }
    let staging = tempfile::Builder::new()
        .prefix(".travdoc-backup-")
        .tempdir_in(
            out.parent()
                .filter(|dir| !dir.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .context("creating a staging directory beside the output")?;
    let name = if postgres { PG_DUMP } else { DATABASE };
    let snapshot = staging.path().join(name);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (ledger_entries, ledger_root) = if postgres {
        runtime.block_on(dump_postgres(&url, &snapshot))?
    } else {
        runtime.block_on(snapshot_database(&database, &snapshot))?
    };

    // Every file, with its name in the archive.
    let mut files: Vec<(String, PathBuf)> = vec![(name.to_owned(), snapshot.clone())];
    let pki = config.data_dir.join("pki");
    if pki.is_dir() {
        for path in walk(&pki)? {
            let relative = path
                .strip_prefix(&config.data_dir)?
                .to_string_lossy()
                .into_owned();
            files.push((relative, path));
        }
    }
    if let Some(file) = &context.config_file {
        files.push(("config.toml".to_owned(), file.clone()));
    }
    let partial = out.with_extension("partial");
    let written = (|| -> anyhow::Result<Manifest> {
        let mut archive = tar::Builder::new(std::io::BufWriter::new(
            std::fs::File::create(&partial)
                .with_context(|| format!("creating {}", partial.display()))?,
        ));
        let mut entries = Vec::new();
        for (name, path) in &files {
            // Streamed twice (hashed, then archived): a database of any size passes through
            // a fixed buffer, never whole in memory.
            let (bytes, sha256) = hash_file(path)?;
            entries.push(FileEntry {
                path: name.clone(),
                bytes,
                sha256,
            });
            let file =
                std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
            append_reader(&mut archive, name, bytes, file)?;
        }
        let manifest = Manifest {
            format: FORMAT.to_owned(),
            version: 1,
            created_at: crate::issuance::rfc3339(time::OffsetDateTime::now_utc()),
            travdoc: env!("CARGO_PKG_VERSION").to_owned(),
            country: config.country.clone(),
            files: entries,
            ledger_entries,
            ledger_root,
        };
        append(
            &mut archive,
            MANIFEST,
            &serde_json::to_vec_pretty(&manifest)?,
        )?;
        let mut writer = archive.into_inner()?;
        writer.flush()?;
        writer
            .into_inner()
            .map_err(|error| anyhow::anyhow!("writing {}: {error}", partial.display()))?
            .sync_all()?;
        Ok(manifest)
    })();
    let manifest = match written {
        Ok(manifest) => manifest,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    std::fs::rename(&partial, out)
        .with_context(|| format!("moving the backup to {}", out.display()))?;
    println!(
        "{}",
        serde_json::json!({
            "backup": out.display().to_string(),
            "files": manifest.files.len(),
            "ledger_entries": manifest.ledger_entries,
            "ledger_root": manifest.ledger_root,
            "not_included": "hsm/ (the HSM's own backup covers its keys)",
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// `VACUUM INTO` the snapshot (one read transaction while writers go on); the ledger's size
/// and root in it.
async fn snapshot_database(database: &Path, snapshot: &Path) -> anyhow::Result<(i64, String)> {
    let mark = travdoc_store::snapshot::copy_sqlite(database, snapshot)
        .await
        .with_context(|| format!("copying {}", database.display()))?;
    Ok((mark.entries, hex::encode(mark.root)))
}

/// `pg_dump` of the database in one exported snapshot, with the ledger's size and root read in
/// that same snapshot (so the manifest names exactly the ledger the dump holds), while nodes go
/// on writing.
async fn dump_postgres(url: &str, out: &Path) -> anyhow::Result<(i64, String)> {
    let snapshot = travdoc_store::snapshot::ExportedSnapshot::export(url)
        .await
        .context("taking a snapshot of the PostgreSQL database")?;
    let out_text = out.to_str().context("the staging path is not UTF-8")?;
    postgres_tool(
        "pg_dump",
        url,
        &[
            "--format=custom",
            "--no-owner",
            &format!("--snapshot={}", snapshot.id()),
            &format!("--file={out_text}"),
        ],
    )
    .await?;
    let mark = snapshot.ledger().clone();
    snapshot.release().await?;
    Ok((mark.entries, hex::encode(mark.root)))
}

/// Runs `pg_dump` or `pg_restore` against `url`: the URL without its password as `--dbname`
/// (argv is visible to every user of the host), the password in `PGPASSWORD`.
async fn postgres_tool(program: &str, url: &str, args: &[&str]) -> anyhow::Result<()> {
    let (dbname, password) = split_password(url)?;
    let tool = postgres_program(program);
    let mut command = tokio::process::Command::new(&tool);
    command
        .args(args)
        .arg(format!("--dbname={dbname}"))
        .stdin(std::process::Stdio::null());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command.output().await.with_context(|| {
        format!(
            "running {} (install the PostgreSQL client tools of the server's version)",
            tool.display()
        )
    })?;
    if !output.status.success() {
        bail!(
            "{program} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The URL without its password, and the password (percent-decoded; a `+` stays a plus).
fn split_password(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).context("the database URL")?;
    let password = parsed.password().map(|password| {
        url::form_urlencoded::parse(format!("p={}", password.replace('+', "%2B")).as_bytes())
            .map(|(_, value)| value.into_owned())
            .next()
            .unwrap_or_default()
    });
    parsed
        .set_password(None)
        .map_err(|()| anyhow::anyhow!("the database URL has no host"))?;
    Ok((parsed.to_string(), password))
}

/// `program` on `PATH`, else the newest of Debian's `/usr/lib/postgresql/*/bin`.
fn postgres_program(program: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if on_path {
        return PathBuf::from(program);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let tool = entry.path().join("bin").join(program);
            tool.is_file().then_some((version, tool))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, tool)| tool)
        .unwrap_or_else(|| PathBuf::from(program))
}

/// A file's size and SHA-256, read through a fixed buffer.
fn hash_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        total += read as u64;
    }
    Ok((total, hex::encode(hasher.finalize())))
}

fn append<W: Write>(archive: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    append_reader(archive, name, bytes.len() as u64, bytes)
}

/// Adds `size` bytes read from `reader` as `name` (a file that shrank since it was hashed
/// fails the archive; one that grew is cut at `size`, and its checksum will not match).
fn append_reader<W: Write, R: Read>(
    archive: &mut tar::Builder<W>,
    name: &str,
    size: u64,
    reader: R,
) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0),
    );
    header.set_cksum();
    archive
        .append_data(&mut header, name, reader.take(size))
        .with_context(|| format!("adding {name}"))?;
    Ok(())
}

/// The regular files below `dir`, sorted.
fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in
            std::fs::read_dir(&next).with_context(|| format!("reading {}", next.display()))?
        {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The largest file a backup may hold (the database of a national registry fits; a crafted
/// header announcing more is refused before anything is read).
const MAX_FILE_BYTES: u64 = 64 << 30;

/// `travdoc restore FILE`: into the data dir given with `--data-dir`, which must hold no
/// database yet (it may hold `hsm/`, restored from the HSM's own backup first).
pub fn restore(context: &Context, file: &Path) -> anyhow::Result<ExitCode> {
    let data_dir = &context.config.data_dir;
    let url = context.config.database_url();
    let postgres = !url.starts_with("sqlite:");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if postgres {
        runtime.block_on(empty_postgres(&url))?;
    } else if data_dir.join(DATABASE).exists() {
        bail!(
            "{} already holds a database: restore into a new data dir",
            data_dir.display()
        );
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".travdoc-restore-")
        .tempdir_in(data_dir)?;
    let manifest = read_archive(file, staging.path()).with_context(|| {
        format!(
            "{} is damaged or partial; nothing was restored",
            file.display()
        )
    })?;
    match (manifest.database(), postgres) {
        (Some(PG_DUMP), true) => runtime
            .block_on(postgres_tool(
                "pg_restore",
                &url,
                &[
                    "--no-owner",
                    "--exit-on-error",
                    "--single-transaction",
                    &staging.path().join(PG_DUMP).display().to_string(),
                ],
            ))
            .context("restoring the database; nothing was committed")?,
        (Some(DATABASE), false) => {}
        (Some(PG_DUMP), false) => bail!(
            "{} is a backup of a PostgreSQL database: set DATABASE_URL to a new, empty \
             PostgreSQL database to restore it",
            file.display()
        ),
        _ => bail!(
            "{} is a backup of a SQLite data dir: restore it without DATABASE_URL (into \
             --data-dir), or move it to PostgreSQL afterwards (docs/howto.md)",
            file.display()
        ),
    }
    for entry in &manifest.files {
        if entry.path == PG_DUMP {
            continue;
        }
        let from = staging.path().join(&entry.path);
        let to = data_dir.join(&entry.path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(&from, &to).with_context(|| format!("placing {}", to.display()))?;
    }
    println!(
        "{}",
        serde_json::json!({
            "restored": data_dir.display().to_string(),
            "backup_of": manifest.created_at,
            "files": manifest.files.len(),
            "ledger_entries": manifest.ledger_entries,
            "ledger_root": manifest.ledger_root,
            "next": "restore hsm/ from the HSM's backup, then `travdoc ledger verify` and `travdoc doctor`",
        })
    );
    Ok(ExitCode::SUCCESS)
}

/// Refuses a PostgreSQL database that holds any table: a restore goes into a new database
/// (`createdb`), never over one in use.
async fn empty_postgres(url: &str) -> anyhow::Result<()> {
    let tables = travdoc_store::snapshot::postgres_tables(url)
        .await
        .context("reading the PostgreSQL database to restore into")?;
    if tables > 0 {
        bail!(
            "the database to restore into holds {tables} tables: restore into a new, empty \
             database (createdb), never over one in use"
        );
    }
    Ok(())
}

/// Reads every file of the archive into `staging`, checks them against the manifest (which
/// must come last), and returns it.
fn read_archive(file: &Path, staging: &Path) -> anyhow::Result<Manifest> {
    let mut archive = tar::Archive::new(std::io::BufReader::new(
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
    ));
    let mut seen: Vec<FileEntry> = Vec::new();
    let mut manifest: Option<Manifest> = None;
    for entry in archive.entries()? {
        let mut entry = entry.context("reading the archive")?;
        if manifest.is_some() {
            bail!("a file follows the manifest");
        }
        let path = entry.path()?.into_owned();
        let name = safe_name(&path)?;
        let size = entry.header().size()?;
        if size > MAX_FILE_BYTES {
            bail!("{name}: {size} bytes is more than a backup holds");
        }
        if name == MANIFEST {
            let mut text = Vec::new();
            entry.by_ref().take(1 << 20).read_to_end(&mut text)?;
            let read: Manifest = serde_json::from_slice(&text).context("the manifest")?;
            if read.format != FORMAT || read.version != 1 {
                bail!("not a travdoc backup of version 1");
            }
            manifest = Some(read);
            continue;
        }
        let target = staging.join(&name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = std::fs::File::create(&target)?;
        let mut hasher = sha2::Sha256::new();
        let mut buffer = vec![0u8; 1 << 16];
        let mut bytes = 0u64;
        loop {
            let read = entry.read(&mut buffer).context("reading the archive")?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
            out.write_all(&buffer[..read])?;
            bytes += read as u64;
        }
        if bytes != size {
            bail!("{name}: {bytes} of {size} bytes");
        }
        out.sync_all()?;
        seen.push(FileEntry {
            path: name,
            bytes,
            sha256: hex::encode(hasher.finalize()),
        });
    }
    let manifest = manifest.context("no manifest: the backup is cut short")?;
    for listed in &manifest.files {
        let found = seen
            .iter()
            .find(|file| file.path == listed.path)
            .with_context(|| format!("{} is missing", listed.path))?;
        if found.bytes != listed.bytes || found.sha256 != listed.sha256 {
            bail!("{}: its checksum does not match the manifest", listed.path);
        }
    }
    if let Some(extra) = seen
        .iter()
        .find(|file| !manifest.files.iter().any(|listed| listed.path == file.path))
    {
        bail!("{} is not in the manifest", extra.path);
    }
    if manifest.database().is_none() {
        bail!("the backup holds no database");
    }
    Ok(manifest)
}

/// An archive member's name, if it is one a backup holds: relative, no `..`, and only the
/// database, the PKI export or the configuration.
fn safe_name(path: &Path) -> anyhow::Result<String> {
    if path
        .components()
        .any(|component| !matches!(component, Component::Normal(_)))
    {
        bail!("{} is not a plain relative name", path.display());
    }
    let name = path.to_string_lossy().into_owned();
    let allowed = name == DATABASE
        || name == PG_DUMP
        || name == MANIFEST
        || name == "config.toml"
        || name.starts_with("pki/");
    if !allowed {
        bail!("{name} is not a file a backup holds");
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let (url, password) = split_password(
            "postgres://travdoc:p%40ss+w%2Fd@db.example:5433/travdoc?sslmode=require",
        )
        .unwrap_or_default();
        assert_eq!(
            url,
            "postgres://travdoc@db.example:5433/travdoc?sslmode=require"
        );
        assert_eq!(password.as_deref(), Some("p@ss+w/d"));
        let (url, password) = split_password("postgres://localhost/travdoc").unwrap_or_default();
        assert_eq!(url, "postgres://localhost/travdoc");
        assert_eq!(password, None);
        assert!(split_password("not a url").is_err());
    }

    #[test]
    fn only_the_files_a_backup_holds_are_read() {
        for name in [
            "travdoc.db",
            "travdoc.pgdump",
            "manifest.json",
            "config.toml",
            "pki/crl/1.der",
        ] {
            assert!(safe_name(Path::new(name)).is_ok(), "{name}");
        }
        for name in [
            "../etc/passwd",
            "/etc/passwd",
            "hsm/token",
            "pki/../../x",
            "other.db",
        ] {
            assert!(safe_name(Path::new(name)).is_err(), "{name}");
        }
    }
}
