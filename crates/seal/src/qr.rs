//! The text a QR code carries for a legalization seal.
//!
//! Format: `<base URL>#<seal bytes in base64url, no padding>` (RFC 4648 §5), for example
//! `https://verify.example.lk/l#3AP...`. The seal travels in the URL fragment, which a browser
//! does not send to the server, so the verification page can check the seal in the browser and
//! look up its status by certificate number; an offline verifier ignores everything up to the last
//! `#` and checks the signature of the decoded bytes. Base64url (byte mode) is used rather than
//! base45 (alphanumeric mode) because base45's `space`, `%` and `+` are not safe in a URL.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::SealError;

/// Separator between the base URL and the encoded seal.
pub const SEPARATOR: char = '#';

/// The QR text for `seal_bytes` under `base_url` (which must not contain `#`).
pub fn qr_payload(seal_bytes: &[u8], base_url: &str) -> Result<String, SealError> {
    if base_url.contains(SEPARATOR)
        || base_url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(SealError::QrPayload {
            reason: format!(
                "base URL {base_url:?} must not contain '#', spaces or control characters"
            ),
        });
    }
    Ok(format!(
        "{base_url}{SEPARATOR}{}",
        URL_SAFE_NO_PAD.encode(seal_bytes)
    ))
}

/// The seal bytes from QR text: the part after the last `#` (or the whole text when there is
/// none), base64url without padding. Surrounding whitespace is ignored.
pub fn parse_qr_payload(text: &str) -> Result<Vec<u8>, SealError> {
    let text = text.trim();
    let encoded = text
        .rsplit_once(SEPARATOR)
        .map_or(text, |(_, fragment)| fragment);
    if encoded.is_empty() {
        return Err(SealError::QrPayload {
            reason: "no seal data after '#'".into(),
        });
    }
    URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|error| SealError::QrPayload {
            reason: format!("seal data is not base64url: {error}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_payload() {
        let text = qr_payload(&[0xDC, 0x03, 0xFF], "https://verify.example.lk/l").unwrap();
        assert_eq!(text, "https://verify.example.lk/l#3AP_");
        assert_eq!(parse_qr_payload(&text).unwrap(), [0xDC, 0x03, 0xFF]);
        assert_eq!(parse_qr_payload("3AP_").unwrap(), [0xDC, 0x03, 0xFF]);
    }

    #[test]
    fn refuses_bad_input() {
        assert!(qr_payload(&[1], "https://x/#a").is_err());
        assert!(parse_qr_payload("https://verify.example.lk/l#").is_err());
        assert!(parse_qr_payload("https://verify.example.lk/l#3AP/").is_err());
        assert!(parse_qr_payload("https://verify.example.lk/l#3AP_=").is_err());
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 1..300), host in "[a-z]{1,12}") {
            let base_url = format!("https://verify.{host}.lk/l");
            let text = qr_payload(&bytes, &base_url).unwrap();
            prop_assert!(text.starts_with(&base_url));
            prop_assert_eq!(parse_qr_payload(&text).unwrap(), bytes);
        }
    }
}
