//! The country PKI's state in the service's database (`travdoc_store::pki`): the one source of
//! truth for every node and every `travdoc pki` command. `DATA_DIR/pki/` becomes an export,
//! written after each committed change.
//!
//! `travdoc-pki` is synchronous (it runs inside HSM operations and from the CLI), the database
//! is not: the store talks to the database through one worker thread that owns a
//! single-threaded runtime and its own connection, so it can be called from anywhere (an async
//! task's blocking section, a CLI command, a test). Artifacts the PKI makes and the ledger
//! entries of its events are held until it saves its state, and the three are committed in one
//! transaction ([`travdoc_store::pki::commit`]): a change is in the database whole, with its
//! ledger entries, or not at all. A save from a stale state (another node changed the PKI
//! meanwhile) is refused and nothing is written.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use travdoc_pki::store::{FileStore, PkiState, PkiStore};
use travdoc_pki::{PkiError, PkiEvent, PkiEventSink};
use travdoc_store::ledger::{self, Digest32, Entry, Event};
use travdoc_store::{Store, StoreOptions};

/// What a change holds until the PKI saves its state.
#[derive(Debug, Default)]
struct Pending {
    artifacts: Vec<(String, Vec<u8>)>,
    entries: Vec<(String, Entry)>,
}

type Job = Box<dyn FnOnce(&tokio::runtime::Runtime, Option<&Store>) + Send>;

/// The worker thread: one runtime, one connection.
struct Worker {
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl Worker {
    fn start(url: String) -> Result<Self, PkiError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::channel::<Result<(), String>>();
        std::thread::Builder::new()
            .name("travdoc-pki-db".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready.send(Err(error.to_string()));
                        return;
                    }
                };
                let options = StoreOptions {
                    max_connections: 1,
                    ..StoreOptions::default()
                };
                let store = runtime.block_on(Store::connect_with(&url, options));
                let store = match store {
                    Ok(store) => {
                        let _ = ready.send(Ok(()));
                        store
                    }
                    Err(error) => {
                        let _ = ready.send(Err(error.to_string()));
                        return;
                    }
                };
                while let Ok(job) = queue.recv() {
                    job(&runtime, Some(&store));
                }
                runtime.block_on(store.close());
            })
            .map_err(|error| database_error(error.to_string()))?;
        started
            .recv()
            .map_err(|_| database_error("the PKI database worker stopped".into()))?
            .map_err(database_error)?;
        Ok(Worker {
            jobs: Mutex::new(jobs),
        })
    }

    /// Runs `act` on the worker and waits for its answer.
    fn call<T, F>(&self, act: F) -> Result<T, PkiError>
    where
        T: Send + 'static,
        F: AsyncFnOnce(&Store) -> Result<T, travdoc_store::StoreError> + Send + 'static,
    {
        let (answer, answered) = mpsc::channel();
        let job: Job = Box::new(move |runtime, store| {
            let result = match store {
                Some(store) => runtime.block_on(act(store)),
                None => return,
            };
            let _ = answer.send(result);
        });
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .send(job)
            .map_err(|_| database_error("the PKI database worker stopped".into()))?;
        answered
            .recv()
            .map_err(|_| database_error("the PKI database worker stopped".into()))?
            .map_err(|error| database_error(error.to_string()))
    }
}

fn database_error(message: String) -> PkiError {
    PkiError::Store {
        path: "database".into(),
        message,
    }
}

/// The PKI store over the database, with the export directory.
pub struct DbPkiStore {
    worker: Worker,
    pending: Arc<Mutex<Pending>>,
    /// The generation of this store's last load or save.
    generation: Mutex<i64>,
    export: FileStore,
}

impl std::fmt::Debug for DbPkiStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbPkiStore")
            .field("export", &self.export.dir())
            .finish_non_exhaustive()
    }
}

/// The event sink that goes with a [`DbPkiStore`]: the entries join the change's transaction.
pub struct DbEventSink {
    pending: Arc<Mutex<Pending>>,
    algorithm: String,
}

impl DbEventSink {
    /// Records that two operators hold the ceremony `act`: the entry joins the transaction of
    /// the change the act makes (and is gone with it when the act fails).
    pub fn witness(&self, act: &str, operators: [&str; 2]) {
        let entry = Entry::new(
            ledger::unix_now(),
            Event::PkiCeremony {
                act: act.to_owned(),
                operator_ref: operators[0].to_owned(),
                second_operator_ref: operators[1].to_owned(),
            },
        );
        let key = format!(
            "pki:ceremony:{act}:{}:{}:{}",
            operators[0],
            operators[1],
            uuid::Uuid::new_v4()
        );
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entries
            .push((key, entry));
    }
}

impl PkiEventSink for DbEventSink {
    fn record(&self, event: &PkiEvent) {
        let time = ledger::unix_now();
        let entries = super::pki_events::entries(event, &self.algorithm);
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (key, event) in entries {
            pending.entries.push((key, Entry::new(time, event)));
        }
    }
}

impl DbPkiStore {
    /// Opens the store over the database at `url` (migrations applied), exporting to
    /// `export_dir`. On a database without PKI state and an export directory with a
    /// `state.json` (a data dir from before the database held the PKI), imports the files once,
    /// with a ledger entry. Also gives the event sink to open the PKI with.
    pub fn open(
        url: &str,
        export_dir: &std::path::Path,
        algorithm: &str,
    ) -> Result<(Arc<Self>, Arc<DbEventSink>), PkiError> {
        let worker = Worker::start(url.to_owned())?;
        let pending = Arc::new(Mutex::new(Pending::default()));
        let store = Arc::new(DbPkiStore {
            worker,
            pending: pending.clone(),
            generation: Mutex::new(0),
            export: FileStore::new(export_dir)?,
        });
        store.import_files()?;
        let sink = Arc::new(DbEventSink {
            pending,
            algorithm: algorithm.to_owned(),
        });
        Ok((store, sink))
    }

    fn set_generation(&self, generation: i64) {
        *self
            .generation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = generation;
    }

    fn current_generation(&self) -> i64 {
        *self
            .generation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The one-time import of a file-based PKI (see [`DbPkiStore::open`]).
    fn import_files(&self) -> Result<(), PkiError> {
        if self
            .worker
            .call(async |store: &Store| travdoc_store::pki::generation(store.pool()).await)?
            != 0
        {
            return Ok(());
        }
        let Some(state) = self.export.load()? else {
            return Ok(());
        };
        let mut artifacts = Vec::new();
        let dir = self.export.dir().to_owned();
        let listing = std::fs::read_dir(&dir).map_err(|error| PkiError::Store {
            path: dir.clone(),
            message: error.to_string(),
        })?;
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".der") && !name.starts_with('.') {
                artifacts.push((name.clone(), self.export.get(&name)?));
            }
        }
        artifacts.sort();
        let json = state_json(&state)?;
        let entry = Entry::new(
            ledger::unix_now(),
            Event::PkiStateImported {
                state_sha256: Digest32::of(json.as_bytes()),
                artifacts: artifacts.len() as u64,
            },
        );
        let key = format!(
            "pki:import:{}",
            hex::encode(Digest32::of(json.as_bytes()).0)
        );
        let committed = self.commit(0, json, artifacts, vec![(key, entry)])?;
        tracing::info!(generation = committed, dir = %dir.display(), "PKI state imported into the database");
        Ok(())
    }

    fn commit(
        &self,
        from: i64,
        json: String,
        artifacts: Vec<(String, Vec<u8>)>,
        entries: Vec<(String, Entry)>,
    ) -> Result<i64, PkiError> {
        let at = crate::issuance::rfc3339(time::OffsetDateTime::now_utc());
        let committed = self.worker.call(async move |store: &Store| {
            travdoc_store::pki::commit(
                store,
                travdoc_store::pki::PkiChange {
                    from_generation: from,
                    state: &json,
                    artifacts: &artifacts,
                    entries: &entries,
                    at: &at,
                },
            )
            .await
        })?;
        let generation = committed.ok_or_else(|| PkiError::Store {
            path: "database".into(),
            message: "the PKI was changed by another process meanwhile; nothing was written, \
                      run the command again"
                .into(),
        })?;
        self.set_generation(generation);
        Ok(generation)
    }
}

fn state_json(state: &PkiState) -> Result<String, PkiError> {
    serde_json::to_string(state).map_err(|error| database_error(error.to_string()))
}

impl PkiStore for DbPkiStore {
    fn load(&self) -> Result<Option<PkiState>, PkiError> {
        let loaded = self
            .worker
            .call(async |store: &Store| travdoc_store::pki::load(store.pool()).await)?;
        let Some((generation, json)) = loaded else {
            self.set_generation(0);
            return Ok(None);
        };
        let state = serde_json::from_str(&json).map_err(|error| {
            database_error(format!("the stored PKI state does not read: {error}"))
        })?;
        self.set_generation(generation);
        Ok(Some(state))
    }

    fn save(&self, state: &PkiState) -> Result<(), PkiError> {
        let pending = std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        let json = state_json(state)?;
        let artifacts = pending.artifacts.clone();
        self.commit(
            self.current_generation(),
            json,
            pending.artifacts,
            pending.entries,
        )?;
        // The export: what a tool without the database reads. The database has the change
        // already, so a failure here is reported, not returned.
        for (name, der) in &artifacts {
            if let Err(error) = self.export.put(name, der) {
                tracing::warn!(%error, "PKI export not written");
            }
        }
        if let Err(error) = self.export.save(state) {
            tracing::warn!(%error, "PKI export not written");
        }
        Ok(())
    }

    fn put(&self, name: &str, der: &[u8]) -> Result<(), PkiError> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(database_error(format!("bad artifact name `{name}`")));
        }
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        pending.artifacts.retain(|(held, _)| held != name);
        pending.artifacts.push((name.to_owned(), der.to_vec()));
        Ok(())
    }

    fn get(&self, name: &str) -> Result<Vec<u8>, PkiError> {
        if let Some((_, der)) = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .artifacts
            .iter()
            .find(|(held, _)| held == name)
        {
            return Ok(der.clone());
        }
        let wanted = name.to_owned();
        self.worker
            .call(async move |store: &Store| {
                travdoc_store::pki::artifact(store.pool(), &wanted).await
            })?
            .ok_or_else(|| database_error(format!("no PKI artifact `{name}`")))
    }

    fn generation(&self) -> Result<u64, PkiError> {
        let generation = self
            .worker
            .call(async |store: &Store| travdoc_store::pki::generation(store.pool()).await)?;
        Ok(u64::try_from(generation).unwrap_or(0))
    }

    fn last_generation(&self) -> u64 {
        u64::try_from(self.current_generation()).unwrap_or(0)
    }

    fn names(&self) -> Result<Vec<String>, PkiError> {
        self.worker
            .call(async |store: &Store| travdoc_store::pki::artifact_names(store.pool()).await)
    }
}
