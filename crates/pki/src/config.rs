//! PKI configuration: validity and private-key usage periods, names, CRL URL, document types.

use std::str::FromStr;

use der::DateTime;
use serde::{Deserialize, Deserializer};
use travdoc_pkix::EcParameterEncoding;

use crate::error::{PkiError, Result};

/// A calendar period such as `15y3m`, `3m`, `1y2m`, `90d` (years, months, days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Period {
    pub years: u32,
    pub months: u32,
    pub days: u32,
}

impl Period {
    /// `years` years and `months` months.
    pub const fn ym(years: u32, months: u32) -> Self {
        Self {
            years,
            months,
            days: 0,
        }
    }

    /// `days` days.
    pub const fn days(days: u32) -> Self {
        Self {
            years: 0,
            months: 0,
            days,
        }
    }

    /// The sum of two periods.
    pub fn plus(self, other: Period) -> Period {
        Period {
            years: self.years.saturating_add(other.years),
            months: self.months.saturating_add(other.months),
            days: self.days.saturating_add(other.days),
        }
    }

    /// `start` plus this period (the day of month is clamped at the end of shorter months).
    pub fn after(self, start: DateTime) -> Result<DateTime> {
        let total_months = self
            .years
            .checked_mul(12)
            .and_then(|months| months.checked_add(self.months))
            .and_then(|months| months.checked_add(u32::from(start.month()) - 1))
            .ok_or_else(|| period_error("period too long"))?;
        let year = u32::from(start.year()).saturating_add(total_months / 12);
        let month = total_months % 12 + 1;
        let year = u16::try_from(year).map_err(|_| period_error("year out of range"))?;
        let month = u8::try_from(month).map_err(|_| period_error("month out of range"))?;
        let day = start.day().min(travdoc_mrz::days_in_month(year, month));
        let moved = DateTime::new(
            year,
            month,
            day,
            start.hour(),
            start.minutes(),
            start.seconds(),
        )
        .map_err(|error| period_error(&error.to_string()))?;
        let seconds =
            moved.unix_duration() + std::time::Duration::from_secs(u64::from(self.days) * 86_400);
        DateTime::from_unix_duration(seconds).map_err(|error| period_error(&error.to_string()))
    }
}

fn period_error(message: &str) -> PkiError {
    PkiError::Config {
        field: "period",
        message: message.to_owned(),
    }
}

impl FromStr for Period {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let mut period = Period::default();
        let mut number = String::new();
        let mut any = false;
        for character in text.trim().chars() {
            if character.is_ascii_digit() {
                number.push(character);
                continue;
            }
            let value: u32 = number
                .parse()
                .map_err(|_| format!("`{text}`: expected a number before `{character}`"))?;
            number.clear();
            match character {
                'y' => period.years = period.years.saturating_add(value),
                'm' => period.months = period.months.saturating_add(value),
                'd' => period.days = period.days.saturating_add(value),
                other => return Err(format!("`{text}`: unknown unit `{other}` (use y, m, d)")),
            }
            any = true;
        }
        if !number.is_empty() || !any {
            return Err(format!("`{text}` is not a period like 15y3m, 3m or 90d"));
        }
        Ok(period)
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut wrote = false;
        for (value, unit) in [(self.years, 'y'), (self.months, 'm'), (self.days, 'd')] {
            if value > 0 {
                write!(f, "{value}{unit}")?;
                wrote = true;
            }
        }
        if !wrote {
            f.write_str("0d")?;
        }
        Ok(())
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Private-key usage period and certificate validity of one kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Lifetime {
    /// Private-key usage period (PKUP).
    pub key_usage: Period,
    /// Certificate validity, counted from the start of the PKUP.
    pub validity: Period,
}

/// The `[pki]` section. Defaults follow ICAO 9303-12 Table 1 for 10-year passports.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PkiConfig {
    /// Key algorithm for every PKI key: `ec-p256` (default), `ec-p384`, `ec-brainpoolP256r1`,
    /// `ec-brainpoolP384r1`, `rsa-pss-3072`.
    pub key_algorithm: String,
    /// How EC public keys in issued certificates carry their curve: `explicit` (default; the
    /// X9.62 `ECParameters` with cofactor and uncompressed base point that ICAO 9303-12 requires)
    /// or `named` (the RFC 5480 curve OID, for foreign verifiers that read nothing else).
    /// RSA keys are unaffected.
    pub ec_parameters: String,
    /// Organisation in subject names; unset: `travdoc TEST` for the embedded development PKI.
    pub organization: Option<String>,
    /// CRL distribution point; `{country}` is replaced by the ICAO code.
    pub crl_url: String,
    /// Document codes the passport Document Signer may sign (DocumentType extension);
    /// a trailing filler is dropped (`P<` is encoded as `P`).
    pub passport_document_types: Vec<String>,
    /// Document codes in the TTD bar-code signer certificate.
    pub ttd_document_types: Vec<String>,
    /// Two characters: CN of the TTD bar-code signer (VDS signer identifier = C + CN).
    pub ttd_signer_id: String,
    /// Two characters: CN of the legalization bar-code signer.
    pub legalization_signer_id: String,
    pub csca: Lifetime,
    pub passport: Lifetime,
    pub ttd: Lifetime,
    pub legalization: Lifetime,
    pub master_list: Lifetime,
    pub ledger: Lifetime,
    /// Interval between CRL thisUpdate and nextUpdate (ICAO: at most 90 days).
    pub crl_next_update: Period,
    /// `pki status` warns this long before a key-usage period or certificate ends.
    pub warn_before: Period,
    /// Automatic renewal ([`crate::Pki::renew`]) issues a fresh CRL this long before the current
    /// one's nextUpdate.
    pub crl_renew_before: Period,
    /// Automatic renewal gives a signer its successor this long before its private-key usage
    /// period ends.
    pub signer_renew_before: Period,
    /// Renew CRLs and signers automatically from `serve` (needs the CSCA key reachable).
    /// Unset: on for the embedded default, off otherwise.
    pub auto_crl: Option<bool>,
    /// Label of the token that holds the CSCA keys, on the same PKCS#11 module as the online
    /// token; `serve` never opens it. The embedded default makes it beside the online token.
    pub csca_token: String,
    /// Environment variable with the CSCA token's user PIN (other than the embedded default).
    pub csca_pin_env: Option<String>,
    /// File with the CSCA token's user PIN (other than the embedded default).
    pub csca_pin_file: Option<std::path::PathBuf>,
    /// Let `serve` start although its online token holds a CSCA private key (a PKI made before
    /// the CSCA had its own token). Off by default: a CSCA key on an online token is refused.
    pub allow_online_csca: bool,
}

impl Default for PkiConfig {
    fn default() -> Self {
        Self {
            key_algorithm: "ec-p256".to_owned(),
            ec_parameters: EcParameterEncoding::default().name().to_owned(),
            organization: None,
            crl_url: "https://pkddownload1.icao.int/CRLs/{country}.crl".to_owned(),
            passport_document_types: vec!["PP".to_owned(), "P<".to_owned()],
            ttd_document_types: vec!["PU".to_owned()],
            ttd_signer_id: "TD".to_owned(),
            legalization_signer_id: "LG".to_owned(),
            csca: Lifetime {
                key_usage: Period::ym(5, 0),
                validity: Period::ym(15, 3),
            },
            passport: Lifetime {
                key_usage: Period::ym(0, 3),
                validity: Period::ym(10, 3),
            },
            ttd: Lifetime {
                key_usage: Period::ym(1, 2),
                validity: Period::ym(2, 2),
            },
            legalization: Lifetime {
                key_usage: Period::ym(1, 0),
                validity: Period::ym(11, 0),
            },
            master_list: Lifetime {
                key_usage: Period::ym(1, 0),
                validity: Period::ym(2, 0),
            },
            ledger: Lifetime {
                key_usage: Period::ym(5, 0),
                validity: Period::ym(5, 0),
            },
            crl_next_update: Period::days(90),
            warn_before: Period::days(90),
            crl_renew_before: Period::days(30),
            signer_renew_before: Period::days(14),
            auto_crl: None,
            csca_token: "travdoc-csca".to_owned(),
            csca_pin_env: Some("TRAVDOC_CSCA_PIN".to_owned()),
            csca_pin_file: None,
            allow_online_csca: false,
        }
    }
}

impl PkiConfig {
    /// The EC parameter encoding of `ec_parameters`; an unknown value names the field.
    pub fn ec_parameter_encoding(&self) -> Result<EcParameterEncoding> {
        self.ec_parameters
            .parse()
            .map_err(|error: travdoc_pkix::PkixError| PkiError::Config {
                field: "pki.ec_parameters",
                message: error.to_string(),
            })
    }
}

/// A document code as the DocumentType extension lists it: 1–2 upper-case letters.
pub(crate) fn document_type_code(code: &str) -> Result<String> {
    let trimmed = code.trim_end_matches('<');
    if trimmed.is_empty() || trimmed.len() > 2 || !trimmed.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(PkiError::Config {
            field: "document_types",
            message: format!("`{code}` is not a 1–2 letter ICAO document code"),
        });
    }
    Ok(trimmed.to_owned())
}

/// A VDS signer identifier part: two upper-case letters or digits.
pub(crate) fn signer_id(field: &'static str, value: &str) -> Result<String> {
    if value.len() == 2
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(value.to_owned())
    } else {
        Err(PkiError::Config {
            field,
            message: format!("`{value}` must be two upper-case letters or digits"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_add_calendar_months() {
        let period: Period = "15y3m".parse().expect("parse");
        assert_eq!(period, Period::ym(15, 3));
        assert_eq!("90d".parse::<Period>().ok(), Some(Period::days(90)));
        assert!("15".parse::<Period>().is_err());
        assert!("3w".parse::<Period>().is_err());
        let start = DateTime::new(2026, 11, 30, 12, 0, 0).expect("date");
        let end = Period::ym(0, 3).after(start).expect("add");
        assert_eq!((end.year(), end.month(), end.day()), (2027, 2, 28));
        let end = Period::ym(15, 3).after(start).expect("add");
        assert_eq!((end.year(), end.month(), end.day()), (2042, 2, 28));
        let end = Period::days(2).after(start).expect("add");
        assert_eq!((end.year(), end.month(), end.day()), (2026, 12, 2));
    }

    #[test]
    fn document_codes_drop_filler_and_reject_bad_codes() {
        assert_eq!(document_type_code("P<").ok(), Some("P".to_owned()));
        assert_eq!(document_type_code("PU").ok(), Some("PU".to_owned()));
        assert!(document_type_code("PPP").is_err());
        assert!(document_type_code("p").is_err());
        assert!(signer_id("ttd_signer_id", "T1").is_ok());
        assert!(signer_id("ttd_signer_id", "T").is_err());
    }

    #[test]
    fn ec_parameters_default_to_explicit_and_unknown_values_name_the_field() {
        let mut config = PkiConfig::default();
        assert_eq!(
            config.ec_parameter_encoding().ok(),
            Some(EcParameterEncoding::Explicit)
        );
        config.ec_parameters = "named".to_owned();
        assert_eq!(
            config.ec_parameter_encoding().ok(),
            Some(EcParameterEncoding::Named)
        );
        config.ec_parameters = "oid".to_owned();
        match config.ec_parameter_encoding() {
            Err(PkiError::Config { field, message }) => {
                assert_eq!(field, "pki.ec_parameters");
                assert!(message.contains("`oid`"), "{message}");
            }
            other => panic!("expected a config error, got {other:?}"),
        }
    }
}
