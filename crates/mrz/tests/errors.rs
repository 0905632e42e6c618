//! Every error path: the variant, its field and its stable code.

use travdoc_mrz::{
    BuildOptions, DocumentNumber, Format, MrzDate, MrzError, MrzInput, OptionalData,
    Transliteration, Truncation, parse,
};

fn base() -> MrzInput<'static> {
    MrzInput {
        format: "TD3",
        document_code: "PP",
        issuing_state: "UTO",
        surname: "Eriksson",
        given_names: "Anna María",
        document_number: "L898902C3",
        nationality: "UTO",
        birth_date: "1974-08-12",
        sex: "F",
        expiry_date: "2012-04-15",
        optional_data: "ZE184226B",
        optional_data_2: "",
    }
}

fn error(input: MrzInput<'_>) -> MrzError {
    match input.build(&BuildOptions::default()) {
        Ok(mrz) => panic!("expected an error, built {mrz}"),
        Err(error) => error,
    }
}

fn assert_error(input: MrzInput<'_>, code: &str, field: &str) {
    let error = error(input);
    assert_eq!((error.code(), error.field()), (code, field), "{error}");
    assert!(!error.to_string().is_empty());
}

#[test]
fn the_base_input_builds() {
    assert!(base().build(&BuildOptions::default()).is_ok());
}

#[test]
fn format_errors() {
    assert_error(
        MrzInput {
            format: "TD4",
            ..base()
        },
        "unknown_format",
        "format",
    );
    assert_error(
        MrzInput {
            format: "",
            ..base()
        },
        "unknown_format",
        "format",
    );
}

#[test]
fn missing_fields_name_the_field() {
    assert_error(
        MrzInput {
            document_code: "",
            ..base()
        },
        "missing_field",
        "document_code",
    );
    assert_error(
        MrzInput {
            issuing_state: " ",
            ..base()
        },
        "missing_field",
        "issuing_state",
    );
    assert_error(
        MrzInput {
            surname: "",
            ..base()
        },
        "missing_field",
        "surname",
    );
    assert_error(
        MrzInput {
            surname: "' - .",
            ..base()
        },
        "missing_field",
        "surname",
    );
    assert_error(
        MrzInput {
            document_number: "",
            ..base()
        },
        "missing_field",
        "document_number",
    );
    assert_error(
        MrzInput {
            document_number: "<<-",
            ..base()
        },
        "missing_field",
        "document_number",
    );
    assert_error(
        MrzInput {
            nationality: "",
            ..base()
        },
        "missing_field",
        "nationality",
    );
    assert_error(
        MrzInput {
            birth_date: "",
            ..base()
        },
        "missing_field",
        "birth_date",
    );
    assert_error(MrzInput { sex: "", ..base() }, "missing_field", "sex");
    assert_error(
        MrzInput {
            expiry_date: "",
            ..base()
        },
        "missing_field",
        "expiry_date",
    );
}

#[test]
fn country_codes() {
    assert_error(
        MrzInput {
            issuing_state: "QQQ",
            ..base()
        },
        "unknown_country_code",
        "issuing_state",
    );
    assert_error(
        MrzInput {
            nationality: "ZZZZ",
            ..base()
        },
        "unknown_country_code",
        "nationality",
    );
    assert_error(
        MrzInput {
            nationality: "U1O",
            ..base()
        },
        "unknown_country_code",
        "nationality",
    );
    // IAO is only for master lists.
    assert_error(
        MrzInput {
            issuing_state: "IAO",
            ..base()
        },
        "unknown_country_code",
        "issuing_state",
    );
    for code in [
        "D", "D<<", "XXA", "XXB", "XXC", "XXX", "UNO", "UNA", "UNK", "EUE", "GBD", "GBN", "GBO",
        "GBS", "GBP", "RKS", "LKA", "deu", "UTO",
    ] {
        let input = MrzInput {
            issuing_state: code,
            nationality: code,
            ..base()
        };
        assert!(input.build(&BuildOptions::default()).is_ok(), "{code}");
    }
}

#[test]
fn country_code_tables_are_complete_and_sorted() {
    assert_eq!(travdoc_mrz::ISO_3166_ALPHA_3.len(), 249);
    assert!(
        travdoc_mrz::ISO_3166_ALPHA_3
            .windows(2)
            .all(|pair| pair[0] < pair[1])
    );
    assert!(
        travdoc_mrz::ICAO_ADDITIONAL_CODES
            .windows(2)
            .all(|pair| pair[0] < pair[1])
    );
    for code in travdoc_mrz::ISO_3166_ALPHA_3
        .iter()
        .chain(&travdoc_mrz::ICAO_ADDITIONAL_CODES)
    {
        assert!(code.parse::<travdoc_mrz::CountryCode>().is_ok(), "{code}");
    }
}

#[test]
fn document_codes() {
    assert_error(
        MrzInput {
            document_code: "X",
            ..base()
        },
        "invalid_document_code",
        "document_code",
    );
    assert_error(
        MrzInput {
            document_code: "PPP",
            ..base()
        },
        "invalid_document_code",
        "document_code",
    );
    assert_error(
        MrzInput {
            document_code: "P1",
            ..base()
        },
        "invalid_document_code",
        "document_code",
    );
    for (format, code) in [
        ("TD3", "I"),
        ("TD3", "PX"),
        ("TD3", "V"),
        ("TD1", "P"),
        ("TD1", "PU"),
        ("TD1", "IV"),
        ("TD1", "AI"),
        ("TD2", "PP"),
        ("TD2", "CV"),
        ("MRV-A", "P"),
        ("MRV-B", "I"),
    ] {
        let input = MrzInput {
            format,
            document_code: code,
            document_number: "D23145890",
            optional_data: "",
            ..base()
        };
        assert_error(input, "document_code_not_allowed", "document_code");
    }
    for (format, code) in [
        ("TD2", "PU"),
        ("TD2", "I"),
        ("TD1", "AC"),
        ("TD1", "ID"),
        ("MRV-A", "VX"),
    ] {
        let input = MrzInput {
            format,
            document_code: code,
            document_number: "D23145890",
            optional_data: "",
            ..base()
        };
        assert!(
            input.build(&BuildOptions::default()).is_ok(),
            "{format} {code}"
        );
    }
}

#[test]
fn document_numbers() {
    assert_error(
        MrzInput {
            document_number: "AB€12",
            ..base()
        },
        "invalid_character",
        "document_number",
    );
    // A 10-character TD3 number: TD3 has no overflow.
    let too_long = error(MrzInput {
        document_number: "L898902C3X",
        ..base()
    });
    assert_eq!(
        too_long,
        MrzError::DocumentNumberTooLong {
            format: Format::Td3,
            length: 10,
            max: 9
        }
    );
    assert!(too_long.to_string().contains("no overflow"));
    assert_error(
        MrzInput {
            format: "MRV-B",
            document_code: "V",
            document_number: "L898902C3X",
            optional_data: "",
            ..base()
        },
        "document_number_too_long",
        "document_number",
    );
    assert_error(
        MrzInput {
            format: "TD2",
            document_code: "I",
            document_number: "ABCDEFGHIJKLMNOP",
            optional_data: "",
            ..base()
        },
        "document_number_too_long",
        "document_number",
    );
    assert_error(
        MrzInput {
            format: "TD1",
            document_code: "I",
            document_number: "ABCDEFGHIJKLMNOPQRSTUVWX",
            optional_data: "",
            ..base()
        },
        "document_number_too_long",
        "document_number",
    );
    assert_error(
        MrzInput {
            format: "TD1",
            document_code: "I",
            document_number: "D23145890 73",
            optional_data: "",
            ..base()
        },
        "invalid_document_number",
        "document_number",
    );
    assert!(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            .parse::<DocumentNumber>()
            .is_err()
    );
    assert_eq!(
        "ab 12-3"
            .parse::<DocumentNumber>()
            .map(|number| number.to_string()),
        Ok("AB<12<3".to_owned())
    );
}

#[test]
fn optional_data() {
    assert_error(
        MrzInput {
            optional_data: "Ä",
            ..base()
        },
        "invalid_character",
        "optional_data",
    );
    assert_error(
        MrzInput {
            optional_data: "123456789012345",
            ..base()
        },
        "optional_data_too_long",
        "optional_data",
    );
    assert_error(
        MrzInput {
            optional_data: "12345678901234567",
            ..base()
        },
        "optional_data_too_long",
        "optional_data",
    );
    assert_error(
        MrzInput {
            optional_data_2: "X",
            ..base()
        },
        "field_not_in_format",
        "optional_data_2",
    );
    assert_error(
        MrzInput {
            format: "TD1",
            document_code: "I",
            optional_data: "",
            optional_data_2: "123456789012",
            ..base()
        },
        "optional_data_too_long",
        "optional_data_2",
    );
    // TD2 overflow: the number's remainder, its check digit and a filler leave 7 - 5 = 2.
    assert_error(
        MrzInput {
            format: "TD2",
            document_code: "I",
            document_number: "D231458907AB",
            optional_data: "123",
            ..base()
        },
        "optional_data_too_long",
        "optional_data",
    );
    assert!(OptionalData::parse_for("AB-12", travdoc_mrz::Field::OptionalData).is_ok());
}

#[test]
fn dates() {
    for (value, field) in [
        ("1974-13-01", "birth_date"),
        ("1974-02-30", "birth_date"),
        ("2023-02-29", "birth_date"),
        ("1974/08/12", "birth_date"),
        ("74-08-12", "birth_date"),
        ("1974-XX-12", "birth_date"),
        ("1974-08-00", "birth_date"),
        ("YYYY-08-12", "birth_date"),
    ] {
        assert_error(
            MrzInput {
                birth_date: value,
                ..base()
            },
            "invalid_date",
            field,
        );
    }
    assert_error(
        MrzInput {
            expiry_date: "2012-04-31",
            ..base()
        },
        "invalid_date",
        "expiry_date",
    );
    assert!("2024-02-29".parse::<MrzDate>().is_ok());
    assert!("2000-02-29".parse::<MrzDate>().is_ok());
    assert!("1900-02-29".parse::<MrzDate>().is_err());
}

#[test]
fn sex() {
    assert_error(MrzInput { sex: "Q", ..base() }, "invalid_sex", "sex");
    assert_error(
        MrzInput {
            sex: "FM",
            ..base()
        },
        "invalid_sex",
        "sex",
    );
}

#[test]
fn names() {
    assert_error(
        MrzInput {
            given_names: "Ћ",
            ..base()
        },
        "no_transliteration",
        "given_names",
    );
    assert_error(
        MrzInput {
            surname: "Smith 3rd",
            ..base()
        },
        "digit_in_name",
        "surname",
    );
    let huge = "A".repeat(300);
    assert_error(
        MrzInput {
            surname: &huge,
            ..base()
        },
        "name_too_long",
        "surname",
    );
    // 16 one-letter components (31 characters) cannot be cut to 30 ending in a letter.
    let initials = "A B C D E F G H I J K L M N O P";
    for strategy in [Truncation::Initials, Truncation::Cut] {
        let input = MrzInput {
            format: "TD1",
            document_code: "I",
            surname: initials,
            given_names: "",
            optional_data: "",
            ..base()
        };
        let options = BuildOptions {
            transliteration: Transliteration::default(),
            truncation: strategy,
        };
        let error = input.build(&options).expect_err("cannot truncate");
        assert_eq!(
            (error.code(), error.field()),
            ("name_cannot_be_truncated", "name")
        );
    }
}

#[test]
fn options() {
    let mut options = Transliteration::default();
    for (option, value) in [
        ("umlaut", "OE"),
        ("u_umlaut", "X"),
        ("a_ring", "AAA"),
        ("n_tilde", "NX"),
        ("cyrillic", "klingon"),
        ("colour", "AE"),
    ] {
        let error = options.set(option, value).expect_err("rejected");
        assert_eq!(
            (error.code(), error.field()),
            ("invalid_option", "transliteration")
        );
        assert!(error.to_string().contains(value));
    }
    assert_eq!(
        options,
        Transliteration::default(),
        "failed sets change nothing"
    );
    let error = Truncation::parse("middle").expect_err("rejected");
    assert_eq!(error.code(), "invalid_option");
}

#[test]
fn parse_errors() {
    let specimen_line_1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    let specimen_line_2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    for (text, code) in [
        ("", "invalid_line_count"),
        ("   \n \n", "invalid_line_count"),
        (specimen_line_1, "invalid_line_count"),
        ("A\nB\nC\nD", "invalid_line_count"),
        ("ABC\nDEF", "invalid_line_length"),
        (
            &format!("{specimen_line_1}\n{}", &specimen_line_2[..36]),
            "invalid_line_length",
        ),
        (
            &format!("{specimen_line_1}\n{specimen_line_2}\n{specimen_line_2}"),
            "invalid_line_length",
        ),
        (
            &format!("{}\n{specimen_line_2}", specimen_line_1.replace('E', "e")),
            "invalid_mrz_character",
        ),
        (
            &format!(
                "{}\n{specimen_line_2}",
                specimen_line_1.replacen('A', "Ä", 1)
            ),
            "invalid_line_length",
        ),
        (
            &format!(
                "{}\n{specimen_line_2}",
                specimen_line_1.replacen("AN", "Ä", 1)
            ),
            "invalid_mrz_character",
        ),
    ] {
        let error = parse(text).expect_err("rejected");
        assert_eq!(
            (error.code(), error.field()),
            (code, "mrz"),
            "{text:?}: {error}"
        );
    }
    let error = parse(&format!(
        "{}\n{specimen_line_2}",
        specimen_line_1.replace('E', "e")
    ))
    .expect_err("rejected");
    assert_eq!(
        error,
        MrzError::InvalidMrzCharacter {
            line: 1,
            position: 6,
            character: 'e'
        }
    );
}

#[test]
fn parsed_field_problems_make_an_mrz_invalid() {
    // Valid check digits but an unknown country and an impossible month.
    let line_1 = "P<QQQERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    let parsed = parse(&format!(
        "{line_1}\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
    ))
    .expect("parses");
    assert!(parsed.checks.iter().all(|check| check.valid));
    let codes: Vec<(&str, &str)> = parsed
        .problems()
        .iter()
        .map(|error| (error.code(), error.field()))
        .collect();
    assert_eq!(codes, [("unknown_country_code", "issuing_state")]);
    assert!(!parsed.is_valid());
}
