//! ICAO Doc 9303 machine readable zones: build an MRZ from a holder's data, parse any MRZ back,
//! and check every check digit. Pure: no I/O, no allocation on the build path.
//!
//! travdoc uses it to write the MRZ of passports (TD3, codes `PP`, `PE`, ... and `P<`), of the
//! single-sheet emergency travel document (Part 8: TD2 size, code `PU`), of ID-size documents
//! (TD1, TD2) and visas (MRV-A, MRV-B); foreign verifiers can depend on it alone.
//!
//! What it covers, from ICAO 9303 Parts 3-8:
//! - the five layouts, the 7-3-1 check digits and each format's composite check digit;
//! - TD1/TD2 document numbers longer than 9 characters (the overflow into the optional data);
//!   a number a format cannot hold (a 10-character TD3 number) is a clear error;
//! - names as people write them, transliterated by the ICAO tables (Latin, Cyrillic, Arabic):
//!   see [`Transliteration`] for the defaults and the per-call alternatives, and the order of
//!   operations in the `translit` module; apostrophes are dropped, hyphens and commas become a
//!   single filler, other punctuation is dropped, digits and characters without a
//!   transliteration are errors naming the character;
//! - truncation of names too long for the field ([`Truncation`]; the field then ends in a letter
//!   and the primary identifier is kept whole where it fits);
//! - validated codes: ISO 3166-1 alpha-3 plus the ICAO additions ([`CountryCode`]), document
//!   codes including the harmonised passport codes in force from 2026 ([`DocumentCode`]);
//! - dates as ISO `YYYY-MM-DD` with `XX` for an unknown month or day (`<` in the MRZ), sex `F`,
//!   `M` or unspecified (`<` in the MRZ, `X` in the visual zone).
//!
//! Transliteration defaults (ICAO's first choice where it offers alternatives): `Ä Ö Ü` → `AE
//! OE UE`, `Å` → `AA`, `Ñ` → `N`, `Æ Ø Œ` → `AE OE OE`, `ß` → `SS`, `Þ` → `TH`; Cyrillic by the
//! main ICAO column (Russian practice, `Ь` omitted) unless a language is chosen; Arabic with the
//! X-escapes, `ة` as `XAH` at the end of a component and `XTA` inside it, shadda doubling the
//! letter before it, harakat omitted.
//!
//! ```
//! use travdoc_mrz::{BuildOptions, MrzInput, parse};
//!
//! let input = MrzInput {
//!     format: "TD3", document_code: "P", issuing_state: "UTO",
//!     surname: "Eriksson", given_names: "Anna María",
//!     document_number: "L898902C3", nationality: "UTO",
//!     birth_date: "1974-08-12", sex: "F", expiry_date: "2012-04-15",
//!     optional_data: "ZE184226B", optional_data_2: "",
//! };
//! let mrz = input.build(&BuildOptions::default())?;
//! assert_eq!(mrz.to_string(), "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
//!                              L898902C36UTO7408122F1204159ZE184226B<<<<<10");
//! let parsed = parse(&mrz.to_string())?;
//! assert!(parsed.is_valid());
//! # Ok::<(), travdoc_mrz::MrzError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod build;
mod codes;
mod error;
mod fields;
mod format;
mod name;
mod parse;
mod translit;

pub use build::{BuildOptions, Mrz, MrzData, MrzFields, MrzInput};
pub use codes::{
    CountryCode, DocumentCode, HARMONISED_PASSPORT_TYPES, ICAO_ADDITIONAL_CODES, ISO_3166_ALPHA_3,
};
pub use error::{Field, MrzError};
pub use fields::{DocumentNumber, MrzDate, OptionalData, Sex, days_in_month};
pub use format::{Format, character_value, check_digit};
pub use name::{Name, Truncation};
pub use parse::{CheckKind, CheckResult, ParsedMrz, parse};
pub use translit::{
    ARing, CyrillicLanguage, NAME_CAPACITY, NTilde, Transliteration, UUmlaut, Umlaut,
};

/// Shared by the cargo-fuzz target (`fuzz/fuzz_targets/mrz_parse.rs`) and the proptest smoke
/// test, so both exercise the same invariants.
#[doc(hidden)]
pub mod fuzzing {
    /// Parses `data` (lossily decoded); returns a description of any broken invariant. Parsing
    /// must never panic, must ignore surrounding whitespace, and a parsed MRZ must report one
    /// verdict per check digit of its format.
    pub fn check_parse_invariants(data: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(data);
        let result = crate::parse(&text);
        let padded = format!("  \n{text}\n \t");
        let padded_result = crate::parse(&padded);
        if result != padded_result {
            return Err(format!(
                "surrounding whitespace changed the result: {result:?} vs {padded_result:?}"
            ));
        }
        if let Ok(parsed) = result {
            let expected_checks = match parsed.format {
                crate::Format::Td3 => 5,
                crate::Format::Td1 | crate::Format::Td2 => 4,
                crate::Format::MrvA | crate::Format::MrvB => 3,
            };
            if parsed.checks.len() != expected_checks {
                return Err(format!(
                    "{} checks for {}",
                    parsed.checks.len(),
                    parsed.format
                ));
            }
            // Verdicts and problems must be computable for anything that parsed.
            let _ = parsed.is_valid();
            if parsed.data.document_number.len() > crate::Format::Td1.max_document_number() + 1 {
                return Err(format!(
                    "document number too long: {:?}",
                    parsed.data.document_number
                ));
            }
        }
        Ok(())
    }
}
