//! The rules of staff credentials, without storage: passwords (argon2id with OWASP's
//! parameters, a length and deny-list rule), TOTP second factors (RFC 6238: HMAC-SHA1, 6
//! digits, 30 s steps, one step of clock drift either way), and the random one-time secrets
//! (enrolment codes, recovery codes, session ids, API tokens) that are shown once and stored
//! only as SHA-256.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::auth::AuthError;

/// Shortest password accepted (NIST SP 800-63B asks for at least 8; with staff who hold the
/// power to issue passports, 12).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted (argon2 takes any length; this bounds the work of one attempt).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Passwords too common to accept whatever their length (a short deny list of the passwords
/// most often found in breach corpora, checked case-insensitively, plus the trivial forms
/// below). A deployment with a full breached-password list can put it in front of this.
const DENIED: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456123456",
    "qwertyuiopas",
    "qwertyuiop12",
    "qwerty123456",
    "password1234",
    "password12345",
    "passwordpassword",
    "password123!",
    "p@ssw0rd1234",
    "iloveyou1234",
    "administrator",
    "administrator1",
    "letmein12345",
    "welcome12345",
    "welcome@1234",
    "changeme1234",
    "abcdefghijkl",
    "abc123abc123",
    "aaaaaaaaaaaa",
    "111111111111",
    "000000000000",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "trustno1trustno1",
    "football1234",
    "baseball1234",
    "sunshine1234",
    "princess1234",
    "dragon123456",
    "monkey123456",
    "master123456",
    "travdoc12345",
    "passport1234",
    "srilanka1234",
    "colombo12345",
];

/// Why a new password is refused (the message a person can act on).
pub fn password_problem(password: &str, user_name: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Some(format!("at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Some(format!("at most {MAX_PASSWORD_CHARS} characters"));
    }
    let lower = password.to_lowercase();
    if DENIED.contains(&lower.as_str()) {
        return Some("this password is among the most common ones; choose another".to_owned());
    }
    let distinct: std::collections::BTreeSet<char> = lower.chars().collect();
    if distinct.len() < 4 {
        return Some("too few different characters".to_owned());
    }
    if !user_name.is_empty() && lower.contains(&user_name.to_lowercase()) {
        return Some("must not contain the user name".to_owned());
    }
    let ascending = lower
        .as_bytes()
        .windows(2)
        .all(|pair| pair[1] == pair[0].wrapping_add(1));
    if ascending {
        return Some("a run of consecutive characters is too easy to guess".to_owned());
    }
    None
}

/// argon2id with OWASP's minimum for argon2id: 19 MiB of memory, 2 passes, 1 lane.
fn argon2() -> Result<argon2::Argon2<'static>, AuthError> {
    let params = argon2::Params::new(19 * 1024, 2, 1, None)
        .map_err(|error| AuthError::Credential(error.to_string()))?;
    Ok(argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

/// The PHC string of `password` with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|error| AuthError::Random(error.to_string()))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|error| AuthError::Credential(error.to_string()))?;
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AuthError::Credential(error.to_string()))
}

/// Whether `password` matches the stored PHC string (constant time in the hash comparison).
pub fn password_matches(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    argon2().is_ok_and(|argon2| argon2.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Spends the time of one password check when there is no account to check against, so that
/// a wrong user name answers as slowly as a wrong password.
pub fn spend_a_password_check() {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(stored) = DUMMY.get_or_init(|| hash_password("travdoc-timing-equaliser").ok()) {
        let _ = password_matches("not the password", stored);
    }
}

/// `n` random bytes from the operating system.
fn random<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| AuthError::Random(error.to_string()))?;
    Ok(bytes)
}

/// Hex SHA-256 of a one-time secret (codes, session ids, tokens): what is stored.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A one-time enrolment code: 20 characters of Crockford base32 in groups of four (100 bits),
/// easy to read out or type.
pub fn enrolment_code() -> Result<String, AuthError> {
    Ok(grouped(&crockford(&random::<13>()?)[..20]))
}

/// Ten recovery codes of 10 characters (50 bits each).
pub fn recovery_codes() -> Result<Vec<String>, AuthError> {
    (0..10)
        .map(|_| Ok(grouped(&crockford(&random::<7>()?)[..10])))
        .collect()
}

/// A code as typed: upper case, without spaces or hyphens, with the look-alikes Crockford
/// base32 folds (`O`→`0`, `I`/`L`→`1`).
pub fn normalise_code(typed: &str) -> String {
    let plain: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    grouped(&plain)
}

fn crockford(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    out
}

fn grouped(plain: &str) -> String {
    plain
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// A session id (256 bits, base64url).
pub fn session_id() -> Result<String, AuthError> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<32>()?))
}

/// A CSRF value for a session (128 bits, hex).
pub fn csrf_value() -> Result<String, AuthError> {
    Ok(hex::encode(random::<16>()?))
}

/// A new TOTP secret (160 bits, RFC 4226's recommended length), base32 without padding.
pub fn totp_secret() -> Result<String, AuthError> {
    Ok(totp_rs::Secret::Raw(random::<20>()?.to_vec())
        .to_encoded()
        .to_string())
}

fn totp(secret: &str) -> Result<totp_rs::TOTP, AuthError> {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|error| AuthError::Credential(format!("{error:?}")))?;
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .map_err(|error| AuthError::Credential(error.to_string()))
}

/// The time step (30 s) of a code that matches `secret` at `now` (Unix seconds), within one
/// step of drift; `None` when it does not match.
pub fn totp_step(secret: &str, code: &str, now: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret).ok()?;
    let step = now / 30;
    [step, step.saturating_sub(1), step + 1]
        .into_iter()
        .find(|candidate| {
            let expected = totp.generate(candidate * 30);
            bool::from(subtle::ConstantTimeEq::ct_eq(
                expected.as_bytes(),
                code.as_bytes(),
            ))
        })
        .and_then(|matched| i64::try_from(matched).ok())
}

/// The current code of `secret` (for tests and the CLI's own checks).
pub fn totp_code(secret: &str, now: u64) -> Result<String, AuthError> {
    Ok(totp(secret)?.generate(now))
}

/// The `otpauth://` URI an authenticator app reads from the enrolment QR code.
pub fn totp_uri(issuer: &str, account: &str, secret: &str) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period=30",
        encode(issuer),
        encode(account),
        encode(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_follow_the_rule_and_verify() {
        assert!(password_problem("short", "nimal").is_some());
        assert!(
            password_problem("Password1234", "nimal").is_some(),
            "deny list"
        );
        assert!(password_problem("aaaaaaaaaaaaaaa", "nimal").is_some());
        assert!(password_problem("nimal-perera-2026", "nimal").is_some());
        assert!(password_problem("abcdefghijklmnop", "x").is_some());
        assert_eq!(password_problem("tea leaves at dawn 42", "nimal"), None);
        let stored = hash_password("tea leaves at dawn 42").unwrap_or_default();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(password_matches("tea leaves at dawn 42", &stored));
        assert!(!password_matches("tea leaves at dawn 43", &stored));
        assert!(!password_matches("anything", "not a phc string"));
    }

    #[test]
    fn totp_follows_rfc_6238() {
        // RFC 6238 App. B, SHA-1 seed "12345678901234567890", 8 digits there; the same HOTP
        // value's last 6 digits here.
        let secret = totp_rs::Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        assert_eq!(totp_code(&secret, 59).unwrap_or_default(), "287082");
        assert_eq!(
            totp_code(&secret, 1_111_111_109).unwrap_or_default(),
            "081804"
        );
        assert_eq!(
            totp_code(&secret, 2_000_000_000).unwrap_or_default(),
            "279037"
        );
        assert_eq!(totp_step(&secret, "287082", 59), Some(1));
        assert_eq!(
            totp_step(&secret, "287082", 89),
            Some(1),
            "one step of drift"
        );
        assert_eq!(totp_step(&secret, "287082", 150), None);
        assert_eq!(totp_step(&secret, "28708", 59), None);
    }

    #[test]
    fn codes_are_random_grouped_and_forgiving_when_typed() {
        let code = enrolment_code().unwrap_or_default();
        assert_eq!(code.len(), 24, "{code}");
        assert_ne!(code, enrolment_code().unwrap_or_default());
        assert_eq!(normalise_code(&code.to_lowercase().replace('-', " ")), code);
        let recovery = recovery_codes().unwrap_or_default();
        assert_eq!(recovery.len(), 10);
        assert!(recovery.iter().all(|code| code.len() == 12));
        assert!(
            totp_uri("travdoc LKA", "nimal.perera", "ABC")
                .starts_with("otpauth://totp/travdoc%20LKA:nimal.perera?secret=ABC&issuer=")
        );
    }
}
