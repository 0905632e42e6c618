//! Transliteration of names into the MRZ alphabet (ICAO 9303 Part 3 §6 and Appendix B).
//!
//! Order of operations, per character (after composing decomposed input to NFC):
//! 1. ASCII letters are upper-cased.
//! 2. Spaces, hyphens, commas and `<` separate name components (a single filler); apostrophes
//!    are dropped without a filler; other punctuation is dropped; digits are an error.
//! 3. Latin letters with diacritics, Cyrillic and Arabic letters follow the ICAO tables
//!    (Part 3 §6 tables A, B, C), with the options of [`Transliteration`].
//! 4. Latin letters absent from the ICAO table (such as the Romanian comma-below `Ș`, `Ț`) fall
//!    back to their Unicode NFD base letter.
//! 5. Anything else is [`MrzError::NoTransliteration`], naming the character.

use unicode_normalization::UnicodeNormalization;

use crate::error::{Field, MrzError};

/// `Ä Ö Ü`: ICAO allows `AE OE UE` or the plain vowel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Umlaut {
    /// `Ä`→`AE`, `Ö`→`OE`, `Ü`→`UE` (the default, ICAO's first choice).
    #[default]
    Expanded,
    /// `Ä`→`A`, `Ö`→`O`, `Ü`→`U`.
    Plain,
}

/// `Ü` alone: `UE`, `UXX` (reversible) or `U`. When unset, `Ü` follows [`Umlaut`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UUmlaut {
    /// `UE`.
    Ue,
    /// `UXX`.
    Uxx,
    /// `U`.
    U,
}

/// `Å`: `AA` or `A`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ARing {
    /// `AA` (the default, ICAO's first choice).
    #[default]
    Aa,
    /// `A`.
    A,
}

/// `Ñ`: `N` or the reversible `NXX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NTilde {
    /// `N` (the default).
    #[default]
    N,
    /// `NXX` (ICAO App. B: `CAÑON` → `CANXXON`).
    Nxx,
}

/// Which language's exceptions of the ICAO Cyrillic table apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CyrillicLanguage {
    /// The main ICAO column (Russian practice), no exceptions. The default.
    #[default]
    Generic,
    /// `Г`→H, `Ё`→IO.
    Belarusian,
    /// `Щ`→SHT.
    Bulgarian,
    /// `Ќ`→KJ, `Х`→H, `Ц`→C, `Џ`→DJ, `Ғ`→GJ.
    Macedonian,
    /// `Г`→H, `Ж`→Z, `Х`→H, `Ц`→C, `Ч`→C, `Ш`→S.
    Serbian,
    /// `Г`→H, `И`→Y; at the start of a name component `Є`→YE, `Ї`→YI, `Й`→Y, `Ю`→YU, `Я`→YA.
    Ukrainian,
}

/// The transliteration choices where ICAO 9303 allows alternatives.
///
/// The default is ICAO's first (recommended) value everywhere: `Ä Ö Ü` → `AE OE UE`,
/// `Å` → `AA`, `Ñ` → `N`, Cyrillic by the main column. An issuer must keep its choice stable so
/// the same person always gets the same MRZ name.
///
/// Options by name (the `transliteration` object of `travdoc mrz build`), see
/// [`Transliteration::set`]:
///
/// | option | values | default |
/// |---|---|---|
/// | `umlaut` | `AE` (Ä→AE, Ö→OE, Ü→UE), `A` (Ä→A, Ö→O, Ü→U) | `AE` |
/// | `u_umlaut` | `UE`, `UXX`, `U` (overrides `umlaut` for Ü) | follows `umlaut` |
/// | `a_ring` | `AA`, `A` | `AA` |
/// | `n_tilde` | `N`, `NXX` | `N` |
/// | `cyrillic` | `generic` (or `russian`), `belarusian`, `bulgarian`, `macedonian`, `serbian`, `ukrainian` | `generic` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Transliteration {
    /// `Ä Ö Ü`.
    pub umlaut: Umlaut,
    /// `Ü` override.
    pub u_umlaut: Option<UUmlaut>,
    /// `Å`.
    pub a_ring: ARing,
    /// `Ñ`.
    pub n_tilde: NTilde,
    /// Cyrillic language exceptions.
    pub cyrillic: CyrillicLanguage,
}

impl Transliteration {
    /// Sets one option by name (see the table on [`Transliteration`]); values are
    /// case-insensitive.
    pub fn set(&mut self, option: &str, value: &str) -> Result<(), MrzError> {
        let invalid = |expected| MrzError::InvalidOption {
            option: option.to_owned(),
            value: value.to_owned(),
            expected,
        };
        let upper = value.trim().to_ascii_uppercase();
        match option {
            "umlaut" => {
                self.umlaut = match upper.as_str() {
                    "AE" => Umlaut::Expanded,
                    "A" => Umlaut::Plain,
                    _ => return Err(invalid("umlaut is AE or A")),
                }
            }
            "u_umlaut" => {
                self.u_umlaut = Some(match upper.as_str() {
                    "UE" => UUmlaut::Ue,
                    "UXX" => UUmlaut::Uxx,
                    "U" => UUmlaut::U,
                    _ => return Err(invalid("u_umlaut is UE, UXX or U")),
                })
            }
            "a_ring" => {
                self.a_ring = match upper.as_str() {
                    "AA" => ARing::Aa,
                    "A" => ARing::A,
                    _ => return Err(invalid("a_ring is AA or A")),
                }
            }
            "n_tilde" => {
                self.n_tilde = match upper.as_str() {
                    "N" => NTilde::N,
                    "NXX" => NTilde::Nxx,
                    _ => return Err(invalid("n_tilde is N or NXX")),
                }
            }
            "cyrillic" => {
                self.cyrillic = match upper.as_str() {
                    "GENERIC" | "DEFAULT" | "RUSSIAN" => CyrillicLanguage::Generic,
                    "BELARUSIAN" => CyrillicLanguage::Belarusian,
                    "BULGARIAN" => CyrillicLanguage::Bulgarian,
                    "MACEDONIAN" => CyrillicLanguage::Macedonian,
                    "SERBIAN" => CyrillicLanguage::Serbian,
                    "UKRAINIAN" => CyrillicLanguage::Ukrainian,
                    _ => {
                        return Err(invalid(
                            "cyrillic is generic, belarusian, bulgarian, macedonian, serbian or ukrainian",
                        ));
                    }
                }
            }
            _ => {
                return Err(invalid(
                    "options are umlaut, u_umlaut, a_ring, n_tilde, cyrillic",
                ));
            }
        }
        Ok(())
    }
}

/// Longest name identifier (after transliteration) this crate holds before truncation.
pub const NAME_CAPACITY: usize = 255;

/// One name identifier in MRZ form: `A-Z` components separated by single `<`, no `<` at either
/// end. Fixed capacity, no allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct NameBuf {
    bytes: [u8; NAME_CAPACITY],
    length: u8,
}

impl NameBuf {
    pub(crate) const EMPTY: NameBuf = NameBuf {
        bytes: [b'<'; NAME_CAPACITY],
        length: 0,
    };

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.length)]
    }

    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// Writes transliterated letters, inserting one `<` between components.
struct Writer<'a> {
    out: &'a mut NameBuf,
    field: Field,
    pending_separator: bool,
    word_start: bool,
    last_letter: (usize, usize),
}

impl Writer<'_> {
    fn push(&mut self, letters: &[u8]) -> Result<(), MrzError> {
        self.word_start = false;
        if letters.is_empty() {
            return Ok(());
        }
        let mut length = usize::from(self.out.length);
        let separator = usize::from(self.pending_separator && length > 0);
        if length + separator + letters.len() > NAME_CAPACITY {
            return Err(MrzError::NameTooLong {
                field: self.field,
                max: NAME_CAPACITY,
            });
        }
        if separator == 1 {
            self.out.bytes[length] = b'<';
            length += 1;
        }
        self.pending_separator = false;
        self.out.bytes[length..length + letters.len()].copy_from_slice(letters);
        self.last_letter = (length, length + letters.len());
        self.out.length = (length + letters.len()) as u8;
        Ok(())
    }

    /// One letter: the common case, without a copy loop.
    fn push_byte(&mut self, letter: u8) -> Result<(), MrzError> {
        self.word_start = false;
        let mut length = usize::from(self.out.length);
        if self.pending_separator {
            self.pending_separator = false;
            if length > 0 {
                if length + 2 > NAME_CAPACITY {
                    return Err(self.too_long());
                }
                self.out.bytes[length] = b'<';
                length += 1;
            }
        }
        if length >= NAME_CAPACITY {
            return Err(self.too_long());
        }
        self.out.bytes[length] = letter;
        self.last_letter = (length, length + 1);
        self.out.length = (length + 1) as u8;
        Ok(())
    }

    fn too_long(&self) -> MrzError {
        MrzError::NameTooLong {
            field: self.field,
            max: NAME_CAPACITY,
        }
    }

    fn separate(&mut self) {
        self.pending_separator = true;
        self.word_start = true;
        self.last_letter = (0, 0);
    }

    /// Arabic shadda: writes the previous letter's transliteration again.
    fn repeat_last(&mut self) -> Result<(), MrzError> {
        let (start, end) = self.last_letter;
        if start == end {
            return Ok(());
        }
        let mut copy = [0u8; 8];
        let length = end - start;
        copy[..length].copy_from_slice(&self.out.bytes[start..end]);
        self.push(&copy[..length])
    }
}

fn is_combining_mark(character: char) -> bool {
    matches!(character, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

fn is_separator(character: char) -> bool {
    character.is_whitespace()
        || matches!(
            character,
            '-' | ',' | '<' | '_' | '\u{2010}'
                ..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}' | '\u{FF0C}' | '\u{060C}'
        )
}

fn is_apostrophe(character: char) -> bool {
    matches!(
        character,
        '\'' | '`'
            | '\u{00B4}'
            | '\u{2018}'
            | '\u{2019}'
            | '\u{201B}'
            | '\u{2032}'
            | '\u{02B9}'
            | '\u{02BB}'
            | '\u{02BC}'
            | '\u{02BD}'
            | '\u{FF07}'
    )
}

/// Punctuation and symbols that are omitted from the MRZ name.
fn is_omitted_punctuation(character: char) -> bool {
    character.is_ascii_punctuation()
        || matches!(
            character,
            '\u{00A1}'..='\u{00BF}' // Latin-1 punctuation and symbols (¡ « » ¿ · ¨ ¸ …)
                | '\u{00D7}' | '\u{00F7}'
                | '\u{2016}'..='\u{206F}' // general punctuation (quotes, bullets, zero-width joiners)
                | '\u{200B}'..='\u{200F}'
                | '\u{FEFF}'
                | '\u{061B}' | '\u{061F}' | '\u{066A}'..='\u{066D}' | '\u{06D4}' // Arabic punctuation
                | '\u{3000}'..='\u{3003}'
        )
}

/// ICAO table A (Latin), on the upper-case letter.
fn latin(upper: char, options: &Transliteration) -> Option<&'static [u8]> {
    let umlaut_expanded = options.umlaut == Umlaut::Expanded;
    Some(match upper {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ā' | 'Ă' | 'Ą' => b"A",
        'Ä' => {
            if umlaut_expanded {
                b"AE"
            } else {
                b"A"
            }
        }
        'Å' => match options.a_ring {
            ARing::Aa => b"AA",
            ARing::A => b"A",
        },
        'Æ' => b"AE",
        'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => b"C",
        'Ð' | 'Ď' | 'Đ' => b"D",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => b"E",
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => b"G",
        'Ĥ' | 'Ħ' => b"H",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' => b"I",
        'Ĳ' => b"IJ",
        'Ĵ' => b"J",
        'Ķ' => b"K",
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => b"L",
        'Ñ' => match options.n_tilde {
            NTilde::N => b"N",
            NTilde::Nxx => b"NXX",
        },
        'Ń' | 'Ņ' | 'Ň' | 'Ŋ' => b"N",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ō' | 'Ŏ' | 'Ő' => b"O",
        'Ö' => {
            if umlaut_expanded {
                b"OE"
            } else {
                b"O"
            }
        }
        'Ø' | 'Œ' => b"OE",
        'Ŕ' | 'Ŗ' | 'Ř' => b"R",
        'Ś' | 'Ŝ' | 'Ş' | 'Š' => b"S",
        'ẞ' => b"SS",
        'Ţ' | 'Ť' | 'Ŧ' => b"T",
        'Þ' => b"TH",
        'Ù' | 'Ú' | 'Û' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => b"U",
        'Ü' => match options.u_umlaut {
            Some(UUmlaut::Ue) => b"UE",
            Some(UUmlaut::Uxx) => b"UXX",
            Some(UUmlaut::U) => b"U",
            None if umlaut_expanded => b"UE",
            None => b"U",
        },
        'Ŵ' => b"W",
        'Ý' | 'Ŷ' | 'Ÿ' => b"Y",
        'Ź' | 'Ż' | 'Ž' => b"Z",
        _ => return None,
    })
}

/// ICAO table B (Cyrillic), on the upper-case letter.
fn cyrillic(upper: char, language: CyrillicLanguage, word_start: bool) -> Option<&'static [u8]> {
    use CyrillicLanguage::{Belarusian, Bulgarian, Macedonian, Serbian, Ukrainian};
    let ukrainian_initial = language == Ukrainian && word_start;
    Some(match upper {
        'А' => b"A",
        'Б' => b"B",
        'В' => b"V",
        'Г' => match language {
            Belarusian | Serbian | Ukrainian => b"H",
            _ => b"G",
        },
        'Ґ' => b"G",
        'Д' => b"D",
        'Ђ' => b"D",
        'Ѓ' => b"G",
        'Е' => b"E",
        'Ё' => {
            if language == Belarusian {
                b"IO"
            } else {
                b"E"
            }
        }
        'Є' => {
            if ukrainian_initial {
                b"YE"
            } else {
                b"IE"
            }
        }
        'Ж' => {
            if language == Serbian {
                b"Z"
            } else {
                b"ZH"
            }
        }
        'З' => b"Z",
        'Ѕ' => b"DZ",
        'И' => {
            if language == Ukrainian {
                b"Y"
            } else {
                b"I"
            }
        }
        'І' => b"I",
        'Ї' => {
            if ukrainian_initial {
                b"YI"
            } else {
                b"I"
            }
        }
        'Й' => {
            if ukrainian_initial {
                b"Y"
            } else {
                b"I"
            }
        }
        'Ј' => b"J",
        'К' => b"K",
        'Ќ' => {
            if language == Macedonian {
                b"KJ"
            } else {
                b"K"
            }
        }
        'Л' => b"L",
        'Љ' => b"LJ",
        'М' => b"M",
        'Н' => b"N",
        'Њ' => b"NJ",
        'О' => b"O",
        'П' => b"P",
        'Р' => b"R",
        'С' => b"S",
        'Т' => b"T",
        'У' => b"U",
        'Ў' => b"U",
        'Ф' => b"F",
        'Х' => match language {
            Serbian | Macedonian => b"H",
            _ => b"KH",
        },
        'Ц' => match language {
            Serbian | Macedonian => b"C",
            _ => b"TS",
        },
        'Ч' => {
            if language == Serbian {
                b"C"
            } else {
                b"CH"
            }
        }
        'Џ' => {
            if language == Macedonian {
                b"DJ"
            } else {
                b"DZ"
            }
        }
        'Ш' => {
            if language == Serbian {
                b"S"
            } else {
                b"SH"
            }
        }
        'Щ' => {
            if language == Bulgarian {
                b"SHT"
            } else {
                b"SHCH"
            }
        }
        'Ъ' => b"IE",
        'Ы' => b"Y",
        // The soft sign has no entry in the ICAO table: omitted.
        'Ь' => b"",
        'Э' => b"E",
        'Ю' => {
            if ukrainian_initial {
                b"YU"
            } else {
                b"IU"
            }
        }
        'Я' => {
            if ukrainian_initial {
                b"YA"
            } else {
                b"IA"
            }
        }
        'Ѫ' => b"U",
        'Ѵ' => b"Y",
        'Ғ' => {
            if language == Macedonian {
                b"GJ"
            } else {
                b"G"
            }
        }
        'Һ' => b"C",
        _ => return None,
    })
}

enum Arabic {
    Letter(&'static [u8]),
    TaMarbuta,
    Shadda,
    Omitted,
}

/// Marks and letters ICAO does not encode (tatweel, harakat, sukun, superscript alef, and
/// U+069C, U+06A2, U+06A7, U+06A8): omitted.
fn is_arabic_omitted(character: char) -> bool {
    matches!(
        character,
        '\u{0640}' | '\u{064B}'
            ..='\u{0650}'
                | '\u{0652}'
                | '\u{0670}'
                | '\u{069C}'
                | '\u{06A2}'
                | '\u{06A7}'
                | '\u{06A8}'
    )
}

/// ICAO table C (Arabic, Part 3 §6.C), including the Persian, Urdu and Pashto letters.
fn arabic(character: char) -> Option<Arabic> {
    if is_arabic_omitted(character) {
        return Some(Arabic::Omitted);
    }
    let letters: &'static [u8] = match character {
        '\u{0621}' => b"XE",
        '\u{0622}' => b"XAA",
        '\u{0623}' => b"XAE",
        '\u{0624}' => b"U",
        '\u{0625}' => b"I",
        '\u{0626}' => b"XI",
        '\u{0627}' => b"A",
        '\u{0628}' => b"B",
        '\u{0629}' => return Some(Arabic::TaMarbuta),
        '\u{062A}' => b"T",
        '\u{062B}' => b"XTH",
        '\u{062C}' => b"J",
        '\u{062D}' => b"XH",
        '\u{062E}' => b"XKH",
        '\u{062F}' => b"D",
        '\u{0630}' => b"XDH",
        '\u{0631}' => b"R",
        '\u{0632}' => b"Z",
        '\u{0633}' => b"S",
        '\u{0634}' => b"XSH",
        '\u{0635}' => b"XSS",
        '\u{0636}' => b"XDZ",
        '\u{0637}' => b"XTT",
        '\u{0638}' => b"XZZ",
        '\u{0639}' => b"E",
        '\u{063A}' => b"G",
        '\u{0641}' => b"F",
        '\u{0642}' => b"Q",
        '\u{0643}' => b"K",
        '\u{0644}' => b"L",
        '\u{0645}' => b"M",
        '\u{0646}' => b"N",
        '\u{0647}' => b"H",
        '\u{0648}' => b"W",
        '\u{0649}' => b"XAY",
        '\u{064A}' => b"Y",
        '\u{0651}' => return Some(Arabic::Shadda),
        '\u{0671}' => b"XXA",
        '\u{0679}' => b"XXT",
        '\u{067C}' => b"XRT",
        '\u{067E}' => b"P",
        '\u{0681}' => b"XKE",
        '\u{0685}' => b"XXH",
        '\u{0686}' => b"XC",
        '\u{0688}' => b"XXD",
        '\u{0689}' => b"XDR",
        '\u{0691}' => b"XXR",
        '\u{0693}' => b"XRR",
        '\u{0696}' => b"XRX",
        '\u{0698}' => b"XJ",
        '\u{069A}' => b"XXS",
        '\u{06A9}' => b"XKK",
        '\u{06AB}' => b"XXK",
        '\u{06AD}' => b"XNG",
        '\u{06AF}' => b"XGG",
        '\u{06BA}' => b"XNN",
        '\u{06BC}' => b"XXN",
        '\u{06BE}' => b"XDO",
        '\u{06C0}' => b"XYH",
        '\u{06C1}' => b"XXG",
        '\u{06C2}' => b"XGE",
        '\u{06C3}' => b"XTG",
        '\u{06CC}' => b"XYA",
        '\u{06CD}' => b"XXY",
        '\u{06D0}' => b"Y",
        '\u{06D2}' => b"XYB",
        '\u{06D3}' => b"XBE",
        _ => return None,
    };
    Some(Arabic::Letter(letters))
}

/// Whether a ta marbuta is the last letter of its name component: the next character that is not
/// an omitted mark (harakat, shadda, tatweel) is absent or not a letter.
fn ends_component(rest: core::str::Chars<'_>) -> bool {
    let mut rest = rest;
    match rest
        .find(|&next| !(is_arabic_omitted(next) || next == '\u{0651}' || is_combining_mark(next)))
    {
        None => true,
        Some(next) => !next.is_alphabetic(),
    }
}

/// Transliterates one identifier (surname or given names) into `out`.
pub(crate) fn transliterate(
    input: &str,
    field: Field,
    options: &Transliteration,
    out: &mut NameBuf,
) -> Result<(), MrzError> {
    out.length = 0;
    match transliterate_composed(input, field, options, out, false)? {
        Pass::Done => Ok(()),
        Pass::NeedsComposition => {
            // Decomposed input (`A` + U+0308): compose first so that the ICAO table sees `Ä`.
            // Only this rare path allocates.
            let composed: String = input.nfc().collect();
            out.length = 0;
            transliterate_composed(&composed, field, options, out, true).map(|_| ())
        }
    }
}

/// Outcome of one pass over the input.
enum Pass {
    Done,
    /// A combining mark was met in input not yet composed to NFC.
    NeedsComposition,
}

fn transliterate_composed(
    input: &str,
    field: Field,
    options: &Transliteration,
    out: &mut NameBuf,
    composed: bool,
) -> Result<Pass, MrzError> {
    let mut writer = Writer {
        out,
        field,
        pending_separator: false,
        word_start: true,
        last_letter: (0, 0),
    };
    let mut characters = input.chars();
    while let Some(character) = characters.next() {
        if character.is_ascii() {
            if character.is_ascii_alphabetic() {
                writer.push_byte(character.to_ascii_uppercase() as u8)?;
            } else if is_separator(character) {
                writer.separate();
            } else if character.is_ascii_digit() {
                return Err(MrzError::DigitInName { field, character });
            } else if is_apostrophe(character) || is_omitted_punctuation(character) {
                // Apostrophes are dropped without a filler; other punctuation is omitted.
            } else {
                // Control characters.
                return Err(MrzError::NoTransliteration { field, character });
            }
            continue;
        }
        // Latin letters of the ICAO table first: the common case.
        if let Some(letters) = latin(character, options) {
            writer.push(letters)?;
            continue;
        }
        if ('\u{00E0}'..='\u{024F}').contains(&character)
            && let Some(letters) = latin(single_uppercase(character), options)
        {
            writer.push(letters)?;
            continue;
        }
        match character {
            '\u{0400}'..='\u{04FF}' => {
                let upper = single_uppercase(character);
                match cyrillic(upper, options.cyrillic, writer.word_start) {
                    Some(letters) => writer.push(letters)?,
                    None => return Err(MrzError::NoTransliteration { field, character }),
                }
                continue;
            }
            '\u{0600}'..='\u{06FF}' => {
                match arabic(character) {
                    Some(Arabic::Letter(letters)) => writer.push(letters)?,
                    Some(Arabic::TaMarbuta) => {
                        let letters: &[u8] = if ends_component(characters.clone()) {
                            b"XAH"
                        } else {
                            b"XTA"
                        };
                        writer.push(letters)?;
                    }
                    Some(Arabic::Shadda) => writer.repeat_last()?,
                    Some(Arabic::Omitted) => {}
                    None => return Err(MrzError::NoTransliteration { field, character }),
                }
                continue;
            }
            _ => {}
        }
        if is_combining_mark(character) {
            if !composed {
                return Ok(Pass::NeedsComposition);
            }
            continue; // a mark with no precomposed letter: the base letter stands alone
        }
        if is_separator(character) {
            writer.separate();
            continue;
        }
        if is_apostrophe(character) || is_omitted_punctuation(character) {
            continue;
        }
        if character.is_numeric() {
            return Err(MrzError::DigitInName { field, character });
        }
        if character == 'ß' {
            writer.push(b"SS")?;
            continue;
        }
        let upper = single_uppercase(character);
        if upper.is_ascii_alphabetic() {
            writer.push(&[upper as u8])?;
        } else if let Some(letters) = latin(upper, options) {
            writer.push(letters)?;
        } else {
            // Fallback: a Latin letter absent from the table whose NFD form is an ASCII
            // letter plus combining marks (Romanian `Ș`, `Ț`, Vietnamese letters, ...).
            let mut base = None;
            for part in character.nfd() {
                if base.is_none() && part.is_ascii_alphabetic() {
                    base = Some(part.to_ascii_uppercase() as u8);
                } else if !is_combining_mark(part) {
                    base = None;
                    break;
                }
            }
            match base {
                Some(letter) => writer.push(&[letter])?,
                None => return Err(MrzError::NoTransliteration { field, character }),
            }
        }
    }
    Ok(Pass::Done)
}

/// The upper-case form of a character when it is a single character, else the character itself.
fn single_uppercase(character: char) -> char {
    let mut upper = character.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(single), None) => single,
        _ => character,
    }
}
