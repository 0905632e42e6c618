//! The token connection: module loading, slot discovery by label, login, a session pool, and
//! recovery after a lost session, a logged-out token or a token that disappears and returns.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use secrecy::SecretString;

use crate::config::{HsmConfig, TokenInit};
use crate::error::{HsmError, Result};
use crate::key::{HsmPublicKey, KeyAlgorithm, KeyRef};
use crate::signer::HsmSigner;

/// A connection to one token (found by label). Cheap to clone; share it between threads.
///
/// Every operation borrows a logged-in session from a pool (one per concurrent caller) and returns
/// it afterwards. When an operation fails in a way that means the session, the login or the token
/// itself went away, the pool is dropped, the module is re-initialised if needed, the token is
/// found again by label, the user logs in again and the operation is retried once.
#[derive(Clone)]
pub struct Hsm {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Hsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hsm")
            .field("module", &self.inner.config.module)
            .field("token_label", &self.inner.config.token_label)
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: HsmConfig,
    pin: SecretString,
    state: Mutex<State>,
    pool: Mutex<Vec<Pooled>>,
    /// Bumped on every (re)connection; sessions and cached handles of older generations are stale.
    generation: AtomicU64,
    /// Held shared during every PKCS#11 operation in a session and exclusively around
    /// C_Finalize/C_Initialize, so the module is never finalised under a running call.
    in_flight: RwLock<()>,
    /// When an operation last succeeded on the token; cleared by any failure to reach it.
    answered: Mutex<Option<std::time::Instant>>,
}

/// How many times a token of this process re-initialised the PKCS#11 module (C_Finalize and
/// C_Initialize): every session of every token of the process died then. A token connected in
/// an earlier epoch reconnects before its next use (the online token while a ceremony opened
/// the CSCA token and had to re-initialise to find or create it).
static MODULE_EPOCH: AtomicU64 = AtomicU64::new(0);

struct State {
    /// The [`MODULE_EPOCH`] this token connected in.
    epoch: u64,
    pkcs11: Pkcs11,
    /// False after a failed re-initialisation (e.g. SoftHSM2 while its token directory is gone).
    initialized: bool,
    slot: Option<Slot>,
}

struct Pooled {
    generation: u64,
    session: Session,
}

/// What an operation inside a session can fail with.
pub(crate) enum OpError {
    Pkcs11(CkError),
    Hsm(HsmError),
}

impl From<CkError> for OpError {
    fn from(error: CkError) -> Self {
        OpError::Pkcs11(error)
    }
}

impl From<HsmError> for OpError {
    fn from(error: HsmError) -> Self {
        OpError::Hsm(error)
    }
}

/// True for failures after which re-opening, re-logging-in and finding the key again may help.
fn is_recoverable(error: &CkError) -> bool {
    match error {
        CkError::Pkcs11(rv, _) => matches!(
            rv,
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::UserNotLoggedIn
                | RvError::DeviceRemoved
                | RvError::DeviceError
                | RvError::TokenNotPresent
                | RvError::TokenNotRecognized
                | RvError::ObjectHandleInvalid
                | RvError::KeyHandleInvalid
                | RvError::GeneralError
                | RvError::FunctionFailed
                | RvError::CryptokiNotInitialized
                | RvError::SlotIdInvalid
        ),
        _ => false,
    }
}

fn rv(error: &CkError) -> Option<RvError> {
    match error {
        CkError::Pkcs11(rv, _) => Some(*rv),
        _ => None,
    }
}

impl Hsm {
    /// Loads the module, finds the token by label (initialising it when `config.init_token` is
    /// set and no such token exists) and logs in.
    pub fn open(config: HsmConfig) -> Result<Self> {
        let pin = config.pin.resolve()?;
        let pkcs11 = Pkcs11::new(&config.module).map_err(|error| HsmError::ModuleNotLoadable {
            path: config.module.clone(),
            message: error.to_string(),
        })?;
        initialize(&pkcs11, &config)?;
        let hsm = Hsm {
            inner: Arc::new(Inner {
                config,
                pin,
                state: Mutex::new(State {
                    epoch: MODULE_EPOCH.load(Ordering::Acquire),
                    pkcs11,
                    initialized: true,
                    slot: None,
                }),
                pool: Mutex::new(Vec::new()),
                generation: AtomicU64::new(1),
                in_flight: RwLock::new(()),
                answered: Mutex::new(None),
            }),
        };
        {
            let mut state = hsm.lock_state();
            hsm.connect_locked(&mut state)?;
        }
        Ok(hsm)
    }

    /// The token label.
    pub fn token_label(&self) -> &str {
        &self.inner.config.token_label
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_pool(&self) -> MutexGuard<'_, Vec<Pooled>> {
        self.inner
            .pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    fn find_slot(&self, pkcs11: &Pkcs11) -> Result<Option<Slot>> {
        let label = &self.inner.config.token_label;
        let slots = pkcs11
            .get_slots_with_token()
            .map_err(|error| unavailable("C_GetSlotList", &error))?;
        for slot in slots {
            match pkcs11.get_token_info(slot) {
                Ok(info) if info.token_initialized() && info.label() == label => {
                    return Ok(Some(slot));
                }
                Ok(_) => {}
                Err(error) => tracing::debug!(%error, "token info unavailable for a slot"),
            }
        }
        Ok(None)
    }

    /// Finds the slot (re-initialising the module once if the token is not visible), initialises
    /// the token if allowed, logs in, and seeds the pool with one session.
    fn connect_locked(&self, state: &mut State) -> Result<()> {
        state.slot = None;
        if !state.initialized {
            reinitialize(&self.inner.in_flight, state)?;
        }
        let mut slot = self.find_slot(&state.pkcs11)?;
        if slot.is_none() {
            // A token that was removed and returned is only seen after C_Finalize/C_Initialize
            // with some modules (SoftHSM2 scans its token directory at initialisation).
            reinitialize(&self.inner.in_flight, state)?;
            slot = self.find_slot(&state.pkcs11)?;
        }
        if slot.is_none()
            && let Some(init) = &self.inner.config.init_token
        {
            self.init_token(&state.pkcs11, init)?;
            slot = self.find_slot(&state.pkcs11)?;
        }
        let slot = slot.ok_or_else(|| HsmError::TokenNotFound {
            label: self.inner.config.token_label.clone(),
        })?;
        let session = state
            .pkcs11
            .open_rw_session_no_drop(slot)
            .map_err(|error| unavailable("C_OpenSession", &error))?;
        self.login(&session)?;
        let generation = self.inner.generation.fetch_add(1, Ordering::AcqRel) + 1;
        state.slot = Some(slot);
        state.epoch = MODULE_EPOCH.load(Ordering::Acquire);
        self.lock_pool().push(Pooled {
            generation,
            session,
        });
        tracing::info!(token = %self.inner.config.token_label, generation, "HSM token connected");
        Ok(())
    }

    fn login(&self, session: &Session) -> Result<()> {
        let label = &self.inner.config.token_label;
        match session.login(UserType::User, Some(&self.inner.pin)) {
            Ok(()) => Ok(()),
            Err(error) => match rv(&error) {
                Some(RvError::UserAlreadyLoggedIn) => Ok(()),
                Some(RvError::PinIncorrect)
                | Some(RvError::PinInvalid)
                | Some(RvError::PinLenRange) => Err(HsmError::WrongPin {
                    label: label.clone(),
                }),
                Some(RvError::PinLocked) => Err(HsmError::PinLocked {
                    label: label.clone(),
                }),
                _ => Err(unavailable("C_Login", &error)),
            },
        }
    }

    fn init_token(&self, pkcs11: &Pkcs11, init: &TokenInit) -> Result<()> {
        let label = &self.inner.config.token_label;
        let slots = pkcs11
            .get_slots_with_token()
            .map_err(|error| unavailable("C_GetSlotList", &error))?;
        let free = slots.into_iter().find(|slot| {
            pkcs11
                .get_token_info(*slot)
                .map(|info| !info.token_initialized())
                .unwrap_or(false)
        });
        let slot = free.ok_or_else(|| HsmError::TokenNotFound {
            label: label.clone(),
        })?;
        pkcs11
            .init_token(slot, &init.so_pin, label)
            .map_err(|error| pkcs11_error("C_InitToken", &error))?;
        // Slot ids may change after C_InitToken (SoftHSM2 reassigns them): find by label again.
        let slot = self
            .find_slot(pkcs11)?
            .ok_or_else(|| HsmError::TokenNotFound {
                label: label.clone(),
            })?;
        let session = pkcs11
            .open_rw_session(slot)
            .map_err(|error| pkcs11_error("C_OpenSession", &error))?;
        session
            .login(UserType::So, Some(&init.so_pin))
            .map_err(|error| pkcs11_error("C_Login(SO)", &error))?;
        session
            .init_pin(&self.inner.pin)
            .map_err(|error| pkcs11_error("C_InitPIN", &error))?;
        session
            .logout()
            .map_err(|error| pkcs11_error("C_Logout", &error))?;
        tracing::info!(token = %label, "token initialised");
        Ok(())
    }

    /// Reconnects when another token of this process re-initialised the module since this one
    /// connected (its sessions and slot id are gone).
    fn follow_module(&self, state: &mut State) -> Result<()> {
        if state.slot.is_some() && state.epoch != MODULE_EPOCH.load(Ordering::Acquire) {
            self.lock_pool().clear();
            self.inner.generation.fetch_add(1, Ordering::AcqRel);
            state.slot = None;
            self.connect_locked(state)?;
        }
        Ok(())
    }

    fn checkout(&self) -> Result<(u64, Session)> {
        {
            let mut state = self.lock_state();
            self.follow_module(&mut state)?;
        }
        let current = self.generation();
        {
            let mut pool = self.lock_pool();
            while let Some(pooled) = pool.pop() {
                if pooled.generation == current {
                    return Ok((pooled.generation, pooled.session));
                }
                // Stale: its handle belongs to a finalised module; forget it without closing.
            }
        }
        let mut state = self.lock_state();
        if state.slot.is_none() {
            self.connect_locked(&mut state)?;
            let current = self.generation();
            let mut pool = self.lock_pool();
            if let Some(pooled) = pool.pop()
                && pooled.generation == current
            {
                return Ok((pooled.generation, pooled.session));
            }
        }
        let slot = state.slot.ok_or_else(|| HsmError::TokenNotFound {
            label: self.inner.config.token_label.clone(),
        })?;
        let generation = self.generation();
        match state.pkcs11.open_rw_session_no_drop(slot) {
            Ok(session) => Ok((generation, session)),
            Err(error) if is_recoverable(&error) => {
                drop(state);
                self.recover(generation, &error)?;
                let mut state = self.lock_state();
                let slot = state.slot.ok_or_else(|| HsmError::TokenNotFound {
                    label: self.inner.config.token_label.clone(),
                })?;
                let generation = self.generation();
                let session = state
                    .pkcs11
                    .open_rw_session_no_drop(slot)
                    .map_err(|error| unavailable("C_OpenSession", &error))?;
                state.slot = Some(slot);
                Ok((generation, session))
            }
            Err(error) => Err(unavailable("C_OpenSession", &error)),
        }
    }

    fn checkin(&self, generation: u64, session: Session) {
        if generation != self.generation() {
            return; // stale handle: never close, it may name a session of the new generation
        }
        let mut pool = self.lock_pool();
        if pool.len() < self.inner.config.max_idle_sessions {
            pool.push(Pooled {
                generation,
                session,
            });
        } else {
            drop(pool);
            if let Err(error) = session.close() {
                tracing::debug!(%error, "closing a surplus session failed");
            }
        }
    }

    /// Drops every session of `failed_generation`, re-initialises the module when needed, finds
    /// the token again and logs in. A no-op when another caller already recovered.
    fn recover(&self, failed_generation: u64, cause: &CkError) -> Result<()> {
        let mut state = self.lock_state();
        if self.generation() != failed_generation && state.slot.is_some() {
            return Ok(());
        }
        tracing::warn!(token = %self.inner.config.token_label, error = %cause, "HSM session lost, reconnecting");
        // Forget pooled sessions of the failed generation without closing: C_Finalize below (if
        // needed) closes them, and their handles must never reach C_CloseSession afterwards.
        self.lock_pool().clear();
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        state.slot = None;
        let session_level = matches!(
            rv(cause),
            Some(RvError::SessionHandleInvalid)
                | Some(RvError::SessionClosed)
                | Some(RvError::UserNotLoggedIn)
        );
        if !session_level {
            reinitialize(&self.inner.in_flight, &mut state)?;
        }
        self.connect_locked(&mut state)
    }

    /// Runs `operation` in a logged-in session, recovering and retrying once on a lost session,
    /// login or token.
    pub(crate) fn with_session<T>(
        &self,
        operation_name: &'static str,
        mut operation: impl FnMut(&Session, u64) -> std::result::Result<T, OpError>,
    ) -> Result<T> {
        let outcome = self.with_session_inner(operation_name, &mut operation);
        let mut answered = self
            .inner
            .answered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &outcome {
            Ok(_) => *answered = Some(std::time::Instant::now()),
            // The token answered; the request was wrong (say, a key that is not there).
            Err(HsmError::KeyNotFound { .. }) => {}
            Err(_) => *answered = None,
        }
        outcome
    }

    /// Whether an operation succeeded on the token within `window` and none failed to reach
    /// it since: a cheap liveness answer while the token is in use (see `/readyz` and the
    /// check before a document number is allocated).
    pub fn answered_within(&self, window: std::time::Duration) -> bool {
        self.inner
            .answered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_some_and(|at| at.elapsed() < window)
    }

    fn with_session_inner<T>(
        &self,
        operation_name: &'static str,
        operation: &mut impl FnMut(&Session, u64) -> std::result::Result<T, OpError>,
    ) -> Result<T> {
        let mut last_error = None;
        for attempt in 0..2 {
            let (generation, session) = self.checkout()?;
            let outcome = {
                let _shared = self
                    .inner
                    .in_flight
                    .read()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                operation(&session, generation)
            };
            match outcome {
                Ok(value) => {
                    self.checkin(generation, session);
                    return Ok(value);
                }
                Err(OpError::Hsm(error)) => {
                    self.checkin(generation, session);
                    return Err(error);
                }
                Err(OpError::Pkcs11(error)) if is_recoverable(&error) => {
                    // The session is unusable; forget it (never close a possibly reused handle).
                    drop(session);
                    if attempt == 0 {
                        self.recover(generation, &error)?;
                    }
                    last_error = Some(error);
                }
                Err(OpError::Pkcs11(error)) => {
                    self.checkin(generation, session);
                    return Err(self.map_error(operation_name, &error));
                }
            }
        }
        Err(match last_error {
            Some(error) => unavailable(operation_name, &error),
            None => HsmError::Unavailable {
                operation: operation_name,
                message: "retry failed".to_owned(),
            },
        })
    }

    fn map_error(&self, operation: &'static str, error: &CkError) -> HsmError {
        match rv(error) {
            Some(RvError::MechanismInvalid)
            | Some(RvError::MechanismParamInvalid)
            | Some(RvError::CurveNotSupported)
            | Some(RvError::DomainParamsInvalid)
            | Some(RvError::KeySizeRange) => HsmError::MechanismNotSupported {
                token: self.inner.config.token_label.clone(),
                what: format!("{operation}: {error}"),
            },
            _ => pkcs11_error(operation, error),
        }
    }

    /// Mechanisms the token offers.
    pub fn mechanisms(&self) -> Result<Vec<MechanismType>> {
        let mut state = self.lock_state();
        self.follow_module(&mut state)?;
        if state.slot.is_none() {
            self.connect_locked(&mut state)?;
        }
        let slot = state.slot.ok_or_else(|| HsmError::TokenNotFound {
            label: self.inner.config.token_label.clone(),
        })?;
        state
            .pkcs11
            .get_mechanism_list(slot)
            .map_err(|error| unavailable("C_GetMechanismList", &error))
    }

    fn require_mechanisms(&self, algorithm: KeyAlgorithm) -> Result<()> {
        let offered = self.mechanisms()?;
        let needed: &[(MechanismType, &str)] = if algorithm.is_ec() {
            &[
                (MechanismType::ECC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN"),
                (MechanismType::ECDSA, "CKM_ECDSA"),
            ]
        } else {
            &[
                (
                    MechanismType::RSA_PKCS_KEY_PAIR_GEN,
                    "CKM_RSA_PKCS_KEY_PAIR_GEN",
                ),
                (MechanismType::RSA_PKCS_PSS, "CKM_RSA_PKCS_PSS"),
            ]
        };
        for (mechanism, name) in needed {
            if !offered.contains(mechanism) {
                return Err(HsmError::MechanismNotSupported {
                    token: self.inner.config.token_label.clone(),
                    what: (*name).to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Generates a key pair in the token: private half sensitive, not extractable, token object;
    /// returns its reference (label and a fresh random CKA_ID).
    pub fn generate_key_pair(&self, algorithm: KeyAlgorithm, label: &str) -> Result<KeyRef> {
        self.require_mechanisms(algorithm)?;
        let mut id = vec![0u8; 16];
        getrandom::fill(&mut id).map_err(|error| HsmError::Unavailable {
            operation: "getrandom",
            message: error.to_string(),
        })?;
        let key = KeyRef {
            label: label.to_owned(),
            id,
        };
        let mut public = vec![
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(key.id.clone()),
        ];
        let private = vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(key.id.clone()),
        ];
        let mechanism = match algorithm.curve_oid() {
            Some(curve) => {
                let params = der::Encode::to_der(&curve).map_err(|error| HsmError::Malformed {
                    field: "CKA_EC_PARAMS",
                    message: error.to_string(),
                })?;
                public.push(Attribute::EcParams(params));
                Mechanism::EccKeyPairGen
            }
            None => {
                public.push(Attribute::ModulusBits(3072.into()));
                public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
                Mechanism::RsaPkcsKeyPairGen
            }
        };
        self.with_session("C_GenerateKeyPair", |session, _| {
            session.generate_key_pair(&mechanism, &public, &private)?;
            Ok(())
        })
        .map_err(|error| match error {
            HsmError::MechanismNotSupported { token, what } => HsmError::MechanismNotSupported {
                token,
                what: format!("{algorithm} keys ({what})"),
            },
            other => other,
        })?;
        tracing::info!(label, id = %key.id_hex(), %algorithm, "key pair generated in the token");
        Ok(key)
    }

    /// Finds the private key handle for `key` in `session`.
    pub(crate) fn find_private_key(
        &self,
        session: &Session,
        key: &KeyRef,
    ) -> std::result::Result<ObjectHandle, OpError> {
        let template = [
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Id(key.id.clone()),
            Attribute::Label(key.label.as_bytes().to_vec()),
        ];
        let found = session.find_objects(&template)?;
        found
            .first()
            .copied()
            .ok_or_else(|| OpError::Hsm(self.key_not_found(key)))
    }

    fn key_not_found(&self, key: &KeyRef) -> HsmError {
        HsmError::KeyNotFound {
            token: self.inner.config.token_label.clone(),
            label: key.label.clone(),
            id: key.id_hex(),
        }
    }

    /// Reads the public key of `key` and tells its algorithm.
    pub fn public_key(&self, key: &KeyRef) -> Result<HsmPublicKey> {
        self.with_session("read public key", |session, _| {
            let template = [
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::Id(key.id.clone()),
                Attribute::Label(key.label.as_bytes().to_vec()),
            ];
            let handle = *session
                .find_objects(&template)?
                .first()
                .ok_or_else(|| OpError::Hsm(self.key_not_found(key)))?;
            let attributes = session.get_attributes(
                handle,
                &[
                    AttributeType::KeyType,
                    AttributeType::EcParams,
                    AttributeType::EcPoint,
                    AttributeType::Modulus,
                    AttributeType::PublicExponent,
                ],
            )?;
            let mut key_type = None;
            let (mut params, mut point, mut modulus, mut exponent) = (None, None, None, None);
            for attribute in attributes {
                match attribute {
                    Attribute::KeyType(kind) => key_type = Some(kind),
                    Attribute::EcParams(value) => params = Some(value),
                    Attribute::EcPoint(value) => point = Some(value),
                    Attribute::Modulus(value) => modulus = Some(value),
                    Attribute::PublicExponent(value) => exponent = Some(value),
                    _ => {}
                }
            }
            let public = match (key_type, params, point, modulus, exponent) {
                (Some(KeyType::EC), Some(params), Some(point), _, _) => {
                    let algorithm = KeyAlgorithm::ALL
                        .into_iter()
                        .find(|algorithm| {
                            algorithm
                                .curve_oid()
                                .and_then(|oid| der::Encode::to_der(&oid).ok())
                                .is_some_and(|encoded| encoded == params)
                        })
                        .ok_or_else(|| HsmError::MechanismNotSupported {
                            token: self.inner.config.token_label.clone(),
                            what: format!("the curve of key `{}`", key.label),
                        })?;
                    HsmPublicKey::from_ec_point(algorithm, &point)?
                }
                (Some(KeyType::RSA), _, _, Some(modulus), Some(exponent)) => {
                    HsmPublicKey::from_rsa(KeyAlgorithm::RsaPss3072, &modulus, &exponent)?
                }
                _ => {
                    return Err(OpError::Hsm(HsmError::Malformed {
                        field: "public key attributes",
                        message: format!("key `{}` is neither a usable EC nor RSA key", key.label),
                    }));
                }
            };
            Ok(public)
        })
    }

    /// True when both halves of `key` exist on the token.
    pub fn key_exists(&self, key: &KeyRef) -> Result<bool> {
        match self.with_session("find key", |session, _| self.find_private_key(session, key)) {
            Ok(_) => Ok(true),
            Err(HsmError::KeyNotFound { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// A signer for `key`.
    pub fn signer(&self, key: &KeyRef) -> Result<HsmSigner> {
        let public = self.public_key(key)?;
        // Make sure the private half exists too, so a missing key is reported now.
        self.with_session("find key", |session, _| self.find_private_key(session, key))?;
        Ok(HsmSigner::new(self.clone(), key.clone(), public))
    }

    /// Destroys both halves of `key` (a dangerous operation: callers ledger it).
    pub fn destroy_key(&self, key: &KeyRef) -> Result<()> {
        self.with_session("C_DestroyObject", |session, _| {
            let template = [
                Attribute::Id(key.id.clone()),
                Attribute::Label(key.label.as_bytes().to_vec()),
            ];
            let handles = session.find_objects(&template)?;
            if handles.is_empty() {
                return Err(OpError::Hsm(self.key_not_found(key)));
            }
            for handle in handles {
                session.destroy_object(handle)?;
            }
            Ok(())
        })
    }

    /// Logs the application out of the token (all sessions), for tests of re-login.
    pub fn logout(&self) -> Result<()> {
        self.with_session("C_Logout", |session, _| {
            session.logout()?;
            Ok(())
        })
    }

    pub(crate) fn sign_with(
        &self,
        key: &KeyRef,
        cache: &Mutex<Option<(u64, ObjectHandle)>>,
        mechanism: &Mechanism,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        self.with_session("C_Sign", |session, generation| {
            let cached = *cache
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let handle = match cached {
                Some((cached_generation, handle)) if cached_generation == generation => handle,
                _ => {
                    let handle = self.find_private_key(session, key)?;
                    *cache
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) =
                        Some((generation, handle));
                    handle
                }
            };
            Ok(session.sign(mechanism, handle, data)?)
        })
    }
}

fn initialize(pkcs11: &Pkcs11, config: &HsmConfig) -> Result<()> {
    match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => Ok(()),
        Err(error) if rv(&error) == Some(RvError::CryptokiAlreadyInitialized) => Ok(()),
        Err(error) => Err(HsmError::ModuleNotLoadable {
            path: config.module.clone(),
            message: error.to_string(),
        }),
    }
}

/// C_Finalize then C_Initialize; a failure leaves the state marked uninitialised so the next
/// operation tries again.
fn reinitialize(in_flight: &RwLock<()>, state: &mut State) -> Result<()> {
    let _exclusive = in_flight
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if state.initialized {
        if let Err(error) = state.pkcs11.clone().finalize() {
            tracing::debug!(%error, "C_Finalize before re-initialisation failed");
        }
        state.initialized = false;
    }
    match state
        .pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
    {
        Ok(()) => {}
        Err(error) if rv(&error) == Some(RvError::CryptokiAlreadyInitialized) => {}
        Err(error) => return Err(unavailable("C_Initialize", &error)),
    }
    state.initialized = true;
    MODULE_EPOCH.fetch_add(1, Ordering::AcqRel);
    Ok(())
}

fn unavailable(operation: &'static str, error: &CkError) -> HsmError {
    HsmError::Unavailable {
        operation,
        message: error.to_string(),
    }
}

fn pkcs11_error(operation: &'static str, error: &CkError) -> HsmError {
    HsmError::Pkcs11 {
        operation,
        message: error.to_string(),
    }
}
