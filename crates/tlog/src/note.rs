//! C2SP signed notes (c2sp.org/signed-note): text, a blank line, then signature lines
//! `— <name> base64(key_id[4] || signature)`.
//!
//! Signing goes through [`NoteSigner`], so the key can live in an HSM. [`EcdsaP256Signer`]
//! adapts any RustCrypto `signature::Signer<p256::ecdsa::DerSignature>` + `Keypair` (such as a
//! PKCS#11 key) to signature type `0x02`. Type `0x02` signatures are ASN.1 DER ECDSA over
//! SHA-256 of the note text, as implemented by github.com/transparency-dev/witness (which the
//! spec points to), and the key ID hashes the SPKI DER public key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use p256::pkcs8::{DecodePublicKey, EncodePublicKey};
use sha2::{Digest, Sha256};

/// Signature type byte for Ed25519.
pub const SIG_TYPE_ED25519: u8 = 0x01;
/// Signature type byte for ECDSA (here always P-256 with SHA-256).
pub const SIG_TYPE_ECDSA: u8 = 0x02;
/// The most signature lines a note may carry (the spec asks verifiers to accept at least 16).
pub const MAX_SIGNATURES: usize = 100;
/// The largest note accepted by [`Note::parse`].
pub const MAX_NOTE_BYTES: usize = 1 << 20;

const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Errors of notes, keys and signatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    #[error("note is not valid UTF-8")]
    NotUtf8,
    #[error("note is larger than {MAX_NOTE_BYTES} bytes")]
    TooLarge,
    #[error("note contains control character {0:#04x}")]
    ControlCharacter(u8),
    #[error("note text is empty or does not end in a newline")]
    TextNotTerminated,
    #[error("note has no blank line before its signatures")]
    MissingSeparator,
    #[error("signature line {line} is malformed: {reason}")]
    MalformedSignatureLine { line: usize, reason: &'static str },
    #[error("note has no signature lines")]
    NoSignatures,
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("key name `{0}` is empty or contains a space or `+`")]
    InvalidKeyName(String),
    #[error("verifier key is malformed: {0}")]
    MalformedVerifierKey(&'static str),
    #[error("unsupported signature type {0:#04x}")]
    UnsupportedSignatureType(u8),
    #[error("public key is not a valid P-256 SubjectPublicKeyInfo")]
    InvalidPublicKey,
    #[error("the signer failed: {0}")]
    Signer(String),
    #[error("signature by {name} ({key_id:08x}) does not verify")]
    BadSignature { name: String, key_id: u32 },
    #[error("no signature from a known key")]
    NoKnownSignature,
}

/// Something that signs note text for one key name and ID.
pub trait NoteSigner {
    /// The key name written on the signature line.
    fn name(&self) -> &str;
    /// The 32-bit key ID.
    fn key_id(&self) -> u32;
    /// The signature bytes (without the key ID) over `message`.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, NoteError>;
}

/// Something that checks note signatures of one key name and ID.
pub trait NoteVerifier {
    /// The key name.
    fn name(&self) -> &str;
    /// The 32-bit key ID.
    fn key_id(&self) -> u32;
    /// Whether `signature` (without the key ID) is valid over `message`.
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool;
}

/// `SHA-256(name || 0x0A || sig_type || public_key)[:4]` as a big-endian integer.
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([0x0A, sig_type]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Whether `name` is a valid key name: non-empty, with no whitespace and no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// One signature line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    /// The signature, without the 4-byte key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line, with its final newline.
    pub fn to_line(&self) -> String {
        let mut bytes = Vec::with_capacity(4 + self.signature.len());
        bytes.extend_from_slice(&self.key_id.to_be_bytes());
        bytes.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, BASE64.encode(bytes))
    }
}

/// A signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

fn check_characters(text: &str) -> Result<(), NoteError> {
    match text.bytes().find(|&b| b < 0x20 && b != b'\n') {
        Some(b) => Err(NoteError::ControlCharacter(b)),
        None => Ok(()),
    }
}

impl Note {
    /// An unsigned note with this text (which must end in a newline).
    pub fn new(text: impl Into<String>) -> Result<Self, NoteError> {
        let text = text.into();
        check_characters(&text)?;
        if !text.ends_with('\n') {
            return Err(NoteError::TextNotTerminated);
        }
        Ok(Self {
            text,
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note. Signatures are not checked: see [`Note::verify`].
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge);
        }
        let all = std::str::from_utf8(bytes).map_err(|_| NoteError::NotUtf8)?;
        check_characters(all)?;
        if !all.ends_with('\n') {
            return Err(NoteError::TextNotTerminated);
        }
        let separator = all.rfind("\n\n").ok_or(NoteError::MissingSeparator)?;
        let text = &all[..=separator];
        let signature_block = &all[separator + 2..];
        if signature_block.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let mut signatures = Vec::new();
        for (number, line) in signature_block
            .strip_suffix('\n')
            .unwrap_or(signature_block)
            .split('\n')
            .enumerate()
        {
            let malformed = |reason| NoteError::MalformedSignatureLine {
                line: number + 1,
                reason,
            };
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            let rest = line
                .strip_prefix(SIGNATURE_PREFIX)
                .ok_or_else(|| malformed("does not start with an em dash and a space"))?;
            let (name, encoded) = rest
                .split_once(' ')
                .ok_or_else(|| malformed("no space between key name and signature"))?;
            if !is_valid_key_name(name) {
                return Err(malformed("invalid key name"));
            }
            let decoded = BASE64
                .decode(encoded)
                .map_err(|_| malformed("signature is not base64"))?;
            if decoded.len() < 5 {
                return Err(malformed("signature is shorter than a key ID"));
            }
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_id: u32::from_be_bytes([decoded[0], decoded[1], decoded[2], decoded[3]]),
                signature: decoded[4..].to_vec(),
            });
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The signed text, including its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Adds a signature line from `signer`.
    pub fn sign(&mut self, signer: &dyn NoteSigner) -> Result<(), NoteError> {
        if !is_valid_key_name(signer.name()) {
            return Err(NoteError::InvalidKeyName(signer.name().to_owned()));
        }
        if self.signatures.len() == MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let signature = signer.sign(self.text.as_bytes())?;
        self.signatures.push(NoteSignature {
            name: signer.name().to_owned(),
            key_id: signer.key_id(),
            signature,
        });
        Ok(())
    }

    /// Checks the signatures against the known `verifiers` by the C2SP rules: signatures from
    /// unknown (name, key ID) pairs are ignored, a bad signature from a known key rejects the
    /// note, and at least one known key must have signed. Returns the verifiers that signed.
    pub fn verify<'a>(
        &self,
        verifiers: &[&'a dyn NoteVerifier],
    ) -> Result<Vec<&'a dyn NoteVerifier>, NoteError> {
        let mut verified: Vec<&'a dyn NoteVerifier> = Vec::new();
        for signature in &self.signatures {
            for &verifier in verifiers {
                if verifier.name() == signature.name && verifier.key_id() == signature.key_id {
                    if !verifier.verify(self.text.as_bytes(), &signature.signature) {
                        return Err(NoteError::BadSignature {
                            name: signature.name.clone(),
                            key_id: signature.key_id,
                        });
                    }
                    verified.push(verifier);
                }
            }
        }
        if verified.is_empty() {
            return Err(NoteError::NoKnownSignature);
        }
        Ok(verified)
    }

    /// The whole note: text, a blank line, the signature lines.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for signature in &self.signatures {
            out.push_str(&signature.to_line());
        }
        out
    }
}

/// A type-0x02 signer over any RustCrypto P-256 signer producing DER signatures (an HSM key,
/// or a software `p256::ecdsa::SigningKey`).
pub struct EcdsaP256Signer<S> {
    name: String,
    key_id: u32,
    spki_der: Vec<u8>,
    verifying_key: p256::ecdsa::VerifyingKey,
    inner: S,
}

impl<S> EcdsaP256Signer<S>
where
    S: signature::Signer<p256::ecdsa::DerSignature>
        + signature::Keypair<VerifyingKey = p256::ecdsa::VerifyingKey>,
{
    /// Wraps `inner` as the key called `name`.
    pub fn new(name: &str, inner: S) -> Result<Self, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_owned()));
        }
        let verifying_key = inner.verifying_key();
        let spki_der = verifying_key
            .to_public_key_der()
            .map_err(|_| NoteError::InvalidPublicKey)?
            .into_vec();
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, SIG_TYPE_ECDSA, &spki_der),
            spki_der,
            verifying_key,
            inner,
        })
    }

    /// The public key as SPKI DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The matching verifier.
    pub fn verifier(&self) -> EcdsaP256Verifier {
        EcdsaP256Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            spki_der: self.spki_der.clone(),
            key: self.verifying_key,
        }
    }
}

impl<S> NoteSigner for EcdsaP256Signer<S>
where
    S: signature::Signer<p256::ecdsa::DerSignature>,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, NoteError> {
        let signature = self
            .inner
            .try_sign(message)
            .map_err(|error| NoteError::Signer(error.to_string()))?;
        Ok(signature.as_bytes().to_vec())
    }
}

/// A type-0x02 verifier for a P-256 public key.
#[derive(Clone, Debug)]
pub struct EcdsaP256Verifier {
    name: String,
    key_id: u32,
    spki_der: Vec<u8>,
    key: p256::ecdsa::VerifyingKey,
}

impl EcdsaP256Verifier {
    /// A verifier for the key called `name` with this SPKI DER public key.
    pub fn from_spki_der(name: &str, spki_der: &[u8]) -> Result<Self, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_owned()));
        }
        let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki_der)
            .map_err(|_| NoteError::InvalidPublicKey)?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, SIG_TYPE_ECDSA, spki_der),
            spki_der: spki_der.to_vec(),
            key,
        })
    }

    /// The public key as SPKI DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The verifier key string `name+hex(key_id)+base64(0x02 || SPKI DER)`.
    pub fn to_vkey(&self) -> String {
        let mut bytes = vec![SIG_TYPE_ECDSA];
        bytes.extend_from_slice(&self.spki_der);
        format!("{}+{:08x}+{}", self.name, self.key_id, BASE64.encode(bytes))
    }
}

impl NoteVerifier for EcdsaP256Verifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use signature::Verifier as _;
        match p256::ecdsa::DerSignature::try_from(signature) {
            Ok(signature) => self.key.verify(message, &signature).is_ok(),
            Err(_) => false,
        }
    }
}

/// A type-0x01 (Ed25519) verifier.
#[derive(Clone, Debug)]
pub struct Ed25519Verifier {
    name: String,
    key_id: u32,
    key: ed25519_dalek::VerifyingKey,
}

impl NoteVerifier for Ed25519Verifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        self.key.verify_strict(message, &signature).is_ok()
    }
}

/// Any verifier a vkey can describe.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AnyVerifier {
    Ed25519(Ed25519Verifier),
    EcdsaP256(EcdsaP256Verifier),
}

impl AnyVerifier {
    /// Parses a verifier key `name+hex(key_id)+base64(sig_type || public key)` and checks that
    /// the key ID matches.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::MalformedVerifierKey("expected name+id+key"));
        };
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_owned()));
        }
        if id_hex.len() != 8 {
            return Err(NoteError::MalformedVerifierKey(
                "key ID is not 8 hex digits",
            ));
        }
        let id = u32::from_str_radix(id_hex, 16)
            .map_err(|_| NoteError::MalformedVerifierKey("key ID is not hex"))?;
        let key = BASE64
            .decode(key64)
            .map_err(|_| NoteError::MalformedVerifierKey("key is not base64"))?;
        let (&sig_type, public_key) = key
            .split_first()
            .ok_or(NoteError::MalformedVerifierKey("key is empty"))?;
        if key_id(name, sig_type, public_key) != id {
            return Err(NoteError::MalformedVerifierKey(
                "key ID does not match the key",
            ));
        }
        match sig_type {
            SIG_TYPE_ED25519 => {
                let bytes = <[u8; 32]>::try_from(public_key)
                    .map_err(|_| NoteError::MalformedVerifierKey("Ed25519 key is not 32 bytes"))?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map_err(|_| NoteError::InvalidPublicKey)?;
                Ok(Self::Ed25519(Ed25519Verifier {
                    name: name.to_owned(),
                    key_id: id,
                    key,
                }))
            }
            SIG_TYPE_ECDSA => Ok(Self::EcdsaP256(EcdsaP256Verifier::from_spki_der(
                name, public_key,
            )?)),
            other => Err(NoteError::UnsupportedSignatureType(other)),
        }
    }

    /// As a trait object.
    pub fn as_dyn(&self) -> &dyn NoteVerifier {
        match self {
            Self::Ed25519(verifier) => verifier,
            Self::EcdsaP256(verifier) => verifier,
        }
    }
}
