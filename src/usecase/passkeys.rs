//! Passkeys (WebAuthn, through `webauthn-rs`): a signed-in person adds one, and then signs in
//! either with the password and the passkey as the second factor, or with the passkey alone
//! (the authenticator verified the person, by PIN or biometrics, so it is two factors in one).
//!
//! Every ceremony is two requests: the options (a fresh challenge, whose state the verifier
//! needs back) and the browser's answer. The state is kept in the database for five minutes
//! under a random ceremony id and is taken (read and deleted) by the answer, so a challenge is
//! answered once. The relying party is one origin (`[auth] passkey_origin`); a browser signs
//! the origin it was on, so an answer made for another site is refused.

use serde::Serialize;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::auth::{Actor, AuthError};
use crate::db::Db;
use crate::identity;
use crate::usecase::signin::{self, AuthSettings, NewSession};
use travdoc_store::identity::{self as store, PasskeyChallengeRow, PasskeyRow, UserRow};
use travdoc_store::ledger::Event;

/// How long a ceremony waits for the browser's answer.
const CEREMONY_SECONDS: i64 = 300;

/// At most this many passkeys per account (a phone, a laptop, a security key or two).
pub const MAX_PASSKEYS: usize = 10;

/// At most this many anonymous sign-in ceremonies under way (each is a row for 5 minutes, and
/// anyone who can load the sign-in page can ask for one): far above a ministry's staff signing
/// in at once, far below what would fill the database.
const MAX_OPEN_SIGN_INS: i64 = 2000;

/// The relying party: one origin, its host name as the RP id.
pub struct Passkeys {
    webauthn: Webauthn,
    origin: String,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys")
            .field("origin", &self.origin)
            .finish()
    }
}

impl Passkeys {
    /// The relying party of `origin` (`https://issuance.example.gov.lk`, or
    /// `http://localhost:PORT` on a development host; browsers allow WebAuthn on no other
    /// plain-HTTP origin, and not on an IP address).
    pub fn new(origin: &str, name: &str) -> Result<Self, AuthError> {
        let url = Url::parse(origin)
            .map_err(|error| AuthError::PasskeyConfig(format!("{origin}: {error}")))?;
        let host = url
            .host_str()
            .ok_or_else(|| AuthError::PasskeyConfig(format!("{origin} names no host")))?
            .to_owned();
        if url.path() != "/" || url.query().is_some() {
            return Err(AuthError::PasskeyConfig(format!(
                "{origin}: an origin is a scheme, a host and a port, nothing more"
            )));
        }
        if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
            return Err(AuthError::PasskeyConfig(format!(
                "{origin}: browsers refuse passkeys on an IP address; use a host name"
            )));
        }
        if url.scheme() != "https" && host != "localhost" {
            return Err(AuthError::PasskeyConfig(format!(
                "{origin}: passkeys need https (plain http only on localhost)"
            )));
        }
        let webauthn = WebauthnBuilder::new(&host, &url)
            .and_then(|builder| builder.rp_name(name).build())
            .map_err(|error| AuthError::PasskeyConfig(format!("{origin}: {error}")))?;
        Ok(Passkeys {
            webauthn,
            origin: url.origin().ascii_serialization(),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// Options for the browser (`navigator.credentials.create/get`), and the ceremony id that its
/// answer must name.
#[derive(Debug, Clone, Serialize)]
pub struct Ceremony {
    pub ceremony: String,
    pub options: serde_json::Value,
}

/// A passkey as the person's page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyView {
    pub id: String,
    pub label: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

fn rfc3339(seconds: i64) -> String {
    crate::issuance::rfc3339_unix(u64::try_from(seconds).unwrap_or_default())
}

/// The WebAuthn user handle of an account: its id when that is a UUID (every account made by
/// this service), else a UUID derived from it.
fn user_handle(user: &UserRow) -> Uuid {
    Uuid::parse_str(&user.id).unwrap_or_else(|_| {
        let digest = identity::secret_hash(&user.id);
        let mut bytes = [0u8; 16];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(digest.get(index * 2..index * 2 + 2).unwrap_or("00"), 16)
                .unwrap_or_default();
        }
        Uuid::from_bytes(bytes)
    })
}

fn credential_key(id: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

fn to_json<T: Serialize>(value: &T) -> Result<String, AuthError> {
    serde_json::to_string(value).map_err(|error| AuthError::Credential(error.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, AuthError> {
    serde_json::from_str(text).map_err(|error| AuthError::Credential(error.to_string()))
}

/// A browser's answer, parsed; what it says is not trusted until the verifier checked it.
fn answer<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, AuthError> {
    serde_json::from_value(value).map_err(|error| {
        AuthError::Passkey(format!("the browser's answer is not readable: {error}"))
    })
}

async fn stored_passkeys(db: &Db, user_id: &str) -> Result<Vec<(PasskeyRow, Passkey)>, AuthError> {
    store::passkeys_of(db.reader(), user_id)
        .await?
        .into_iter()
        .map(|row| {
            let passkey = from_json::<Passkey>(&row.passkey)?;
            Ok((row, passkey))
        })
        .collect()
}

async fn begin(
    db: &Db,
    user_id: Option<&str>,
    purpose: &str,
    state: String,
    options: serde_json::Value,
    now: i64,
) -> Result<Ceremony, AuthError> {
    let ceremony = identity::session_id()?;
    let mut tx = db.begin().await?;
    // Only the anonymous ceremony is capped; the others need a session or a checked password.
    let limit = (purpose == "sign_in").then_some(MAX_OPEN_SIGN_INS);
    let recorded = store::insert_passkey_challenge(
        &mut tx,
        &PasskeyChallengeRow {
            id_hash: identity::secret_hash(&ceremony),
            user_id: user_id.map(str::to_owned),
            purpose: purpose.to_owned(),
            state,
            expires_at: now + CEREMONY_SECONDS,
        },
        limit,
        now,
    )
    .await?;
    if !recorded {
        return Err(AuthError::Busy(
            "too many passkey sign-ins under way; try again in a minute".to_owned(),
        ));
    }
    tx.commit().await?;
    Ok(Ceremony { ceremony, options })
}

/// The passkeys of the signed-in person.
pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<PasskeyView>, AuthError> {
    Ok(store::passkeys_of(db.reader(), &actor.id)
        .await?
        .into_iter()
        .map(|row| PasskeyView {
            id: row.credential_id,
            label: row.label,
            created_at: rfc3339(row.created_at),
            last_used_at: row.last_used_at.map(rfc3339),
        })
        .collect())
}

/// Adding a passkey, first step: the options for `navigator.credentials.create`. The passkey
/// is made discoverable (kept on the authenticator with the account), so that it can sign in
/// on its own.
pub async fn start_registration(
    db: &Db,
    passkeys: &Passkeys,
    actor: &Actor,
    now: i64,
) -> Result<Ceremony, AuthError> {
    let user = store::user_by_id(db.reader(), &actor.id)
        .await?
        .ok_or_else(|| AuthError::UnknownUser(actor.name.clone()))?;
    let existing = stored_passkeys(db, &user.id).await?;
    if existing.len() >= MAX_PASSKEYS {
        return Err(AuthError::Passkey(format!(
            "an account holds at most {MAX_PASSKEYS} passkeys; remove one first"
        )));
    }
    let exclude = existing
        .iter()
        .map(|(_, passkey)| passkey.cred_id().clone())
        .collect();
    let (mut options, state) = passkeys
        .webauthn
        .start_passkey_registration(user_handle(&user), &user.name, &user.name, Some(exclude))
        .map_err(|error| AuthError::Passkey(error.to_string()))?;
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(webauthn_rs_proto::ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
    let options =
        serde_json::to_value(&options).map_err(|error| AuthError::Credential(error.to_string()))?;
    begin(
        db,
        Some(&user.id),
        "register",
        to_json(&state)?,
        options,
        now,
    )
    .await
}

/// Adding a passkey, second step: the authenticator's answer is checked against the challenge
/// and the passkey is stored under `label`.
pub async fn finish_registration(
    db: &Db,
    passkeys: &Passkeys,
    actor: &Actor,
    ceremony: &str,
    credential: serde_json::Value,
    label: &str,
    now: i64,
) -> Result<PasskeyView, AuthError> {
    let label = match label {
        "" => "passkey",
        label => label,
    };
    crate::issuance::input::optional_free_text("label", Some(label), 64)
        .map_err(|_| AuthError::TokenLabel)?;
    let credential: RegisterPublicKeyCredential = answer(credential)?;
    let mut tx = db.begin().await?;
    let challenge =
        store::take_passkey_challenge(&mut tx, &identity::secret_hash(ceremony), "register", now)
            .await?
            .filter(|challenge| challenge.user_id.as_deref() == Some(actor.id.as_str()))
            .ok_or(AuthError::SignInExpired)?;
    let state: PasskeyRegistration = from_json(&challenge.state)?;
    let passkey = passkeys
        .webauthn
        .finish_passkey_registration(&credential, &state)
        .map_err(|error| AuthError::Passkey(error.to_string()))?;
    let row = PasskeyRow {
        credential_id: credential_key(passkey.cred_id()),
        user_id: actor.id.clone(),
        label: label.to_owned(),
        passkey: to_json(&passkey)?,
        created_at: now,
        last_used_at: None,
    };
    if !store::insert_passkey(&mut tx, &row).await? {
        return Err(AuthError::Passkey(
            "this passkey is registered already".to_owned(),
        ));
    }
    signin::append(
        &mut tx,
        format!("user.passkey:{}", row.credential_id),
        now,
        Event::FactorEnrolled {
            user_ref: actor.id.clone(),
            factor: "passkey".to_owned(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(PasskeyView {
        id: row.credential_id,
        label: row.label,
        created_at: rfc3339(now),
        last_used_at: None,
    })
}

/// Removes one of the signed-in person's passkeys (on the record as a factor removed).
pub async fn remove(db: &Db, actor: &Actor, id: &str, now: i64) -> Result<(), AuthError> {
    let mut tx = db.begin().await?;
    if !store::delete_passkey(&mut tx, &actor.id, id).await? {
        return Err(AuthError::Passkey(
            "no such passkey on this account".to_owned(),
        ));
    }
    signin::append(
        &mut tx,
        format!("user.passkey-removed:{id}:{now}"),
        now,
        Event::FactorEnrolled {
            user_ref: actor.id.clone(),
            factor: "passkey_removed".to_owned(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sign-in with the password done, the passkey as second factor: the options for
/// `navigator.credentials.get`, limited to that account's passkeys.
pub async fn start_second_factor(
    db: &Db,
    passkeys: &Passkeys,
    pending_id: &str,
    now: i64,
) -> Result<Ceremony, AuthError> {
    let (_, user) = signin::pending_sign_in(db, pending_id, now).await?;
    let stored: Vec<Passkey> = stored_passkeys(db, &user.id)
        .await?
        .into_iter()
        .map(|(_, passkey)| passkey)
        .collect();
    if stored.is_empty() {
        return Err(AuthError::Passkey(
            "this account has no passkey; use the code from your app".to_owned(),
        ));
    }
    let (options, state) = passkeys
        .webauthn
        .start_passkey_authentication(&stored)
        .map_err(|error| AuthError::Passkey(error.to_string()))?;
    let options =
        serde_json::to_value(&options).map_err(|error| AuthError::Credential(error.to_string()))?;
    begin(
        db,
        Some(&user.id),
        "second_factor",
        to_json(&state)?,
        options,
        now,
    )
    .await
}

/// A sign-in with the passkey alone: the options for `navigator.credentials.get` with no
/// account named (the authenticator offers the passkeys it holds for this site).
pub async fn start_sign_in(db: &Db, passkeys: &Passkeys, now: i64) -> Result<Ceremony, AuthError> {
    let (mut options, state) = passkeys
        .webauthn
        .start_discoverable_authentication()
        .map_err(|error| AuthError::Passkey(error.to_string()))?;
    // A button opens the ordinary prompt (not the autofill-style conditional one).
    options.mediation = None;
    let options =
        serde_json::to_value(&options).map_err(|error| AuthError::Credential(error.to_string()))?;
    begin(db, None, "sign_in", to_json(&state)?, options, now).await
}

/// Records a refused passkey as a failed sign-in (throttled like any other) and answers with
/// the reason.
async fn refused(
    db: &Db,
    settings: &AuthSettings,
    user: Option<&str>,
    client: Option<&str>,
    reason: String,
    now: i64,
) -> AuthError {
    if let Err(error) = signin::failed(db, settings, user, client, "passkey refused", now).await {
        return error;
    }
    AuthError::Passkey(reason)
}

/// After the verifier accepted an assertion: the stored credential's new counter.
async fn used(
    tx: &mut travdoc_store::Transaction,
    stored: &mut Passkey,
    row: &PasskeyRow,
    result: &AuthenticationResult,
    now: i64,
) -> Result<(), AuthError> {
    stored.update_credential(result);
    store::passkey_used(tx, &row.credential_id, &to_json(stored)?, now).await?;
    Ok(())
}

/// The passkey as second factor, second step: the session starts under a new id.
#[allow(clippy::too_many_arguments)]
pub async fn finish_second_factor(
    db: &Db,
    settings: &AuthSettings,
    passkeys: &Passkeys,
    pending_id: &str,
    ceremony: &str,
    credential: serde_json::Value,
    client: Option<&str>,
    now: i64,
) -> Result<NewSession, AuthError> {
    let (pending, user) = signin::pending_sign_in(db, pending_id, now).await?;
    signin::refuse_locked(db, Some(&user.id), client, now).await?;
    let credential: PublicKeyCredential = answer(credential)?;
    let mut tx = db.begin().await?;
    let challenge = store::take_passkey_challenge(
        &mut tx,
        &identity::secret_hash(ceremony),
        "second_factor",
        now,
    )
    .await?
    .filter(|challenge| challenge.user_id.as_deref() == Some(user.id.as_str()))
    .ok_or(AuthError::SignInExpired)?;
    let state: PasskeyAuthentication = from_json(&challenge.state)?;
    let result = match passkeys
        .webauthn
        .finish_passkey_authentication(&credential, &state)
    {
        Ok(result) => result,
        Err(error) => {
            tx.commit().await?;
            return Err(
                refused(db, settings, Some(&user.id), client, error.to_string(), now).await,
            );
        }
    };
    let key = credential_key(result.cred_id());
    let mut found = None;
    for (row, passkey) in stored_passkeys(db, &user.id).await? {
        if row.credential_id == key {
            found = Some((row, passkey));
        }
    }
    let (row, mut stored) = found.ok_or(AuthError::BadCredentials)?;
    if user.disabled {
        return Err(AuthError::BadCredentials);
    }
    used(&mut tx, &mut stored, &row, &result, now).await?;
    store::end_session(&mut tx, &pending.id_hash, now).await?;
    signin::open_session(tx, settings, &user, "password+passkey", client, now).await
}

/// A sign-in with the passkey alone, second step: the authenticator names the account (its
/// user handle and credential), the verifier checks the signature and that the person was
/// verified on the authenticator; the session starts.
pub async fn finish_sign_in(
    db: &Db,
    settings: &AuthSettings,
    passkeys: &Passkeys,
    ceremony: &str,
    credential: serde_json::Value,
    client: Option<&str>,
    now: i64,
) -> Result<NewSession, AuthError> {
    signin::refuse_locked(db, None, client, now).await?;
    let credential: PublicKeyCredential = answer(credential)?;
    let mut tx = db.begin().await?;
    let challenge =
        store::take_passkey_challenge(&mut tx, &identity::secret_hash(ceremony), "sign_in", now)
            .await?
            .ok_or(AuthError::SignInExpired)?;
    tx.commit().await?;
    let state: DiscoverableAuthentication = from_json(&challenge.state)?;
    let (handle, credential_id) = match passkeys
        .webauthn
        .identify_discoverable_authentication(&credential)
    {
        Ok((handle, id)) => (handle, credential_key(id)),
        Err(error) => return Err(refused(db, settings, None, client, error.to_string(), now).await),
    };
    let Some(row) = store::passkey(db.reader(), &credential_id).await? else {
        return Err(refused(
            db,
            settings,
            None,
            client,
            "an unknown passkey".to_owned(),
            now,
        )
        .await);
    };
    let user = store::user_by_id(db.reader(), &row.user_id)
        .await?
        .filter(|user| user_handle(user) == handle)
        .ok_or(AuthError::BadCredentials)?;
    signin::refuse_locked(db, Some(&user.id), client, now).await?;
    let mut stored: Passkey = from_json(&row.passkey)?;
    let result = match passkeys.webauthn.finish_discoverable_authentication(
        &credential,
        state,
        &[DiscoverableKey::from(&stored)],
    ) {
        Ok(result) if result.user_verified() => result,
        Ok(_) => {
            let reason = "the authenticator did not verify the person (PIN or biometrics)";
            return Err(
                refused(db, settings, Some(&user.id), client, reason.to_owned(), now).await,
            );
        }
        Err(error) => {
            return Err(
                refused(db, settings, Some(&user.id), client, error.to_string(), now).await,
            );
        }
    };
    if user.disabled || user.password_hash.is_none() {
        let reason = "the account is disabled or not enrolled".to_owned();
        return Err(refused(db, settings, Some(&user.id), client, reason, now).await);
    }
    let mut tx = db.begin().await?;
    used(&mut tx, &mut stored, &row, &result, now).await?;
    signin::open_session(tx, settings, &user, "passkey", client, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_one_origin_browsers_accept() {
        let local = Passkeys::new("http://localhost:8080", "travdoc");
        assert_eq!(
            local.map(|p| p.origin().to_owned()).ok().as_deref(),
            Some("http://localhost:8080")
        );
        assert!(Passkeys::new("https://issuance.example.gov.lk", "travdoc").is_ok());
        for refused in [
            "http://127.0.0.1:8080",
            "http://issuance.example.gov.lk",
            "https://[::1]:8443",
            "https://issuance.example.gov.lk/console",
            "not a url",
        ] {
            assert!(
                matches!(
                    Passkeys::new(refused, "travdoc"),
                    Err(AuthError::PasskeyConfig(_))
                ),
                "{refused}"
            );
        }
    }
}
