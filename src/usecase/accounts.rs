//! Staff accounts: adding one (with a one-time enrolment code), API tokens, disabling and
//! enabling, changing a role, resetting credentials, lifting a lock, and confirming grants.
//! Called alike by `/v1/users` (an admin), the console's users page (an admin) and
//! `travdoc user` (the host operator, or an admin whose credentials the command checked).
//!
//! Separation of duties: a grant of `approver` or `admin` (a new account, a change of role, or
//! enabling such an account) is in force only once a second party confirms it. The second party
//! is an admin who is neither the one who asked nor the grantee. While the service has fewer
//! than two admins, the host operator (an offline command on the server host) is that second
//! party for grants an admin asked for; with no admin at all, the host operator's own grant of
//! `admin` is in force at once (the first admin, or recovery). Every act is on the ledger in the
//! transaction that makes it.

use serde::Serialize;

use crate::auth::{Actor, AuthError, MissionCode, Role};
use crate::db::Db;
use crate::identity;
use travdoc_store::identity::{self as store, GrantRow, TokenRow, UserChange, UserRow};
use travdoc_store::ledger::{Entry, Event};

/// How long an enrolment code is good.
pub const ENROLMENT_SECONDS: i64 = 24 * 3600;
/// Longest API token life, in days.
pub const MAX_TOKEN_DAYS: u32 = 366;

/// Who acts on an account.
#[derive(Debug, Clone)]
pub enum Party {
    /// An admin, authenticated (API token, console session, or credentials an offline command
    /// checked).
    Admin(Actor),
    /// The operator of an offline command on the server host (`cli:<login>`).
    Host(String),
}

impl Party {
    /// The reference written into the ledger and the grant rows.
    pub fn reference(&self) -> String {
        match self {
            Party::Admin(actor) => actor.id.clone(),
            Party::Host(name) => name.clone(),
        }
    }
}

/// An account as staff see it (no secrets).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub mission: Option<String>,
    pub disabled: bool,
    /// False while a grant of the role awaits a second admin.
    pub granted: bool,
    /// The grant awaiting confirmation, if any.
    pub pending: Option<PendingGrant>,
    /// A password is set.
    pub password: bool,
    /// A TOTP second factor is enrolled.
    pub totp: bool,
    /// RFC 3339.
    pub created_at: String,
}

/// A grant awaiting confirmation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingGrant {
    pub id: String,
    /// `role` (a new account or a change of role) or `enable`.
    pub kind: String,
    pub role: String,
    /// Who asked (an account id or `cli:<login>`).
    pub requested_by: String,
}

/// A new account with the only copy of its enrolment code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewAccount {
    pub account: AccountView,
    /// Shown once: the person sets a password and a second factor with it.
    pub enrolment_code: String,
    /// RFC 3339.
    pub enrolment_expires_at: String,
}

/// A new API token with the only copy of its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewToken {
    pub id: String,
    pub user: String,
    pub label: String,
    /// The bearer token. Shown once; stored only as a SHA-256 hash.
    pub token: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// An API token as listed (no secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: String,
    pub label: String,
    /// RFC 3339.
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub created_by: String,
}

fn unix(now: time::OffsetDateTime) -> i64 {
    now.unix_timestamp()
}

fn rfc3339(seconds: i64) -> String {
    crate::issuance::rfc3339_unix(u64::try_from(seconds).unwrap_or_default())
}

fn needs_grant(role: Role) -> bool {
    matches!(role, Role::Approver | Role::Admin)
}

fn view(user: &UserRow, pending: Option<&GrantRow>) -> Result<AccountView, AuthError> {
    Ok(AccountView {
        id: user.id.clone(),
        name: user.name.clone(),
        role: user.role.parse()?,
        mission: user.mission.clone(),
        disabled: user.disabled,
        granted: user.granted,
        pending: pending.map(|grant| PendingGrant {
            id: grant.id.clone(),
            kind: grant.kind.clone(),
            role: grant.role.clone(),
            requested_by: grant.requested_by.clone(),
        }),
        password: user.password_hash.is_some(),
        totp: user.totp_secret.is_some(),
        created_at: user.created_at.clone(),
    })
}

fn token_view(token: &TokenRow) -> TokenView {
    TokenView {
        id: token.id.clone(),
        label: token.label.clone(),
        created_at: rfc3339(token.created_at),
        expires_at: rfc3339(token.expires_at),
        revoked_at: token.revoked_at.map(rfc3339),
        created_by: token.created_by.clone(),
    }
}

/// Checks the name and the role-mission rule.
fn check_account(name: &str, role: Role, mission: Option<&MissionCode>) -> Result<(), AuthError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !valid {
        return Err(AuthError::InvalidName(name.to_owned()));
    }
    match (role, mission) {
        (Role::Mission, None) => Err(AuthError::MissionRequired),
        (Role::Mission, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err(AuthError::MissionNotAllowed),
    }
}

async fn append(
    tx: &mut travdoc_store::Transaction,
    key: String,
    at: i64,
    event: Event,
) -> Result<(), AuthError> {
    travdoc_store::ledger::append(tx, &key, &Entry::new(at, event)).await?;
    Ok(())
}

async fn user_named(db: &Db, name: &str) -> Result<UserRow, AuthError> {
    store::user_by_name(db.reader(), name)
        .await?
        .ok_or_else(|| AuthError::UnknownUser(name.to_owned()))
}

/// Issues a fresh enrolment code for `user` (inside `tx`), voiding the earlier ones.
async fn enrolment(
    tx: &mut travdoc_store::Transaction,
    user: &str,
    party: &Party,
    at: i64,
) -> Result<(String, i64), AuthError> {
    let code = identity::enrolment_code()?;
    let expires = at + ENROLMENT_SECONDS;
    store::insert_enrolment(
        tx,
        &identity::secret_hash(&code),
        user,
        at,
        expires,
        &party.reference(),
    )
    .await?;
    append(
        tx,
        format!(
            "user.enrolment:{user}:{at}:{}",
            identity::secret_hash(&code)
        ),
        at,
        Event::EnrolmentIssued {
            user_ref: user.to_owned(),
            operator_ref: party.reference(),
        },
    )
    .await?;
    Ok((code, expires))
}

/// Records a pending grant of `role` to `user` asked for by `party` (inside `tx`).
async fn request_grant(
    tx: &mut travdoc_store::Transaction,
    user: &str,
    kind: &str,
    role: Role,
    party: &Party,
    at: i64,
) -> Result<(), AuthError> {
    let grant = GrantRow {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.to_owned(),
        kind: kind.to_owned(),
        role: role.as_str().to_owned(),
        requested_by: party.reference(),
        requested_at: at,
        confirmed_by: None,
        confirmed_at: None,
        state: "pending".to_owned(),
    };
    store::insert_grant(tx, &grant).await?;
    append(
        tx,
        format!("user.grant:{}", grant.id),
        at,
        Event::GrantRequested {
            grant_ref: grant.id.clone(),
            user_ref: user.to_owned(),
            grant_kind: kind.to_owned(),
            role: role.as_str().to_owned(),
            operator_ref: party.reference(),
        },
    )
    .await
}

/// Adds an account and returns its one-time enrolment code.
pub async fn add_user(
    db: &Db,
    party: &Party,
    name: &str,
    role: Role,
    mission: Option<MissionCode>,
    now: time::OffsetDateTime,
) -> Result<NewAccount, AuthError> {
    check_account(name, role, mission.as_ref())?;
    let at = unix(now);
    let mut tx = db.begin().await?;
    // The first admin (or a recovery when no admin is left) is the host operator's alone.
    let bootstrap = role == Role::Admin
        && matches!(party, Party::Host(_))
        && store::confirmed_admins(&mut tx).await?.is_empty();
    let granted = !needs_grant(role) || bootstrap;
    let user = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_owned(),
        role: role.as_str().to_owned(),
        mission: mission.as_ref().map(|m| m.as_str().to_owned()),
        created_at: crate::issuance::rfc3339(now),
        disabled: false,
        granted,
        password_hash: None,
        totp_secret: None,
        totp_pending: None,
        totp_last_step: 0,
        language: "en".to_owned(),
    };
    if !store::insert_user(&mut tx, &user).await? {
        return Err(AuthError::DuplicateName(name.to_owned()));
    }
    append(
        &mut tx,
        format!("user.added:{}", user.id),
        at,
        Event::UserAdded {
            user_ref: user.id.clone(),
            role: user.role.clone(),
            operator_ref: party.reference(),
        },
    )
    .await?;
    if !granted {
        request_grant(&mut tx, &user.id, "role", role, party, at).await?;
    }
    let (code, expires) = enrolment(&mut tx, &user.id, party, at).await?;
    let pending = store::pending_grant(&mut tx, &user.id).await?;
    tx.commit().await?;
    Ok(NewAccount {
        account: view(&user, pending.as_ref())?,
        enrolment_code: code,
        enrolment_expires_at: rfc3339(expires),
    })
}

/// The console's languages, by code: English, Sinhala, Tamil.
pub const LANGUAGES: [&str; 3] = ["en", "si", "ta"];

/// Sets the console language `actor` reads the console in (each person chooses their own).
/// Not ledgered: a display preference, not an act on a document or an account's powers.
pub async fn set_language(db: &Db, actor: &Actor, language: &str) -> Result<(), AuthError> {
    let Some(language) = LANGUAGES.iter().find(|code| **code == language.trim()) else {
        return Err(AuthError::Language(language.chars().take(16).collect()));
    };
    let mut tx = db.begin().await?;
    if !store::set_language(&mut tx, &actor.id, language).await? {
        return Err(AuthError::UnknownUser(actor.name.clone()));
    }
    tx.commit().await?;
    Ok(())
}

/// Every account, by name.
pub async fn list(db: &Db) -> Result<Vec<AccountView>, AuthError> {
    let grants = store::pending_grants(db.reader()).await?;
    store::users(db.reader())
        .await?
        .iter()
        .map(|user| view(user, grants.iter().find(|grant| grant.user_id == user.id)))
        .collect()
}

/// One account.
pub async fn account(db: &Db, name: &str) -> Result<AccountView, AuthError> {
    let user = user_named(db, name).await?;
    let grants = store::pending_grants(db.reader()).await?;
    view(&user, grants.iter().find(|grant| grant.user_id == user.id))
}

/// Creates an API token for `name` valid `days` days (1 to [`MAX_TOKEN_DAYS`]).
pub async fn issue_token(
    db: &Db,
    party: &Party,
    name: &str,
    label: &str,
    days: u32,
    now: time::OffsetDateTime,
) -> Result<NewToken, AuthError> {
    if days == 0 || days > MAX_TOKEN_DAYS {
        return Err(AuthError::TokenLife(MAX_TOKEN_DAYS));
    }
    // The free-text rule of every other field: no control characters, no white space at
    // either end (nothing is trimmed silently).
    crate::issuance::input::optional_free_text("label", Some(label), 64)
        .map_err(|_| AuthError::TokenLabel)?;
    let user = user_named(db, name).await?;
    let token = crate::auth::Token::generate()?;
    let at = unix(now);
    let row = TokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.id.clone(),
        label: if label.is_empty() {
            "api".to_owned()
        } else {
            label.to_owned()
        },
        token_hash: crate::auth::token_hash(token.expose()),
        created_at: at,
        expires_at: at + i64::from(days) * 86_400,
        revoked_at: None,
        created_by: party.reference(),
    };
    let mut tx = db.begin().await?;
    store::insert_token(&mut tx, &row).await?;
    append(
        &mut tx,
        format!("user.token:{}", row.id),
        at,
        Event::TokenCreated {
            token_ref: row.id.clone(),
            user_ref: user.id.clone(),
            expires_at: row.expires_at,
            operator_ref: party.reference(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(NewToken {
        id: row.id,
        user: user.name,
        label: row.label,
        token: token.expose().to_owned(),
        expires_at: rfc3339(row.expires_at),
    })
}

/// The API tokens of `name`.
pub async fn tokens(db: &Db, name: &str) -> Result<Vec<TokenView>, AuthError> {
    let user = user_named(db, name).await?;
    Ok(store::tokens_of(db.reader(), &user.id)
        .await?
        .iter()
        .map(token_view)
        .collect())
}

/// Revokes API token `id`.
pub async fn revoke_token(
    db: &Db,
    party: &Party,
    id: &str,
    now: time::OffsetDateTime,
) -> Result<(), AuthError> {
    let at = unix(now);
    let mut tx = db.begin().await?;
    let Some(owner) = store::revoke_token(&mut tx, id, at).await? else {
        return Err(AuthError::UnknownToken(id.to_owned()));
    };
    append(
        &mut tx,
        format!("user.token-revoked:{id}"),
        at,
        Event::TokenRevoked {
            token_ref: id.to_owned(),
            user_ref: owner,
            operator_ref: party.reference(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses to leave the service without an enabled admin in force.
async fn keep_an_admin(
    tx: &mut travdoc_store::Transaction,
    user: &UserRow,
) -> Result<(), AuthError> {
    let admins = store::confirmed_admins(tx).await?;
    if admins.len() == 1 && admins[0] == user.id {
        return Err(AuthError::LastAdmin);
    }
    Ok(())
}

/// Disables `name`: its sessions end and its tokens stop at once; a pending grant is withdrawn.
pub async fn disable(
    db: &Db,
    party: &Party,
    name: &str,
    now: time::OffsetDateTime,
) -> Result<AccountView, AuthError> {
    let user = user_named(db, name).await?;
    let at = unix(now);
    let mut tx = db.begin().await?;
    keep_an_admin(&mut tx, &user).await?;
    store::change_user(&mut tx, &user.id, &UserChange::Disabled(true)).await?;
    store::withdraw_grants(&mut tx, &user.id).await?;
    store::end_sessions_of(&mut tx, &user.id, at).await?;
    append(
        &mut tx,
        format!("user.disabled:{}:{at}", user.id),
        at,
        Event::UserDisabled {
            user_ref: user.id.clone(),
            operator_ref: party.reference(),
        },
    )
    .await?;
    tx.commit().await?;
    account(db, name).await
}

/// Enables `name`; for an approver or admin, once a second party confirms.
pub async fn enable(
    db: &Db,
    party: &Party,
    name: &str,
    now: time::OffsetDateTime,
) -> Result<AccountView, AuthError> {
    let user = user_named(db, name).await?;
    let role: Role = user.role.parse()?;
    let at = unix(now);
    let mut tx = db.begin().await?;
    if needs_grant(role) {
        request_grant(&mut tx, &user.id, "enable", role, party, at).await?;
    } else {
        store::change_user(&mut tx, &user.id, &UserChange::Disabled(false)).await?;
        append(
            &mut tx,
            format!("user.enabled:{}:{at}", user.id),
            at,
            Event::UserEnabled {
                user_ref: user.id.clone(),
                operator_ref: party.reference(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    account(db, name).await
}

/// Changes the role of `name`; to approver or admin, in force once a second party confirms
/// (until then the account may do nothing).
pub async fn set_role(
    db: &Db,
    party: &Party,
    name: &str,
    role: Role,
    mission: Option<MissionCode>,
    now: time::OffsetDateTime,
) -> Result<AccountView, AuthError> {
    check_account(name, role, mission.as_ref())?;
    let user = user_named(db, name).await?;
    if user.role == role.as_str()
        && user.mission.as_deref() == mission.as_ref().map(MissionCode::as_str)
    {
        // Not a change: a repeated grant would otherwise suspend a role already in force.
        return Err(AuthError::SameRole(name.to_owned()));
    }
    let at = unix(now);
    let mut tx = db.begin().await?;
    if user.role == Role::Admin.as_str() && role != Role::Admin {
        keep_an_admin(&mut tx, &user).await?;
    }
    let granted = !needs_grant(role);
    store::change_user(
        &mut tx,
        &user.id,
        &UserChange::Role {
            role: role.as_str(),
            mission: mission.as_ref().map(MissionCode::as_str),
            granted,
        },
    )
    .await?;
    if granted {
        store::withdraw_grants(&mut tx, &user.id).await?;
        append(
            &mut tx,
            format!("user.role:{}:{at}:{}", user.id, role.as_str()),
            at,
            Event::RoleChanged {
                user_ref: user.id.clone(),
                role: role.as_str().to_owned(),
                operator_ref: party.reference(),
            },
        )
        .await?;
    } else {
        request_grant(&mut tx, &user.id, "role", role, party, at).await?;
    }
    tx.commit().await?;
    account(db, name).await
}

/// Clears the password, second factor and passkeys of `name`, ends its sessions and returns a new
/// enrolment code.
pub async fn reset(
    db: &Db,
    party: &Party,
    name: &str,
    now: time::OffsetDateTime,
) -> Result<NewAccount, AuthError> {
    let user = user_named(db, name).await?;
    let at = unix(now);
    let mut tx = db.begin().await?;
    store::change_user(&mut tx, &user.id, &UserChange::Reset).await?;
    store::replace_recovery_codes(&mut tx, &user.id, &[]).await?;
    store::delete_passkeys_of(&mut tx, &user.id).await?;
    store::end_sessions_of(&mut tx, &user.id, at).await?;
    let (code, expires) = enrolment(&mut tx, &user.id, party, at).await?;
    tx.commit().await?;
    Ok(NewAccount {
        account: account(db, name).await?,
        enrolment_code: code,
        enrolment_expires_at: rfc3339(expires),
    })
}

/// Lifts the sign-in lock of `name` (the account's, not its clients').
pub async fn unlock(
    db: &Db,
    party: &Party,
    name: &str,
    now: time::OffsetDateTime,
) -> Result<(), AuthError> {
    let user = user_named(db, name).await?;
    let at = unix(now);
    let mut tx = db.begin().await?;
    store::set_throttle(&mut tx, &format!("user:{}", user.id), &Default::default()).await?;
    append(
        &mut tx,
        format!("user.unlocked:{}:{at}", user.id),
        at,
        Event::SignInUnlocked {
            user_ref: user.id.clone(),
            operator_ref: party.reference(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Confirms the pending grant of `name`: by an admin other than the one who asked and the
/// grantee, or by the host operator while the service has fewer than two admins and an admin
/// asked.
pub async fn confirm(
    db: &Db,
    party: &Party,
    name: &str,
    now: time::OffsetDateTime,
) -> Result<AccountView, AuthError> {
    let user = user_named(db, name).await?;
    let at = unix(now);
    let mut tx = db.begin().await?;
    let grant = store::pending_grant(&mut tx, &user.id)
        .await?
        .ok_or_else(|| AuthError::NoPendingGrant(name.to_owned()))?;
    let admins = store::confirmed_admins(&mut tx).await?;
    match party {
        Party::Admin(admin) => {
            if admin.id == grant.requested_by || admin.id == grant.user_id {
                return Err(AuthError::OwnGrant);
            }
            if !admins.contains(&admin.id) {
                return Err(AuthError::NotAnAdmin);
            }
        }
        Party::Host(_) => {
            let asked_by_admin = admins.contains(&grant.requested_by);
            if admins.len() >= 2 || !asked_by_admin {
                return Err(AuthError::HostMayNotConfirm);
            }
        }
    }
    if !store::confirm_grant(&mut tx, &grant.id, &party.reference(), at).await? {
        return Err(AuthError::NoPendingGrant(name.to_owned()));
    }
    let change = if grant.kind == "enable" {
        UserChange::Disabled(false)
    } else {
        UserChange::Granted(true)
    };
    store::change_user(&mut tx, &user.id, &change).await?;
    if grant.kind == "enable" {
        store::change_user(&mut tx, &user.id, &UserChange::Granted(true)).await?;
    }
    append(
        &mut tx,
        format!("user.grant-confirmed:{}", grant.id),
        at,
        Event::GrantConfirmed {
            grant_ref: grant.id.clone(),
            user_ref: user.id.clone(),
            role: grant.role.clone(),
            operator_ref: party.reference(),
        },
    )
    .await?;
    tx.commit().await?;
    account(db, name).await
}
