//! The rules of secure stock: blank serials and their ranges, document types and locations.
//! Printing itself (jobs, blanks reserved and settled, reprints) is the use case
//! `usecase/print.rs`.

use super::IssuanceError;

/// Where blanks of documents without a mission (passports, legalizations) are kept.
pub const HEADQUARTERS: &str = "HQ";
/// Most blanks one `stock add` registers.
pub const MAX_BATCH: u64 = 100_000;

/// A serial as prefix + zero-padded number (`LKA-T000100` -> `LKA-T`, 100, width 6).
fn split_serial(field: &str, serial: &str) -> Result<(String, u64, usize), IssuanceError> {
    let serial = serial.trim();
    let digits = serial.bytes().rev().take_while(u8::is_ascii_digit).count();
    let (prefix, number) = serial.split_at(serial.len() - digits);
    let valid_prefix = prefix
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if digits == 0 || digits > 12 || prefix.len() > 16 || !valid_prefix {
        return Err(IssuanceError::invalid(
            field,
            "a blank serial is up to 16 characters A-Z, 0-9 or '-' followed by 1 to 12 digits",
        ));
    }
    let value = number
        .parse()
        .map_err(|_| IssuanceError::invalid(field, "the number part is too large"))?;
    Ok((prefix.to_owned(), value, digits))
}

/// The serials from `from` to `to`, inclusive.
pub fn serial_range(from: &str, to: &str) -> Result<Vec<String>, IssuanceError> {
    let (prefix, first, width) = split_serial("from", from)?;
    let (to_prefix, last, to_width) = split_serial("to", to)?;
    if prefix != to_prefix || width != to_width {
        return Err(IssuanceError::invalid(
            "to",
            "must have the same prefix and number of digits as `from`",
        ));
    }
    if last < first {
        return Err(IssuanceError::invalid("to", "comes before `from`"));
    }
    if last - first >= MAX_BATCH {
        return Err(IssuanceError::invalid(
            "to",
            format!("at most {MAX_BATCH} blanks per batch"),
        ));
    }
    Ok((first..=last)
        .map(|n| format!("{prefix}{n:0width$}"))
        .collect())
}

pub(crate) fn doc_type(text: &str) -> Result<&'static str, IssuanceError> {
    match text {
        "ttd" => Ok("ttd"),
        "passport" => Ok("passport"),
        "legalization" => Ok("legalization"),
        _ => Err(IssuanceError::invalid(
            "type",
            "must be ttd, passport or legalization",
        )),
    }
}

pub(crate) fn location_code(text: &str) -> Result<String, IssuanceError> {
    let ok = (2..=8).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(IssuanceError::invalid(
            "location",
            "a mission code or HQ: 2 to 8 characters A-Z, 0-9 or '-'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_ranges_keep_prefix_and_width() {
        let serials = serial_range("LKA-T000998", "LKA-T001001").expect("range");
        assert_eq!(
            serials,
            vec!["LKA-T000998", "LKA-T000999", "LKA-T001000", "LKA-T001001"]
        );
        assert_eq!(serial_range("B7", "B7").expect("one"), vec!["B7"]);
    }

    #[test]
    fn bad_ranges_name_the_field() {
        let field = |result: Result<Vec<String>, IssuanceError>| match result {
            Err(IssuanceError::InvalidField { field, .. }) => field,
            other => format!("{other:?}"),
        };
        assert_eq!(field(serial_range("T10", "T09")), "to");
        assert_eq!(field(serial_range("T10", "U12")), "to");
        assert_eq!(field(serial_range("T010", "T12")), "to");
        assert_eq!(field(serial_range("ABC", "ABD")), "from");
        assert_eq!(field(serial_range("T1", "T1000000")), "to");
        assert_eq!(field(serial_range("t1", "t2")), "from");
    }
}
