//! The composition root: the one place that builds travdoc from its configuration. It opens
//! the HSM and the PKI (`travdoc-pki`: seal signers, CSCA, CRL, master list, ledger key), the
//! database and the ledger (`travdoc-store`), rendering (`travdoc-render`) and printers
//! (`travdoc-print`), turns them into the ports the use cases call, and assembles the HTTP
//! router from the API's and the web pages' routes. `serve` and the CLI's commands start here;
//! nothing else knows those crates' APIs, and nothing else imports `api/`.

use std::collections::BTreeMap;
use std::sync::Arc;

use travdoc_pki::hsm::{HsmError, HsmSigner, KeyAlgorithm};
use travdoc_pki::{IssuedSigner, Pki, PkiOptions, SignerKind};
use travdoc_print::PrintDriver as _;
use travdoc_store::ledger::{self, LedgerConfig, LedgerSigner};

use crate::config::Config;
use crate::http::AppState;
use crate::usecase::ledger::{BoxFuture as ApiFuture, LedgerView};
use crate::usecase::publication::{
    Artifact, CertificateEntry, CrlEntry, Publication, Published, RevocationEntry, serial_key,
};
use crate::usecase::verify::{
    BarcodeDecoder, DocumentRecord, DocumentRecords, Verification, Verifier,
};

use crate::issuance::ports::{
    BoxFuture, HsmProbe, PrinterPort, RenderInput, RendererPort, SealKey, SignerError, Signers,
};
use crate::issuance::{Db, IssuanceError, Service, Settings, SystemClock};
use crate::live::Live;
use crate::metrics::Metrics;

/// Everything `serve` composes (the ledger view needs the database, see [`ledger_view`]).
pub struct Parts {
    pub pki: Arc<Pki>,
    /// The signers and the verifier in force, replaced together when the PKI changes (see
    /// [`watch_trust`]).
    pub signers: Live<Signers>,
    /// What is published, rebuilt with the trust.
    pub published: Live<Published>,
    pub publication: Arc<dyn Publication>,
    pub verifier: Live<Verifier>,
    pub printers: Arc<dyn PrinterPort>,
    pub renderer: Arc<dyn RendererPort>,
    pub settings: Settings,
    /// The barcode image pixel cap (`max_image_pixels`), kept for the verifier's rebuilds.
    pub max_image_pixels: u64,
}

fn pki_options(config: &Config) -> PkiOptions {
    config.pki_options()
}

/// For the embedded SoftHSM2 token: re-executes this process with its configuration when
/// needed, and writes back any token file a killed process left damaged (each one named on
/// stderr and returned). Call first thing, before any thread is started.
pub fn prepare_process(config: &Config) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let restored = pki_options(config).prepare_process()?;
    for path in &restored {
        eprintln!(
            "travdoc: warning: {} was left damaged by a killed process; restored from its saved copy",
            path.display()
        );
    }
    Ok(restored)
}

fn signer_error(error: HsmError) -> SignerError {
    if error.is_unavailable() {
        SignerError::Unavailable(error.to_string())
    } else {
        SignerError::Failed(error.to_string())
    }
}

/// A bar-code signer of the PKI as a seal key.
struct PkiSealKey {
    usable_until: std::time::SystemTime,
    signer: Arc<HsmSigner>,
    certificate_der: Vec<u8>,
    signer_identifier: String,
    serial: Vec<u8>,
    curve: travdoc_seal::Curve,
}

impl PkiSealKey {
    fn new(issued: &IssuedSigner) -> anyhow::Result<Self> {
        let curve = match issued.signer.algorithm() {
            KeyAlgorithm::EcP256 => travdoc_seal::Curve::P256,
            KeyAlgorithm::EcP384 => travdoc_seal::Curve::P384,
            KeyAlgorithm::EcBrainpoolP256r1 => travdoc_seal::Curve::BrainpoolP256r1,
            other => anyhow::bail!("a {other} key cannot sign visible digital seals"),
        };
        let signer_identifier = issued.vds_signer_identifier().ok_or_else(|| {
            anyhow::anyhow!("the {} signer certificate has no 2-letter CN", issued.kind)
        })?;
        let padded = if issued.serial_hex.len() % 2 == 1 {
            format!("0{}", issued.serial_hex)
        } else {
            issued.serial_hex.clone()
        };
        Ok(PkiSealKey {
            usable_until: unix_time(issued.key_usage_not_after),
            signer: issued.signer.clone(),
            certificate_der: issued.certificate_der.clone(),
            signer_identifier,
            serial: hex::decode(padded)?,
            curve,
        })
    }
}

impl SealKey for PkiSealKey {
    fn curve(&self) -> travdoc_seal::Curve {
        self.curve
    }
    fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, SignerError> {
        self.signer.sign_digest_raw(digest).map_err(signer_error)
    }
    fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }
    fn signer_identifier(&self) -> &str {
        &self.signer_identifier
    }
    fn certificate_serial(&self) -> &[u8] {
        &self.serial
    }
    fn usable_until(&self) -> Option<std::time::SystemTime> {
        Some(self.usable_until)
    }
}

/// The passport Document Signer of the PKI.
struct PkiSodSigner {
    usable_until: std::time::SystemTime,
    signer: Arc<HsmSigner>,
    certificate: x509_cert::Certificate,
    serial_hex: String,
}

impl crate::issuance::ports::SodSigner for PkiSodSigner {
    fn sign_sod(&self, data_groups: &[&[u8]]) -> Result<Vec<u8>, SignerError> {
        let failed = |error: travdoc_lds::LdsError| SignerError::Failed(error.to_string());
        let mut builder = travdoc_lds::SodBuilder::new();
        for file in data_groups {
            builder = builder.add_data_group(file).map_err(failed)?;
        }
        let sod = match self.signer.algorithm() {
            KeyAlgorithm::EcP256 => builder.build::<HsmSigner, p256::ecdsa::DerSignature>(
                &self.certificate,
                self.signer.as_ref(),
            ),
            other => {
                return Err(SignerError::Failed(format!(
                    "SOD signing with a {other} Document Signer is not wired"
                )));
            }
        }
        .map_err(failed)?;
        sod.to_bytes().map_err(failed)
    }

    fn key_id(&self) -> String {
        self.serial_hex.clone()
    }

    fn usable_until(&self) -> Option<std::time::SystemTime> {
        Some(self.usable_until)
    }
}

/// The document store and the ledger, as verification consults them.
pub struct ServiceRecords {
    service: Service,
    ledger: Option<Arc<dyn LedgerView>>,
}

impl ServiceRecords {
    /// Records over `service`'s database; proofs from `ledger` when given.
    pub fn new(service: Service, ledger: Option<Arc<dyn LedgerView>>) -> Self {
        ServiceRecords { service, ledger }
    }
}

impl DocumentRecords for ServiceRecords {
    fn lookup<'a>(
        &'a self,
        number: &'a str,
    ) -> crate::usecase::verify::BoxFuture<'a, Result<Option<DocumentRecord>, IssuanceError>> {
        Box::pin(async move {
            let (status, row) = self.service.records().document_status(number).await?;
            Ok(row.map(|row| DocumentRecord {
                kind: crate::issuance::numbering::Kind::parse(&row.kind),
                status,
                ledger_index: row.ledger_index.and_then(|index| u64::try_from(index).ok()),
            }))
        })
    }

    fn proof(
        &self,
        index: u64,
    ) -> crate::usecase::verify::BoxFuture<'_, Option<serde_json::Value>> {
        Box::pin(async move {
            match &self.ledger {
                Some(ledger) => ledger.proof(index).await.ok(),
                None => None,
            }
        })
    }
}

/// Probes the HSM by signing a fixed digest with the TTD key.
struct SignProbe(Arc<HsmSigner>);

/// How recent a successful HSM operation must be to stand for a probe. A probe signature
/// per issuance had cost a fifth of the server's CPU under load; now it is signed only when
/// the token has been quiet (or failed) for this long. An HSM that dies within the window is
/// met by the issuance's own signature, which fails, and the allocated number is voided.
const PROBE_WINDOW: std::time::Duration = std::time::Duration::from_millis(500);

impl HsmProbe for SignProbe {
    fn check(&self) -> Result<(), SignerError> {
        if self.0.answered_within(PROBE_WINDOW) {
            return Ok(());
        }
        let digest = vec![0x5A; self.0.algorithm().hash().output_len()];
        self.0
            .sign_digest_raw(&digest)
            .map(|_| ())
            .map_err(signer_error)
    }
}

/// PKI publication: the snapshot in force (rebuilt by [`watch_trust`] on every PKI change).
struct PkiPublication(Live<Published>);

impl Publication for PkiPublication {
    fn published(&self) -> Arc<Published> {
        self.0.get()
    }
}

/// What the PKI's current state publishes: every certificate with its state, every CRL by
/// number, the current CSCA, CRL, signers and master list, each with its entity tag.
pub fn publication_of(pki: &Pki) -> anyhow::Result<Published> {
    let certificates = pki.certificates()?;
    let list: Vec<CertificateEntry> = certificates
        .iter()
        .map(|certificate| CertificateEntry {
            role: certificate.role.clone(),
            serial: certificate.serial_hex.clone(),
            subject: certificate.subject.clone(),
            sha256: certificate.fingerprint_sha256.clone(),
            not_before: crate::issuance::rfc3339_unix(certificate.not_before),
            not_after: crate::issuance::rfc3339_unix(certificate.not_after),
            key_usage_end: certificate
                .key_usage_not_after
                .map(crate::issuance::rfc3339_unix),
            state: certificate.state.as_str().to_owned(),
            revocation: certificate
                .revocation
                .as_ref()
                .map(|revocation| RevocationEntry {
                    date: crate::issuance::rfc3339_unix(revocation.at),
                    reason: revocation.reason.to_string(),
                }),
        })
        .collect();
    let current = |role: &str| {
        certificates.iter().find(|certificate| {
            certificate.role == role && certificate.state == travdoc_pki::CertificateState::Current
        })
    };
    let signers = SignerKind::ALL
        .iter()
        .filter_map(|kind| current(kind.name()).map(|c| (kind.name().to_owned(), c.der.clone())))
        .collect();
    let csca = certificates
        .iter()
        .rev()
        .find(|certificate| certificate.role.starts_with("csca-"))
        .map(|certificate| Artifact::new(certificate.der.clone()));
    let history = pki.crl_history()?;
    let latest: std::collections::HashMap<u32, u64> =
        history.iter().fold(Default::default(), |mut latest, crl| {
            let number = latest.entry(crl.csca_generation).or_insert(crl.number);
            *number = (*number).max(crl.number);
            latest
        });
    let crl_list: Vec<CrlEntry> = history
        .iter()
        .map(|crl| {
            let parsed = <x509_cert::crl::CertificateList as der::Decode>::from_der(&crl.der).ok();
            let time = |at: Option<x509_cert::time::Time>| {
                at.map(|at| crate::issuance::rfc3339_unix(at.to_unix_duration().as_secs()))
            };
            CrlEntry {
                number: crl.number,
                csca_generation: crl.csca_generation,
                this_update: time(parsed.as_ref().map(|crl| crl.tbs_cert_list.this_update))
                    .unwrap_or_default(),
                next_update: time(
                    parsed
                        .as_ref()
                        .and_then(|crl| crl.tbs_cert_list.next_update),
                ),
                current: latest.get(&crl.csca_generation) == Some(&crl.number),
            }
        })
        .collect();
    Ok(Published {
        crl_list: Some(Artifact::new(serde_json::to_vec(&crl_list)?)),
        certificates: Some(Artifact::new(serde_json::to_vec(&list)?)),
        by_serial: certificates
            .into_iter()
            .map(|certificate| {
                (
                    serial_key(&certificate.serial_hex),
                    Artifact::new(certificate.der),
                )
            })
            .collect(),
        crls: history
            .into_iter()
            .map(|crl| (crl.number, Artifact::new(crl.der)))
            .collect(),
        crl: pki.crl().ok().map(Artifact::new),
        csca,
        master_list: pki.masterlist().ok().map(Artifact::new),
        signers,
        deadlines: pki.deadlines()?,
        attention: pki.attention()?,
    })
}

/// Barcode images decoded by rxing (`travdoc-render`).
struct RxingDecoder {
    max_pixels: u64,
}

/// The barcode reader (rxing through `travdoc-render`).
pub fn barcode_decoder(max_pixels: u64) -> Box<dyn BarcodeDecoder> {
    Box::new(RxingDecoder { max_pixels })
}

impl BarcodeDecoder for RxingDecoder {
    fn decode(&self, image: &[u8]) -> Result<Vec<u8>, String> {
        travdoc_render::decode_barcode_image_within(image, self.max_pixels)
            .map_err(|error| error.to_string())
    }
}

/// Renders the three document kinds with the bundled templates.
struct Rendering {
    ttd: travdoc_render::Template,
    legalization: travdoc_render::Template,
    passport: travdoc_render::Template,
    country: String,
    authority: String,
}

fn text(data: &serde_json::Value, field: &str) -> String {
    data.get(field)
        .and_then(|value| value.as_str())
        .unwrap_or_default()
        .to_owned()
}

impl Rendering {
    fn new(country: &str) -> anyhow::Result<Self> {
        Ok(Rendering {
            ttd: travdoc_render::Template::builtin("ttd-sheet")?,
            legalization: travdoc_render::Template::builtin("legalization-certificate")?,
            passport: travdoc_render::Template::builtin("passport-datapage")?,
            country: country.to_owned(),
            authority: "Department of Immigration and Emigration".to_owned(),
        })
    }

    fn render_with(
        &self,
        input: &RenderInput,
        calibration: &travdoc_render::Calibration,
    ) -> Result<Vec<u8>, String> {
        let data = &input.data;
        let mrz = |index: usize| {
            input
                .mrz
                .as_ref()
                .and_then(|lines| lines.get(index).cloned())
                .unwrap_or_default()
        };
        let issued = input.issued_at.get(0..10).unwrap_or_default().to_owned();
        let result = match input.kind.as_str() {
            "ttd" => travdoc_render::render_ttd(
                &travdoc_render::TtdSheetData {
                    mrz_lines: [mrz(0), mrz(1)],
                    document_number: input.number.clone(),
                    issuing_state: self.country.clone(),
                    surname: text(data, "surname"),
                    given_names: text(data, "given_names"),
                    nationality: text(data, "nationality"),
                    date_of_birth: text(data, "birth_date"),
                    sex: text(data, "sex"),
                    destination: text(data, "destination"),
                    route: data
                        .get("route")
                        .and_then(|route| route.as_array())
                        .map(|points| {
                            points
                                .iter()
                                .filter_map(|point| point.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    valid_until: input.valid_until.clone(),
                    date_of_issue: issued,
                    issuing_authority: self.authority.clone(),
                    // The secure blank's serial when printed on registered stock.
                    serial: Some(text(data, "blank_serial"))
                        .filter(|serial| !serial.is_empty())
                        .unwrap_or_else(|| input.number.clone()),
                    case_reference: text(data, "case_reference"),
                    seal_bytes: input.seal.clone().unwrap_or_default(),
                    portrait_jpeg: input.photo.clone(),
                    ..Default::default()
                },
                &self.ttd,
                calibration,
            ),
            "legalization" => travdoc_render::render_legalization(
                &travdoc_render::LegalizationData {
                    country: self.country.clone(),
                    signed_by: text(data, "signatory"),
                    capacity: text(data, "capacity"),
                    seal_of: text(data, "authority"),
                    place: text(data, "place"),
                    date: text(data, "issue_date"),
                    authority: "Consular Affairs Division".to_owned(),
                    certificate_number: input.number.clone(),
                    document_title: text(data, "document_type"),
                    document_sha256: text(data, "document_sha256"),
                    signatory: Some(text(data, "certified_by"))
                        .filter(|name| !name.is_empty())
                        .unwrap_or_else(|| "Consular officer".to_owned()),
                    qr_payload: text(data, "qr_payload"),
                },
                &self.legalization,
                calibration,
            ),
            "passport" => travdoc_render::render_passport_datapage(
                &travdoc_render::PassportDatapageData {
                    mrz_lines: [mrz(0), mrz(1)],
                    document_type: "P".to_owned(),
                    issuing_state: self.country.clone(),
                    document_number: input.number.clone(),
                    surname: text(data, "surname"),
                    given_names: text(data, "given_names"),
                    nationality: text(data, "nationality"),
                    date_of_birth: text(data, "birth_date"),
                    sex: text(data, "sex"),
                    place_of_birth: text(data, "place_of_birth"),
                    date_of_issue: issued,
                    date_of_expiry: input.valid_until.clone(),
                    authority: self.authority.clone(),
                    personal_number: text(data, "personal_number"),
                    portrait_jpeg: input.photo.clone(),
                },
                &self.passport,
                calibration,
            ),
            other => return Err(format!("no template for `{other}`")),
        };
        result.map_err(|error| error.to_string())
    }
}

impl RendererPort for Rendering {
    fn render(&self, input: &RenderInput) -> Result<Vec<u8>, String> {
        self.render_with(
            input,
            &travdoc_render::Calibration {
                dpi: 300,
                offset_x_mm: 0.0,
                offset_y_mm: 0.0,
            },
        )
    }
}

/// Printers from profiles; the embedded default is a hot folder under `DATA_DIR/spool`.
struct Printers {
    rendering: Arc<Rendering>,
    printers: BTreeMap<String, (travdoc_print::PrinterProfile, travdoc_print::Driver)>,
}

fn template_of(kind: &str) -> &'static str {
    match kind {
        "ttd" => "ttd-sheet",
        "legalization" => "legalization-certificate",
        _ => "passport-datapage",
    }
}

impl PrinterPort for Printers {
    fn printers(&self) -> Vec<String> {
        self.printers.keys().cloned().collect()
    }

    fn serves(&self, printer: &str, mission: Option<&str>) -> bool {
        self.printers
            .get(printer)
            .is_some_and(|(profile, _)| profile.serves(mission))
    }

    fn check(&self) -> BoxFuture<'_, Vec<(String, Result<serde_json::Value, String>)>> {
        Box::pin(async move {
            let mut answers = Vec::new();
            for (name, (profile, driver)) in &self.printers {
                let answer = match driver.check().await {
                    Ok(status) => Ok(serde_json::json!({
                        "state": status.state,
                        "reasons": status.reasons,
                        "accepting_jobs": status.accepting_jobs,
                        "supports_pdf": status.supports_pdf,
                        "make_and_model": status.make_and_model,
                        "media": profile.media,
                        "dpi": profile.dpi,
                        "templates": profile.templates,
                    })),
                    Err(error) => Err(error.to_string()),
                };
                answers.push((name.clone(), answer));
            }
            answers
        })
    }

    fn print<'a>(
        &'a self,
        printer: &'a str,
        job_name: &'a str,
        input: &'a RenderInput,
    ) -> BoxFuture<'a, Result<crate::issuance::ports::Printed, String>> {
        Box::pin(async move {
            let (profile, driver) = self
                .printers
                .get(printer)
                .ok_or_else(|| format!("no printer named `{printer}`"))?;
            profile
                .check_template(template_of(&input.kind))
                .map_err(|error| error.to_string())?;
            let rendering = self.rendering.clone();
            let calibration = travdoc_render::Calibration {
                dpi: profile.dpi,
                offset_x_mm: profile.offset_x_mm,
                offset_y_mm: profile.offset_y_mm,
            };
            let owned = input.clone();
            let pdf =
                tokio::task::spawn_blocking(move || rendering.render_with(&owned, &calibration))
                    .await
                    .map_err(|error| error.to_string())??;
            let report = driver
                .print(&travdoc_print::PrintJob {
                    job_name,
                    pdf: &pdf,
                })
                .await;
            let completed = matches!(report.state, travdoc_print::JobState::Completed);
            match report.state {
                travdoc_print::JobState::Failed { reason } => Err(reason),
                state => Ok(crate::issuance::ports::Printed {
                    completed,
                    reference: report
                        .location
                        .or(report.printer_job_id.map(|id| format!("job {id}")))
                        .unwrap_or_else(|| state.code().to_owned()),
                }),
            }
        })
    }
}

/// The configured printers on their own (`travdoc doctor` asks each for its state).
pub fn printers_of(config: &Config) -> anyhow::Result<Arc<dyn PrinterPort>> {
    let rendering = Arc::new(Rendering::new(&config.country)?);
    Ok(Arc::new(open_printers(config, rendering)?))
}

fn open_printers(config: &Config, rendering: Arc<Rendering>) -> anyhow::Result<Printers> {
    let mut printers = BTreeMap::new();
    let default = travdoc_print::PrinterProfile::embedded_default()?;
    let folder = config.data_dir.join("spool").join("default");
    std::fs::create_dir_all(&folder)?;
    let driver =
        travdoc_print::Driver::Folder(travdoc_print::FolderDriver::new(&default.name, &folder));
    printers.insert(default.name.clone(), (default, driver));
    if let Some(dir) = std::env::var_os("TRAVDOC_PRINTER_PROFILES") {
        let dir = std::path::PathBuf::from(dir);
        for profile in travdoc_print::load_profiles(&dir)? {
            let driver = travdoc_print::Driver::for_profile(
                &profile,
                &config.data_dir,
                travdoc_print::RetryPolicy::default(),
            )?;
            printers.insert(profile.name.clone(), (profile, driver));
        }
    }
    Ok(Printers {
        rendering,
        printers,
    })
}

/// Opens the online PKI (see [`pki_over_database`]): the online token only. On a fresh data
/// dir (or one missing a piece that needs the CSCA), the PKI is first created by a ceremony
/// PKI that opens the CSCA token too, as `travdoc pki init` does, and closed again.
pub fn open_pki(config: &Config) -> anyhow::Result<Arc<Pki>> {
    let options = pki_options(config);
    let pki = pki_over_database(config, &options)?;
    match pki.init() {
        Ok(_) => {}
        Err(travdoc_pki::PkiError::CscaOffline { .. }) => {
            let ceremony = pki_over_database(
                config,
                &PkiOptions {
                    open_csca: true,
                    ..options
                },
            )
            .map_err(|error| {
                anyhow::anyhow!(
                    "creating the PKI needs the CSCA token (run `travdoc pki init`): {error:#}"
                )
            })?;
            ceremony.init()?;
            drop(ceremony);
            pki.refresh()?;
        }
        Err(error) => return Err(error.into()),
    }
    Ok(Arc::new(pki))
}

/// The PKI over the service's database, its one source of truth for every node and command
/// (`DATA_DIR/pki/` is its export; a data dir from before is imported once), with its events
/// ledgered in the transaction of each change (see [`crate::issuance::pki_store`]).
pub fn pki_over_database(config: &Config, options: &PkiOptions) -> anyhow::Result<Pki> {
    pki_witnessed(config, options, None)
}

/// [`pki_over_database`] for a ceremony held by two operators (`(act, [first, second])`, the
/// operators' references): its ledger entry commits with the first change the act makes.
pub fn pki_witnessed(
    config: &Config,
    options: &PkiOptions,
    witness: Option<(&str, [&str; 2])>,
) -> anyhow::Result<Pki> {
    std::fs::create_dir_all(&config.data_dir)?;
    let (store, sink) = crate::issuance::pki_store::DbPkiStore::open(
        &config.database_url(),
        &config.data_dir.join("pki"),
        &config.pki.key_algorithm,
    )?;
    if let Some((act, operators)) = witness {
        sink.witness(act, operators);
    }
    Ok(Pki::open_with_store(
        options,
        Arc::new(travdoc_pki::SystemClock),
        sink,
        store,
    )?)
}

/// The trust the PKI's current state puts in force: for each kind the current signer that may
/// sign (not revoked, within its private-key usage period; none when there is no such signer,
/// and issuance of that kind answers `no_valid_signer`), and the verifier over every CSCA
/// generation, the current CRLs and every seal signer ever issued (a seal signed before a new
/// signer or a rollover stays valid until the document expires; one of a revoked signer does
/// not, and the answer names the revocation).
pub fn trust_of(pki: &Pki, max_image_pixels: u64) -> anyhow::Result<(Signers, Verifier)> {
    let current = |kind: SignerKind| match pki.signer(kind) {
        Ok(issued) => Some(issued),
        Err(travdoc_pki::PkiError::NoSigner { message, .. }) => {
            tracing::error!(%kind, %message, "no valid signer of this kind: its issuance is refused");
            None
        }
        Err(error) => {
            tracing::error!(%kind, %error, "signer not usable: its issuance is refused");
            None
        }
    };
    let ttd = current(SignerKind::Ttd);
    let legalization = current(SignerKind::Legalization);
    let passport = current(SignerKind::Passport);
    // The HSM probe signs with any key of the token, valid or not (it asks whether the HSM
    // answers, not whether a key may sign).
    let probe = [&ttd, &legalization, &passport]
        .into_iter()
        .flatten()
        .map(|issued| issued.signer.clone())
        .next()
        .or_else(|| {
            pki.signer(SignerKind::Ledger)
                .ok()
                .map(|issued| issued.signer)
        });
    let seal_key =
        |issued: &Option<travdoc_pki::IssuedSigner>| -> anyhow::Result<Option<Arc<dyn SealKey>>> {
            Ok(match issued {
                Some(issued) => Some(Arc::new(PkiSealKey::new(issued)?)),
                None => None,
            })
        };
    let signers = Signers {
        ttd: seal_key(&ttd)?,
        legalization: seal_key(&legalization)?,
        passport: passport.map(|passport| {
            Arc::new(PkiSodSigner {
                usable_until: unix_time(passport.key_usage_not_after),
                signer: passport.signer.clone(),
                certificate: passport.certificate.clone(),
                serial_hex: passport.serial_hex.clone(),
            }) as Arc<dyn crate::issuance::ports::SodSigner>
        }),
        probe: probe.map(|signer| Arc::new(SignProbe(signer)) as Arc<dyn HsmProbe>),
        csca: vec![pki.csca_der()?],
    };
    let mut cscas = Vec::new();
    for generation in pki.csca_history()? {
        cscas.push(generation.certificate_der);
    }
    let crls = pki
        .crls()
        .unwrap_or_else(|_| pki.crl().ok().into_iter().collect());
    let mut seal_signers = pki.signer_history(SignerKind::Ttd)?;
    seal_signers.extend(pki.signer_history(SignerKind::Legalization)?);
    let revocations = pki
        .revocations()?
        .into_iter()
        .map(|(serial, reason, at)| (serial, reason.to_string(), at));
    let verifier = Verifier::from_der(&cscas, &crls, &seal_signers)?
        .with_barcode_decoder(barcode_decoder(max_image_pixels))
        .with_revocations(revocations);
    Ok((signers, verifier))
}

fn unix_time(seconds: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds)
}

/// How often a node asks the database whether the PKI changed (`TRAVDOC_PKI_POLL_MS`, default
/// 1000): a revocation is in force on every node within this and the time to rebuild.
fn pki_poll_interval() -> std::time::Duration {
    let millis = std::env::var("TRAVDOC_PKI_POLL_MS")
        .ok()
        .and_then(|value| value.parse::<u64>().ok())
        .unwrap_or(1000)
        .clamp(50, 60_000);
    std::time::Duration::from_millis(millis)
}

/// Keeps `parts`' signers, verifier and publication in force with the PKI's state in the database: every
/// poll interval one cheap read of the generation; when it moved (a revocation, a new signer, a
/// CRL, a rollover, on this node or another), the state is read again and the trust rebuilt and
/// swapped whole. A rebuild that fails (the HSM away) keeps the trust in force and is tried
/// again at the next poll.
pub fn watch_trust(parts: &Parts) -> tokio::task::JoinHandle<()> {
    let pki = parts.pki.clone();
    let signers = parts.signers.clone();
    let verifier = parts.verifier.clone();
    let published = parts.published.clone();
    let max_image_pixels = parts.max_image_pixels;
    let mut applied = pki.generation();
    let interval = pki_poll_interval();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let pki = pki.clone();
            let rebuilt = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<_>> {
                pki.refresh()?;
                let generation = pki.generation();
                if generation == applied {
                    return Ok(None);
                }
                Ok(Some((
                    generation,
                    trust_of(&pki, max_image_pixels)?,
                    publication_of(&pki)?,
                )))
            })
            .await;
            match rebuilt {
                Ok(Ok(Some((generation, (new_signers, new_verifier), new_published)))) => {
                    signers.set(new_signers);
                    verifier.set(new_verifier);
                    published.set(new_published);
                    applied = generation;
                    tracing::info!(generation, "PKI change in force: signers and trust rebuilt");
                }
                Ok(Ok(None)) => {}
                Ok(Err(error)) => {
                    tracing::warn!(error = %format!("{error:#}"), "PKI state not refreshed; the trust in force stays");
                }
                Err(error) => tracing::error!(%error, "PKI refresh task failed"),
            }
        }
    })
}

/// Automatic renewal (`[pki] auto_crl`, on by default for the embedded default, whose CSCA key
/// is reachable): every `TRAVDOC_PKI_RENEW_SECS` (default 300) and at start, a fresh CRL ahead of
/// `nextUpdate` and a successor for a signer ahead of the end of its key-usage period (see
/// `travdoc_pki::Pki::renew`). Several nodes may run it: the database lets one change win and
/// the others find nothing due. None when it is off.
pub fn renew_pki(parts: &Parts, config: &Config) -> Option<tokio::task::JoinHandle<()>> {
    let enabled = config
        .pki
        .auto_crl
        .unwrap_or_else(|| pki_options(config).is_embedded());
    if !enabled {
        tracing::info!("automatic CRL and signer renewal is off ([pki] auto_crl)");
        return None;
    }
    let seconds = std::env::var("TRAVDOC_PKI_RENEW_SECS")
        .ok()
        .and_then(|value| value.parse::<u64>().ok())
        .unwrap_or(300)
        .max(1);
    let pki = parts.pki.clone();
    let config = config.clone();
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(seconds));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let pki = pki.clone();
            let config = config.clone();
            // The online PKI says whether anything is due; only then is the CSCA token opened,
            // for this renewal alone.
            let renewal = move || -> anyhow::Result<travdoc_pki::RenewReport> {
                if !pki.renewal_due()? {
                    return Ok(travdoc_pki::RenewReport::default());
                }
                let options = PkiOptions {
                    open_csca: true,
                    ..pki_options(&config)
                };
                Ok(pki_over_database(&config, &options)?.renew()?)
            };
            match tokio::task::spawn_blocking(renewal).await {
                Ok(Ok(report)) if report.is_empty() => {}
                Ok(Ok(report)) => {
                    tracing::info!(crls = ?report.crls, signers = ?report.signers, "PKI renewed")
                }
                Ok(Err(error)) => {
                    tracing::warn!(error = %format!("{error:#}"), "PKI renewal not done; tried again later")
                }
                Err(error) => tracing::error!(%error, "PKI renewal task failed"),
            }
        }
    }))
}

/// Opens (or on a fresh data dir creates) the HSM token and PKI, printers and renderer.
pub fn open(config: &Config) -> anyhow::Result<Parts> {
    let pki = open_pki(config)?;
    let online_csca = pki.online_csca_keys()?;
    if !online_csca.is_empty() && !config.pki.allow_online_csca {
        anyhow::bail!(
            "the online token `{}` holds CSCA private keys ({}): the CSCA belongs on its own token \
             ([pki] csca_token), which this service never opens. Roll the CSCA over to it \
             (`travdoc pki rollover` with the CSCA token), or set [pki] allow_online_csca = true",
            config.hsm.token_label,
            online_csca.join(", ")
        );
    }
    let (signers, verifier) = trust_of(&pki, config.max_image_pixels)?;
    let published = Live::new(publication_of(&pki)?);
    let rendering = Arc::new(Rendering::new(&config.country)?);
    let printers = open_printers(config, rendering.clone())?;
    Ok(Parts {
        publication: Arc::new(PkiPublication(published.clone())),
        published,
        pki,
        signers: Live::new(signers),
        verifier: Live::new(verifier),
        printers: Arc::new(printers),
        renderer: rendering,
        settings: config.service.clone(),
        max_image_pixels: config.max_image_pixels,
    })
}

/// The domain service over the configured database and the opened parts (also used by the
/// offline issuance commands, which act exactly as the API does).
pub async fn open_service(config: &Config, parts: &Parts) -> anyhow::Result<(Service, Db)> {
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let db = Db::open(&url, config.database_connections).await?;
    tracing::info!(database = %crate::db::redact(&url), "database ready");
    let service = Service::new(
        db.clone(),
        Arc::new(SystemClock),
        config.country.clone(),
        config.numbering.clone(),
        parts.settings.clone(),
        parts.signers.clone(),
        Arc::new(Metrics::new()),
        parts.printers.clone(),
    )
    .with_renderer(parts.renderer.clone());
    Ok((service, db))
}

/// The HTTP router: the API's routes and the web pages', with the shared layers, over the
/// service, the ledger and the verification use case (with the document records).
pub fn router(
    parts: &Parts,
    service: Service,
    ledger: Arc<StoreLedger>,
    verify_rate_per_second: u32,
    metrics_allow: Vec<std::net::IpAddr>,
    auth: crate::usecase::signin::AuthSettings,
    passkeys: Option<crate::usecase::passkeys::Passkeys>,
) -> axum::Router {
    let records = ServiceRecords::new(service.clone(), Some(ledger.clone()));
    let verification = Verification::new(parts.verifier.clone(), Some(Arc::new(records)));
    let state = AppState::new(
        service,
        verification,
        parts.publication.clone(),
        ledger,
        verify_rate_per_second,
    )
    .with_metrics_allow(metrics_allow)
    .with_auth(auth)
    .with_passkeys(passkeys);
    let routes = crate::api::routes().merge(crate::web::router(state.clone()));
    crate::http::finish(routes, state)
}

/// The ledger's checkpoint key (HSM, P-256) in the shape the ledger wants.
pub struct LedgerKey {
    inner: Arc<HsmSigner>,
    verifying_key: p256::ecdsa::VerifyingKey,
}

impl signature::Signer<p256::ecdsa::DerSignature> for LedgerKey {
    fn try_sign(&self, message: &[u8]) -> Result<p256::ecdsa::DerSignature, signature::Error> {
        signature::Signer::<p256::ecdsa::DerSignature>::try_sign(self.inner.as_ref(), message)
    }
}

impl signature::Keypair for LedgerKey {
    type VerifyingKey = p256::ecdsa::VerifyingKey;
    fn verifying_key(&self) -> p256::ecdsa::VerifyingKey {
        self.verifying_key
    }
}

/// The checkpoint signer from the PKI's ledger key.
pub fn ledger_signer(pki: &Pki, origin: &str) -> anyhow::Result<Arc<dyn LedgerSigner>> {
    let issued = pki.signer(SignerKind::Ledger)?;
    let spki = issued.signer.public_key().spki()?;
    let verifying_key =
        p256::ecdsa::VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
            .map_err(|_| anyhow::anyhow!("the ledger key is not ECDSA P-256"))?;
    let key = LedgerKey {
        inner: issued.signer.clone(),
        verifying_key,
    };
    Ok(Arc::new(travdoc_tlog::EcdsaP256Signer::new(origin, key)?))
}

/// The ledger for the API: checkpoints signed on demand, proofs, export.
pub struct StoreLedger {
    db: Db,
    signer: Arc<dyn LedgerSigner>,
    config: LedgerConfig,
    /// Recent inclusion proofs by index (a proof stays valid against its checkpoint; answers
    /// reuse it for a few seconds before proving against a newer checkpoint).
    proofs:
        std::sync::Mutex<std::collections::HashMap<u64, (std::time::Instant, serde_json::Value)>>,
    /// Held while a checkpoint is signed on demand for an entry no checkpoint covers yet: the
    /// requests that arrive meanwhile for such entries wait for that one checkpoint instead of
    /// each signing their own (64 verifiers of a fresh document signed 64 checkpoints in a
    /// row, and the last waited ~100 ms).
    on_demand: tokio::sync::Mutex<()>,
}

const PROOF_REUSE: std::time::Duration = std::time::Duration::from_secs(10);

impl StoreLedger {
    pub fn new(db: Db, signer: Arc<dyn LedgerSigner>, config: LedgerConfig) -> Self {
        StoreLedger {
            db,
            signer,
            config,
            proofs: std::sync::Mutex::new(std::collections::HashMap::new()),
            on_demand: tokio::sync::Mutex::new(()),
        }
    }

    /// Signs a checkpoint when one is due (called periodically).
    pub async fn checkpoint_if_due(&self) -> Result<(), IssuanceError> {
        ledger::checkpoint_if_due(
            self.db.store(),
            self.signer.as_ref(),
            &self.config,
            ledger::unix_now(),
        )
        .await?;
        Ok(())
    }

    async fn sign_now(&self) -> Result<ledger::StoredCheckpoint, IssuanceError> {
        Ok(ledger::checkpoint(
            self.db.store(),
            self.signer.as_ref(),
            &self.config.origin,
            ledger::unix_now(),
        )
        .await?)
    }
}

fn checkpoint_json(checkpoint: &ledger::StoredCheckpoint) -> serde_json::Value {
    serde_json::json!({
        "size": checkpoint.size,
        "note": checkpoint.note,
        "signed_at": checkpoint.signed_at,
    })
}

impl LedgerView for StoreLedger {
    fn checkpoint(&self) -> ApiFuture<'_, Result<serde_json::Value, IssuanceError>> {
        Box::pin(async move {
            let checkpoint = self.sign_now().await?;
            Ok(checkpoint_json(&checkpoint))
        })
    }

    fn proof(&self, index: u64) -> ApiFuture<'_, Result<serde_json::Value, IssuanceError>> {
        Box::pin(async move {
            if let Ok(proofs) = self.proofs.lock()
                && let Some((at, proof)) = proofs.get(&index)
                && at.elapsed() < PROOF_REUSE
            {
                return Ok(proof.clone());
            }
            let proof = match ledger::prove_inclusion(self.db.read_store(), index).await {
                Ok(proof) => proof,
                Err(_) => {
                    // Not covered by a checkpoint yet: sign one (it extends the last one),
                    // unless a request that waited here before this one just did.
                    let _one_at_a_time = self.on_demand.lock().await;
                    match ledger::prove_inclusion(self.db.read_store(), index).await {
                        Ok(proof) => proof,
                        Err(_) => {
                            let (size, _) = ledger::state(self.db.store()).await?;
                            if index >= size {
                                return Err(IssuanceError::NotFound {
                                    what: "ledger entry",
                                    id: index.to_string(),
                                });
                            }
                            self.sign_now().await?;
                            ledger::prove_inclusion(self.db.read_store(), index).await?
                        }
                    }
                }
            };
            let answer = serde_json::json!({
                "index": proof.index,
                "tree_size": proof.tree_size,
                "leaf_hash": hex::encode(proof.leaf_hash),
                "path": proof.path.iter().map(hex::encode).collect::<Vec<_>>(),
                "checkpoint": proof.checkpoint,
            });
            if let Ok(mut proofs) = self.proofs.lock() {
                if proofs.len() > 10_000 {
                    proofs.retain(|_, (at, _)| at.elapsed() < PROOF_REUSE);
                }
                proofs.insert(index, (std::time::Instant::now(), answer.clone()));
            }
            Ok(answer)
        })
    }

    fn export(&self) -> ApiFuture<'_, Result<String, IssuanceError>> {
        Box::pin(async move {
            let mut out = String::new();
            ledger::export(self.db.read_store(), |entry| {
                let line = serde_json::to_string(&entry).map_err(std::io::Error::other)?;
                out.push_str(&line);
                out.push('\n');
                Ok(())
            })
            .await?;
            let checkpoint = self.sign_now().await?;
            out.push_str(&serde_json::json!({"checkpoint": checkpoint.note}).to_string());
            out.push('\n');
            Ok(out)
        })
    }
}
