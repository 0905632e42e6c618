//! ICAO 9303 three-letter codes (as in the MRZ) to ISO 3166-1 alpha-2 codes, as certificates carry
//! them in `countryName`. A small table: the configured country must be in it.

use crate::error::{PkiError, Result};

/// A country known to both code systems. Built only through [`Country::from_icao`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    icao: String,
    alpha2: &'static str,
}

const MAP: &[(&str, &str)] = &[
    ("LKA", "LK"),
    ("UTO", "UT"),
    ("D", "DE"),
    ("IND", "IN"),
    ("PAK", "PK"),
    ("BGD", "BD"),
    ("NPL", "NP"),
    ("MDV", "MV"),
    ("AUS", "AU"),
    ("NZL", "NZ"),
    ("GBR", "GB"),
    ("USA", "US"),
    ("CAN", "CA"),
    ("FRA", "FR"),
    ("ITA", "IT"),
    ("ESP", "ES"),
    ("NLD", "NL"),
    ("BEL", "BE"),
    ("CHE", "CH"),
    ("AUT", "AT"),
    ("SWE", "SE"),
    ("NOR", "NO"),
    ("DNK", "DK"),
    ("FIN", "FI"),
    ("IRL", "IE"),
    ("PRT", "PT"),
    ("POL", "PL"),
    ("CZE", "CZ"),
    ("JPN", "JP"),
    ("KOR", "KR"),
    ("CHN", "CN"),
    ("SGP", "SG"),
    ("MYS", "MY"),
    ("THA", "TH"),
    ("IDN", "ID"),
    ("PHL", "PH"),
    ("ARE", "AE"),
    ("SAU", "SA"),
    ("QAT", "QA"),
    ("KWT", "KW"),
    ("OMN", "OM"),
    ("BHR", "BH"),
    ("ISR", "IL"),
    ("TUR", "TR"),
    ("RUS", "RU"),
    ("UKR", "UA"),
    ("BRA", "BR"),
    ("ARG", "AR"),
    ("MEX", "MX"),
    ("ZAF", "ZA"),
    ("EGY", "EG"),
    ("NGA", "NG"),
    ("KEN", "KE"),
    ("EST", "EE"),
    ("LVA", "LV"),
    ("LTU", "LT"),
    ("HUN", "HU"),
    ("ROU", "RO"),
    ("GRC", "GR"),
    ("LUX", "LU"),
];

impl Country {
    /// From the ICAO code (`LKA`, `D`, `D<<`, `UTO`...).
    pub fn from_icao(code: &str) -> Result<Self> {
        let trimmed = code.trim_end_matches('<').to_ascii_uppercase();
        MAP.iter()
            .find(|(icao, _)| *icao == trimmed)
            .map(|(_, alpha2)| Country {
                icao: trimmed.clone(),
                alpha2,
            })
            .ok_or_else(|| PkiError::UnknownCountry(code.to_owned()))
    }

    /// The ICAO code without filler (`LKA`, `D`).
    pub fn icao(&self) -> &str {
        &self.icao
    }

    /// The ISO 3166-1 alpha-2 code for `countryName`.
    pub fn alpha2(&self) -> &'static str {
        self.alpha2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_required_codes_and_rejects_unknown() {
        assert_eq!(
            Country::from_icao("LKA").map(|c| c.alpha2()).ok(),
            Some("LK")
        );
        assert_eq!(
            Country::from_icao("UTO").map(|c| c.alpha2()).ok(),
            Some("UT")
        );
        assert_eq!(
            Country::from_icao("D<<").map(|c| c.alpha2()).ok(),
            Some("DE")
        );
        assert_eq!(
            Country::from_icao("D").map(|c| c.icao().to_owned()).ok(),
            Some("D".to_owned())
        );
        assert!(matches!(
            Country::from_icao("XXX"),
            Err(PkiError::UnknownCountry(_))
        ));
    }
}
