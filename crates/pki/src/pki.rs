//! The PKI itself: opening, initialisation, issuance, revocation, CRLs, rollover, master lists,
//! status and export.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::CertificateChoices;
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use const_oid::db::rfc4519;
use der::asn1::SetOfVec;
use der::referenced::OwnedToRef;
use der::{Any, DateTime, Decode, Encode, Tag};
use sha2::Digest;
use spki::AlgorithmIdentifierOwned;
use travdoc_hsm::softhsm::{self, SoftHsmHome};
use travdoc_hsm::{Hsm, HsmConfig, HsmSigner, KeyAlgorithm, KeyRef, PinSource};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::builder::{Builder, CertificateBuilder, CrlBuilder};
use x509_cert::crl::RevokedCert;
use x509_cert::ext::pkix::{CrlNumber, SubjectKeyIdentifier};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::config::{Lifetime, PkiConfig, document_type_code, signer_id};
use crate::country::Country;
use crate::error::{PkiError, Result, build_error};
use crate::kind::{NoEvents, PkiEvent, PkiEventKind, PkiEventSink, RevocationReason, SignerKind};
use crate::profile::{CscaMasterList, ID_ICAO_CSCA_MASTER_LIST, IcaoProfile, ProfileKind, name};
use crate::store::{
    CertRecord, CrlRecord, CscaRecord, FileStore, KeyRecord, PkiState, PkiStore, Revocation,
    SignerRecord,
};

/// The time source (injected so validity periods are testable).
pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// HSM settings as the service configuration holds them.
#[derive(Debug, Clone)]
pub struct HsmSettings {
    /// PKCS#11 module path.
    pub module: PathBuf,
    /// Token label.
    pub token_label: String,
    /// File with the user PIN.
    pub pin_file: Option<PathBuf>,
    /// Environment variable with the user PIN (used when set and not empty).
    pub pin_env: Option<String>,
}

/// Everything [`Pki::open_or_init`] needs.
#[derive(Debug, Clone)]
pub struct PkiOptions {
    /// Runtime state directory: the PKI lives in `pki/`, the embedded token in `hsm/`.
    pub data_dir: PathBuf,
    /// ICAO code of the issuing state (`LKA`).
    pub country: String,
    pub hsm: HsmSettings,
    pub pki: PkiConfig,
    /// Also open the CSCA token (`[pki] csca_token`): the ceremony commands and `pki init` do;
    /// `serve` never does.
    pub open_csca: bool,
    /// The embedded default may create a missing token (`pki init`, the first start). Other
    /// commands only open existing ones: a token that is not found is an error, never a new
    /// empty token with the same label.
    pub create_tokens: bool,
}

impl PkiOptions {
    fn pin_from_env(&self) -> Option<String> {
        self.hsm
            .pin_env
            .as_ref()
            .filter(|name| std::env::var(name).is_ok_and(|value| !value.is_empty()))
            .cloned()
    }

    /// True for the embedded default: SoftHSM2 with no PIN configured, token under `DATA_DIR/hsm`.
    pub fn is_embedded(&self) -> bool {
        softhsm::is_softhsm_module(&self.hsm.module)
            && self.hsm.pin_file.is_none()
            && self.pin_from_env().is_none()
    }

    /// The embedded SoftHSM2 home, `DATA_DIR/hsm`.
    pub fn softhsm_home(&self) -> SoftHsmHome {
        SoftHsmHome::new(self.data_dir.join("hsm"))
    }

    /// For the embedded default: creates `DATA_DIR/hsm/` (configuration, random PINs) and, when
    /// this process's `SOFTHSM2_CONF` does not point at it, re-executes the process with it set.
    /// Call early, before any PKCS#11 module is loaded. A no-op for any other HSM.
    ///
    /// Returns the SoftHSM2 token files a killed process had left damaged and that were written
    /// back from their saved copies (see [`SoftHsmHome::safeguard_tokens`]), for the caller to
    /// report.
    pub fn prepare_process(&self) -> Result<Vec<PathBuf>> {
        if !self.is_embedded() {
            return Ok(Vec::new());
        }
        let mut home = self.softhsm_home();
        home.prepare()?;
        if !home.conf_active() {
            softhsm::reexec_with_conf(&home.conf_path())?;
        }
        home.require_active()?;
        // No module is loaded yet in this process: the moment to repair what a killed one left.
        let restored = home
            .safeguard_tokens()?
            .into_iter()
            .filter_map(|token| match token {
                softhsm::TokenFile::Restored(path) => Some(path),
                softhsm::TokenFile::Kept(_) => None,
            });
        Ok(restored.collect())
    }

    fn hsm_config(&self) -> Result<HsmConfig> {
        if self.is_embedded() {
            let mut home = self.softhsm_home();
            home.prepare()?;
            home.require_active()?;
            let mut config = home.hsm_config(&self.hsm.module, &self.hsm.token_label)?;
            if !self.create_tokens {
                config.init_token = None;
            }
            return Ok(config);
        }
        let pin = match (self.pin_from_env(), &self.hsm.pin_file) {
            (Some(variable), _) => PinSource::Env(variable),
            (None, Some(file)) => PinSource::File(file.clone()),
            (None, None) => {
                return Err(PkiError::Config {
                    field: "hsm.pin_file",
                    message: "no PIN source: set hsm.pin_file or the hsm.pin_env variable"
                        .to_owned(),
                });
            }
        };
        Ok(HsmConfig::new(&self.hsm.module, &self.hsm.token_label, pin))
    }

    /// The CSCA token: in the embedded default a second token of the same SoftHSM2 home;
    /// otherwise `[pki] csca_token` on the same module, its PIN from `csca_pin_env` or
    /// `csca_pin_file`.
    fn csca_hsm_config(&self) -> Result<HsmConfig> {
        let label = &self.pki.csca_token;
        if self.is_embedded() {
            let mut home = self.softhsm_home();
            home.prepare()?;
            home.require_active()?;
            let mut config = home.hsm_config(&self.hsm.module, label)?;
            if !self.create_tokens {
                config.init_token = None;
            }
            return Ok(config);
        }
        let from_env = self
            .pki
            .csca_pin_env
            .as_ref()
            .filter(|name| std::env::var(name).is_ok_and(|value| !value.is_empty()));
        let pin = match (from_env, &self.pki.csca_pin_file) {
            (Some(variable), _) => PinSource::Env(variable.clone()),
            (None, Some(file)) => PinSource::File(file.clone()),
            (None, None) => {
                return Err(PkiError::Config {
                    field: "pki.csca_pin_file",
                    message: "no PIN source for the CSCA token: set pki.csca_pin_file or the \
                              pki.csca_pin_env variable"
                        .to_owned(),
                });
            }
        };
        Ok(HsmConfig::new(&self.hsm.module, label, pin))
    }
}

/// A signer ready to use: the token key and its certificate.
#[derive(Debug, Clone)]
pub struct IssuedSigner {
    pub kind: SignerKind,
    pub signer: Arc<HsmSigner>,
    pub certificate: Certificate,
    pub certificate_der: Vec<u8>,
    /// Serial, upper-case hex (the VDS certificate reference for bar-code signers).
    pub serial_hex: String,
    /// End of the private-key usage period, seconds since the Unix epoch: the key signs nothing
    /// after it.
    pub key_usage_not_after: u64,
}

impl IssuedSigner {
    /// For bar-code signers: the VDS signer identifier, C + CN of the subject (e.g. `LKTD`).
    pub fn vds_signer_identifier(&self) -> Option<String> {
        let subject = self.certificate.tbs_certificate().subject();
        let country = subject.country().ok().flatten()?.to_string();
        let common_name = String::from(subject.common_name().ok().flatten()?);
        (common_name.len() == 2).then(|| format!("{country}{common_name}"))
    }
}

/// One CSCA generation's public certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CscaGeneration {
    pub generation: u32,
    /// Self-signed CSCA certificate.
    pub certificate_der: Vec<u8>,
    /// Link certificate from the previous generation (absent for the first).
    pub link_der: Option<Vec<u8>>,
}

/// What `init` created (empty on a second run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitReport {
    /// (role, serial hex, SHA-256 fingerprint) of each certificate created.
    pub created: Vec<(String, String, String)>,
    pub crl_issued: bool,
    pub master_list_issued: bool,
}

/// What [`Pki::renew`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenewReport {
    /// CSCA generations that got a fresh CRL, with its number.
    pub crls: Vec<(u32, u64)>,
    /// Signer kinds that got a successor, with its serial.
    pub signers: Vec<(SignerKind, String)>,
}

impl RenewReport {
    pub fn is_empty(&self) -> bool {
        self.crls.is_empty() && self.signers.is_empty()
    }
}

/// What a certificate is now: the one rule `pki status`, publication and the console share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateState {
    /// The CSCA in use, its link certificate, or the signer of its kind that signs now.
    Current,
    /// Valid but superseded: it signs nothing new, and what it signed stays valid.
    Retired,
    /// On the CRL.
    Revoked,
    /// Past its validity.
    Expired,
}

impl CertificateState {
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateState::Current => "current",
            CertificateState::Retired => "retired",
            CertificateState::Revoked => "revoked",
            CertificateState::Expired => "expired",
        }
    }

    fn of(cert: &CertRecord, revocation: Option<&Revocation>, current: bool, now: u64) -> Self {
        if revocation.is_some() {
            CertificateState::Revoked
        } else if cert.not_after < now {
            CertificateState::Expired
        } else if current {
            CertificateState::Current
        } else {
            CertificateState::Retired
        }
    }
}

/// A certificate as published to foreign authorities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedCertificate {
    /// `csca-g1`, `link-g2`, `passport`, `ttd`, `legalization`, `master-list`, `ledger`.
    pub role: String,
    pub serial_hex: String,
    pub subject: String,
    pub fingerprint_sha256: String,
    pub not_before: u64,
    pub not_after: u64,
    /// End of the private-key usage period (none for link certificates).
    pub key_usage_not_after: Option<u64>,
    pub state: CertificateState,
    pub revocation: Option<Revocation>,
    pub der: Vec<u8>,
}

/// One CRL ever issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedCrl {
    pub csca_generation: u32,
    pub number: u64,
    pub der: Vec<u8>,
}

/// One line of `pki status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    pub role: String,
    pub state: CertificateState,
    pub serial_hex: String,
    pub subject: String,
    pub fingerprint_sha256: String,
    pub not_after: u64,
    pub key_usage_not_after: u64,
    /// `None` for certificates without a key of ours (link certificates).
    pub key: Option<KeyRecord>,
    pub key_present: Option<bool>,
    pub revocation: Option<Revocation>,
    pub current: bool,
    pub warnings: Vec<String>,
}

/// The whole status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiStatus {
    pub country: String,
    pub test: bool,
    pub token_label: String,
    pub entries: Vec<StatusEntry>,
    pub crls: Vec<CrlRecord>,
    pub warnings: Vec<String>,
}

/// The country PKI. Share it behind an `Arc`; operations on the state are serialised.
pub struct Pki {
    hsm: Hsm,
    /// The CSCA token, when this process opened it (ceremonies, `pki init`).
    csca_hsm: Option<Hsm>,
    store: Arc<dyn PkiStore>,
    state: Mutex<Option<PkiState>>,
    config: PkiConfig,
    country: Country,
    test: bool,
    algorithm: KeyAlgorithm,
    /// How certificates carry EC domain parameters (`[pki] ec_parameters`).
    ec_parameters: travdoc_pkix::EcParameterEncoding,
    clock: Arc<dyn Clock>,
    sink: Arc<dyn PkiEventSink>,
    signers: Mutex<HashMap<String, Arc<HsmSigner>>>,
    /// The store's generation the cached state was read at (see [`Pki::refresh`]).
    generation: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki")
            .field("country", &self.country)
            .field("test", &self.test)
            .field("hsm", &self.hsm)
            .finish_non_exhaustive()
    }
}

fn fingerprint(der: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(der))
}

fn unix(time: DateTime) -> u64 {
    time.unix_duration().as_secs()
}

fn serial_bytes(serial: u64) -> Vec<u8> {
    let bytes = serial.to_be_bytes();
    let start = bytes
        .iter()
        .position(|byte| *byte != 0)
        .unwrap_or(bytes.len() - 1);
    let mut value = bytes[start..].to_vec();
    if value.first().is_some_and(|byte| byte & 0x80 != 0) {
        value.insert(0, 0);
    }
    value
}

/// The CSCA of `generation`.
fn csca_of(state: &PkiState, generation: u32) -> Result<CscaRecord> {
    state
        .cscas
        .iter()
        .find(|csca| csca.generation == generation)
        .cloned()
        .ok_or(PkiError::NotInitialised)
}

fn serial_hex(serial: u64) -> String {
    format!("{serial:X}")
}

fn parse_serial_hex(text: &str) -> Result<u64> {
    let trimmed = text
        .trim()
        .trim_start_matches("0x")
        .trim_start_matches("0X");
    u64::from_str_radix(trimmed, 16).map_err(|_| PkiError::UnknownSerial(text.to_owned()))
}

/// Runs `$body` with `$signature` bound to the DER signature type of `$signer`'s key.
macro_rules! with_signature_type {
    ($signer:expr, $signature:ident => $body:expr) => {
        match $signer.algorithm() {
            KeyAlgorithm::EcP256 => {
                type $signature = p256::ecdsa::DerSignature;
                $body
            }
            KeyAlgorithm::EcP384 => {
                type $signature = p384::ecdsa::DerSignature;
                $body
            }
            KeyAlgorithm::EcBrainpoolP256r1 => {
                type $signature = ecdsa::der::Signature<bp256::BrainpoolP256r1>;
                $body
            }
            KeyAlgorithm::EcBrainpoolP384r1 => {
                type $signature = ecdsa::der::Signature<bp384::BrainpoolP384r1>;
                $body
            }
            KeyAlgorithm::RsaPss3072 => {
                type $signature = rsa::pss::Signature;
                $body
            }
            other => Err(PkiError::Build {
                what: "signature",
                message: format!("no signature type for {other}"),
            }),
        }
    };
}

impl Pki {
    /// Opens the HSM and the store under `options.data_dir` and makes sure the PKI exists: token,
    /// CSCA and one signer of each kind, a CRL and a master list (idempotent).
    pub fn open_or_init(options: &PkiOptions) -> Result<Pki> {
        let pki = Pki::open_with(options, Arc::new(SystemClock), Arc::new(NoEvents))?;
        pki.init()?;
        Ok(pki)
    }

    /// Opens without initialising, with an injected clock and event sink, over files under
    /// `DATA_DIR/pki/`.
    pub fn open_with(
        options: &PkiOptions,
        clock: Arc<dyn Clock>,
        sink: Arc<dyn PkiEventSink>,
    ) -> Result<Pki> {
        let store: Arc<dyn PkiStore> = Arc::new(FileStore::new(options.data_dir.join("pki"))?);
        Self::open_with_store(options, clock, sink, store)
    }

    /// Opens without initialising over `store` (the service's database).
    pub fn open_with_store(
        options: &PkiOptions,
        clock: Arc<dyn Clock>,
        sink: Arc<dyn PkiEventSink>,
        store: Arc<dyn PkiStore>,
    ) -> Result<Pki> {
        let country = Country::from_icao(&options.country)?;
        let algorithm: KeyAlgorithm =
            options
                .pki
                .key_algorithm
                .parse()
                .map_err(|message| PkiError::Config {
                    field: "pki.key_algorithm",
                    message,
                })?;
        for code in options
            .pki
            .passport_document_types
            .iter()
            .chain(&options.pki.ttd_document_types)
        {
            document_type_code(code)?;
        }
        let ec_parameters = options.pki.ec_parameter_encoding()?;
        signer_id("pki.ttd_signer_id", &options.pki.ttd_signer_id)?;
        signer_id(
            "pki.legalization_signer_id",
            &options.pki.legalization_signer_id,
        )?;
        let test = options.is_embedded() && options.pki.organization.is_none();
        let hsm = Hsm::open(options.hsm_config()?)?;
        let csca_hsm = if options.open_csca && options.pki.csca_token != hsm.token_label() {
            Some(Hsm::open(options.csca_hsm_config()?)?)
        } else {
            None
        };
        let state = store.load()?;
        let generation = store.last_generation();
        if let Some(state) = &state
            && state.country != country.icao()
        {
            return Err(PkiError::CountryMismatch {
                stored: state.country.clone(),
                configured: country.icao().to_owned(),
            });
        }
        Ok(Pki {
            hsm,
            csca_hsm,
            store,
            state: Mutex::new(state),
            config: options.pki.clone(),
            country,
            test,
            algorithm,
            ec_parameters,
            clock,
            sink,
            signers: Mutex::new(HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(generation),
        })
    }

    /// Reads the state again if the store's generation moved since it was read (another
    /// process changed it); `true` when it did. One cheap read otherwise.
    pub fn refresh(&self) -> Result<bool> {
        let mut guard = self.lock();
        self.refresh_locked(&mut guard)
    }

    fn refresh_locked(&self, guard: &mut Option<PkiState>) -> Result<bool> {
        use std::sync::atomic::Ordering;
        let generation = self.store.generation()?;
        if generation == self.generation.load(Ordering::Acquire) {
            return Ok(false);
        }
        let state = self.store.load()?;
        if let Some(state) = &state
            && state.country != self.country.icao()
        {
            return Err(PkiError::CountryMismatch {
                stored: state.country.clone(),
                configured: self.country.icao().to_owned(),
            });
        }
        *guard = state;
        // The generation the state was read at (it may be newer than the one polled).
        self.generation
            .store(self.store.last_generation(), Ordering::Release);
        Ok(true)
    }

    /// The store's generation the state in use was read at.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Remembers the generation a save moved the store to (so the next refresh does not read
    /// back what this process wrote).
    fn saved(&self) -> Result<()> {
        self.generation.store(
            self.store.last_generation(),
            std::sync::atomic::Ordering::Release,
        );
        Ok(())
    }

    /// The HSM connection.
    pub fn hsm(&self) -> &Hsm {
        &self.hsm
    }

    /// The country.
    pub fn country(&self) -> &Country {
        &self.country
    }

    fn lock(&self) -> MutexGuard<'_, Option<PkiState>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn now(&self) -> Result<DateTime> {
        DateTime::from_system_time(self.clock.now()).map_err(build_error("time"))
    }

    fn emit(&self, kind: PkiEventKind, serial_hex: &str, der: &[u8]) {
        self.sink.record(&PkiEvent {
            kind,
            serial_hex: serial_hex.to_owned(),
            fingerprint_sha256: fingerprint(der),
        });
    }

    fn organization(&self) -> String {
        match &self.config.organization {
            Some(organization) => organization.clone(),
            None => "travdoc TEST".to_owned(),
        }
    }

    fn role_name(&self, role: &str) -> String {
        let test = if self.test || self.config.organization.is_none() {
            " TEST"
        } else {
            ""
        };
        format!("{}{test} {role}", self.country.icao())
    }

    fn long_name(&self, role: &str) -> Result<Name> {
        name(&[
            (rfc4519::COUNTRY_NAME, self.country.alpha2()),
            (rfc4519::ORGANIZATION_NAME, &self.organization()),
            (rfc4519::COMMON_NAME, &self.role_name(role)),
        ])
    }

    fn crl_url(&self) -> String {
        self.config
            .crl_url
            .replace("{country}", self.country.icao())
    }

    /// The token that holds (or is to hold) CSCA keys: the CSCA token when opened; the online
    /// token only where `[pki] allow_online_csca` or `csca_token` names it.
    fn csca_token(&self) -> Result<&Hsm> {
        if let Some(hsm) = &self.csca_hsm {
            return Ok(hsm);
        }
        if self.config.allow_online_csca || self.config.csca_token == self.hsm.token_label() {
            return Ok(&self.hsm);
        }
        Err(PkiError::CscaOffline {
            token: self.config.csca_token.clone(),
        })
    }

    /// The opened token labelled `label`.
    fn token(&self, label: &str) -> Result<&Hsm> {
        if self.hsm.token_label() == label {
            return Ok(&self.hsm);
        }
        match &self.csca_hsm {
            Some(hsm) if hsm.token_label() == label => Ok(hsm),
            _ => Err(PkiError::CscaOffline {
                token: label.to_owned(),
            }),
        }
    }

    /// The labels of CSCA private keys the online token holds (none in a PKI whose CSCA has
    /// its own token).
    pub fn online_csca_keys(&self) -> Result<Vec<String>> {
        let state = self.read_state()?;
        let mut found = Vec::new();
        for csca in &state.cscas {
            if csca.key.token_label == self.hsm.token_label()
                && self.hsm.key_exists(&Self::key_ref(&csca.key)?)?
            {
                found.push(csca.key.key_label.clone());
            }
        }
        Ok(found)
    }

    fn key_record_on(&self, hsm: &Hsm, key: &KeyRef) -> KeyRecord {
        KeyRecord {
            token_label: hsm.token_label().to_owned(),
            key_label: key.label.clone(),
            id_hex: key.id_hex(),
            algorithm: self.algorithm.name().to_owned(),
        }
    }

    fn key_record(&self, key: &KeyRef) -> KeyRecord {
        KeyRecord {
            token_label: self.hsm.token_label().to_owned(),
            key_label: key.label.clone(),
            id_hex: key.id_hex(),
            algorithm: self.algorithm.name().to_owned(),
        }
    }

    fn key_ref(record: &KeyRecord) -> Result<KeyRef> {
        Ok(KeyRef {
            label: record.key_label.clone(),
            id: hex::decode(&record.id_hex).map_err(|error| PkiError::Malformed {
                what: "key id",
                message: error.to_string(),
            })?,
        })
    }

    fn signer_for(&self, record: &KeyRecord) -> Result<Arc<HsmSigner>> {
        let cache_key = format!(
            "{}/{}/{}",
            record.token_label, record.key_label, record.id_hex
        );
        if let Some(signer) = self
            .signers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&cache_key)
        {
            return Ok(Arc::clone(signer));
        }
        let token = self.token(&record.token_label)?;
        let signer = Arc::new(token.signer(&Self::key_ref(record)?)?);
        self.signers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(cache_key, Arc::clone(&signer));
        Ok(signer)
    }

    fn certificate(&self, record: &CertRecord) -> Result<(Certificate, Vec<u8>)> {
        let der = self.store.get(&record.file)?;
        let certificate = Certificate::from_der(&der).map_err(|error| PkiError::Malformed {
            what: "certificate",
            message: error.to_string(),
        })?;
        Ok((certificate, der))
    }

    /// Builds and signs a certificate; stores it; returns its record and DER.
    #[allow(clippy::too_many_arguments)]
    fn issue_certificate(
        &self,
        state: &mut PkiState,
        profile: IcaoProfile,
        subject_key: &spki::SubjectPublicKeyInfoOwned,
        issuer: &HsmSigner,
        lifetime: Lifetime,
        start: DateTime,
    ) -> Result<(CertRecord, Vec<u8>)> {
        let serial = state.next_serial;
        state.next_serial += 1;
        let key_usage_end = lifetime.key_usage.after(start)?;
        let not_after = lifetime.validity.after(start)?;
        let mut profile = profile;
        profile.key_usage_period = Some((start, key_usage_end));
        let subject = profile.subject.to_string();
        let validity = Validity::new(Time::from(start), Time::from(not_after));
        // ICAO 9303-12: explicit EC domain parameters (unless configured `named`); the key bits,
        // and so the SubjectKeyIdentifier, are the token's.
        let spki = travdoc_pkix::key::encode_ec_parameters(subject_key, self.ec_parameters)
            .map_err(build_error("certificate public key"))?;
        let serial_number =
            SerialNumber::new(&serial_bytes(serial)).map_err(build_error("serial"))?;
        let builder = CertificateBuilder::new(profile, serial_number, validity, spki)
            .map_err(build_error("certificate"))?;
        let certificate: Certificate = with_signature_type!(issuer, S => builder
            .build::<_, S>(issuer)
            .map_err(build_error("certificate")))?;
        let der = certificate.to_der().map_err(build_error("certificate"))?;
        let file = format!("cert-{}.der", serial_hex(serial));
        self.store.put(&file, &der)?;
        Ok((
            CertRecord {
                serial_hex: serial_hex(serial),
                file,
                fingerprint_sha256: fingerprint(&der),
                subject,
                not_before: unix(start),
                not_after: unix(not_after),
                key_usage_not_before: unix(start),
                key_usage_not_after: unix(key_usage_end),
            },
            der,
        ))
    }

    /// A new CSCA key on the CSCA token, with its record.
    fn new_csca_key(&self, label: &str) -> Result<(KeyRecord, Arc<HsmSigner>)> {
        let token = self.csca_token()?;
        let key = token.generate_key_pair(self.algorithm, label)?;
        let signer = Arc::new(token.signer(&key)?);
        Ok((self.key_record_on(token, &key), signer))
    }

    fn new_key(&self, label: &str) -> Result<(KeyRef, Arc<HsmSigner>)> {
        let key = self.hsm.generate_key_pair(self.algorithm, label)?;
        let signer = Arc::new(self.hsm.signer(&key)?);
        Ok((key, signer))
    }

    fn csca_profile(&self, kind: ProfileKind, issuer: Option<Name>) -> Result<IcaoProfile> {
        Ok(IcaoProfile {
            kind,
            subject: self.long_name("CSCA")?,
            issuer,
            icao_country: self.country.icao().to_owned(),
            key_usage_period: None,
            crl_url: Some(self.crl_url()),
            document_types: Vec::new(),
        })
    }

    fn create_csca(&self, state: &mut PkiState) -> Result<CscaRecord> {
        let generation = state.cscas.last().map_or(1, |csca| csca.generation + 1);
        let now = self.now()?;
        let (key_record, signer) = self.new_csca_key(&format!("travdoc-csca-{generation}"))?;
        let profile = self.csca_profile(ProfileKind::CscaRoot, None)?;
        let (cert, der) = self.issue_certificate(
            state,
            profile,
            &signer.public_key().spki()?,
            &signer,
            self.config.csca,
            now,
        )?;
        self.emit(
            PkiEventKind::CscaCreated { generation },
            &cert.serial_hex,
            &der,
        );
        let mut link = None;
        if let Some(previous) = state.cscas.last().cloned() {
            let (old_cert, _) = self.certificate(&previous.cert)?;
            let old_signer = self.signer_for(&previous.key)?;
            let profile = self.csca_profile(
                ProfileKind::CscaLink,
                Some(old_cert.tbs_certificate().subject().clone()),
            )?;
            let (link_cert, link_der) = self.issue_certificate(
                state,
                profile,
                &signer.public_key().spki()?,
                &old_signer,
                self.config.csca,
                now,
            )?;
            self.emit(
                PkiEventKind::LinkCertificateIssued {
                    from_generation: previous.generation,
                    to_generation: generation,
                    old_csca_sha256: previous.cert.fingerprint_sha256.clone(),
                    new_csca_sha256: cert.fingerprint_sha256.clone(),
                },
                &link_cert.serial_hex,
                &link_der,
            );
            link = Some(link_cert);
        }
        let record = CscaRecord {
            generation,
            key: key_record,
            cert,
            link,
        };
        state.cscas.push(record.clone());
        Ok(record)
    }

    fn signer_profile(&self, kind: SignerKind, issuer: Name) -> Result<(IcaoProfile, Lifetime)> {
        let short = |cn: &str| {
            name(&[
                (rfc4519::COUNTRY_NAME, self.country.alpha2()),
                (rfc4519::COMMON_NAME, cn),
            ])
        };
        let codes = |codes: &[String]| {
            codes
                .iter()
                .map(|code| document_type_code(code))
                .collect::<Result<Vec<_>>>()
        };
        let (profile_kind, subject, lifetime, document_types) = match kind {
            SignerKind::Passport => (
                ProfileKind::DocumentSigner,
                self.long_name("Document Signer")?,
                self.config.passport,
                codes(&self.config.passport_document_types)?,
            ),
            SignerKind::Ttd => (
                ProfileKind::BarcodeSigner,
                short(&self.config.ttd_signer_id)?,
                self.config.ttd,
                codes(&self.config.ttd_document_types)?,
            ),
            SignerKind::Legalization => (
                ProfileKind::BarcodeSigner,
                short(&self.config.legalization_signer_id)?,
                self.config.legalization,
                Vec::new(),
            ),
            SignerKind::MasterList => (
                ProfileKind::MasterListSigner,
                self.long_name("Master List Signer")?,
                self.config.master_list,
                Vec::new(),
            ),
            SignerKind::Ledger => (
                ProfileKind::LedgerSigner,
                self.long_name("Ledger Checkpoint Key")?,
                self.config.ledger,
                Vec::new(),
            ),
        };
        let profile = IcaoProfile {
            kind: profile_kind,
            subject,
            issuer: Some(issuer),
            icao_country: self.country.icao().to_owned(),
            key_usage_period: None,
            crl_url: Some(self.crl_url()),
            document_types,
        };
        Ok((profile, lifetime))
    }

    /// The current CSCA and the Part 12 profile and lifetime of a signer of `kind` under it.
    fn under_current_csca(
        &self,
        state: &PkiState,
        kind: SignerKind,
    ) -> Result<(CscaRecord, IcaoProfile, Lifetime)> {
        let csca = state
            .cscas
            .last()
            .cloned()
            .ok_or(PkiError::NotInitialised)?;
        let (csca_cert, _) = self.certificate(&csca.cert)?;
        let (profile, lifetime) =
            self.signer_profile(kind, csca_cert.tbs_certificate().subject().clone())?;
        Ok((csca, profile, lifetime))
    }

    fn issue_signer_locked(&self, state: &mut PkiState, kind: SignerKind) -> Result<SignerRecord> {
        let (csca, profile, lifetime) = self.under_current_csca(state, kind)?;
        let csca_signer = self.signer_for(&csca.key)?;
        let label = format!("travdoc-{}-{}", kind.name(), serial_hex(state.next_serial));
        let (key, signer) = self.new_key(&label)?;
        let now = self.now()?;
        let (cert, der) = self.issue_certificate(
            state,
            profile,
            &signer.public_key().spki()?,
            &csca_signer,
            lifetime,
            now,
        )?;
        self.emit(PkiEventKind::SignerIssued { kind }, &cert.serial_hex, &der);
        let record = SignerRecord {
            kind,
            csca_generation: csca.generation,
            key: self.key_record(&key),
            cert,
            revocation: None,
        };
        state.signers.push(record.clone());
        Ok(record)
    }

    /// `pki signer request`: a new key of `kind` on the online token and its certification
    /// request (PKCS#10, DER, signed by the new key), to take to the CSCA ceremony. The key waits
    /// in the state until its certificate is imported.
    pub fn request_signer(&self, kind: SignerKind) -> Result<Vec<u8>> {
        self.with_state(|state| {
            let (_, profile, _) = self.under_current_csca(state, kind)?;
            let now = self.now()?;
            let label = format!("travdoc-{}-request-{}", kind.name(), unix(now));
            let (key, signer) = self.new_key(&label)?;
            let builder = x509_cert::request::RequestBuilder::new(profile.subject.clone())
                .map_err(build_error("certification request"))?;
            let request: x509_cert::request::CertReq = with_signature_type!(signer, S => builder
                .build::<_, S>(signer.as_ref())
                .map_err(build_error("certification request")))?;
            let der = request
                .to_der()
                .map_err(build_error("certification request"))?;
            let spki = request
                .info
                .public_key
                .to_der()
                .map_err(build_error("certification request"))?;
            let spki_sha256 = fingerprint(&spki);
            self.emit(PkiEventKind::SignerRequested { kind }, "", &spki);
            state.pending.push(crate::store::PendingSigner {
                kind,
                key: self.key_record(&key),
                spki_sha256,
                requested_at: unix(now),
                certificate: None,
                csca_generation: None,
            });
            Ok(der)
        })
    }

    /// `pki ceremony sign`: checks a certification request (its signature by its own key, and
    /// that the key is one this PKI requested) and issues, with the current CSCA's key, the
    /// certificate of the requested kind's Part 12 profile. Returns its DER; the signer signs
    /// only once the certificate is imported.
    pub fn sign_request(&self, request_der: &[u8]) -> Result<Vec<u8>> {
        let request = x509_cert::request::CertReq::from_der(request_der).map_err(|error| {
            PkiError::Malformed {
                what: "certification request",
                message: error.to_string(),
            }
        })?;
        let info = request
            .info
            .to_der()
            .map_err(build_error("certification request"))?;
        let signature = request.signature.as_bytes().ok_or(PkiError::Malformed {
            what: "certification request",
            message: "the signature is not a whole number of octets".to_owned(),
        })?;
        travdoc_pkix::verify_signature(
            &request.info.public_key,
            &request.algorithm,
            &info,
            signature,
        )
        .map_err(|error| {
            PkiError::NotAllowed(format!(
                "the certification request is not signed by its own key: {error}"
            ))
        })?;
        let spki = request
            .info
            .public_key
            .to_der()
            .map_err(build_error("certification request"))?;
        let wanted = fingerprint(&spki);
        self.with_state(|state| {
            let index = state
                .pending
                .iter()
                .position(|pending| pending.spki_sha256 == wanted && pending.certificate.is_none())
                .ok_or_else(|| {
                    PkiError::NotAllowed(
                        "no pending signer key of this PKI has this public key (run `travdoc \
                         pki signer request` first; a request is signed once)"
                            .to_owned(),
                    )
                })?;
            let kind = state.pending[index].kind;
            let (csca, profile, lifetime) = self.under_current_csca(state, kind)?;
            let csca_signer = self.signer_for(&csca.key)?;
            let now = self.now()?;
            let (cert, der) = self.issue_certificate(
                state,
                profile,
                &request.info.public_key,
                &csca_signer,
                lifetime,
                now,
            )?;
            self.emit(PkiEventKind::SignerIssued { kind }, &cert.serial_hex, &der);
            let pending = &mut state.pending[index];
            pending.certificate = Some(cert);
            pending.csca_generation = Some(csca.generation);
            Ok(der)
        })
    }

    /// `pki signer import`: the certificate a ceremony issued for a pending key (checked: it is
    /// the one recorded, and its CSCA's signature verifies) becomes the current signer of its
    /// kind.
    pub fn import_signer(&self, certificate_der: &[u8]) -> Result<IssuedSigner> {
        let certificate =
            Certificate::from_der(certificate_der).map_err(|error| PkiError::Malformed {
                what: "certificate",
                message: error.to_string(),
            })?;
        let wanted = fingerprint(certificate_der);
        let record = self.with_state(|state| {
            let index = state
                .pending
                .iter()
                .position(|pending| {
                    pending
                        .certificate
                        .as_ref()
                        .is_some_and(|cert| cert.fingerprint_sha256 == wanted)
                })
                .ok_or_else(|| {
                    PkiError::NotAllowed(
                        "this certificate was not issued by a ceremony for a pending key of this \
                         PKI"
                        .to_owned(),
                    )
                })?;
            let pending = state.pending.remove(index);
            let generation = pending.csca_generation.ok_or(PkiError::NotInitialised)?;
            let csca = csca_of(state, generation)?;
            let (csca_cert, _) = self.certificate(&csca.cert)?;
            travdoc_pkix::cert::verify_certificate_signature(&certificate, &csca_cert).map_err(
                |error| {
                    PkiError::NotAllowed(format!("the CSCA's signature does not verify: {error}"))
                },
            )?;
            let cert = pending.certificate.ok_or(PkiError::NotInitialised)?;
            self.emit(
                PkiEventKind::SignerActivated { kind: pending.kind },
                &cert.serial_hex,
                certificate_der,
            );
            let record = SignerRecord {
                kind: pending.kind,
                csca_generation: generation,
                key: pending.key,
                cert,
                revocation: None,
            };
            state.signers.push(record.clone());
            Ok(record)
        })?;
        self.issued(&record)
    }

    /// `pki crl import`: a CRL issued by a ceremony, checked (a CSCA of this PKI signed it, its
    /// number is not older than the one in force), becomes the CRL in force of its CSCA. A CRL
    /// already recorded is accepted as is.
    pub fn import_crl(&self, crl_der: &[u8]) -> Result<u64> {
        let crl: x509_cert::crl::CertificateList =
            x509_cert::crl::CertificateList::from_der(crl_der).map_err(|error| {
                PkiError::Malformed {
                    what: "CRL",
                    message: error.to_string(),
                }
            })?;
        let number = crl
            .tbs_cert_list
            .crl_extensions
            .iter()
            .flatten()
            .find(|extension| extension.extn_id == const_oid::db::rfc5280::ID_CE_CRL_NUMBER)
            .and_then(|extension| CrlNumber::from_der(extension.extn_value.as_bytes()).ok())
            .and_then(|number| {
                let bytes = number.0.as_bytes();
                (bytes.len() <= 8).then(|| {
                    bytes
                        .iter()
                        .fold(0u64, |value, byte| (value << 8) | u64::from(*byte))
                })
            })
            .ok_or(PkiError::Malformed {
                what: "CRL",
                message: "no cRLNumber".to_owned(),
            })?;
        let tbs = crl.tbs_cert_list.to_der().map_err(build_error("CRL"))?;
        let signature = crl.signature.as_bytes().ok_or(PkiError::Malformed {
            what: "CRL",
            message: "the signature is not a whole number of octets".to_owned(),
        })?;
        self.with_state(|state| {
            let mut issuer = None;
            for csca in &state.cscas {
                let (csca_cert, _) = self.certificate(&csca.cert)?;
                if csca_cert.tbs_certificate().subject() == &crl.tbs_cert_list.issuer
                    && travdoc_pkix::verify_signature(
                        csca_cert.tbs_certificate().subject_public_key_info(),
                        &crl.signature_algorithm,
                        &tbs,
                        signature,
                    )
                    .is_ok()
                {
                    issuer = Some(csca.generation);
                }
            }
            let generation = issuer.ok_or_else(|| {
                PkiError::NotAllowed("no CSCA of this PKI signed this CRL".to_owned())
            })?;
            let file = format!("crl-g{generation}-{number}.der");
            if let Some(current) = state
                .crls
                .iter()
                .find(|current| current.csca_generation == generation)
            {
                if current.number == number && self.store.get(&current.file)? == crl_der {
                    return Ok(number);
                }
                if current.number >= number {
                    return Err(PkiError::NotAllowed(format!(
                        "CRL {number} is not newer than CRL {} in force",
                        current.number
                    )));
                }
            }
            self.store.put(&file, crl_der)?;
            state
                .crls
                .retain(|current| current.csca_generation != generation);
            state.crls.push(CrlRecord {
                csca_generation: generation,
                number,
                file,
                this_update: crl.tbs_cert_list.this_update.to_unix_duration().as_secs(),
                next_update: crl
                    .tbs_cert_list
                    .next_update
                    .map_or(0, |time| time.to_unix_duration().as_secs()),
            });
            state.next_crl_number = state.next_crl_number.max(number + 1);
            Ok(number)
        })
    }

    /// Creates whatever is missing: CSCA, one signer of each kind, a CRL, a master list.
    /// A second run changes nothing.
    pub fn init(&self) -> Result<InitReport> {
        let mut guard = self.lock();
        self.refresh_locked(&mut guard)?;
        let mut state = guard.clone().unwrap_or_else(|| PkiState {
            format_version: 1,
            country: self.country.icao().to_owned(),
            test: self.test,
            next_serial: 1,
            next_crl_number: 1,
            cscas: Vec::new(),
            signers: Vec::new(),
            crls: Vec::new(),
            master_list: None,
            pending: Vec::new(),
        });
        let mut report = InitReport::default();
        if state.cscas.is_empty() {
            let csca = self.create_csca(&mut state)?;
            report.created.push((
                "csca".to_owned(),
                csca.cert.serial_hex.clone(),
                csca.cert.fingerprint_sha256,
            ));
            self.store.save(&state)?;
        }
        for kind in SignerKind::ALL {
            if !state.signers.iter().any(|signer| signer.kind == kind) {
                let signer = self.issue_signer_locked(&mut state, kind)?;
                report.created.push((
                    kind.name().to_owned(),
                    signer.cert.serial_hex,
                    signer.cert.fingerprint_sha256,
                ));
                self.store.save(&state)?;
            }
        }
        let generation = state.cscas.last().map_or(1, |csca| csca.generation);
        if !state
            .crls
            .iter()
            .any(|crl| crl.csca_generation == generation)
        {
            self.issue_crl_locked(&mut state, generation)?;
            report.crl_issued = true;
        }
        if state.master_list.is_none() {
            self.issue_master_list_locked(&mut state)?;
            report.master_list_issued = true;
        }
        self.store.save(&state)?;
        self.saved()?;
        *guard = Some(state);
        Ok(report)
    }

    fn with_state<T>(&self, operation: impl FnOnce(&mut PkiState) -> Result<T>) -> Result<T> {
        let mut guard = self.lock();
        // Another process may have changed the PKI: act on the latest state (the store refuses
        // a save from a stale one).
        self.refresh_locked(&mut guard)?;
        let current = guard.as_ref().ok_or(PkiError::NotInitialised)?;
        let mut state = current.clone();
        let value = operation(&mut state)?;
        self.store.save(&state)?;
        self.saved()?;
        *guard = Some(state);
        Ok(value)
    }

    fn read_state(&self) -> Result<PkiState> {
        self.lock().clone().ok_or(PkiError::NotInitialised)
    }

    /// Issues a new signer of `kind` under the current CSCA; it becomes the current one.
    pub fn issue_signer(&self, kind: SignerKind) -> Result<IssuedSigner> {
        let record = self.with_state(|state| self.issue_signer_locked(state, kind))?;
        self.issued(&record)
    }

    fn issued(&self, record: &SignerRecord) -> Result<IssuedSigner> {
        let (certificate, certificate_der) = self.certificate(&record.cert)?;
        Ok(IssuedSigner {
            kind: record.kind,
            signer: self.signer_for(&record.key)?,
            certificate,
            certificate_der,
            serial_hex: record.cert.serial_hex.clone(),
            key_usage_not_after: record.cert.key_usage_not_after,
        })
    }

    fn current_signer_record(&self, state: &PkiState, kind: SignerKind) -> Result<SignerRecord> {
        let now = unix(self.now()?);
        let candidates: Vec<&SignerRecord> = state
            .signers
            .iter()
            .filter(|signer| signer.kind == kind)
            .collect();
        if candidates.is_empty() {
            return Err(PkiError::NoSigner {
                kind: kind.name(),
                message: "none issued".to_owned(),
            });
        }
        candidates
            .into_iter()
            .rev()
            .find(|signer| {
                signer.revocation.is_none()
                    && signer.cert.key_usage_not_before <= now
                    && now <= signer.cert.key_usage_not_after
            })
            .cloned()
            .ok_or_else(|| PkiError::NoSigner {
                kind: kind.name(),
                message: format!("all revoked or past their key-usage period; run `travdoc pki issue-signer --kind {kind}`"),
            })
    }

    /// The current signer of `kind`: not revoked, within its private-key usage period.
    pub fn signer(&self, kind: SignerKind) -> Result<IssuedSigner> {
        let state = self.read_state()?;
        let record = self.current_signer_record(&state, kind)?;
        self.issued(&record)
    }

    /// What automatic renewal would do now: the CSCA generations (still valid) whose CRL's
    /// nextUpdate is within `crl_renew_before`, and the signer kinds whose newest signer's
    /// private-key usage period ends within `signer_renew_before` (or ended). A revoked signer
    /// gets no successor here: after a compromise the operators decide.
    fn renewal_due_in(
        &self,
        state: &PkiState,
        now: DateTime,
    ) -> Result<(Vec<u32>, Vec<SignerKind>)> {
        let now_unix = unix(now);
        let crl_horizon = unix(self.config.crl_renew_before.after(now)?);
        let signer_horizon = unix(self.config.signer_renew_before.after(now)?);
        let crls = state
            .cscas
            .iter()
            .filter(|csca| csca.cert.not_after > now_unix)
            .filter(|csca| {
                state
                    .crls
                    .iter()
                    .find(|crl| crl.csca_generation == csca.generation)
                    // A renewal window longer than the CRL's life must not reissue it at every
                    // pass: a CRL younger than an hour is left alone.
                    .is_none_or(|crl| {
                        crl.next_update <= crl_horizon && crl.this_update + 3600 <= now_unix
                    })
            })
            .map(|csca| csca.generation)
            .collect();
        let signers = SignerKind::ALL
            .into_iter()
            .filter(|kind| {
                state
                    .signers
                    .iter()
                    .rev()
                    .find(|signer| signer.kind == *kind)
                    .is_some_and(|newest| {
                        // Nor a signer younger than a day (a window longer than its period).
                        newest.revocation.is_none()
                            && newest.cert.key_usage_not_after <= signer_horizon
                            && newest.cert.key_usage_not_before + 86_400 <= now_unix
                    })
            })
            .collect();
        Ok((crls, signers))
    }

    /// Whether [`Pki::renew`] has anything to do now (a read of the state in use).
    pub fn renewal_due(&self) -> Result<bool> {
        let mut guard = self.lock();
        self.refresh_locked(&mut guard)?;
        let state = guard.as_ref().ok_or(PkiError::NotInitialised)?;
        let (crls, signers) = self.renewal_due_in(state, self.now()?)?;
        Ok(!crls.is_empty() || !signers.is_empty())
    }

    /// Automatic renewal: a fresh CRL for every valid CSCA whose CRL's nextUpdate is within
    /// `[pki] crl_renew_before`, and a successor for every signer whose private-key usage period
    /// ends within `[pki] signer_renew_before`, in one change (one transaction with its ledger
    /// entries). Reads first and changes nothing when nothing is due; when another process
    /// renewed meanwhile, the due list is made again from its state.
    pub fn renew(&self) -> Result<RenewReport> {
        let now = self.now()?;
        {
            let mut guard = self.lock();
            self.refresh_locked(&mut guard)?;
            let state = guard.as_ref().ok_or(PkiError::NotInitialised)?;
            let (crls, signers) = self.renewal_due_in(state, now)?;
            if crls.is_empty() && signers.is_empty() {
                return Ok(RenewReport::default());
            }
        }
        self.with_state(|state| {
            let (crls, signers) = self.renewal_due_in(state, now)?;
            let mut report = RenewReport::default();
            // Signers first: a CRL issued after lists nothing new, but a new signer under the
            // current CSCA is what the next CRL must not list.
            for kind in signers {
                let record = self.issue_signer_locked(state, kind)?;
                report.signers.push((kind, record.cert.serial_hex));
            }
            for generation in crls {
                let number = state.next_crl_number;
                self.issue_crl_locked(state, generation)?;
                report.crls.push((generation, number));
            }
            if !report.signers.is_empty() {
                // The master list names CSCAs only; a new master-list signer re-signs it.
                if report
                    .signers
                    .iter()
                    .any(|(kind, _)| *kind == SignerKind::MasterList)
                {
                    self.issue_master_list_locked(state)?;
                }
            }
            Ok(report)
        })
    }

    /// When the PKI needs attention, as seconds since the Unix epoch: for each valid CSCA
    /// generation `crl:g<N>` (its CRL's nextUpdate) and `csca:g<N>` (its certificate's end), and
    /// for each signer kind `key_usage:<kind>` (the end of the newest valid signer's private-key
    /// usage period).
    pub fn deadlines(&self) -> Result<Vec<(String, u64)>> {
        let state = self.read_state()?;
        let now = unix(self.now()?);
        let mut out = Vec::new();
        for csca in state.cscas.iter().filter(|csca| csca.cert.not_after > now) {
            out.push((format!("csca:g{}", csca.generation), csca.cert.not_after));
            if let Some(crl) = state
                .crls
                .iter()
                .find(|crl| crl.csca_generation == csca.generation)
            {
                out.push((format!("crl:g{}", csca.generation), crl.next_update));
            }
        }
        for kind in SignerKind::ALL {
            if let Ok(record) = self.current_signer_record(&state, kind) {
                out.push((format!("key_usage:{kind}"), record.cert.key_usage_not_after));
            }
        }
        Ok(out)
    }

    /// The [`Pki::deadlines`] that need attention now: past, or within their renewal window
    /// (`crl_renew_before` for a CRL, `signer_renew_before` for a key-usage period, `warn_before`
    /// for a CSCA certificate), each said in words.
    pub fn attention(&self) -> Result<Vec<String>> {
        let now = self.now()?;
        let now_unix = unix(now);
        let windows = [
            ("crl:", unix(self.config.crl_renew_before.after(now)?)),
            (
                "key_usage:",
                unix(self.config.signer_renew_before.after(now)?),
            ),
            ("csca:", unix(self.config.warn_before.after(now)?)),
        ];
        Ok(self
            .deadlines()?
            .into_iter()
            .filter_map(|(what, at)| {
                let (_, horizon) = windows
                    .iter()
                    .find(|(prefix, _)| what.starts_with(prefix))?;
                if at <= now_unix {
                    Some(format!("{what} is past"))
                } else if at <= *horizon {
                    Some(format!("{what} in {} days", (at - now_unix) / 86_400))
                } else {
                    None
                }
            })
            .collect())
    }

    /// Every revoked signer: serial (upper-case hex), reason and time of revocation (Unix
    /// seconds). The CRL says that a certificate is revoked; this says why (the ICAO CRL profile
    /// carries no reason).
    pub fn revocations(&self) -> Result<Vec<(String, RevocationReason, u64)>> {
        let state = self.read_state()?;
        Ok(state
            .signers
            .iter()
            .filter_map(|signer| {
                let revocation = signer.revocation.as_ref()?;
                Some((
                    signer.cert.serial_hex.clone(),
                    revocation.reason,
                    revocation.at,
                ))
            })
            .collect())
    }

    /// The current CSCA certificate.
    pub fn csca(&self) -> Result<Certificate> {
        let der = self.csca_der()?;
        Certificate::from_der(&der).map_err(|error| PkiError::Malformed {
            what: "certificate",
            message: error.to_string(),
        })
    }

    /// DER of the current CSCA certificate.
    pub fn csca_der(&self) -> Result<Vec<u8>> {
        let state = self.read_state()?;
        let csca = state.cscas.last().ok_or(PkiError::NotInitialised)?;
        self.store.get(&csca.cert.file)
    }

    /// Every CSCA generation (oldest first): generation, certificate DER, link certificate DER.
    pub fn csca_history(&self) -> Result<Vec<CscaGeneration>> {
        let state = self.read_state()?;
        state
            .cscas
            .iter()
            .map(|csca| {
                let link = csca
                    .link
                    .as_ref()
                    .map(|link| self.store.get(&link.file))
                    .transpose()?;
                Ok(CscaGeneration {
                    generation: csca.generation,
                    certificate_der: self.store.get(&csca.cert.file)?,
                    link_der: link,
                })
            })
            .collect()
    }

    /// DER of every certificate ever issued to a signer of `kind` (oldest first, revoked ones
    /// included): a verifier needs them all, since documents signed before a new signer or a
    /// CSCA rollover stay valid until they expire (revocation is the CRL's to say).
    pub fn signer_history(&self, kind: SignerKind) -> Result<Vec<Vec<u8>>> {
        let state = self.read_state()?;
        state
            .signers
            .iter()
            .filter(|signer| signer.kind == kind)
            .map(|signer| self.store.get(&signer.cert.file))
            .collect()
    }

    /// DER of the latest CRL of every CSCA generation that has one.
    pub fn crls(&self) -> Result<Vec<Vec<u8>>> {
        let state = self.read_state()?;
        state
            .crls
            .iter()
            .map(|crl| self.store.get(&crl.file))
            .collect()
    }

    /// DER of the latest CRL of the current CSCA.
    pub fn crl(&self) -> Result<Vec<u8>> {
        let state = self.read_state()?;
        let generation = state
            .cscas
            .last()
            .ok_or(PkiError::NotInitialised)?
            .generation;
        self.crl_of(&state, generation)
    }

    fn crl_of(&self, state: &PkiState, generation: u32) -> Result<Vec<u8>> {
        let record = state
            .crls
            .iter()
            .find(|crl| crl.csca_generation == generation)
            .ok_or(PkiError::NotInitialised)?;
        self.store.get(&record.file)
    }

    /// DER of the latest master list.
    pub fn masterlist(&self) -> Result<Vec<u8>> {
        let state = self.read_state()?;
        let file = state.master_list.as_ref().ok_or(PkiError::NotInitialised)?;
        self.store.get(file)
    }

    /// Issues a fresh CRL for every CSCA generation still valid; returns the current one.
    pub fn issue_crl(&self) -> Result<Vec<u8>> {
        self.with_state(|state| {
            let now = unix(self.now()?);
            let generations: Vec<u32> = state
                .cscas
                .iter()
                .filter(|csca| csca.cert.not_after >= now)
                .map(|csca| csca.generation)
                .collect();
            for generation in generations {
                self.issue_crl_locked(state, generation)?;
            }
            Ok(())
        })?;
        self.crl()
    }

    fn issue_crl_locked(&self, state: &mut PkiState, generation: u32) -> Result<Vec<u8>> {
        let csca = csca_of(state, generation)?;
        let (csca_cert, _) = self.certificate(&csca.cert)?;
        let signer = self.signer_for(&csca.key)?;
        let number = state.next_crl_number;
        state.next_crl_number += 1;
        let now = self.now()?;
        let next = self.config.crl_next_update.after(now)?;
        let crl_number = CrlNumber(
            der::asn1::Uint::new(&serial_bytes(number)).map_err(build_error("CRL number"))?,
        );
        let mut builder = CrlBuilder::<x509_cert::certificate::Rfc5280>::new_with_this_update(
            &csca_cert,
            crl_number,
            Time::from(now),
        )
        .map_err(build_error("CRL"))?
        .with_next_update(Some(Time::from(next)));
        let mut revoked = Vec::new();
        for signer in state
            .signers
            .iter()
            .filter(|s| s.csca_generation == generation)
        {
            if let Some(revocation) = &signer.revocation {
                let serial = parse_serial_hex(&signer.cert.serial_hex)?;
                let at =
                    DateTime::from_unix_duration(std::time::Duration::from_secs(revocation.at))
                        .map_err(build_error("revocation date"))?;
                revoked.push(RevokedCert {
                    serial_number: SerialNumber::new(&serial_bytes(serial))
                        .map_err(build_error("serial"))?,
                    revocation_date: Time::from(at),
                    crl_entry_extensions: None,
                });
            }
        }
        if !revoked.is_empty() {
            builder = builder.with_certificates(revoked.into_iter());
        }
        let crl = with_signature_type!(signer, S => builder.build::<_, S>(signer.as_ref()).map_err(build_error("CRL")))?;
        let der = crl.to_der().map_err(build_error("CRL"))?;
        let file = format!("crl-g{generation}-{number}.der");
        self.store.put(&file, &der)?;
        state.crls.retain(|crl| crl.csca_generation != generation);
        state.crls.push(CrlRecord {
            csca_generation: generation,
            number,
            file,
            this_update: unix(now),
            next_update: unix(next),
        });
        self.emit(
            PkiEventKind::CrlIssued { number },
            &csca.cert.serial_hex,
            &der,
        );
        Ok(der)
    }

    /// Revokes a signer certificate (by serial, hex); the reason is recorded in our store (the
    /// ICAO CRL profile forbids entry extensions); a new CRL is issued at once.
    pub fn revoke(&self, serial: &str, reason: RevocationReason) -> Result<()> {
        let wanted = parse_serial_hex(serial)?;
        self.with_state(|state| {
            if state.cscas.iter().any(|csca| {
                parse_serial_hex(&csca.cert.serial_hex).ok() == Some(wanted)
                    || csca
                        .link
                        .as_ref()
                        .is_some_and(|link| parse_serial_hex(&link.serial_hex).ok() == Some(wanted))
            }) {
                return Err(PkiError::NotAllowed(
                    "a CSCA certificate is not revoked on its own CRL; roll over instead"
                        .to_owned(),
                ));
            }
            let at = unix(self.now()?);
            let signer = state
                .signers
                .iter_mut()
                .find(|signer| parse_serial_hex(&signer.cert.serial_hex).ok() == Some(wanted))
                .ok_or_else(|| PkiError::UnknownSerial(serial.to_owned()))?;
            if let Some(existing) = &signer.revocation {
                return Err(PkiError::AlreadyRevoked {
                    serial: signer.cert.serial_hex.clone(),
                    reason: existing.reason.to_string(),
                });
            }
            signer.revocation = Some(Revocation { reason, at });
            let generation = signer.csca_generation;
            let serial_hex = signer.cert.serial_hex.clone();
            let fingerprint_value = signer.cert.fingerprint_sha256.clone();
            self.sink.record(&PkiEvent {
                kind: PkiEventKind::Revoked { reason },
                serial_hex,
                fingerprint_sha256: fingerprint_value,
            });
            self.issue_crl_locked(state, generation)?;
            Ok(())
        })
    }

    /// CSCA rollover: a new CSCA key and self-signed certificate, a link certificate (new public
    /// key signed by the old CSCA key), a CRL for the new CSCA, a new master-list signer under it
    /// and a new master list. Other signers issued afterwards are signed by the new CSCA; existing
    /// ones stay valid under the old CSCA. Returns the new generation.
    pub fn rollover(&self) -> Result<u32> {
        self.with_state(|state| {
            if state.cscas.is_empty() {
                return Err(PkiError::NotInitialised);
            }
            let csca = self.create_csca(state)?;
            self.issue_crl_locked(state, csca.generation)?;
            // The master list must verify against the current CSCA alone, so its signer moves
            // to the new CSCA at once (the old one stays valid, it is not revoked).
            self.issue_signer_locked(state, SignerKind::MasterList)?;
            self.issue_master_list_locked(state)?;
            Ok(csca.generation)
        })
    }

    /// Issues a new master list (all CSCA and link certificates), signed by the master-list signer.
    pub fn issue_master_list(&self) -> Result<Vec<u8>> {
        self.with_state(|state| self.issue_master_list_locked(state))
    }

    fn issue_master_list_locked(&self, state: &mut PkiState) -> Result<Vec<u8>> {
        let ml_record = self.current_signer_record(state, SignerKind::MasterList)?;
        let (ml_cert, _) = self.certificate(&ml_record.cert)?;
        let ml_signer = self.signer_for(&ml_record.key)?;
        let csca = state.cscas.last().ok_or(PkiError::NotInitialised)?;
        let (csca_cert, _) = self.certificate(&csca.cert)?;

        let mut cert_list = SetOfVec::new();
        for record in &state.cscas {
            let mut files = vec![&record.cert];
            files.extend(record.link.as_ref());
            for cert in files {
                let der = self.store.get(&cert.file)?;
                let any = Any::from_der(&der).map_err(build_error("master list"))?;
                cert_list.insert(any).map_err(build_error("master list"))?;
            }
        }
        let content = CscaMasterList {
            version: 0,
            cert_list,
        }
        .to_der()
        .map_err(build_error("master list"))?;
        let encapsulated = EncapsulatedContentInfo {
            econtent_type: ID_ICAO_CSCA_MASTER_LIST,
            econtent: Some(
                Any::new(Tag::OctetString, content).map_err(build_error("master list"))?,
            ),
        };
        let digest = match ml_signer.algorithm().hash() {
            travdoc_hsm::HashAlgorithm::Sha384 => const_oid::db::rfc5912::ID_SHA_384,
            _ => const_oid::db::rfc5912::ID_SHA_256,
        };
        let digest_algorithm = AlgorithmIdentifierOwned {
            oid: digest,
            parameters: None,
        };
        let ski = SubjectKeyIdentifier::try_from(
            ml_cert
                .tbs_certificate()
                .subject_public_key_info()
                .owned_to_ref(),
        )
        .map_err(build_error("master list"))?;
        let now = self.now()?;
        let mut signing_time = SetOfVec::new();
        signing_time
            .insert(Any::encode_from(&Time::from(now)).map_err(build_error("signingTime"))?)
            .map_err(build_error("signingTime"))?;
        let mut signer_info = SignerInfoBuilder::new(
            SignerIdentifier::SubjectKeyIdentifier(ski),
            digest_algorithm.clone(),
            &encapsulated,
            None,
        )
        .map_err(build_error("master list"))?;
        signer_info
            .add_signed_attribute(Attribute {
                oid: const_oid::db::rfc5911::ID_SIGNING_TIME,
                values: signing_time,
            })
            .map_err(build_error("master list"))?;
        let mut builder = SignedDataBuilder::new(&encapsulated);
        builder
            .add_digest_algorithm(digest_algorithm)
            .map_err(build_error("master list"))?
            .add_certificate(CertificateChoices::Certificate(ml_cert))
            .map_err(build_error("master list"))?
            .add_certificate(CertificateChoices::Certificate(csca_cert))
            .map_err(build_error("master list"))?;
        with_signature_type!(ml_signer, S => builder
            .add_signer_info::<_, S>(signer_info, ml_signer.as_ref())
            .map(|_| ())
            .map_err(build_error("master list")))?;
        let content_info = builder.build().map_err(build_error("master list"))?;
        let der = content_info.to_der().map_err(build_error("master list"))?;
        let file = format!("masterlist-{}.der", unix(now));
        self.store.put(&file, &der)?;
        state.master_list = Some(file);
        self.emit(
            PkiEventKind::MasterListIssued,
            &ml_record.cert.serial_hex,
            &der,
        );
        Ok(der)
    }

    /// Every certificate this PKI ever issued (CSCAs, links, signers), with its DER and state,
    /// in issuing order.
    pub fn certificates(&self) -> Result<Vec<PublishedCertificate>> {
        let state = self.read_state()?;
        let now = unix(self.now()?);
        let mut out = Vec::new();
        for (role, cert, key, revocation, current) in self.every_certificate(&state) {
            let der = self.store.get(&cert.file)?;
            let parsed = Certificate::from_der(&der).map_err(|error| PkiError::Malformed {
                what: "certificate",
                message: error.to_string(),
            })?;
            out.push(PublishedCertificate {
                state: CertificateState::of(cert, revocation, current, now),
                role,
                serial_hex: cert.serial_hex.clone(),
                subject: cert.subject.clone(),
                fingerprint_sha256: cert.fingerprint_sha256.clone(),
                not_before: parsed
                    .tbs_certificate()
                    .validity()
                    .not_before
                    .to_unix_duration()
                    .as_secs(),
                not_after: cert.not_after,
                key_usage_not_after: key.map(|_| cert.key_usage_not_after),
                revocation: revocation.cloned(),
                der,
            });
        }
        Ok(out)
    }

    /// Every certificate of `state` in issuing order: its role (`csca-g1`, `link-g2`, the
    /// signer kind), its key (none for a link certificate), its revocation, and whether it is
    /// current (the CSCA in use and its link, the signer of each kind that signs now).
    #[allow(clippy::type_complexity)]
    fn every_certificate<'a>(
        &self,
        state: &'a PkiState,
    ) -> Vec<(
        String,
        &'a CertRecord,
        Option<&'a KeyRecord>,
        Option<&'a Revocation>,
        bool,
    )> {
        let current_generation = state.cscas.last().map(|csca| csca.generation);
        let current_signers: Vec<String> = SignerKind::ALL
            .into_iter()
            .filter_map(|kind| self.current_signer_record(state, kind).ok())
            .map(|record| record.cert.serial_hex)
            .collect();
        let mut out = Vec::new();
        for csca in &state.cscas {
            let current = Some(csca.generation) == current_generation;
            out.push((
                format!("csca-g{}", csca.generation),
                &csca.cert,
                Some(&csca.key),
                None,
                current,
            ));
            if let Some(link) = &csca.link {
                out.push((
                    format!("link-g{}", csca.generation),
                    link,
                    None,
                    None,
                    current,
                ));
            }
        }
        for signer in &state.signers {
            out.push((
                signer.kind.name().to_owned(),
                &signer.cert,
                Some(&signer.key),
                signer.revocation.as_ref(),
                current_signers.contains(&signer.cert.serial_hex),
            ));
        }
        out
    }

    /// Every CRL ever issued, by number.
    pub fn crl_history(&self) -> Result<Vec<PublishedCrl>> {
        let mut crls = Vec::new();
        for name in self.store.names()? {
            let Some(rest) = name
                .strip_prefix("crl-g")
                .and_then(|rest| rest.strip_suffix(".der"))
            else {
                continue;
            };
            let Some((generation, number)) = rest.split_once('-') else {
                continue;
            };
            let (Ok(csca_generation), Ok(number)) = (generation.parse(), number.parse()) else {
                continue;
            };
            crls.push(PublishedCrl {
                csca_generation,
                number,
                der: self.store.get(&name)?,
            });
        }
        crls.sort_by_key(|crl| crl.number);
        Ok(crls)
    }

    /// Keys, certificates, expiry and usage periods, with warnings ahead of expiry.
    pub fn status(&self) -> Result<PkiStatus> {
        let state = self.read_state()?;
        let now = unix(self.now()?);
        let warn = unix(self.config.warn_before.after(self.now()?)?);
        let mut entries = Vec::new();
        let mut global_warnings = Vec::new();
        let mut push = |role: String,
                        cert: &CertRecord,
                        key: Option<&KeyRecord>,
                        revocation: Option<&Revocation>,
                        current: bool| {
            // A key on a token this process has not opened (the offline CSCA) is not looked at.
            let key_present = key.and_then(|key| {
                let token = self.token(&key.token_label).ok()?;
                Some(
                    Self::key_ref(key)
                        .and_then(|reference| Ok(token.key_exists(&reference)?))
                        .unwrap_or(false),
                )
            });
            let mut warnings = Vec::new();
            if key_present == Some(false) {
                warnings.push("private key not found in the token".to_owned());
            }
            if revocation.is_none() {
                if cert.not_after < now {
                    warnings.push("certificate expired".to_owned());
                } else if cert.not_after <= warn {
                    warnings.push("certificate expires soon".to_owned());
                }
                if current && key.is_some() {
                    if cert.key_usage_not_after < now {
                        warnings.push("private-key usage period ended: issue a new key".to_owned());
                    } else if cert.key_usage_not_after <= warn {
                        warnings.push(
                            "private-key usage period ends soon: plan the next key".to_owned(),
                        );
                    }
                }
            }
            entries.push(StatusEntry {
                state: CertificateState::of(cert, revocation, current, now),
                role,
                serial_hex: cert.serial_hex.clone(),
                subject: cert.subject.clone(),
                fingerprint_sha256: cert.fingerprint_sha256.clone(),
                not_after: cert.not_after,
                key_usage_not_after: cert.key_usage_not_after,
                key: key.cloned(),
                key_present,
                revocation: revocation.cloned(),
                current,
                warnings,
            });
        };
        for (role, cert, key, revocation, current) in self.every_certificate(&state) {
            push(role, cert, key, revocation, current);
        }
        for kind in SignerKind::ALL {
            if let Err(error) = self.current_signer_record(&state, kind) {
                global_warnings.push(error.to_string());
            }
        }
        for crl in &state.crls {
            if crl.next_update < now {
                global_warnings.push(format!(
                    "CRL {} of CSCA g{} is past its nextUpdate",
                    crl.number, crl.csca_generation
                ));
            }
        }
        Ok(PkiStatus {
            country: state.country.clone(),
            test: state.test,
            token_label: self.hsm.token_label().to_owned(),
            entries,
            crls: state.crls.clone(),
            warnings: global_warnings,
        })
    }

    /// Writes every public artifact as DER into `dir`: `csca.der` (current), `csca-g<N>.der`,
    /// `link-g<N>.der`, `signer-<kind>.der` (current signers), `signer-<kind>-<serial>.der`
    /// (every signer ever issued), `crl.der` (current CSCA),
    /// `crl-g<N>.der`, `masterlist.der`. Returns the paths written.
    pub fn export(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let state = self.read_state()?;
        std::fs::create_dir_all(dir).map_err(|error| PkiError::Store {
            path: dir.to_owned(),
            message: error.to_string(),
        })?;
        let mut written = Vec::new();
        let mut write = |name: String, der: Vec<u8>| -> Result<()> {
            let path = dir.join(name);
            crate::store::write_atomic(&path, &der)?;
            written.push(path);
            Ok(())
        };
        let current = state.cscas.last().ok_or(PkiError::NotInitialised)?;
        write("csca.der".to_owned(), self.store.get(&current.cert.file)?)?;
        for csca in &state.cscas {
            write(
                format!("csca-g{}.der", csca.generation),
                self.store.get(&csca.cert.file)?,
            )?;
            if let Some(link) = &csca.link {
                write(
                    format!("link-g{}.der", csca.generation),
                    self.store.get(&link.file)?,
                )?;
            }
        }
        for kind in SignerKind::ALL {
            if let Ok(record) = self.current_signer_record(&state, kind) {
                write(
                    format!("signer-{kind}.der"),
                    self.store.get(&record.cert.file)?,
                )?;
            }
        }
        // Earlier signers too: documents they signed stay verifiable until they expire.
        for signer in &state.signers {
            write(
                format!("signer-{}-{}.der", signer.kind, signer.cert.serial_hex),
                self.store.get(&signer.cert.file)?,
            )?;
        }
        write(
            "crl.der".to_owned(),
            self.crl_of(&state, current.generation)?,
        )?;
        for crl in &state.crls {
            write(
                format!("crl-g{}.der", crl.csca_generation),
                self.store.get(&crl.file)?,
            )?;
        }
        if let Some(file) = &state.master_list {
            write("masterlist.der".to_owned(), self.store.get(file)?)?;
        }
        Ok(written)
    }

    /// Writes the ICAO PKD download files into `dir`: `icaopkd-001-dsccrl-<ICAO>.ldif` (every
    /// Document Signer and bar-code signer certificate ever issued under `o=dsc`, the latest
    /// CRL of every CSCA generation under `o=crl`) and `icaopkd-002-ml-<ICAO>.ldif` (the CSCA
    /// master list under `o=ml`, which carries the CSCA and link certificates).
    pub fn export_pkd(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        use crate::pkd::{Entry, Value, dn};
        let state = self.read_state()?;
        std::fs::create_dir_all(dir).map_err(|error| PkiError::Store {
            path: dir.to_owned(),
            message: error.to_string(),
        })?;
        let alpha2 = self.country.alpha2();
        let version = self.generation().max(1).to_string();
        let mut blobs = Vec::new();
        for signer in state.signers.iter().filter(|signer| {
            matches!(
                signer.kind,
                SignerKind::Passport | SignerKind::Ttd | SignerKind::Legalization
            )
        }) {
            blobs.push((signer.cert.clone(), self.store.get(&signer.cert.file)?));
        }
        let mut crls = Vec::new();
        for crl in &state.crls {
            let issuer = csca_of(&state, crl.csca_generation)?;
            crls.push((issuer.cert.subject.clone(), self.store.get(&crl.file)?));
        }
        let mut entries = Vec::new();
        for (cert, der) in &blobs {
            entries.push(Entry {
                dn: dn(&cert.subject, Some(&cert.serial_hex), "dsc", alpha2),
                attributes: vec![
                    ("objectClass", Value::Text("top")),
                    ("objectClass", Value::Text("person")),
                    ("objectClass", Value::Text("organizationalPerson")),
                    ("objectClass", Value::Text("inetOrgPerson")),
                    ("objectClass", Value::Text("pkdDownload")),
                    ("cn", Value::Text(&cert.subject)),
                    ("sn", Value::Text(&cert.serial_hex)),
                    ("pkdVersion", Value::Text(&version)),
                    ("userCertificate;binary", Value::Binary(der)),
                ],
            });
        }
        for (issuer, der) in &crls {
            entries.push(Entry {
                dn: dn(issuer, None, "crl", alpha2),
                attributes: vec![
                    ("objectClass", Value::Text("top")),
                    ("objectClass", Value::Text("cRLDistributionPoint")),
                    ("objectClass", Value::Text("pkdDownload")),
                    ("cn", Value::Text(issuer)),
                    ("pkdVersion", Value::Text(&version)),
                    ("certificateRevocationList;binary", Value::Binary(der)),
                ],
            });
        }
        let icao = self.country.icao();
        let mut written = Vec::new();
        let path = dir.join(format!("icaopkd-001-dsccrl-{icao}.ldif"));
        crate::store::write_atomic(&path, crate::pkd::ldif(&entries).as_bytes())?;
        written.push(path);
        if let Some(file) = &state.master_list {
            let list = self.store.get(file)?;
            let signer = self.current_signer_record(&state, SignerKind::MasterList)?;
            let entry = Entry {
                dn: dn(
                    &signer.cert.subject,
                    Some(&signer.cert.serial_hex),
                    "ml",
                    alpha2,
                ),
                attributes: vec![
                    ("objectClass", Value::Text("top")),
                    ("objectClass", Value::Text("person")),
                    ("objectClass", Value::Text("pkdMasterList")),
                    ("objectClass", Value::Text("pkdDownload")),
                    ("cn", Value::Text(&signer.cert.subject)),
                    ("sn", Value::Text(&signer.cert.serial_hex)),
                    ("pkdVersion", Value::Text(&version)),
                    ("pkdMasterListContent", Value::Binary(&list)),
                ],
            };
            let path = dir.join(format!("icaopkd-002-ml-{icao}.ldif"));
            crate::store::write_atomic(&path, crate::pkd::ldif(&[entry]).as_bytes())?;
            written.push(path);
        }
        Ok(written)
    }
}
