//! Staff sign-in: enrolment with a one-time code (password, then TOTP, then recovery codes),
//! the two steps of a sign-in (password, then TOTP or a recovery code), server-side console
//! sessions with idle and absolute limits, sign-out, and the throttling of failures. The API's
//! bearer tokens are checked in `auth::authenticate`; this is the console's path and the CLI's
//! second-officer check.
//!
//! Failures are slowed (a growing pause before the answer) and, past a limit within the
//! window, the account and the client address are locked for a while; an admin can lift an
//! account's lock (`accounts::unlock`). Sign-ins, failures, locks and enrolments are on the
//! ledger.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::auth::{Actor, AuthError};
use crate::db::Db;
use crate::identity;
use travdoc_store::identity::{self as store, SessionRow, Throttle, UserChange, UserRow};
use travdoc_store::ledger::{Entry, Event};

/// The console's session and throttling limits (`[auth]`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// A session ends after this long without a request (`TRAVDOC_SESSION_IDLE_MINUTES`).
    /// Default 15.
    pub session_idle_minutes: u32,
    /// A session ends this long after sign-in, whatever its use (`TRAVDOC_SESSION_HOURS`).
    /// Default 10 (a working day).
    pub session_hours: u32,
    /// Failures within `failure_window_minutes` that lock an account. Default 5.
    pub lock_after_failures: u32,
    /// Failures from one client address within the window that lock the address (higher: an
    /// office may share one address). Default 20.
    pub lock_client_after_failures: u32,
    /// The window in which failures count. Default 15.
    pub failure_window_minutes: u32,
    /// How long a lock lasts. Default 15.
    pub lock_minutes: u32,
    /// The issuer shown in authenticator apps. Default `travdoc`.
    pub totp_issuer: String,
    /// The console's origin as browsers see it, for passkeys (`TRAVDOC_PASSKEY_ORIGIN`), e.g.
    /// `https://issuance.example.gov.lk`. Unset: `http://localhost:PORT` when the service
    /// listens on a loopback address without TLS (a development host), else passkeys are off.
    pub passkey_origin: Option<String>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            session_idle_minutes: 15,
            session_hours: 10,
            lock_after_failures: 5,
            lock_client_after_failures: 20,
            failure_window_minutes: 15,
            lock_minutes: 15,
            totp_issuer: "travdoc".to_owned(),
            passkey_origin: None,
        }
    }
}

/// How long the first step of a sign-in waits for the second.
const SECOND_STEP_SECONDS: i64 = 300;

/// The TOTP enrolment step: the secret to put in an authenticator app.
#[derive(Debug, Clone, Serialize)]
pub struct TotpEnrolment {
    pub user: String,
    /// Base32, for typing into an app.
    pub secret: String,
    /// `otpauth://` URI, for the QR code.
    pub uri: String,
}

/// A console session just made: the cookie's id and the forms' CSRF value.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub csrf: String,
    pub actor: Actor,
}

/// A live console session.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub actor: Actor,
    pub csrf: String,
    /// The console language its user chose (`en`, `si` or `ta`).
    pub language: String,
}

pub(crate) async fn append(
    tx: &mut travdoc_store::Transaction,
    key: String,
    at: i64,
    event: Event,
) -> Result<(), AuthError> {
    travdoc_store::ledger::append(tx, &key, &Entry::new(at, event)).await?;
    Ok(())
}

/// The account and its state behind an enrolment code.
async fn enrolling(db: &Db, code: &str, now: i64) -> Result<(String, UserRow), AuthError> {
    let hash = identity::secret_hash(&identity::normalise_code(code));
    let user_id = store::enrolment_owner(db.reader(), &hash, now)
        .await?
        .ok_or(AuthError::EnrolmentInvalid)?;
    let user = store::user_by_id(db.reader(), &user_id)
        .await?
        .ok_or(AuthError::EnrolmentInvalid)?;
    if user.disabled {
        return Err(AuthError::EnrolmentInvalid);
    }
    Ok((hash, user))
}

/// The name of the account an enrolment code is for (the first page shows it).
pub async fn enrolment_account(db: &Db, code: &str, now: i64) -> Result<String, AuthError> {
    Ok(enrolling(db, code, now).await?.1.name)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| AuthError::Credential(error.to_string()))
}

/// Enrolment, first step: sets the password and returns a new TOTP secret to confirm. The
/// code stays good until the TOTP step confirms (a person may retry).
pub async fn enrol_password(
    db: &Db,
    settings: &AuthSettings,
    code: &str,
    password: &str,
    now: i64,
) -> Result<TotpEnrolment, AuthError> {
    let (_, user) = enrolling(db, code, now).await?;
    if let Some(problem) = identity::password_problem(password, &user.name) {
        return Err(AuthError::WeakPassword(problem));
    }
    let owned = password.to_owned();
    let hash = blocking(move || identity::hash_password(&owned)).await??;
    let secret = identity::totp_secret()?;
    let mut tx = db.begin().await?;
    store::change_user(&mut tx, &user.id, &UserChange::Password(&hash)).await?;
    store::change_user(&mut tx, &user.id, &UserChange::TotpPending(Some(&secret))).await?;
    append(
        &mut tx,
        format!("user.factor:{}:password:{now}", user.id),
        now,
        Event::FactorEnrolled {
            user_ref: user.id.clone(),
            factor: "password".to_owned(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(TotpEnrolment {
        uri: identity::totp_uri(&settings.totp_issuer, &user.name, &secret),
        user: user.name,
        secret,
    })
}

/// Enrolment, last step: a code from the app confirms the TOTP secret; the enrolment code is
/// used up and ten recovery codes are returned (shown once).
pub async fn enrol_totp(
    db: &Db,
    code: &str,
    totp_code: &str,
    now: i64,
) -> Result<Vec<String>, AuthError> {
    let (hash, user) = enrolling(db, code, now).await?;
    let secret = user
        .totp_pending
        .clone()
        .ok_or(AuthError::EnrolmentInvalid)?;
    let step = identity::totp_step(&secret, totp_code, u64::try_from(now).unwrap_or_default())
        .ok_or(AuthError::BadCode)?;
    let recovery = identity::recovery_codes()?;
    let hashes: Vec<String> = recovery
        .iter()
        .map(|code| identity::secret_hash(code))
        .collect();
    let mut tx = db.begin().await?;
    if !store::use_enrolment(&mut tx, &hash, now).await? {
        return Err(AuthError::EnrolmentInvalid);
    }
    store::change_user(&mut tx, &user.id, &UserChange::TotpConfirmed).await?;
    store::use_totp_step(&mut tx, &user.id, step).await?;
    store::replace_recovery_codes(&mut tx, &user.id, &hashes).await?;
    for factor in ["totp", "recovery_codes"] {
        append(
            &mut tx,
            format!("user.factor:{}:{factor}:{now}", user.id),
            now,
            Event::FactorEnrolled {
                user_ref: user.id.clone(),
                factor: factor.to_owned(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(recovery)
}

/// The lock on `subject`, if one is in force at `now`.
async fn locked(db: &Db, subject: &str, now: i64) -> Result<Option<i64>, AuthError> {
    let state = store::throttle(db.reader(), subject).await?;
    Ok((state.locked_until > now).then_some(state.locked_until))
}

/// Records a failure of `subject` (within the window), locking it at `limit` failures.
/// Returns the failures counted.
async fn fail(
    tx: &mut travdoc_store::Transaction,
    db: &Db,
    settings: &AuthSettings,
    subject: &str,
    limit: u32,
    now: i64,
) -> Result<i64, AuthError> {
    let window = i64::from(settings.failure_window_minutes) * 60;
    let mut state = store::throttle(db.reader(), subject).await?;
    if now - state.last_failure > window {
        state = Throttle::default();
    }
    state.failures += 1;
    state.last_failure = now;
    if state.failures >= i64::from(limit) && state.locked_until <= now {
        state.locked_until = now + i64::from(settings.lock_minutes) * 60;
        append(
            tx,
            format!("user.locked:{subject}:{now}"),
            now,
            Event::SignInLocked {
                subject: subject.to_owned(),
                until: state.locked_until,
            },
        )
        .await?;
    }
    store::set_throttle(tx, subject, &state).await?;
    Ok(state.failures)
}

/// Records a failed attempt for the account (when known) and the client, on the ledger too,
/// then pauses a little longer for each recent failure (at most 2 s).
pub(crate) async fn failed(
    db: &Db,
    settings: &AuthSettings,
    user: Option<&str>,
    client: Option<&str>,
    reason: &str,
    now: i64,
) -> Result<(), AuthError> {
    let mut tx = db.begin().await?;
    let mut failures = 0;
    if let Some(user) = user {
        failures = fail(
            &mut tx,
            db,
            settings,
            &format!("user:{user}"),
            settings.lock_after_failures,
            now,
        )
        .await?;
    }
    if let Some(client) = client {
        let client_failures = fail(
            &mut tx,
            db,
            settings,
            &format!("client:{client}"),
            settings.lock_client_after_failures,
            now,
        )
        .await?;
        failures = failures.max(client_failures / 4);
    }
    let nonce = identity::csrf_value()?;
    append(
        &mut tx,
        format!("user.sign-in-failed:{now}:{nonce}"),
        now,
        Event::SignInFailed {
            user_ref: user.map(str::to_owned),
            client: client.map(str::to_owned),
            reason: reason.to_owned(),
        },
    )
    .await?;
    tx.commit().await?;
    let pause = Duration::from_millis(250 * u64::try_from(failures).unwrap_or_default());
    tokio::time::sleep(pause.min(Duration::from_secs(2))).await;
    Ok(())
}

/// Refuses when the account or the client address is locked.
pub(crate) async fn refuse_locked(
    db: &Db,
    user: Option<&str>,
    client: Option<&str>,
    now: i64,
) -> Result<(), AuthError> {
    if let Some(user) = user
        && let Some(until) = locked(db, &format!("user:{user}"), now).await?
    {
        return Err(AuthError::Locked(until));
    }
    if let Some(client) = client
        && let Some(until) = locked(db, &format!("client:{client}"), now).await?
    {
        return Err(AuthError::Locked(until));
    }
    Ok(())
}

/// Sign-in, first step: name and password. Returns the id of a session that only the second
/// step can make usable (5 minutes).
pub async fn sign_in_password(
    db: &Db,
    settings: &AuthSettings,
    name: &str,
    password: &str,
    client: Option<&str>,
    now: i64,
) -> Result<String, AuthError> {
    let user = store::user_by_name(db.reader(), name).await?;
    refuse_locked(db, user.as_ref().map(|u| u.id.as_str()), client, now).await?;
    let good = match user.as_ref().and_then(|u| u.password_hash.clone()) {
        Some(stored) => {
            let owned = password.to_owned();
            blocking(move || identity::password_matches(&owned, &stored)).await?
        }
        None => {
            blocking(identity::spend_a_password_check).await?;
            false
        }
    };
    let user = match user {
        Some(user) if good && !user.disabled && user.totp_secret.is_some() => user,
        other => {
            let reason = match &other {
                None => "unknown name",
                Some(user) if user.disabled => "disabled",
                Some(user) if !good => "wrong password",
                Some(_) => "not enrolled",
            };
            failed(
                db,
                settings,
                other.as_ref().map(|u| u.id.as_str()),
                client,
                reason,
                now,
            )
            .await?;
            return Err(AuthError::BadCredentials);
        }
    };
    let id = identity::session_id()?;
    let mut tx = db.begin().await?;
    store::insert_session(
        &mut tx,
        &SessionRow {
            id_hash: identity::secret_hash(&id),
            user_id: user.id,
            stage: "password".to_owned(),
            csrf: identity::csrf_value()?,
            created_at: now,
            last_seen: now,
            expires_at: now + SECOND_STEP_SECONDS,
            ended_at: None,
            client: client.map(str::to_owned),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Sign-in, second step: a TOTP code (or a recovery code) after the password. Ends the first
/// step's session and opens the console session under a new id.
pub async fn sign_in_code(
    db: &Db,
    settings: &AuthSettings,
    pending_id: &str,
    code: &str,
    client: Option<&str>,
    now: i64,
) -> Result<NewSession, AuthError> {
    let (pending, user) = pending_sign_in(db, pending_id, now).await?;
    refuse_locked(db, Some(&user.id), client, now).await?;
    let secret = user.totp_secret.clone().ok_or(AuthError::BadCredentials)?;
    let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let mut tx = db.begin().await?;
    let method = if typed.len() == 6 && typed.bytes().all(|b| b.is_ascii_digit()) {
        match identity::totp_step(&secret, &typed, u64::try_from(now).unwrap_or_default()) {
            Some(step) if store::use_totp_step(&mut tx, &user.id, step).await? => {
                Some("password+totp")
            }
            _ => None,
        }
    } else {
        let hash = identity::secret_hash(&identity::normalise_code(&typed));
        store::use_recovery_code(&mut tx, &user.id, &hash, now)
            .await?
            .then_some("password+recovery_code")
    };
    let Some(method) = method else {
        drop(tx);
        failed(
            db,
            settings,
            Some(&user.id),
            client,
            "wrong second factor",
            now,
        )
        .await?;
        return Err(AuthError::BadCode);
    };
    if user.disabled {
        return Err(AuthError::BadCredentials);
    }
    store::end_session(&mut tx, &pending.id_hash, now).await?;
    open_session(tx, settings, &user, method, client, now).await
}

/// The sign-in under way behind the first step's ticket (password checked, 5 minutes).
pub(crate) async fn pending_sign_in(
    db: &Db,
    pending_id: &str,
    now: i64,
) -> Result<(SessionRow, UserRow), AuthError> {
    store::session(db.reader(), &identity::secret_hash(pending_id))
        .await?
        .filter(|(session, _)| {
            session.stage == "password" && session.ended_at.is_none() && session.expires_at > now
        })
        .ok_or(AuthError::SignInExpired)
}

/// Starts a console session for `user` under a new id (every way of signing in ends here):
/// resets the account's failure count, records `signed_in` with the factors used, and commits
/// `tx`.
pub(crate) async fn open_session(
    mut tx: travdoc_store::Transaction,
    settings: &AuthSettings,
    user: &UserRow,
    method: &str,
    client: Option<&str>,
    now: i64,
) -> Result<NewSession, AuthError> {
    let id = identity::session_id()?;
    let csrf = identity::csrf_value()?;
    store::insert_session(
        &mut tx,
        &SessionRow {
            id_hash: identity::secret_hash(&id),
            user_id: user.id.clone(),
            stage: "active".to_owned(),
            csrf: csrf.clone(),
            created_at: now,
            last_seen: now,
            expires_at: now + i64::from(settings.session_hours) * 3600,
            ended_at: None,
            client: client.map(str::to_owned),
        },
    )
    .await?;
    store::set_throttle(&mut tx, &format!("user:{}", user.id), &Throttle::default()).await?;
    append(
        &mut tx,
        format!("user.signed-in:{}", identity::secret_hash(&id)),
        now,
        Event::SignedIn {
            user_ref: user.id.clone(),
            method: method.to_owned(),
            client: client.map(str::to_owned),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(NewSession {
        id,
        csrf,
        actor: crate::auth::actor_of(user)?,
    })
}

/// The live session behind a cookie's id: not ended, within both limits, of an enabled user.
/// Moves its idle clock.
pub async fn session(
    db: &Db,
    settings: &AuthSettings,
    id: &str,
    now: i64,
) -> Result<Option<LiveSession>, AuthError> {
    let hash = identity::secret_hash(id);
    let Some((session, user)) = store::session(db.reader(), &hash).await? else {
        return Ok(None);
    };
    let idle_after = now - i64::from(settings.session_idle_minutes) * 60;
    let live = session.stage == "active"
        && session.ended_at.is_none()
        && session.expires_at > now
        && session.last_seen >= idle_after
        && !user.disabled;
    if !live {
        return Ok(None);
    }
    // The idle clock moves at most every 15 s (a write per page view is not needed).
    if now - session.last_seen >= 15
        && !store::touch_session(db.writer(), &hash, now, idle_after).await?
    {
        return Ok(None);
    }
    Ok(Some(LiveSession {
        actor: crate::auth::actor_of(&user)?,
        csrf: session.csrf,
        language: user.language,
    }))
}

/// Ends the session behind a cookie's id (sign-out).
pub async fn sign_out(db: &Db, id: &str, now: i64) -> Result<(), AuthError> {
    let mut tx = db.begin().await?;
    store::end_session(&mut tx, &identity::secret_hash(id), now).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a second officer's credentials at a terminal (the CLI's approver): name, password
/// and a current TOTP code, under the same throttling as the console.
pub async fn check_officer(
    db: &Db,
    settings: &AuthSettings,
    name: &str,
    password: &str,
    code: &str,
    now: i64,
) -> Result<Actor, AuthError> {
    let pending = sign_in_password(db, settings, name, password, Some("terminal"), now).await?;
    let session = sign_in_code(db, settings, &pending, code, Some("terminal"), now).await?;
    sign_out(db, &session.id, now).await?;
    Ok(session.actor)
}
