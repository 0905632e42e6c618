//! The ICAO PKD download format (LDIF, RFC 2849) of this PKI's public artifacts, for upload to
//! the ICAO PKD and for foreign authorities that load PKD files: signer certificates (Document
//! Signers and bar-code signers) under `o=dsc` and the CRLs under `o=crl` in
//! `icaopkd-001-dsccrl-<ICAO>.ldif`, the CSCA master list under `o=ml` in
//! `icaopkd-002-ml-<ICAO>.ldif` (attributes `userCertificate;binary`,
//! `certificateRevocationList;binary`, `pkdMasterListContent`, each base64).

use base64::Engine as _;

/// The PKD's root below the country.
const SUFFIX: &str = "dc=data,dc=download,dc=pkd,dc=icao,dc=int";

/// One attribute value.
pub(crate) enum Value<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

/// One LDIF entry.
pub(crate) struct Entry<'a> {
    pub dn: String,
    pub attributes: Vec<(&'static str, Value<'a>)>,
}

/// `value` as an RDN attribute value (RFC 4514 escaping).
pub(crate) fn escape_rdn(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (index, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (index == 0 && matches!(c, ' ' | '#'))
            || (index == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The DN of an entry: `cn=<cn>[+sn=<serial>],o=<branch>,c=<alpha-2>,dc=data,...`.
pub(crate) fn dn(cn: &str, serial: Option<&str>, branch: &str, alpha2: &str) -> String {
    let serial = serial
        .map(|serial| format!("+sn={serial}"))
        .unwrap_or_default();
    format!(
        "cn={}{serial},o={branch},c={alpha2},{SUFFIX}",
        escape_rdn(cn)
    )
}

/// RFC 2849 SAFE-STRING: ASCII without NUL, CR or LF, not starting with a space, a colon or `<`,
/// and (to survive trimming) not ending with a space.
fn safe(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii() && b != 0 && b != b'\n' && b != b'\r')
        && !text.starts_with([' ', ':', '<'])
        && !text.ends_with(' ')
}

/// Appends `name: value` (or `name:: base64` when the value is not a safe string), folded at
/// 76 columns with continuation lines that start with one space.
fn line(out: &mut String, name: &str, value: &Value<'_>) {
    let text = match value {
        Value::Text(text) if safe(text) => format!("{name}: {text}"),
        Value::Text(text) => format!(
            "{name}:: {}",
            base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
        ),
        Value::Binary(bytes) => format!(
            "{name}:: {}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ),
    };
    // Only ASCII reaches here (base64 or a safe string), so byte positions are characters.
    let mut rest = text.as_str();
    let mut first = true;
    while !rest.is_empty() {
        let width = if first { 76 } else { 75 };
        let (head, tail) = rest.split_at(width.min(rest.len()));
        if !first {
            out.push(' ');
        }
        out.push_str(head);
        out.push('\n');
        rest = tail;
        first = false;
    }
}

/// An LDIF file of `entries` (version 1).
pub(crate) fn ldif(entries: &[Entry<'_>]) -> String {
    let mut out = String::from("version: 1\n");
    for entry in entries {
        out.push('\n');
        line(&mut out, "dn", &Value::Text(&entry.dn));
        for (name, value) in &entry.attributes {
            line(&mut out, name, value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_folds_and_encodes() {
        assert_eq!(escape_rdn("C=LK, O=Gov+x"), "C\\=LK\\, O\\=Gov\\+x");
        assert_eq!(escape_rdn(" #a "), "\\ #a\\ ");
        assert_eq!(escape_rdn("#a"), "\\#a");
        let long = vec![0xA5u8; 200];
        let text = ldif(&[Entry {
            dn: dn("C=LK,CN=TD", Some("1F"), "dsc", "LK"),
            attributes: vec![
                ("cn", Value::Text("Śrī Laṅkā")),
                ("userCertificate;binary", Value::Binary(&long)),
            ],
        }]);
        assert!(
            text.starts_with("version: 1\n\ndn: cn=C\\=LK\\,CN\\=TD+sn=1F,o=dsc,c=LK,dc=data,")
        );
        assert!(text.contains("\ncn:: "), "{text}");
        for line in text.lines() {
            assert!(line.len() <= 76, "{line}");
        }
        // Unfolded, the binary value is the base64 of the bytes.
        let unfolded = text.replace("\n ", "");
        let encoded = base64::engine::general_purpose::STANDARD.encode(&long);
        assert!(unfolded.contains(&format!("userCertificate;binary:: {encoded}\n")));
    }
}
