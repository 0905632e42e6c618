//! Every entry of the ICAO 9303 Part 3 transliteration tables as given in the project notes
//! (§1.12 A, B, C), table-driven, plus the name punctuation rules (§1.10).

use travdoc_mrz::{CyrillicLanguage, MrzError, Name, Transliteration};

fn mrz(input: &str, options: &Transliteration) -> String {
    Name::new(input, "", options)
        .unwrap_or_else(|error| panic!("{input:?}: {error}"))
        .primary()
        .to_owned()
}

/// Each character in the first column maps to the second with the default options, upper and
/// lower case alike.
const LATIN_DEFAULTS: &[(&str, &str)] = &[
    ("ÀÁÂÃĀĂĄ", "A"),
    ("Ä", "AE"),
    ("Å", "AA"),
    ("Æ", "AE"),
    ("ÇĆĈĊČ", "C"),
    ("ÐĎĐ", "D"),
    ("ÈÉÊËĒĔĖĘĚ", "E"),
    ("ĜĞĠĢ", "G"),
    ("ĤĦ", "H"),
    ("ÌÍÎÏĨĪĬĮİı", "I"),
    ("Ĳ", "IJ"),
    ("Ĵ", "J"),
    ("Ķ", "K"),
    ("ĹĻĽĿŁ", "L"),
    ("Ñ", "N"),
    ("ŃŅŇŊ", "N"),
    ("ÒÓÔÕŌŎŐ", "O"),
    ("Ö", "OE"),
    ("Ø", "OE"),
    ("Œ", "OE"),
    ("ŔŖŘ", "R"),
    ("ŚŜŞŠ", "S"),
    ("ẞ", "SS"),
    ("ß", "SS"),
    ("ŢŤŦ", "T"),
    ("Þ", "TH"),
    ("ÙÚÛŨŪŬŮŰŲ", "U"),
    ("Ü", "UE"),
    ("Ŵ", "W"),
    ("ÝŶŸ", "Y"),
    ("ŹŻŽ", "Z"),
];

#[test]
fn latin_table_defaults_upper_and_lower_case() {
    let options = Transliteration::default();
    for (characters, expected) in LATIN_DEFAULTS {
        for character in characters.chars() {
            let upper: String = character.to_uppercase().collect();
            let lower: String = character.to_lowercase().collect();
            for form in [character.to_string(), upper, lower] {
                // Between ASCII letters so that the mapping sits inside a component.
                let input = format!("b{form}b");
                assert_eq!(
                    mrz(&input, &options),
                    format!("B{expected}B"),
                    "{character} ({form})"
                );
            }
        }
    }
}

#[test]
fn latin_alternatives_per_call() {
    type Settings = &'static [(&'static str, &'static str)];
    let cases: &[(Settings, &str, &str)] = &[
        (&[("umlaut", "A")], "Ä", "A"),
        (&[("umlaut", "A")], "Ö", "O"),
        (&[("umlaut", "A")], "Ü", "U"),
        (&[("umlaut", "AE")], "Ä", "AE"),
        (&[("u_umlaut", "UXX")], "Ü", "UXX"),
        (&[("u_umlaut", "U")], "Ü", "U"),
        (&[("umlaut", "A"), ("u_umlaut", "UE")], "Ü", "UE"),
        (&[("a_ring", "A")], "Å", "A"),
        (&[("a_ring", "AA")], "Å", "AA"),
        (&[("n_tilde", "NXX")], "Ñ", "NXX"),
        (&[("n_tilde", "N")], "Ñ", "N"),
    ];
    for (settings, input, expected) in cases {
        let mut options = Transliteration::default();
        for (option, value) in *settings {
            options.set(option, value).expect("known option");
        }
        assert_eq!(mrz(input, &options), *expected, "{settings:?} {input}");
    }
}

#[test]
fn appendix_b_example_canxxon() {
    let mut options = Transliteration::default();
    options.set("n_tilde", "NXX").expect("known option");
    let name = Name::new("CAÑON", "Térèsa", &options).expect("name");
    assert_eq!((name.primary(), name.secondary()), ("CANXXON", "TERESA"));
}

#[test]
fn latin_letters_outside_the_table_fall_back_to_their_base_letter() {
    let options = Transliteration::default();
    // Romanian comma-below letters are not in the ICAO table; the cedilla forms are.
    assert_eq!(mrz("Ștefănescu", &options), "STEFANESCU");
    assert_eq!(mrz("Țuțea", &options), "TUTEA");
    assert_eq!(mrz("Nguyễn", &options), "NGUYEN");
    // Decomposed input is composed first, so the table (not the fallback) decides.
    assert_eq!(mrz("Mu\u{0308}ller", &options), "MUELLER");
}

/// Language exceptions of one Cyrillic letter.
type Exceptions = &'static [(CyrillicLanguage, &'static str)];

/// (character, default, [(language, exception)]) from notes §1.12 B.
const CYRILLIC: &[(char, &str, Exceptions)] = {
    use CyrillicLanguage::{Belarusian, Bulgarian, Macedonian, Serbian, Ukrainian};
    &[
        ('А', "A", &[]),
        ('Б', "B", &[]),
        ('В', "V", &[]),
        (
            'Г',
            "G",
            &[(Belarusian, "H"), (Serbian, "H"), (Ukrainian, "H")],
        ),
        ('Ґ', "G", &[]),
        ('Д', "D", &[]),
        ('Ђ', "D", &[]),
        ('Ѓ', "G", &[]),
        ('Е', "E", &[]),
        ('Ё', "E", &[(Belarusian, "IO")]),
        ('Є', "IE", &[]),
        ('Ж', "ZH", &[(Serbian, "Z")]),
        ('З', "Z", &[]),
        ('Ѕ', "DZ", &[]),
        ('И', "I", &[(Ukrainian, "Y")]),
        ('І', "I", &[]),
        ('Ї', "I", &[]),
        ('Й', "I", &[]),
        ('Ј', "J", &[]),
        ('К', "K", &[]),
        ('Ќ', "K", &[(Macedonian, "KJ")]),
        ('Л', "L", &[]),
        ('Љ', "LJ", &[]),
        ('М', "M", &[]),
        ('Н', "N", &[]),
        ('Њ', "NJ", &[]),
        ('О', "O", &[]),
        ('П', "P", &[]),
        ('Р', "R", &[]),
        ('С', "S", &[]),
        ('Т', "T", &[]),
        ('У', "U", &[]),
        ('Ў', "U", &[]),
        ('Ф', "F", &[]),
        ('Х', "KH", &[(Serbian, "H"), (Macedonian, "H")]),
        ('Ц', "TS", &[(Serbian, "C"), (Macedonian, "C")]),
        ('Ч', "CH", &[(Serbian, "C")]),
        ('Џ', "DZ", &[(Macedonian, "DJ")]),
        ('Ш', "SH", &[(Serbian, "S")]),
        ('Щ', "SHCH", &[(Bulgarian, "SHT")]),
        ('Ъ', "IE", &[]),
        ('Ы', "Y", &[]),
        ('Ь', "", &[]),
        ('Э', "E", &[]),
        ('Ю', "IU", &[]),
        ('Я', "IA", &[]),
        ('Ѫ', "U", &[]),
        ('Ѵ', "Y", &[]),
        ('Ғ', "G", &[(Macedonian, "GJ")]),
        ('Һ', "C", &[]),
    ]
};

fn with_language(language: CyrillicLanguage) -> Transliteration {
    Transliteration {
        cyrillic: language,
        ..Transliteration::default()
    }
}

#[test]
fn cyrillic_table_inside_a_word_every_language() {
    use CyrillicLanguage::{Belarusian, Bulgarian, Generic, Macedonian, Serbian, Ukrainian};
    for (character, default, exceptions) in CYRILLIC {
        for language in [
            Generic, Belarusian, Bulgarian, Macedonian, Serbian, Ukrainian,
        ] {
            let expected = exceptions
                .iter()
                .find(|(exception_language, _)| *exception_language == language)
                .map_or(*default, |(_, value)| *value);
            let options = with_language(language);
            for form in [
                *character,
                character.to_lowercase().next().unwrap_or(*character),
            ] {
                // Inside a word (after А), so word-initial rules do not apply.
                let input = format!("А{form}А");
                assert_eq!(
                    mrz(&input, &options),
                    format!("A{expected}A"),
                    "{character} {language:?}"
                );
            }
        }
    }
}

#[test]
fn ukrainian_word_initial_exceptions() {
    let ukrainian = with_language(CyrillicLanguage::Ukrainian);
    let generic = Transliteration::default();
    for (character, initial, inside) in [
        ('Є', "YE", "IE"),
        ('Ї', "YI", "I"),
        ('Й', "Y", "I"),
        ('Ю', "YU", "IU"),
        ('Я', "YA", "IA"),
    ] {
        assert_eq!(
            mrz(&format!("{character}А"), &ukrainian),
            format!("{initial}A")
        );
        assert_eq!(
            mrz(&format!("А{character}"), &ukrainian),
            format!("A{inside}")
        );
        // Each component of a name starts a word.
        assert_eq!(
            mrz(&format!("А {character}А"), &ukrainian),
            format!("A<{initial}A")
        );
        assert_eq!(
            mrz(&format!("{character}А"), &generic),
            format!("{inside}A")
        );
    }
}

#[test]
fn cyrillic_names() {
    assert_eq!(mrz("Щербаков", &Transliteration::default()), "SHCHERBAKOV");
    assert_eq!(mrz("Игорь", &Transliteration::default()), "IGOR");
    assert_eq!(mrz("Юлия", &Transliteration::default()), "IULIIA");
    let ukrainian = with_language(CyrillicLanguage::Ukrainian);
    assert_eq!(mrz("Юлія Григоренко", &ukrainian), "YULIIA<HRYHORENKO");
}

/// Notes §1.12 C: (letter, transliteration); ة is tested separately.
const ARABIC: &[(char, &str)] = &[
    ('ء', "XE"),
    ('آ', "XAA"),
    ('أ', "XAE"),
    ('ؤ', "U"),
    ('إ', "I"),
    ('ئ', "XI"),
    ('ا', "A"),
    ('ب', "B"),
    ('ت', "T"),
    ('ث', "XTH"),
    ('ج', "J"),
    ('ح', "XH"),
    ('خ', "XKH"),
    ('د', "D"),
    ('ذ', "XDH"),
    ('ر', "R"),
    ('ز', "Z"),
    ('س', "S"),
    ('ش', "XSH"),
    ('ص', "XSS"),
    ('ض', "XDZ"),
    ('ط', "XTT"),
    ('ظ', "XZZ"),
    ('ع', "E"),
    ('غ', "G"),
    ('ف', "F"),
    ('ق', "Q"),
    ('ك', "K"),
    ('ل', "L"),
    ('م', "M"),
    ('ن', "N"),
    ('ه', "H"),
    ('و', "W"),
    ('ى', "XAY"),
    ('ي', "Y"),
    ('ٱ', "XXA"),
    ('ٹ', "XXT"),
    ('ټ', "XRT"),
    ('پ', "P"),
    ('ځ', "XKE"),
    ('څ', "XXH"),
    ('چ', "XC"),
    ('ڈ', "XXD"),
    ('ډ', "XDR"),
    ('ڑ', "XXR"),
    ('ړ', "XRR"),
    ('ږ', "XRX"),
    ('ژ', "XJ"),
    ('ښ', "XXS"),
    ('ک', "XKK"),
    ('ګ', "XXK"),
    ('ڭ', "XNG"),
    ('گ', "XGG"),
    ('ں', "XNN"),
    ('ڼ', "XXN"),
    ('ھ', "XDO"),
    ('ۀ', "XYH"),
    ('ہ', "XXG"),
    ('ۂ', "XGE"),
    ('ۃ', "XTG"),
    ('ی', "XYA"),
    ('ۍ', "XXY"),
    ('ې', "Y"),
    ('ے', "XYB"),
    ('ۓ', "XBE"),
];

#[test]
fn arabic_table() {
    let options = Transliteration::default();
    assert_eq!(ARABIC.len(), 65);
    for (letter, expected) in ARABIC {
        assert_eq!(
            mrz(&format!("ب{letter}ب"), &options),
            format!("B{expected}B"),
            "{letter}"
        );
    }
}

#[test]
fn arabic_ta_marbuta_shadda_and_omitted_marks() {
    let options = Transliteration::default();
    // ة: XAH as the last letter of a component, XTA inside it.
    assert_eq!(mrz("فاطمة", &options), "FAXTTMXAH");
    assert_eq!(mrz("ةب", &options), "XTAB");
    assert_eq!(mrz("بة ب", &options), "BXAH<B");
    // A vowel mark after the final ة does not make it non-final.
    assert_eq!(mrz("بةُ", &options), "BXAH");
    // Shadda doubles the letter before it (Unicode logical order), even after a vowel mark.
    assert_eq!(mrz("محمّد", &options), "MXHMMD");
    assert_eq!(mrz("محمَّد", &options), "MXHMMD");
    assert_eq!(mrz("بشّ", &options), "BXSHXSH");
    // Tatweel, harakat, sukun, superscript alef and the four unencoded letters are omitted.
    for omitted in [
        '\u{0640}', '\u{064B}', '\u{064C}', '\u{064D}', '\u{064E}', '\u{064F}', '\u{0650}',
        '\u{0652}', '\u{0670}', '\u{069C}', '\u{06A2}', '\u{06A7}', '\u{06A8}',
    ] {
        assert_eq!(
            mrz(&format!("ب{omitted}ب"), &options),
            "BB",
            "U+{:04X}",
            u32::from(omitted)
        );
    }
}

#[test]
fn name_punctuation_rules() {
    let options = Transliteration::default();
    let name = |primary: &str, secondary: &str| {
        let name = Name::new(primary, secondary, &options).expect("name");
        (name.primary().to_owned(), name.secondary().to_owned())
    };
    // Apostrophes dropped without a filler.
    assert_eq!(name("D'Artagnan", "").0, "DARTAGNAN");
    assert_eq!(name("O\u{2019}Connor", "").0, "OCONNOR");
    // Hyphen: a single filler.
    assert_eq!(
        name("Smith-Jones", "Marie-Elise"),
        ("SMITH<JONES".into(), "MARIE<ELISE".into())
    );
    // Comma between components: one filler; spaces collapse.
    assert_eq!(name("van  der Muellen", "Anna,  Maria ").1, "ANNA<MARIA");
    assert_eq!(name("van  der Muellen", "").0, "VAN<DER<MUELLEN");
    // Other punctuation omitted.
    assert_eq!(name("St. John", "J.R.R.").0, "ST<JOHN");
    assert_eq!(name("St. John", "J.R.R.").1, "JRR");
    // Several given names, accents.
    assert_eq!(name("Eriksson", "Anna María Lovisa").1, "ANNA<MARIA<LOVISA");
}

#[test]
fn untransliterable_and_digits_are_errors_naming_the_character() {
    let options = Transliteration::default();
    for (input, character) in [("Ћирић", 'Ћ'), ("王", '王'), ("Σμίθ", 'Σ'), ("ĸa", 'ĸ')]
    {
        assert_eq!(
            Name::new(input, "", &options),
            Err(MrzError::NoTransliteration {
                field: travdoc_mrz::Field::Surname,
                character
            }),
            "{input}"
        );
    }
    let error = Name::new("Smith", "Henry 8", &options).expect_err("digit");
    assert_eq!(error.code(), "digit_in_name");
    assert_eq!(error.field(), "given_names");
    assert!(error.to_string().contains('8'));
}
