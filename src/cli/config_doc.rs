//! `travdoc config example` (an annotated TOML of every key at its default, which parses back
//! to the defaults) and `travdoc config reference` (the same as the Markdown table of
//! `docs/configuration.md`). The keys and defaults come from the configuration types
//! themselves (`Config::default()` serialised); each key's description and environment
//! variable are in [`KEYS`], which a test holds to exactly the serialised keys.

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Prints an annotated configuration file with every key at its default.
    Example,
    /// Prints the configuration reference (the table of docs/configuration.md).
    Reference,
}

pub fn run(command: &ConfigCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConfigCommand::Example => print!("{}", example()?),
        ConfigCommand::Reference => print!("{}", reference()?),
    }
    Ok(ExitCode::SUCCESS)
}

/// One key: its dotted path, what it does, its environment variable, and for a key unset by
/// default an example value (shown commented out).
pub struct Key {
    pub path: &'static str,
    pub about: &'static str,
    pub env: Option<&'static str>,
    pub unset_example: Option<&'static str>,
}

const fn key(path: &'static str, about: &'static str) -> Key {
    Key {
        path,
        about,
        env: None,
        unset_example: None,
    }
}

const fn env(path: &'static str, about: &'static str, variable: &'static str) -> Key {
    Key {
        path,
        about,
        env: Some(variable),
        unset_example: None,
    }
}

const fn unset(path: &'static str, about: &'static str, example: &'static str) -> Key {
    Key {
        path,
        about,
        env: None,
        unset_example: Some(example),
    }
}

const fn lifetime(path: &'static str, about: &'static str) -> Key {
    key(path, about)
}

/// Every key, in the order of the example file.
pub const KEYS: &[Key] = &[
    env(
        "data_dir",
        "Where runtime state lives: token, database, spool, PKI export. The command line's --data-dir wins.",
        "TRAVDOC_DATA_DIR",
    ),
    env(
        "country",
        "ICAO three-letter code of the issuing state.",
        "TRAVDOC_COUNTRY",
    ),
    Key {
        path: "database_url",
        about: "`sqlite://…` or `postgres://…`. Unset: SQLite at DATA_DIR/travdoc.db.",
        env: Some("DATABASE_URL"),
        unset_example: Some("\"postgres://travdoc@db.example/travdoc?sslmode=verify-full\""),
    },
    env(
        "database_connections",
        "PostgreSQL: most pooled connections of one node (SQLite: one writer and four readers).",
        "TRAVDOC_DB_CONNECTIONS",
    ),
    env(
        "max_image_pixels",
        "The largest barcode image verification decodes, in pixels, checked from the image's header before decoding.",
        "TRAVDOC_MAX_IMAGE_PIXELS",
    ),
    key(
        "auth.failure_window_minutes",
        "The window in which sign-in failures count.",
    ),
    key(
        "auth.lock_after_failures",
        "Failures within the window that lock an account.",
    ),
    key(
        "auth.lock_client_after_failures",
        "Failures from one client address within the window that lock the address.",
    ),
    key("auth.lock_minutes", "How long a lock lasts."),
    Key {
        path: "auth.passkey_origin",
        about: "The console's origin as browsers see it, for passkeys. Unset: http://localhost:PORT on a loopback address without TLS, else passkeys are off.",
        env: Some("TRAVDOC_PASSKEY_ORIGIN"),
        unset_example: Some("\"https://issuance.example.gov.lk\""),
    },
    env(
        "auth.session_hours",
        "A console session ends this long after sign-in, whatever its use.",
        "TRAVDOC_SESSION_HOURS",
    ),
    env(
        "auth.session_idle_minutes",
        "A console session ends after this long without a request.",
        "TRAVDOC_SESSION_IDLE_MINUTES",
    ),
    key(
        "auth.totp_issuer",
        "The issuer shown in authenticator apps.",
    ),
    env(
        "hsm.module",
        "Path of the PKCS#11 module (a network HSM's client library in production).",
        "TRAVDOC_HSM_MODULE",
    ),
    unset(
        "hsm.pin_file",
        "File holding the online token's user PIN. Unset: DATA_DIR/hsm/user.pin, created with the embedded token.",
        "\"/etc/travdoc/hsm.pin\"",
    ),
    key(
        "hsm.pin_env",
        "Name of an environment variable holding the user PIN (takes precedence over the file).",
    ),
    key(
        "hsm.token_label",
        "Label of the online token (found by label, never by slot number).",
    ),
    env(
        "http.header_timeout_secs",
        "Seconds a client has to send a request's head.",
        "TRAVDOC_HEADER_TIMEOUT_SECS",
    ),
    env(
        "http.max_connections",
        "Open connections at most; one more is closed at once.",
        "TRAVDOC_MAX_CONNECTIONS",
    ),
    env(
        "http.metrics_allow",
        "When not empty, only these addresses may read /metrics (comma-separated in the variable).",
        "TRAVDOC_METRICS_ALLOW",
    ),
    env(
        "http.request_timeout_secs",
        "Seconds a request may take, its body included.",
        "TRAVDOC_REQUEST_TIMEOUT_SECS",
    ),
    env(
        "http.trusted_proxies",
        "Proxies whose X-Forwarded-For names the client (comma-separated in the variable). Empty: the peer is the client.",
        "TRAVDOC_TRUSTED_PROXIES",
    ),
    key(
        "ledger.checkpoint_every_entries",
        "Sign a ledger checkpoint once this many entries are not yet covered by one.",
    ),
    key(
        "ledger.checkpoint_interval_secs",
        "Sign a checkpoint once the newest uncovered entry is this many seconds old.",
    ),
    unset(
        "ledger.origin",
        "The ledger's log origin (first checkpoint line, key name). Unset: travdoc.invalid/<country>/ledger.",
        "\"issuance.example.gov.lk/ledger\"",
    ),
    key(
        "numbering.legalization",
        "Legalization certificate numbers: {seq:N} the counter on N digits, {year} the year (its counter restarts each year).",
    ),
    key(
        "numbering.passport",
        "Passport numbers (8 characters fit the TD3 document-number field).",
    ),
    key("numbering.ttd", "TTD numbers."),
    key(
        "pki.allow_online_csca",
        "Let `serve` start although its online token holds a CSCA key (not for production).",
    ),
    unset(
        "pki.auto_crl",
        "Renew CRLs and signers from `serve` (needs the CSCA token reachable). Unset: on for the embedded default, off otherwise.",
        "false",
    ),
    key(
        "pki.crl_next_update",
        "Interval between a CRL's thisUpdate and nextUpdate (ICAO: at most 90 days).",
    ),
    key(
        "pki.crl_renew_before",
        "A fresh CRL is issued (and `doctor` warns) this long before the current one's nextUpdate.",
    ),
    key(
        "pki.crl_url",
        "CRL distribution point; {country} is replaced by the ICAO code.",
    ),
    key(
        "pki.csca_pin_env",
        "Environment variable with the CSCA token's user PIN.",
    ),
    unset(
        "pki.csca_pin_file",
        "File with the CSCA token's user PIN.",
        "\"/etc/travdoc/csca.pin\"",
    ),
    key(
        "pki.csca_token",
        "Label of the token holding the CSCA keys; `serve` never opens it.",
    ),
    env(
        "pki.ec_parameters",
        "How EC public keys carry their curve: explicit (ICAO 9303-12) or named (RFC 5480).",
        "TRAVDOC_PKI_EC_PARAMETERS",
    ),
    key(
        "pki.key_algorithm",
        "Key algorithm of every PKI key: ec-p256, ec-p384, ec-brainpoolP256r1, ec-brainpoolP384r1, rsa-pss-3072.",
    ),
    key(
        "pki.legalization_signer_id",
        "Two characters: CN of the legalization bar-code signer.",
    ),
    unset(
        "pki.organization",
        "Organisation in subject names. Unset: `travdoc TEST` for the development PKI.",
        "\"Department of Immigration and Emigration\"",
    ),
    key(
        "pki.passport_document_types",
        "Document codes the passport Document Signer may sign.",
    ),
    key(
        "pki.signer_renew_before",
        "A signer gets its successor (and `doctor` warns) this long before its private-key usage period ends.",
    ),
    key(
        "pki.ttd_document_types",
        "Document codes in the TTD bar-code signer certificate.",
    ),
    key(
        "pki.ttd_signer_id",
        "Two characters: CN of the TTD bar-code signer.",
    ),
    key(
        "pki.warn_before",
        "`pki status` and `doctor` warn this long before a CSCA certificate ends.",
    ),
    lifetime("pki.csca.key_usage", "CSCA private-key usage period."),
    lifetime(
        "pki.csca.validity",
        "CSCA certificate validity, from the start of its key usage.",
    ),
    lifetime(
        "pki.ledger.key_usage",
        "Ledger checkpoint signer key usage.",
    ),
    lifetime("pki.ledger.validity", "Ledger signer certificate validity."),
    lifetime(
        "pki.legalization.key_usage",
        "Legalization bar-code signer key usage.",
    ),
    lifetime(
        "pki.legalization.validity",
        "Legalization signer certificate validity.",
    ),
    lifetime("pki.master_list.key_usage", "Master list signer key usage."),
    lifetime(
        "pki.master_list.validity",
        "Master list signer certificate validity.",
    ),
    lifetime(
        "pki.passport.key_usage",
        "Passport Document Signer key usage.",
    ),
    lifetime(
        "pki.passport.validity",
        "Document Signer certificate validity (covers the passports it signed).",
    ),
    lifetime("pki.ttd.key_usage", "TTD bar-code signer key usage."),
    lifetime("pki.ttd.validity", "TTD signer certificate validity."),
    env(
        "service.checks",
        "Run the checks before issuance (docs/checks.md); off only to measure their cost.",
        "TRAVDOC_CHECKS",
    ),
    key(
        "service.place",
        "Place of certification printed on legalization certificates.",
    ),
    key(
        "service.public_url",
        "Where the service is reachable (for pdf_url); empty: relative URLs.",
    ),
    key(
        "service.verify_url",
        "Base URL a verifier's QR scan opens (the seal follows after #).",
    ),
    unset(
        "tls.cert",
        "PEM certificate chain, leaf first (`serve --tls-cert`).",
        "\"/etc/travdoc/tls/chain.pem\"",
    ),
    unset(
        "tls.client_ca",
        "PEM authority whose client certificates name staff and mission clients (`serve --tls-client-ca`).",
        "\"/etc/travdoc/tls/clients-ca.pem\"",
    ),
    unset(
        "tls.key",
        "PEM private key of the certificate (`serve --tls-key`).",
        "\"/etc/travdoc/tls/key.pem\"",
    ),
];

/// The defaults as a TOML table.
pub fn defaults() -> anyhow::Result<toml::Table> {
    Ok(toml::Table::try_from(Config::default())?)
}

/// The value at dotted `path` of `table`.
fn value_at<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let mut parts = path.split('.');
    let mut current = table.get(parts.next()?)?;
    for part in parts {
        current = current.as_table()?.get(part)?;
    }
    Some(current)
}

/// Every leaf key of `table` as a dotted path (sub-tables are walked, arrays are leaves).
pub fn leaf_paths(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (name, value) in table {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            toml::Value::Table(inner) => leaf_paths(inner, &path, out),
            _ => out.push(path),
        }
    }
}

fn section_of(path: &str) -> &str {
    path.rsplit_once('.').map_or("", |(section, _)| section)
}

fn name_of(path: &str) -> &str {
    path.rsplit_once('.').map_or(path, |(_, name)| name)
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The annotated example: every key at its default, unset ones commented out with an example.
pub fn example() -> anyhow::Result<String> {
    let defaults = defaults()?;
    let mut out = String::from(
        "# travdoc configuration: every key at its default (`travdoc config example`).\n\
         # Give it with --config FILE (or TRAVDOC_CONFIG); a key left out keeps its default, and\n\
         # the environment variables named below win over the file.\n",
    );
    let mut section = "";
    for key in KEYS {
        let this = section_of(key.path);
        if this != section {
            out.push_str(&format!("\n[{this}]\n"));
            section = this;
        } else {
            out.push('\n');
        }
        for line in wrap(key.about, 94) {
            out.push_str(&format!("# {line}\n"));
        }
        if let Some(variable) = key.env {
            out.push_str(&format!("# Environment: {variable}\n"));
        }
        match (value_at(&defaults, key.path), key.unset_example) {
            (Some(value), _) => out.push_str(&format!("{} = {value}\n", name_of(key.path))),
            (None, Some(example)) => {
                out.push_str(&format!("# {} = {example}\n", name_of(key.path)));
            }
            (None, None) => anyhow::bail!("{} has no default and no example", key.path),
        }
    }
    Ok(out)
}

/// The Markdown table of docs/configuration.md.
pub fn reference() -> anyhow::Result<String> {
    let defaults = defaults()?;
    let mut out =
        String::from("| key | default | environment | what it does |\n|---|---|---|---|\n");
    for key in KEYS {
        let default = match value_at(&defaults, key.path) {
            Some(value) => format!("`{value}`"),
            None => "unset".to_owned(),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            key.path,
            default.replace('|', "\\|"),
            key.env
                .map(|variable| format!("`{variable}`"))
                .unwrap_or_default(),
            key.about.replace('|', "\\|"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_the_types_is_described_once_and_no_other() {
        let mut serialised = Vec::new();
        leaf_paths(&defaults().unwrap(), "", &mut serialised);
        let described: Vec<&str> = KEYS.iter().map(|key| key.path).collect();
        for path in &serialised {
            assert!(
                described.contains(&path.as_str()),
                "{path} is not described"
            );
        }
        for key in KEYS {
            let set = serialised.iter().any(|path| path == key.path);
            assert!(
                set || key.unset_example.is_some(),
                "{} is neither a key of the types nor an unset one with an example",
                key.path
            );
            assert_eq!(
                KEYS.iter().filter(|other| other.path == key.path).count(),
                1,
                "{} twice",
                key.path
            );
        }
    }

    #[test]
    fn the_example_parses_back_to_the_defaults() {
        let text = example().unwrap();
        let parsed: Config = toml::from_str(&text).unwrap();
        assert_eq!(toml::Table::try_from(parsed).unwrap(), defaults().unwrap());
        // And with its commented-out keys set, it still parses (each example is valid).
        let uncommented: String = text
            .lines()
            .map(|line| {
                let body = line.strip_prefix("# ").unwrap_or(line);
                if KEYS.iter().any(|key| {
                    key.unset_example.is_some()
                        && body.starts_with(&format!("{} = ", name_of(key.path)))
                }) {
                    format!("{body}\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        let parsed: Config = toml::from_str(&uncommented).unwrap();
        assert!(parsed.database_url.is_some() && parsed.tls.cert.is_some());
    }

    #[test]
    fn the_reference_in_docs_is_the_generated_one() {
        let docs = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/configuration.md"
        ))
        .unwrap();
        assert!(
            docs.contains(&reference().unwrap()),
            "docs/configuration.md is out of date: regenerate its table with `travdoc config reference`"
        );
    }
}
