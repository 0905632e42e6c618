//! The one error type of this crate.

/// Everything that can go wrong while encoding, decoding, building or profiling a seal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// A character outside the C40 basic set (SPACE, `<`, `0`–`9`, `A`–`Z`).
    #[error("character {character:?} cannot be written in C40 (allowed: A-Z, 0-9, space, '<')")]
    C40Character { character: char },
    /// C40 data must have an even number of bytes.
    #[error("C40 data has an odd length of {length} bytes")]
    C40OddLength { length: usize },
    /// A C40 byte pair that is not a canonical basic-set triple or tail.
    #[error("invalid C40 value at byte offset {offset}")]
    C40Value { offset: usize },
    /// The input ended inside the named field.
    #[error("seal truncated inside the {field}")]
    Truncated { field: &'static str },
    /// The first byte is not the seal magic `0xDC`.
    #[error("not a visible digital seal: first byte is {found:#04x}, expected 0xdc")]
    Magic { found: u8 },
    /// Only header versions 3 (byte `0x02`) and 4 (byte `0x03`) exist.
    #[error(
        "unsupported seal header version byte {found:#04x} (expected 0x02 for v3 or 0x03 for v4)"
    )]
    Version { found: u8 },
    /// A header field has the wrong length or characters.
    #[error("invalid header field {field}: {reason}")]
    HeaderField { field: &'static str, reason: String },
    /// A date that is not a real calendar date in MMDDYYYY form.
    #[error("invalid date in {field}: {reason}")]
    Date { field: &'static str, reason: String },
    /// A length that is malformed, not minimally encoded, or too large for the header version.
    #[error("invalid length of {field}: {reason}")]
    Length { field: &'static str, reason: String },
    /// Tag `0xFF` is reserved for the signature marker.
    #[error("feature tag 0xff is reserved for the signature marker")]
    ReservedTag,
    /// The seal has no signature zone.
    #[error("seal has no signature zone (0xff marker)")]
    MissingSignature,
    /// Bytes follow the signature zone.
    #[error("{count} unexpected bytes after the signature zone")]
    TrailingBytes { count: usize },
    /// The signature has the wrong length for the curve.
    #[error("signature is {found} bytes, expected {expected} (r||s for the signer's curve)")]
    SignatureLength { expected: usize, found: usize },
    /// The signing callback failed.
    #[error("signer failed: {0}")]
    Signer(String),
    /// The seal does not use the expected profile.
    #[error("seal is not a {profile} seal: {reason}")]
    Profile {
        profile: &'static str,
        reason: String,
    },
    /// A feature required by the profile is missing.
    #[error("{profile} seal lacks the mandatory feature {tag:#04x} ({name})")]
    MissingFeature {
        profile: &'static str,
        tag: u8,
        name: &'static str,
    },
    /// A feature's value does not follow the profile.
    #[error("{profile} seal feature {tag:#04x} ({name}) is invalid: {reason}")]
    InvalidFeature {
        profile: &'static str,
        tag: u8,
        name: &'static str,
        reason: String,
    },
    /// A QR payload that is not `<base URL>#<base64url seal bytes>`.
    #[error("invalid QR payload: {reason}")]
    QrPayload { reason: String },
}
