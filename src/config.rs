//! One typed configuration: defaults, then an optional TOML file (`--config`), then environment
//! variables (`TRAVDOC_*`, `DATABASE_URL`). Every field has a documented default so that
//! `travdoc serve` works on a fresh checkout with no file at all.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Errors while loading configuration; each names the file or variable and the field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config field `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where runtime state lives (token, database, spool, exports). Default `./var`.
    pub data_dir: PathBuf,
    /// ICAO three-letter code of the issuing state. Default `LKA`.
    pub country: String,
    /// Database URL: `sqlite://…` or `postgres://…`. Default: SQLite in the data dir.
    pub database_url: Option<String>,
    /// PostgreSQL: most pooled connections of one node (`TRAVDOC_DB_CONNECTIONS`). Default 8.
    /// More connections than the database server has cores to run them mostly add context
    /// switches: on the 2-core reference machine with 64 clients, 16 connections issued
    /// 1,415-1,430 TTDs/s and 8 issued 1,525-1,561/s. SQLite always has one writer and four
    /// readers.
    pub database_connections: u32,
    /// The largest barcode image verification decodes, in pixels (`TRAVDOC_MAX_IMAGE_PIXELS`;
    /// checked from the image's header before decoding). Default 12,582,912 (4096 x 3072: a
    /// 12-megapixel phone photo of a seal).
    pub max_image_pixels: u64,
    /// The HTTP server's limits (`[http]`: connections, header and request deadlines, trusted
    /// proxies, who may read `/metrics`).
    pub http: crate::http::server::HttpLimits,
    /// TLS on the service (`[tls]`: `cert`, `key`; `serve --tls-cert/--tls-key` win).
    pub tls: crate::http::tls::TlsSettings,
    /// Staff sign-in (`[auth]`: session idle and absolute limits, lockout after failures).
    pub auth: crate::usecase::signin::AuthSettings,
    pub hsm: HsmConfig,
    /// Country PKI: validity and private-key usage periods, names, CRL URL, document types
    /// (`[pki]`, see `travdoc_pki::PkiConfig`; defaults follow ICAO 9303-12).
    pub pki: travdoc_pki::PkiConfig,
    /// The audit ledger's checkpoint schedule (`[ledger]`).
    pub ledger: LedgerSettings,
    /// Document number formats per type (`[numbering]`: `passport`, `ttd`, `legalization`;
    /// e.g. `passport = "N{seq:7}"`, `legalization = "L{year}{seq:6}"`).
    pub numbering: crate::issuance::NumberingConfig,
    /// Service settings (`[service]`: `verify_url` that QR codes open, `place` printed on
    /// legalization certificates, `public_url`).
    pub service: crate::issuance::Settings,
}

/// When the ledger signs checkpoints (with the ledger key in the HSM).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerSettings {
    /// The log origin (first checkpoint line and key name). Default
    /// `travdoc.invalid/<country>/ledger`.
    pub origin: Option<String>,
    /// Sign a checkpoint once this many entries are not yet covered by one. Default 1000.
    pub checkpoint_every_entries: u64,
    /// Sign a checkpoint once the newest uncovered entry is this many seconds old. Default 300.
    pub checkpoint_interval_secs: u64,
}

impl Default for LedgerSettings {
    fn default() -> Self {
        let defaults = travdoc_store::ledger::LedgerConfig::default();
        Self {
            origin: None,
            checkpoint_every_entries: defaults.checkpoint_every_entries,
            checkpoint_interval_secs: defaults.checkpoint_interval_secs,
        }
    }
}

/// Where the PKCS#11 module and token are.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HsmConfig {
    /// Path of the PKCS#11 module. Default: SoftHSM2.
    pub module: PathBuf,
    /// Token label (tokens are found by label, never by slot number). Default `travdoc`.
    pub token_label: String,
    /// File holding the user PIN. Default: `DATA_DIR/hsm/user.pin`, created with the token.
    pub pin_file: Option<PathBuf>,
    /// Name of an environment variable holding the user PIN (takes precedence over the file).
    pub pin_env: Option<String>,
}

impl Default for HsmConfig {
    fn default() -> Self {
        Self {
            module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
            token_label: "travdoc".to_owned(),
            pin_file: None,
            pin_env: Some("TRAVDOC_HSM_PIN".to_owned()),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("var"),
            country: "LKA".to_owned(),
            database_url: None,
            database_connections: 8,
            max_image_pixels: travdoc_render::DEFAULT_MAX_PIXELS,
            http: crate::http::server::HttpLimits::default(),
            tls: crate::http::tls::TlsSettings::default(),
            auth: crate::usecase::signin::AuthSettings::default(),
            hsm: HsmConfig::default(),
            pki: travdoc_pki::PkiConfig::default(),
            ledger: LedgerSettings::default(),
            numbering: crate::issuance::NumberingConfig::default(),
            service: crate::issuance::Settings::default(),
        }
    }
}

impl Config {
    /// Loads defaults, then `file` (when given), then the environment; `data_dir` from the
    /// command line wins over all of them.
    pub fn load(file: Option<&Path>, data_dir: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str::<Config>(&text).map_err(|error| ConfigError::Parse {
                    path: path.to_owned(),
                    message: error.to_string(),
                })?
            }
            None => Config::default(),
        };
        if let Ok(url) = std::env::var("DATABASE_URL")
            && !url.is_empty()
        {
            config.database_url = Some(url);
        }
        if let Ok(text) = std::env::var("TRAVDOC_DB_CONNECTIONS")
            && !text.is_empty()
        {
            config.database_connections =
                text.trim().parse().map_err(|_| ConfigError::Invalid {
                    field: "database_connections",
                    message: format!("TRAVDOC_DB_CONNECTIONS=`{text}` is not a whole number"),
                })?;
        }
        if let Ok(text) = std::env::var("TRAVDOC_MAX_IMAGE_PIXELS")
            && !text.is_empty()
        {
            config.max_image_pixels = text
                .trim()
                .parse()
                .ok()
                .filter(|pixels| *pixels > 0)
                .ok_or_else(|| ConfigError::Invalid {
                    field: "max_image_pixels",
                    message: format!("TRAVDOC_MAX_IMAGE_PIXELS=`{text}` is not a positive number"),
                })?;
        }
        let number =
            |variable: &'static str, field: &'static str| -> Result<Option<u64>, ConfigError> {
                match std::env::var(variable) {
                    Ok(text) if !text.trim().is_empty() => {
                        text.trim()
                            .parse()
                            .map(Some)
                            .map_err(|_| ConfigError::Invalid {
                                field,
                                message: format!("{variable}=`{text}` is not a whole number"),
                            })
                    }
                    _ => Ok(None),
                }
            };
        let addresses = |variable: &'static str,
                         field: &'static str|
         -> Result<Option<Vec<std::net::IpAddr>>, ConfigError> {
            match std::env::var(variable) {
                Ok(text) if !text.trim().is_empty() => text
                    .split(',')
                    .map(|part| part.trim().parse())
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
                    .map_err(|_| ConfigError::Invalid {
                        field,
                        message: format!("{variable}=`{text}` is not a list of IP addresses"),
                    }),
                _ => Ok(None),
            }
        };
        if let Some(value) = number("TRAVDOC_MAX_CONNECTIONS", "http.max_connections")? {
            config.http.max_connections = usize::try_from(value).unwrap_or(usize::MAX);
        }
        if let Some(value) = number("TRAVDOC_HEADER_TIMEOUT_SECS", "http.header_timeout_secs")? {
            config.http.header_timeout_secs = value;
        }
        if let Some(value) = number("TRAVDOC_REQUEST_TIMEOUT_SECS", "http.request_timeout_secs")? {
            config.http.request_timeout_secs = value;
        }
        let minutes = |value: u64, field: &'static str| {
            u32::try_from(value)
                .ok()
                .filter(|value| *value > 0)
                .ok_or(ConfigError::Invalid {
                    field,
                    message: format!("{value} is not a positive number of minutes or hours"),
                })
        };
        if let Some(value) = number("TRAVDOC_SESSION_IDLE_MINUTES", "auth.session_idle_minutes")? {
            config.auth.session_idle_minutes = minutes(value, "auth.session_idle_minutes")?;
        }
        if let Some(value) = number("TRAVDOC_SESSION_HOURS", "auth.session_hours")? {
            config.auth.session_hours = minutes(value, "auth.session_hours")?;
        }
        if let Ok(origin) = std::env::var("TRAVDOC_PASSKEY_ORIGIN") {
            config.auth.passkey_origin = Some(origin).filter(|origin| !origin.is_empty());
        }
        if let Some(list) = addresses("TRAVDOC_TRUSTED_PROXIES", "http.trusted_proxies")? {
            config.http.trusted_proxies = list;
        }
        if let Some(list) = addresses("TRAVDOC_METRICS_ALLOW", "http.metrics_allow")? {
            config.http.metrics_allow = list;
        }
        if let Ok(text) = std::env::var("TRAVDOC_CHECKS")
            && !text.trim().is_empty()
        {
            config.service.checks = match text.trim() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" => false,
                _ => {
                    return Err(ConfigError::Invalid {
                        field: "service.checks",
                        message: format!("TRAVDOC_CHECKS=`{text}` is not on or off"),
                    });
                }
            };
        }
        if let Ok(country) = std::env::var("TRAVDOC_COUNTRY") {
            config.country = country;
        }
        if let Ok(module) = std::env::var("TRAVDOC_HSM_MODULE") {
            config.hsm.module = PathBuf::from(module);
        }
        if let Ok(encoding) = std::env::var("TRAVDOC_PKI_EC_PARAMETERS")
            && !encoding.is_empty()
        {
            config.pki.ec_parameters = encoding;
        }
        if let Some(dir) = data_dir {
            config.data_dir = dir.to_owned();
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (field, format) in [
            ("numbering.passport", &self.numbering.passport),
            ("numbering.ttd", &self.numbering.ttd),
            ("numbering.legalization", &self.numbering.legalization),
        ] {
            if let Err(error) = crate::issuance::numbering::NumberFormat::parse(format) {
                return Err(ConfigError::Invalid {
                    field,
                    message: error.to_string(),
                });
            }
        }
        if let Err(error) = self.pki.ec_parameter_encoding() {
            return Err(ConfigError::Invalid {
                field: "pki.ec_parameters",
                message: match error {
                    travdoc_pki::PkiError::Config { message, .. } => message,
                    other => other.to_string(),
                },
            });
        }
        if !(1..=1000).contains(&self.database_connections) {
            return Err(ConfigError::Invalid {
                field: "database_connections",
                message: format!("{} is not between 1 and 1000", self.database_connections),
            });
        }
        if self.country.len() != 3
            || !self
                .country
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'<')
        {
            return Err(ConfigError::Invalid {
                field: "country",
                message: format!("`{}` is not a three-letter ICAO code", self.country),
            });
        }
        Ok(())
    }

    /// The ledger settings in force (`[ledger]`, origin defaulting from the country).
    pub fn ledger_config(&self) -> travdoc_store::ledger::LedgerConfig {
        travdoc_store::ledger::LedgerConfig {
            origin: self.ledger.origin.clone().unwrap_or_else(|| {
                format!(
                    "travdoc.invalid/{}/ledger",
                    self.country.to_ascii_lowercase()
                )
            }),
            checkpoint_every_entries: self.ledger.checkpoint_every_entries.max(1),
            checkpoint_interval_secs: self.ledger.checkpoint_interval_secs.max(1),
        }
    }

    /// Options for `travdoc_pki::Pki` (data dir, country, HSM and `[pki]` settings).
    pub fn pki_options(&self) -> travdoc_pki::PkiOptions {
        travdoc_pki::PkiOptions {
            data_dir: self.data_dir.clone(),
            country: self.country.clone(),
            hsm: travdoc_pki::HsmSettings {
                module: self.hsm.module.clone(),
                token_label: self.hsm.token_label.clone(),
                pin_file: self.hsm.pin_file.clone(),
                pin_env: self.hsm.pin_env.clone(),
            },
            pki: self.pki.clone(),
            // `serve` never opens the CSCA token; the ceremony commands ask for it.
            open_csca: false,
            // The service and the issuing commands make the embedded tokens on a fresh data
            // dir; the `pki` commands other than `init` do not (see `cli/pki.rs`).
            create_tokens: true,
        }
    }

    /// The database URL in force: the configured one, or SQLite in the data dir.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("travdoc.db").display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, ConfigError> {
        let dir = std::env::temp_dir().join(format!("travdoc-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|source| ConfigError::Read {
            path: dir.clone(),
            source,
        })?;
        // One file per call: the tests run in parallel.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!("{n}.toml"));
        std::fs::write(&path, text).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        Config::load(Some(&path), Some(Path::new("var-test")))
    }

    #[test]
    fn sections_are_read_and_defaults_fill_the_rest() {
        let config = load(
            "[numbering]\npassport = \"P{seq:7}\"\n[ledger]\ncheckpoint_every_entries = 10\n\
             [service]\nplace = \"Kandy\"\n",
        )
        .expect("valid config");
        assert_eq!(config.numbering.passport, "P{seq:7}");
        assert_eq!(config.numbering.ttd, "T{seq:7}");
        assert_eq!(config.ledger_config().checkpoint_every_entries, 10);
        assert_eq!(config.ledger_config().origin, "travdoc.invalid/lka/ledger");
        assert_eq!(config.service.place, "Kandy");
    }

    #[test]
    fn a_bad_number_format_or_unknown_field_is_named() {
        match load("[numbering]\nttd = \"T{seq:x}\"\n") {
            Err(ConfigError::Invalid { field, .. }) => assert_eq!(field, "numbering.ttd"),
            other => panic!("expected an invalid numbering.ttd, got {other:?}"),
        }
        match load("[ledger]\ncheckpoint_every = 5\n") {
            Err(ConfigError::Parse { message, .. }) => {
                assert!(message.contains("checkpoint_every"), "{message}")
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn pki_ec_parameters_are_read_and_checked() {
        let config = load("[pki]\nec_parameters = \"named\"\n").expect("valid config");
        assert_eq!(
            config.pki_options().pki.ec_parameter_encoding().ok(),
            Some(travdoc_pki::EcParameterEncoding::Named)
        );
        let config = load("[pki]\nec_parameters = \"explicit\"\n").expect("valid config");
        assert_eq!(
            config.pki_options().pki.ec_parameter_encoding().ok(),
            Some(travdoc_pki::EcParameterEncoding::Explicit)
        );
        match load("[pki]\nec_parameters = \"specified\"\n") {
            Err(ConfigError::Invalid { field, message }) => {
                assert_eq!(field, "pki.ec_parameters");
                assert!(message.contains("specified"), "{message}");
            }
            other => panic!("expected an invalid pki.ec_parameters, got {other:?}"),
        }
    }

    #[test]
    fn the_database_pool_size_is_read_and_bounded() {
        assert_eq!(load("").expect("defaults").database_connections, 8);
        let config = load("database_connections = 12\n").expect("valid config");
        assert_eq!(config.database_connections, 12);
        match load("database_connections = 0\n") {
            Err(ConfigError::Invalid { field, .. }) => assert_eq!(field, "database_connections"),
            other => panic!("expected an invalid database_connections, got {other:?}"),
        }
    }
}
