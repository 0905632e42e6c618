//! ICAO specimens: every MRZ in `shared/vectors/mrz/icao_specimens.json` is parsed, rebuilt from
//! the parsed fields byte for byte, and the main specimens are also built from hand-written
//! fields.

use travdoc_mrz::{BuildOptions, CheckKind, Format, MrzInput, Truncation, check_digit, parse};

const SPECIMENS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/mrz/icao_specimens.json"
);

struct Specimen {
    id: String,
    format: Format,
    lines: Vec<String>,
}

fn specimens() -> Vec<Specimen> {
    let text = std::fs::read_to_string(SPECIMENS).expect("the shared vectors are present");
    let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|entry| Specimen {
            id: entry["id"].as_str().expect("id").to_owned(),
            format: entry["format"]
                .as_str()
                .expect("format")
                .parse()
                .expect("known format"),
            lines: entry["lines"]
                .as_array()
                .expect("lines")
                .iter()
                .map(|line| line.as_str().expect("line").to_owned())
                .collect(),
        })
        .collect()
}

#[test]
fn every_specimen_parses_valid_and_rebuilds_byte_for_byte() {
    let all = specimens();
    assert_eq!(all.len(), 7, "the vector file changed");
    for specimen in all {
        let text = specimen.lines.join("\n");
        let parsed = parse(&text).unwrap_or_else(|error| panic!("{}: {error}", specimen.id));
        assert_eq!(parsed.format, specimen.format, "{}", specimen.id);
        assert!(
            parsed.checks.iter().all(|check| check.valid),
            "{}: {:?}",
            specimen.id,
            parsed.checks
        );
        assert!(
            parsed.problems().is_empty(),
            "{}: {:?}",
            specimen.id,
            parsed.problems()
        );
        assert!(parsed.is_valid());
        let fields = parsed
            .to_fields(2026)
            .unwrap_or_else(|error| panic!("{}: {error}", specimen.id));
        let rebuilt = fields.build(Truncation::default()).expect("rebuilds");
        let lines: Vec<&str> = rebuilt.lines().collect();
        assert_eq!(lines, specimen.lines, "{}", specimen.id);
        // And the rebuilt MRZ parses back to the same fields.
        assert_eq!(
            parse(&rebuilt.to_string()).expect("parses").data,
            parsed.data,
            "{}",
            specimen.id
        );
        assert_eq!(fields.normalised(), parsed.data, "{}", specimen.id);
    }
}

fn build(input: MrzInput<'_>) -> Vec<String> {
    input
        .build(&BuildOptions::default())
        .unwrap_or_else(|error| panic!("{error}"))
        .lines()
        .map(str::to_owned)
        .collect()
}

fn anna(format: &'static str, code: &'static str) -> MrzInput<'static> {
    MrzInput {
        format,
        document_code: code,
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

#[test]
fn td3_specimen_from_hand_written_fields() {
    assert_eq!(
        build(anna("TD3", "P")),
        [
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
        ]
    );
}

#[test]
fn td1_specimen_from_hand_written_fields() {
    let input = MrzInput {
        document_code: "I",
        document_number: "D23145890",
        optional_data: "",
        ..anna("TD1", "I")
    };
    assert_eq!(
        build(input),
        [
            "I<UTOD231458907<<<<<<<<<<<<<<<",
            "7408122F1204159UTO<<<<<<<<<<<6",
            "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"
        ]
    );
}

#[test]
fn td2_specimen_from_hand_written_fields() {
    let input = MrzInput {
        document_number: "D23145890",
        optional_data: "",
        ..anna("TD2", "I")
    };
    assert_eq!(
        build(input),
        [
            "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
            "D231458907UTO7408122F1204159<<<<<<<6"
        ]
    );
}

#[test]
fn single_sheet_etd_pu_from_hand_written_fields() {
    let input = MrzInput {
        document_number: "D23145890",
        optional_data: "",
        expiry_date: "2026-06-27",
        ..anna("TD2", "PU")
    };
    assert_eq!(
        build(input),
        [
            "PUUTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
            "D231458907UTO7408122F2606277<<<<<<<8"
        ]
    );
}

#[test]
fn visa_specimens_from_hand_written_fields() {
    let visa = |format| MrzInput {
        document_number: "L898902C",
        birth_date: "1969-08-06",
        expiry_date: "1994-06-23",
        ..anna(format, "V")
    };
    assert_eq!(
        build(visa("MRV-A")),
        [
            "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
            "L898902C<3UTO6908061F9406236ZE184226B<<<<<<<"
        ]
    );
    let mrv_b = MrzInput {
        optional_data: "ZE184226",
        ..visa("MRV-B")
    };
    assert_eq!(
        build(mrv_b),
        [
            "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
            "L898902C<3UTO6908061F9406236ZE184226"
        ]
    );
}

#[test]
fn german_specimen_with_one_letter_code() {
    let input = MrzInput {
        format: "TD3",
        document_code: "P",
        issuing_state: "D",
        surname: "Mustermann",
        given_names: "Erika",
        document_number: "C11T002JM",
        nationality: "D",
        birth_date: "1996-08-12",
        sex: "F",
        expiry_date: "2023-10-31",
        optional_data: "",
        optional_data_2: "",
    };
    assert_eq!(
        build(input),
        [
            "P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<",
            "C11T002JM4D<<9608122F2310314<<<<<<<<<<<<<<<4"
        ]
    );
}

#[test]
fn appendix_a_check_digit_examples() {
    assert_eq!(check_digit("520727"), Some('3'));
    assert_eq!(check_digit("AB2134<<<"), Some('5'));
    assert_eq!(check_digit("ab"), None);
    let td3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nHA672242<6YTO5802254M9601086<<<<<<<<<<<<<<08";
    // An empty personal number may carry 0 (as here) or < as its check digit.
    // YTO is not a real code: only the check digits are examined here.
    let parsed = parse(td3).expect("parses");
    assert!(
        parsed.checks.iter().all(|check| check.valid),
        "{:?}",
        parsed.checks
    );
    assert_eq!(parsed.data.optional_data, "");
    let td2 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nHA672242<6YTO5802254M9601086<<<<<<<8";
    assert!(
        parse(td2)
            .expect("parses")
            .checks
            .iter()
            .all(|check| check.valid)
    );
    let td1 = "I<YTOD231458907<<<<<<<<<<<<<<<\n3407127M9507122YTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<";
    let parsed = parse(td1).expect("parses");
    assert!(
        parsed.checks.iter().all(|check| check.valid),
        "{:?}",
        parsed.checks
    );
    assert!(!parsed.is_valid(), "YTO is not a known code");
}

#[test]
fn long_document_number_icao_td1_example() {
    let input = MrzInput {
        format: "TD1",
        document_code: "I",
        issuing_state: "UTO",
        surname: "Stevenson",
        given_names: "Peter John",
        document_number: "D23145890734",
        nationality: "UTO",
        birth_date: "1934-07-12",
        sex: "M",
        expiry_date: "1995-07-12",
        optional_data: "",
        optional_data_2: "",
    };
    let lines = build(input);
    assert_eq!(
        lines,
        [
            "I<UTOD23145890<7349<<<<<<<<<<<",
            "3407127M9507122UTO<<<<<<<<<<<2",
            "STEVENSON<<PETER<JOHN<<<<<<<<<"
        ]
    );
    let parsed = parse(&lines.join("\n")).expect("parses");
    assert_eq!(parsed.data.document_number, "D23145890734");
    let number_check = parsed
        .checks
        .iter()
        .find(|check| check.kind == CheckKind::DocumentNumber);
    assert_eq!(
        number_check.map(|check| (check.found, check.valid)),
        Some(('9', true))
    );
    assert!(parsed.is_valid());
}

#[test]
fn long_document_number_with_optional_data_round_trips_in_td1_and_td2() {
    for (format, number, optional) in [
        ("TD1", "D23145890734", "ABC12"),
        ("TD1", "ABCDEFGHIJKLMNOPQRSTUV", ""),
        ("TD2", "D2314589073", "12"),
        ("TD2", "D23145890ABCDE", ""),
    ] {
        let input = MrzInput {
            document_number: number,
            optional_data: optional,
            ..anna(format, "I")
        };
        let mrz = input.build(&BuildOptions::default()).expect("builds");
        let parsed = parse(&mrz.to_string()).expect("parses");
        assert!(parsed.is_valid(), "{format} {number}: {:?}", parsed.checks);
        assert_eq!(parsed.data.document_number, number);
        assert_eq!(parsed.data.optional_data, optional);
    }
}

#[test]
fn unknown_date_parts_become_fillers() {
    for (birth, expected) in [
        ("1974-XX-XX", "74<<<<"),
        ("1974-08-XX", "7408<<"),
        ("1974-08-12", "740812"),
    ] {
        let input = MrzInput {
            birth_date: birth,
            ..anna("TD3", "PP")
        };
        let mrz = input.build(&BuildOptions::default()).expect("builds");
        let second = mrz.line(1).expect("line 2");
        assert_eq!(&second[13..19], expected);
        let check = check_digit(expected).expect("digit");
        assert_eq!(second.as_bytes()[19], check as u8);
        let parsed = parse(&mrz.to_string()).expect("parses");
        assert!(parsed.is_valid(), "{birth}");
        assert_eq!(parsed.data.birth_date, expected);
        let round = parsed.to_fields(2026).expect("fields");
        assert_eq!(round.birth_date.to_string(), birth);
    }
}

#[test]
fn unspecified_sex_is_a_filler_in_the_mrz() {
    for sex in ["X", "<", "x"] {
        let input = MrzInput {
            sex,
            ..anna("TD3", "PP")
        };
        let mrz = input.build(&BuildOptions::default()).expect("builds");
        assert_eq!(&mrz.line(1).expect("line")[20..21], "<");
    }
    // A lenient reader accepts an X found in a real MRZ.
    let with_x = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122X1204159ZE184226B<<<<<10";
    let parsed = parse(with_x).expect("parses");
    assert!(parsed.is_valid());
    assert_eq!(parsed.data.sex, "X");
}

#[test]
fn harmonised_passport_codes_are_accepted_in_td3() {
    for code in [
        "PP", "PE", "PD", "PO", "PR", "PT", "PS", "PL", "PM", "PU", "P",
    ] {
        let mrz = anna("TD3", code).build(&BuildOptions::default());
        assert!(mrz.is_ok(), "{code}: {mrz:?}");
        let code_in_mrz = &mrz.expect("built").line(0).expect("line")[0..2].to_owned();
        assert_eq!(code_in_mrz.trim_end_matches('<'), code);
    }
}

#[test]
fn parse_tolerates_whitespace_crlf_and_a_single_line() {
    let specimen = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\r\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let padded = format!("\n\n   {specimen}  \r\n\t\n");
    assert_eq!(parse(&padded), parse(specimen));
    let single = specimen.replace("\r\n", "");
    assert_eq!(parse(&single), parse(specimen));
    assert!(parse(specimen).expect("parses").is_valid());
}

#[test]
fn tampering_is_detected_per_check_digit() {
    let good = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
    // Change one data character in each checked range: its own digit and the composite fail.
    for (position, kind) in [
        (46, CheckKind::DocumentNumber),
        (58, CheckKind::BirthDate),
        (66, CheckKind::ExpiryDate),
        (73, CheckKind::OptionalData),
    ] {
        let mut bytes = good.as_bytes().to_vec();
        bytes[position] = if bytes[position] == b'1' { b'2' } else { b'1' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        let parsed = parse(&tampered).expect("parses");
        let failed: Vec<CheckKind> = parsed.failed_checks().map(|check| check.kind).collect();
        assert_eq!(failed, [kind, CheckKind::Composite], "position {position}");
        assert!(!parsed.is_valid());
    }
}
