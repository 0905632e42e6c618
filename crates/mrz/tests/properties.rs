//! Property tests: parse(build(fields)) gives back the normalised fields; parse never panics
//! (the same invariant checker as the cargo-fuzz target `fuzz/fuzz_targets/mrz_parse.rs`).

use proptest::prelude::*;
use travdoc_mrz::{
    BuildOptions, CountryCode, DocumentCode, DocumentNumber, Format, ICAO_ADDITIONAL_CODES,
    ISO_3166_ALPHA_3, MrzDate, MrzFields, Name, OptionalData, Sex, Transliteration, Truncation,
    fuzzing::check_parse_invariants, parse,
};

fn format() -> impl Strategy<Value = Format> {
    prop::sample::select(Format::ALL.to_vec())
}

fn document_code(format: Format) -> BoxedStrategy<DocumentCode> {
    let codes: Vec<&str> = match format {
        Format::Td3 => vec![
            "P", "PP", "PE", "PD", "PO", "PR", "PT", "PS", "PL", "PM", "PU",
        ],
        Format::Td2 => vec!["I", "A", "C", "ID", "AC", "PU"],
        Format::Td1 => vec!["I", "A", "C", "ID", "AC"],
        Format::MrvA | Format::MrvB => vec!["V", "VA", "VX"],
    };
    prop::sample::select(codes)
        .prop_filter_map("valid code", |code| code.parse().ok())
        .boxed()
}

fn country() -> impl Strategy<Value = CountryCode> {
    let all: Vec<&'static str> = ISO_3166_ALPHA_3
        .iter()
        .chain(&ICAO_ADDITIONAL_CODES)
        .copied()
        .collect();
    prop::sample::select(all).prop_filter_map("known", |code| code.parse().ok())
}

/// A name component with accents (each letter maps to at least one MRZ letter).
fn component() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            'a', 'b', 'c', 'd', 'e', 'k', 'm', 'n', 'o', 'r', 's', 't', 'u', 'y', 'z', 'A', 'Q',
            'é', 'ä', 'ö', 'ü', 'ñ', 'ç', 'ø', 'ł', 'ß', 'Å', 'Ž', 'Ș', 'д', 'ж', 'щ', 'я',
        ]),
        1..10,
    )
    .prop_map(|letters| letters.into_iter().collect())
}

fn identifier(min: usize) -> impl Strategy<Value = String> {
    (
        prop::collection::vec(component(), min..4),
        prop::sample::select(vec![" ", "-", ", ", "  "]),
    )
        .prop_map(|(components, separator)| components.join(separator))
}

fn date() -> impl Strategy<Value = MrzDate> {
    (
        1900u16..2100,
        prop::option::weighted(0.9, 1u8..=12),
        any::<bool>(),
        1u8..=31,
    )
        .prop_filter_map("existing date", |(year, month, day_known, day)| {
            let day = (month.is_some() && day_known).then_some(day);
            MrzDate::new(year, month, day).ok()
        })
}

fn alphanumeric(min: usize, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".to_vec()),
        min..=max,
    )
    .prop_map(|bytes| bytes.into_iter().map(char::from).collect())
}

prop_compose! {
    fn fields()(format in format())(
        format in Just(format),
        document_code in document_code(format),
        issuing_state in country(),
        surname in identifier(1),
        given_names in identifier(0),
        number in alphanumeric(1, format.max_document_number()),
        nationality in country(),
        birth_date in date(),
        sex in prop::sample::select(vec![Sex::Female, Sex::Male, Sex::Unspecified]),
        expiry_date in date(),
        optional in alphanumeric(0, format.optional_data_width()),
        optional_2 in alphanumeric(0, format.optional_data_2_width()),
        umlaut_plain in any::<bool>(),
    ) -> (MrzFields, Transliteration) {
        let mut transliteration = Transliteration::default();
        if umlaut_plain {
            transliteration.umlaut = travdoc_mrz::Umlaut::Plain;
        }
        // Leave room for the overflow of a long number (its remainder, check digit and a filler).
        let optional = if number.len() > 9 {
            let room = format.optional_data_width().saturating_sub(number.len() - 9 + 2);
            optional.chars().take(room).collect()
        } else {
            optional
        };
        let name = Name::new(&surname, &given_names, &transliteration).unwrap_or_else(|error| panic!("{surname:?} {given_names:?}: {error}"));
        let fields = MrzFields {
            format,
            document_code,
            issuing_state,
            name,
            document_number: number.parse::<DocumentNumber>().unwrap_or_else(|error| panic!("{error}")),
            nationality,
            birth_date,
            sex,
            expiry_date,
            optional_data: optional.parse::<OptionalData>().unwrap_or_else(|error| panic!("{error}")),
            optional_data_2: optional_2.parse::<OptionalData>().unwrap_or_else(|error| panic!("{error}")),
        };
        (fields, transliteration)
    }
}

fn is_prefix_sequence(written: &str, full: &str) -> bool {
    let written: Vec<&str> = written.split(' ').filter(|part| !part.is_empty()).collect();
    let full: Vec<&str> = full.split(' ').filter(|part| !part.is_empty()).collect();
    written.len() <= full.len()
        && written
            .iter()
            .zip(&full)
            .all(|(part, whole)| !part.is_empty() && whole.starts_with(part))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_of_build_gives_back_the_normalised_fields(
        (fields, _transliteration) in fields(),
        truncation in prop::sample::select(vec![Truncation::Initials, Truncation::Cut]),
    ) {
        let mrz = fields.build(truncation).unwrap_or_else(|error| panic!("{fields:?}: {error}"));
        let text = mrz.to_string();
        let parsed = parse(&text).unwrap_or_else(|error| panic!("{text}: {error}"));
        prop_assert_eq!(parsed.format, fields.format);
        prop_assert!(parsed.is_valid(), "{}\n{:?}\n{:?}", text, parsed.checks, parsed.problems());
        let mut expected = fields.normalised();
        if mrz.name_truncated() {
            prop_assert!(parsed.name_possibly_truncated);
            prop_assert!(is_prefix_sequence(&parsed.data.primary_identifier, &expected.primary_identifier));
            prop_assert!(is_prefix_sequence(&parsed.data.secondary_identifier, &expected.secondary_identifier));
            expected.primary_identifier = parsed.data.primary_identifier.clone();
            expected.secondary_identifier = parsed.data.secondary_identifier.clone();
        }
        prop_assert_eq!(&parsed.data, &expected, "{}", text);
        // Every line has the format's length and only MRZ characters.
        for line in mrz.lines() {
            prop_assert_eq!(line.len(), fields.format.line_length());
            prop_assert!(line.bytes().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'<'));
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in ".{0,200}") {
        prop_assert_eq!(check_parse_invariants(text.as_bytes()), Ok(()));
    }

    #[test]
    fn parse_never_panics_on_mrz_shaped_text(
        lines in prop::sample::select(vec![(3usize, 30usize), (2, 36), (2, 44), (2, 30), (3, 44), (1, 88), (1, 90), (1, 72)])
            .prop_flat_map(|(count, length)| prop::collection::vec(
                prop::collection::vec(prop::sample::select(b"ABCPVIUXO0123456789<<<<<<<".to_vec()), length..=length),
                count..=count,
            )),
    ) {
        let text = lines
            .iter()
            .map(|line| line.iter().map(|&byte| char::from(byte)).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n");
        prop_assert_eq!(check_parse_invariants(text.as_bytes()), Ok(()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(check_parse_invariants(&bytes), Ok(()));
    }

    #[test]
    fn building_from_arbitrary_strings_never_panics(
        surname in ".{0,80}", given in ".{0,80}", number in ".{0,30}", date in ".{0,12}", code in ".{0,4}",
    ) {
        let input = travdoc_mrz::MrzInput {
            format: "TD1", document_code: &code, issuing_state: "UTO", surname: &surname, given_names: &given,
            document_number: &number, nationality: "UTO", birth_date: &date, sex: "F", expiry_date: "2030-01-01",
            optional_data: &number, optional_data_2: "",
        };
        let _ = input.build(&BuildOptions::default());
    }
}
