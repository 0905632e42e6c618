//! Country codes (ICAO 9303 Part 3 §5) and document codes (Parts 4-8).

use core::fmt;
use core::str::FromStr;

use crate::error::{Field, MrzError};
use crate::format::Format;

/// The ISO 3166-1 alpha-3 codes, sorted (ISO 3166-1 as published in Debian `iso-codes`, 249 codes).
pub const ISO_3166_ALPHA_3: [&str; 249] = [
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF",
    "ATG", "AUS", "AUT", "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS",
    "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL", "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF",
    "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG", "COK", "COL", "COM", "CPV",
    "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM", "DZA",
    "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM",
    "GAB", "GBR", "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD",
    "GRL", "GTM", "GUF", "GUM", "GUY", "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN",
    "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA", "JAM", "JEY", "JOR", "JPN", "KAZ",
    "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY", "LCA", "LIE",
    "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX",
    "MHL", "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS",
    "MWI", "MYS", "MYT", "NAM", "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL",
    "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER", "PHL", "PLW", "PNG", "POL", "PRI", "PRK",
    "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU", "SDN", "SEN", "SGP",
    "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
    "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL",
    "TKM", "TLS", "TON", "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY",
    "USA", "UZB", "VAT", "VCT", "VEN", "VGB", "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF",
    "ZMB", "ZWE",
];

/// Codes ICAO 9303 Part 3 §5 adds to ISO 3166-1, sorted: Germany `D`, the British `GB?` codes,
/// Kosovo `RKS`, the EU, UN bodies, other organisations, the stateless/refugee/unspecified
/// codes, the deprecated `ANT`/`NTZ` and the specimen state `UTO`. (`IAO`, ICAO itself, is only
/// for signing master lists and is deliberately not an MRZ code.)
pub const ICAO_ADDITIONAL_CODES: [&str; 29] = [
    "ANT", "D", "EUE", "GBD", "GBN", "GBO", "GBP", "GBS", "NTZ", "RKS", "UNA", "UNK", "UNO", "UTO",
    "XBA", "XCC", "XCE", "XCO", "XDC", "XEC", "XES", "XIM", "XMP", "XOM", "XPO", "XXA", "XXB",
    "XXC", "XXX",
];

/// An issuing state, organisation or nationality code: ISO 3166-1 alpha-3 or an ICAO addition.
/// Held as the three MRZ characters (`D<<` for Germany).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 3]);

impl CountryCode {
    /// Placeholder while fields are being filled in (never escapes a successful parse).
    pub(crate) const PLACEHOLDER: CountryCode = CountryCode(*b"XXX");

    /// The code without fillers (`UTO`, `D`).
    pub fn as_str(&self) -> &str {
        let length = self.0.iter().position(|&byte| byte == b'<').unwrap_or(3);
        core::str::from_utf8(&self.0[..length]).unwrap_or("")
    }

    /// The three MRZ characters (`UTO`, `D<<`).
    pub fn mrz_bytes(&self) -> [u8; 3] {
        self.0
    }

    /// Whether `code` (upper case, no fillers) is a known code.
    pub fn is_known(code: &str) -> bool {
        match code.as_bytes() {
            [a, b, c] => is_known_three(*a, *b, *c),
            // The only code shorter than three letters: Germany.
            [b'D'] => true,
            _ => false,
        }
    }
}

/// Index of a three-letter code in the bitmap, `None` unless all three are `A-Z`.
const fn bitmap_index(a: u8, b: u8, c: u8) -> Option<usize> {
    if a.is_ascii_uppercase() && b.is_ascii_uppercase() && c.is_ascii_uppercase() {
        Some(((a - b'A') as usize * 26 + (b - b'A') as usize) * 26 + (c - b'A') as usize)
    } else {
        None
    }
}

const fn add_codes(mut bitmap: [u64; 275], codes: &[&str]) -> [u64; 275] {
    let mut index = 0;
    while index < codes.len() {
        let bytes = codes[index].as_bytes();
        if bytes.len() == 3
            && let Some(bit) = bitmap_index(bytes[0], bytes[1], bytes[2])
        {
            bitmap[bit / 64] |= 1 << (bit % 64);
        }
        index += 1;
    }
    bitmap
}

/// One bit per possible three-letter code (26^3 = 17,576), set for the known ones: a lookup is
/// one load, whatever the table sizes.
static KNOWN_THREE_LETTER_CODES: [u64; 275] = add_codes(
    add_codes([0; 275], &ISO_3166_ALPHA_3),
    &ICAO_ADDITIONAL_CODES,
);

fn is_known_three(a: u8, b: u8, c: u8) -> bool {
    match bitmap_index(a, b, c) {
        Some(bit) => KNOWN_THREE_LETTER_CODES[bit / 64] & (1 << (bit % 64)) != 0,
        None => false,
    }
}

impl FromStr for CountryCode {
    type Err = MrzError;

    /// Accepts `UTO`, `uto`, `D`, `D<<` (surrounding whitespace ignored).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let trimmed = crate::fields::trim(value).trim_end_matches('<');
        let unknown = || MrzError::UnknownCountryCode {
            field: Field::CountryCode,
            value: value.to_owned(),
        };
        if trimmed.is_empty() {
            return Err(MrzError::MissingField {
                field: Field::CountryCode,
            });
        }
        if trimmed.len() > 3 || !trimmed.bytes().all(|byte| byte.is_ascii_alphabetic()) {
            return Err(unknown());
        }
        let mut bytes = [b'<'; 3];
        for (slot, byte) in bytes.iter_mut().zip(trimmed.bytes()) {
            *slot = byte.to_ascii_uppercase();
        }
        let known = match bytes {
            [b'D', b'<', b'<'] => true,
            [a, b, c] => is_known_three(a, b, c),
        };
        if known {
            Ok(Self(bytes))
        } else {
            Err(unknown())
        }
    }
}

impl TryFrom<&str> for CountryCode {
    type Error = MrzError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Second letters of the harmonised passport codes (Part 4 §4.4, in force from 1 January 2026):
/// `PP` ordinary, `PE` emergency (booklet), `PD` diplomatic, `PO` official/service, `PR` refugee,
/// `PT` alien, `PS` stateless, `PL` laissez-passer, `PM` military, `PU` single-sheet ETD.
pub const HARMONISED_PASSPORT_TYPES: [u8; 10] = *b"PEDORTSLMU";

/// A document code: a letter (`P` passport, `V` visa, `A`/`C`/`I` official travel documents)
/// and a second letter or `<`. Which codes a format accepts is checked when building.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentCode([u8; 2]);

impl DocumentCode {
    /// The code without a trailing filler (`P`, `PP`, `I`, `PU`).
    pub fn as_str(&self) -> &str {
        let length = if self.0[1] == b'<' { 1 } else { 2 };
        core::str::from_utf8(&self.0[..length]).unwrap_or("")
    }

    /// The two MRZ characters (`P<`, `PP`).
    pub fn mrz_bytes(&self) -> [u8; 2] {
        self.0
    }

    /// Whether this is one of the harmonised passport codes of Part 4 §4.4 (`PP PE PD PO PR PT PS
    /// PL PM PU`).
    pub fn is_harmonised_passport_code(&self) -> bool {
        self.0[0] == b'P' && HARMONISED_PASSPORT_TYPES.contains(&self.0[1])
    }

    /// Whether this code may be written in `format`; `Err` carries the reason.
    pub fn check_format(&self, format: Format) -> Result<(), MrzError> {
        let [first, second] = self.0;
        let reason = match format {
            Format::Td3 => {
                if first != b'P' {
                    Some("a TD3 passport code starts with P")
                } else if second != b'<' && !self.is_harmonised_passport_code() {
                    Some(
                        "since 1 January 2026 a passport's second letter must be a harmonised code (PP PE PD PO PR PT PS PL PM PU)",
                    )
                } else {
                    None
                }
            }
            Format::Td1 | Format::Td2 => {
                if format == Format::Td2 && self.0 == *b"PU" {
                    None
                } else if !matches!(first, b'A' | b'C' | b'I') {
                    Some(if format == Format::Td2 {
                        "a TD2 code starts with A, C or I (or is PU, the single-sheet emergency travel document)"
                    } else {
                        "a TD1 code starts with A, C or I"
                    })
                } else if second == b'V' {
                    Some("the second letter may not be V")
                } else if self.0 == *b"AI" {
                    Some("AI is not allowed")
                } else {
                    None
                }
            }
            Format::MrvA | Format::MrvB => {
                if first != b'V' {
                    Some("a visa code starts with V")
                } else {
                    None
                }
            }
        };
        match reason {
            None => Ok(()),
            Some(reason) => Err(MrzError::DocumentCodeNotAllowed {
                format,
                value: self.as_str().to_owned(),
                reason,
            }),
        }
    }
}

impl FromStr for DocumentCode {
    type Err = MrzError;

    /// Accepts one or two characters (`P`, `P<`, `PP`, `pu`), surrounding whitespace ignored.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let trimmed = crate::fields::trim(value);
        let bytes = trimmed.as_bytes();
        let invalid = |reason| MrzError::InvalidDocumentCode {
            value: value.to_owned(),
            reason,
        };
        let (first, second) = match bytes {
            [] => {
                return Err(MrzError::MissingField {
                    field: Field::DocumentCode,
                });
            }
            [first] => (*first, b'<'),
            [first, second] => (*first, *second),
            _ => return Err(invalid("is longer than two characters")),
        };
        let first = first.to_ascii_uppercase();
        let second = second.to_ascii_uppercase();
        if !matches!(first, b'A' | b'C' | b'I' | b'P' | b'V') {
            return Err(invalid(
                "must start with P (passport), V (visa), or A, C or I (official travel document)",
            ));
        }
        if !(second.is_ascii_uppercase() || second == b'<') {
            return Err(invalid("must have a letter or < as its second character"));
        }
        Ok(Self([first, second]))
    }
}

impl TryFrom<&str> for DocumentCode {
    type Error = MrzError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl fmt::Display for DocumentCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}
