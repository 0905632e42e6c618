//! Staff identity rows (migration `0140_identity.sql`): accounts, API tokens, console
//! sessions, enrolment and recovery codes, pending grants and sign-in throttling. Secrets are
//! stored only as hashes (tokens, session ids and codes as SHA-256, passwords as argon2id PHC
//! strings); the TOTP secret is stored as the verifier needs it. Times are Unix seconds.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Result, StoreError, Transaction};

const USER_COLUMNS: &str = "id, name, role, mission, created_at, disabled, granted, \
     password_hash, totp_secret, totp_pending, totp_last_step, language";

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub mission: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub disabled: bool,
    /// False while a grant of `role` awaits confirmation.
    pub granted: bool,
    pub password_hash: Option<String>,
    pub totp_secret: Option<String>,
    pub totp_pending: Option<String>,
    pub totp_last_step: i64,
    /// The console's language: `en`, `si` or `ta`.
    pub language: String,
}

fn user_row(row: &AnyRow) -> std::result::Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        mission: row.try_get("mission")?,
        created_at: row.try_get("created_at")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        granted: row.try_get::<i64, _>("granted")? != 0,
        password_hash: row.try_get("password_hash")?,
        totp_secret: row.try_get("totp_secret")?,
        totp_pending: row.try_get("totp_pending")?,
        totp_last_step: row.try_get("totp_last_step")?,
        language: row.try_get("language")?,
    })
}

/// Sets the console language of account `id` (`en`, `si` or `ta`; the schema refuses others);
/// `Ok(false)` when there is no such account.
pub async fn set_language(tx: &mut Transaction, id: &str, language: &str) -> Result<bool> {
    let result = sqlx::query("UPDATE svc_users SET language = $1 WHERE id = $2")
        .bind(language)
        .bind(id)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("setting a user's language"))?;
    Ok(result.rows_affected() == 1)
}

/// Inserts an account; `Ok(false)` when the name is taken.
pub async fn insert_user(tx: &mut Transaction, user: &UserRow) -> Result<bool> {
    let result = sqlx::query(
        "INSERT INTO svc_users (id, name, role, mission, created_at, disabled, granted) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&user.id)
    .bind(&user.name)
    .bind(&user.role)
    .bind(&user.mission)
    .bind(&user.created_at)
    .bind(i64::from(user.disabled))
    .bind(i64::from(user.granted))
    .execute(tx.conn())
    .await;
    match result {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(false),
        Err(error) => Err(StoreError::db("adding a user")(error)),
    }
}

async fn one_user(
    executor: impl sqlx::Executor<'_, Database = sqlx::Any>,
    column: &str,
    value: &str,
) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM svc_users WHERE {column} = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .fetch_optional(executor)
        .await
        .map_err(StoreError::db("reading a user"))?;
    row.as_ref()
        .map(user_row)
        .transpose()
        .map_err(StoreError::db("reading a user"))
}

/// The account named `name`.
pub async fn user_by_name(pool: &sqlx::AnyPool, name: &str) -> Result<Option<UserRow>> {
    one_user(pool, "name", name).await
}

/// The account `id`.
pub async fn user_by_id(pool: &sqlx::AnyPool, id: &str) -> Result<Option<UserRow>> {
    one_user(pool, "id", id).await
}

/// The account named `name`, read inside a transaction.
pub async fn user_by_name_in(tx: &mut Transaction, name: &str) -> Result<Option<UserRow>> {
    one_user(tx.conn(), "name", name).await
}

/// Every account, by name.
pub async fn users(pool: &sqlx::AnyPool) -> Result<Vec<UserRow>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM svc_users ORDER BY name");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .map_err(StoreError::db("listing users"))?;
    rows.iter()
        .map(user_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(StoreError::db("listing users"))
}

/// Enabled admins whose grant is in force.
pub async fn confirmed_admins(tx: &mut Transaction) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id FROM svc_users WHERE role = 'admin' AND granted = 1 AND disabled = 0",
    )
    .fetch_all(tx.conn())
    .await
    .map_err(StoreError::db("counting admins"))?;
    rows.iter()
        .map(|row| row.try_get("id"))
        .collect::<std::result::Result<_, _>>()
        .map_err(StoreError::db("counting admins"))
}

/// One change to an account's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChange<'a> {
    Password(&'a str),
    /// The secret shown at TOTP enrolment (or none).
    TotpPending(Option<&'a str>),
    /// The pending secret becomes the account's.
    TotpConfirmed,
    Disabled(bool),
    Granted(bool),
    Role {
        role: &'a str,
        mission: Option<&'a str>,
        granted: bool,
    },
    /// Password and second factor cleared (a new enrolment follows).
    Reset,
}

/// Applies `change` to account `id`; whether a row changed.
pub async fn change_user(tx: &mut Transaction, id: &str, change: &UserChange<'_>) -> Result<bool> {
    // `$1` is always the account id, bound first.
    let sql = match change {
        UserChange::Password(_) => "UPDATE svc_users SET password_hash = $2 WHERE id = $1",
        UserChange::TotpPending(_) => "UPDATE svc_users SET totp_pending = $2 WHERE id = $1",
        UserChange::TotpConfirmed => {
            "UPDATE svc_users SET totp_secret = totp_pending, totp_pending = NULL \
             WHERE id = $1 AND totp_pending IS NOT NULL"
        }
        UserChange::Disabled(_) => "UPDATE svc_users SET disabled = $2 WHERE id = $1",
        UserChange::Granted(_) => "UPDATE svc_users SET granted = $2 WHERE id = $1",
        UserChange::Role { .. } => {
            "UPDATE svc_users SET role = $2, mission = $3, granted = $4 WHERE id = $1"
        }
        UserChange::Reset => {
            "UPDATE svc_users SET password_hash = NULL, totp_secret = NULL, totp_pending = NULL \
             WHERE id = $1"
        }
    };
    let query = sqlx::query(sql).bind(id);
    let query = match change {
        UserChange::Password(hash) => query.bind(*hash),
        UserChange::TotpPending(secret) => query.bind(*secret),
        UserChange::Disabled(flag) | UserChange::Granted(flag) => query.bind(i64::from(*flag)),
        UserChange::Role {
            role,
            mission,
            granted,
        } => query.bind(*role).bind(*mission).bind(i64::from(*granted)),
        UserChange::TotpConfirmed | UserChange::Reset => query,
    };
    let done = query
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("changing a user"))?;
    Ok(done.rows_affected() == 1)
}

/// Records that TOTP step `step` was used by account `id`, unless it (or a later one) already
/// was: a code is good once.
pub async fn use_totp_step(tx: &mut Transaction, id: &str, step: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE svc_users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2",
    )
    .bind(id)
    .bind(step)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("recording a TOTP step"))?;
    Ok(done.rows_affected() == 1)
}

/// An API token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub label: String,
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub created_by: String,
}

fn token_row(row: &AnyRow) -> std::result::Result<TokenRow, sqlx::Error> {
    Ok(TokenRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        label: row.try_get("label")?,
        token_hash: row.try_get("token_hash")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        created_by: row.try_get("created_by")?,
    })
}

const TOKEN_COLUMNS: &str =
    "id, user_id, label, token_hash, created_at, expires_at, revoked_at, created_by";

/// Records an API token.
pub async fn insert_token(tx: &mut Transaction, token: &TokenRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO svc_api_tokens (id, user_id, label, token_hash, created_at, expires_at, \
         created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&token.id)
    .bind(&token.user_id)
    .bind(&token.label)
    .bind(&token.token_hash)
    .bind(token.created_at)
    .bind(token.expires_at)
    .bind(&token.created_by)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("recording a token"))?;
    Ok(())
}

/// The token whose hash is `hash` and its owner, whatever their state (the caller decides).
pub async fn token_and_owner(
    pool: &sqlx::AnyPool,
    hash: &str,
) -> Result<Option<(TokenRow, UserRow)>> {
    let token_columns = TOKEN_COLUMNS
        .split(", ")
        .map(|column| format!("t.{column} AS t_{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let user_columns = USER_COLUMNS
        .split(", ")
        .map(|column| format!("u.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {token_columns}, {user_columns} FROM svc_api_tokens t \
         JOIN svc_users u ON u.id = t.user_id WHERE t.token_hash = $1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::db("reading a token"))?;
    let Some(row) = row else { return Ok(None) };
    let read = || -> std::result::Result<(TokenRow, UserRow), sqlx::Error> {
        Ok((
            TokenRow {
                id: row.try_get("t_id")?,
                user_id: row.try_get("t_user_id")?,
                label: row.try_get("t_label")?,
                token_hash: row.try_get("t_token_hash")?,
                created_at: row.try_get("t_created_at")?,
                expires_at: row.try_get("t_expires_at")?,
                revoked_at: row.try_get("t_revoked_at")?,
                created_by: row.try_get("t_created_by")?,
            },
            user_row(&row)?,
        ))
    };
    read().map(Some).map_err(StoreError::db("reading a token"))
}

/// The tokens of account `user_id`, newest first.
pub async fn tokens_of(pool: &sqlx::AnyPool, user_id: &str) -> Result<Vec<TokenRow>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM svc_api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(pool)
        .await
        .map_err(StoreError::db("listing tokens"))?;
    rows.iter()
        .map(token_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(StoreError::db("listing tokens"))
}

/// Revokes token `id` (when not already revoked); its owner when it was.
pub async fn revoke_token(tx: &mut Transaction, id: &str, at: i64) -> Result<Option<String>> {
    let row = sqlx::query(
        "UPDATE svc_api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL \
         RETURNING user_id",
    )
    .bind(id)
    .bind(at)
    .fetch_optional(tx.conn())
    .await
    .map_err(StoreError::db("revoking a token"))?;
    row.map(|row| row.try_get("user_id"))
        .transpose()
        .map_err(StoreError::db("revoking a token"))
}

/// A console session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    /// `password` or `active`.
    pub stage: String,
    pub csrf: String,
    pub created_at: i64,
    pub last_seen: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
    pub client: Option<String>,
}

/// Records a session.
pub async fn insert_session(tx: &mut Transaction, session: &SessionRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO svc_sessions (id_hash, user_id, stage, csrf, created_at, last_seen, \
         expires_at, client) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&session.id_hash)
    .bind(&session.user_id)
    .bind(&session.stage)
    .bind(&session.csrf)
    .bind(session.created_at)
    .bind(session.last_seen)
    .bind(session.expires_at)
    .bind(&session.client)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("recording a session"))?;
    Ok(())
}

/// The session whose id hashes to `id_hash`, with its user.
pub async fn session(pool: &sqlx::AnyPool, id_hash: &str) -> Result<Option<(SessionRow, UserRow)>> {
    let user_columns = USER_COLUMNS
        .split(", ")
        .map(|column| format!("u.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT s.id_hash, s.user_id, s.stage, s.csrf, s.created_at AS s_created_at, \
         s.last_seen, s.expires_at, s.ended_at, s.client, {user_columns} \
         FROM svc_sessions s JOIN svc_users u ON u.id = s.user_id WHERE s.id_hash = $1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id_hash)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::db("reading a session"))?;
    let Some(row) = row else { return Ok(None) };
    let read = || -> std::result::Result<(SessionRow, UserRow), sqlx::Error> {
        Ok((
            SessionRow {
                id_hash: row.try_get("id_hash")?,
                user_id: row.try_get("user_id")?,
                stage: row.try_get("stage")?,
                csrf: row.try_get("csrf")?,
                created_at: row.try_get("s_created_at")?,
                last_seen: row.try_get("last_seen")?,
                expires_at: row.try_get("expires_at")?,
                ended_at: row.try_get("ended_at")?,
                client: row.try_get("client")?,
            },
            user_row(&row)?,
        ))
    };
    read()
        .map(Some)
        .map_err(StoreError::db("reading a session"))
}

/// Moves a live session's idle clock to `now`, unless it has been idle since before
/// `idle_after` or has ended; whether it is still live.
pub async fn touch_session(
    pool: &sqlx::AnyPool,
    id_hash: &str,
    now: i64,
    idle_after: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE svc_sessions SET last_seen = $2 \
         WHERE id_hash = $1 AND ended_at IS NULL AND last_seen >= $3 AND expires_at > $2",
    )
    .bind(id_hash)
    .bind(now)
    .bind(idle_after)
    .execute(pool)
    .await
    .map_err(StoreError::db("renewing a session"))?;
    Ok(done.rows_affected() == 1)
}

/// Ends session `id_hash`; whether it was live.
pub async fn end_session(tx: &mut Transaction, id_hash: &str, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE svc_sessions SET ended_at = $2 WHERE id_hash = $1 AND ended_at IS NULL",
    )
    .bind(id_hash)
    .bind(at)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("ending a session"))?;
    Ok(done.rows_affected() == 1)
}

/// Ends every live session of account `user_id`; how many.
pub async fn end_sessions_of(tx: &mut Transaction, user_id: &str, at: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE svc_sessions SET ended_at = $2 WHERE user_id = $1 AND ended_at IS NULL",
    )
    .bind(user_id)
    .bind(at)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("ending sessions"))?;
    Ok(done.rows_affected())
}

/// Records an enrolment code for `user_id` and voids its earlier unused ones.
pub async fn insert_enrolment(
    tx: &mut Transaction,
    code_hash: &str,
    user_id: &str,
    created_at: i64,
    expires_at: i64,
    created_by: &str,
) -> Result<()> {
    sqlx::query("UPDATE svc_enrolments SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .bind(created_at)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("voiding enrolment codes"))?;
    sqlx::query(
        "INSERT INTO svc_enrolments (code_hash, user_id, created_at, expires_at, created_by) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(code_hash)
    .bind(user_id)
    .bind(created_at)
    .bind(expires_at)
    .bind(created_by)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("recording an enrolment code"))?;
    Ok(())
}

/// The account an unused, unexpired enrolment code belongs to.
pub async fn enrolment_owner(
    pool: &sqlx::AnyPool,
    code_hash: &str,
    now: i64,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT user_id FROM svc_enrolments \
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(code_hash)
    .bind(now)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::db("reading an enrolment code"))?;
    row.map(|row| row.try_get("user_id"))
        .transpose()
        .map_err(StoreError::db("reading an enrolment code"))
}

/// Uses an enrolment code; whether it was still good.
pub async fn use_enrolment(tx: &mut Transaction, code_hash: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE svc_enrolments SET used_at = $2 \
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(code_hash)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("using an enrolment code"))?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the recovery codes of `user_id`.
pub async fn replace_recovery_codes(
    tx: &mut Transaction,
    user_id: &str,
    code_hashes: &[String],
) -> Result<()> {
    sqlx::query("DELETE FROM svc_recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("replacing recovery codes"))?;
    for hash in code_hashes {
        sqlx::query("INSERT INTO svc_recovery_codes (code_hash, user_id) VALUES ($1, $2)")
            .bind(hash)
            .bind(user_id)
            .execute(tx.conn())
            .await
            .map_err(StoreError::db("recording recovery codes"))?;
    }
    Ok(())
}

/// Uses one recovery code of `user_id`; whether it was unused.
pub async fn use_recovery_code(
    tx: &mut Transaction,
    user_id: &str,
    code_hash: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE svc_recovery_codes SET used_at = $3 \
         WHERE code_hash = $2 AND user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(code_hash)
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("using a recovery code"))?;
    Ok(done.rows_affected() == 1)
}

/// A grant of approver or admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    pub id: String,
    pub user_id: String,
    /// `role` or `enable`.
    pub kind: String,
    pub role: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<i64>,
    /// `pending`, `confirmed` or `withdrawn`.
    pub state: String,
}

fn grant_row(row: &AnyRow) -> std::result::Result<GrantRow, sqlx::Error> {
    Ok(GrantRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        kind: row.try_get("kind")?,
        role: row.try_get("role")?,
        requested_by: row.try_get("requested_by")?,
        requested_at: row.try_get("requested_at")?,
        confirmed_by: row.try_get("confirmed_by")?,
        confirmed_at: row.try_get("confirmed_at")?,
        state: row.try_get("state")?,
    })
}

/// Records a pending grant, withdrawing the account's earlier pending ones.
pub async fn insert_grant(tx: &mut Transaction, grant: &GrantRow) -> Result<()> {
    sqlx::query(
        "UPDATE svc_grants SET state = 'withdrawn' WHERE user_id = $1 AND state = 'pending'",
    )
    .bind(&grant.user_id)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("withdrawing grants"))?;
    sqlx::query(
        "INSERT INTO svc_grants (id, user_id, kind, role, requested_by, requested_at, state) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
    )
    .bind(&grant.id)
    .bind(&grant.user_id)
    .bind(&grant.kind)
    .bind(&grant.role)
    .bind(&grant.requested_by)
    .bind(grant.requested_at)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("recording a grant"))?;
    Ok(())
}

/// Withdraws the pending grants of `user_id` (its role changed again, or it was disabled).
pub async fn withdraw_grants(tx: &mut Transaction, user_id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE svc_grants SET state = 'withdrawn' WHERE user_id = $1 AND state = 'pending'",
    )
    .bind(user_id)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("withdrawing grants"))?;
    Ok(())
}

/// The pending grant of `user_id`, if any.
pub async fn pending_grant(tx: &mut Transaction, user_id: &str) -> Result<Option<GrantRow>> {
    let row = sqlx::query(
        "SELECT id, user_id, kind, role, requested_by, requested_at, confirmed_by, \
         confirmed_at, state FROM svc_grants WHERE user_id = $1 AND state = 'pending'",
    )
    .bind(user_id)
    .fetch_optional(tx.conn())
    .await
    .map_err(StoreError::db("reading a grant"))?;
    row.as_ref()
        .map(grant_row)
        .transpose()
        .map_err(StoreError::db("reading a grant"))
}

/// Every pending grant, oldest first.
pub async fn pending_grants(pool: &sqlx::AnyPool) -> Result<Vec<GrantRow>> {
    let rows = sqlx::query(
        "SELECT id, user_id, kind, role, requested_by, requested_at, confirmed_by, \
         confirmed_at, state FROM svc_grants WHERE state = 'pending' ORDER BY requested_at, id",
    )
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("listing grants"))?;
    rows.iter()
        .map(grant_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(StoreError::db("listing grants"))
}

/// Confirms pending grant `id` by `by`; whether it was pending.
pub async fn confirm_grant(tx: &mut Transaction, id: &str, by: &str, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE svc_grants SET state = 'confirmed', confirmed_by = $2, confirmed_at = $3 \
         WHERE id = $1 AND state = 'pending'",
    )
    .bind(id)
    .bind(by)
    .bind(at)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("confirming a grant"))?;
    Ok(done.rows_affected() == 1)
}

/// Sign-in failures of one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    pub failures: i64,
    pub last_failure: i64,
    pub locked_until: i64,
}

/// The failures recorded for `subject`.
pub async fn throttle(pool: &sqlx::AnyPool, subject: &str) -> Result<Throttle> {
    let row = sqlx::query(
        "SELECT failures, last_failure, locked_until FROM svc_throttle WHERE subject = $1",
    )
    .bind(subject)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::db("reading sign-in failures"))?;
    match row {
        None => Ok(Throttle::default()),
        Some(row) => Ok(Throttle {
            failures: row
                .try_get("failures")
                .map_err(StoreError::db("reading sign-in failures"))?,
            last_failure: row
                .try_get("last_failure")
                .map_err(StoreError::db("reading sign-in failures"))?,
            locked_until: row
                .try_get("locked_until")
                .map_err(StoreError::db("reading sign-in failures"))?,
        }),
    }
}

/// Stores the failures of `subject`.
pub async fn set_throttle(tx: &mut Transaction, subject: &str, state: &Throttle) -> Result<()> {
    sqlx::query("DELETE FROM svc_throttle WHERE subject = $1")
        .bind(subject)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("recording sign-in failures"))?;
    if state.failures > 0 || state.locked_until > 0 {
        sqlx::query(
            "INSERT INTO svc_throttle (subject, failures, last_failure, locked_until) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(subject)
        .bind(state.failures)
        .bind(state.last_failure)
        .bind(state.locked_until)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("recording sign-in failures"))?;
    }
    Ok(())
}

/// A passkey of a staff member (migration `0150_passkeys.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRow {
    /// base64url, as the authenticator names the credential.
    pub credential_id: String,
    pub user_id: String,
    pub label: String,
    /// The verifier's stored credential (public key, counter), JSON.
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn passkey_row(row: &AnyRow) -> std::result::Result<PasskeyRow, sqlx::Error> {
    Ok(PasskeyRow {
        credential_id: row.try_get("credential_id")?,
        user_id: row.try_get("user_id")?,
        label: row.try_get("label")?,
        passkey: row.try_get("passkey")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

/// The passkeys of `user_id`, oldest first.
pub async fn passkeys_of(pool: &sqlx::AnyPool, user_id: &str) -> Result<Vec<PasskeyRow>> {
    let rows = sqlx::query(
        "SELECT credential_id, user_id, label, passkey, created_at, last_used_at \
         FROM svc_passkeys WHERE user_id = $1 ORDER BY created_at, credential_id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("reading passkeys"))?;
    rows.iter()
        .map(passkey_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(StoreError::db("reading passkeys"))
}

/// The passkey `credential_id`, whoever holds it.
pub async fn passkey(pool: &sqlx::AnyPool, credential_id: &str) -> Result<Option<PasskeyRow>> {
    let row = sqlx::query(
        "SELECT credential_id, user_id, label, passkey, created_at, last_used_at \
         FROM svc_passkeys WHERE credential_id = $1",
    )
    .bind(credential_id)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::db("reading a passkey"))?;
    row.as_ref()
        .map(passkey_row)
        .transpose()
        .map_err(StoreError::db("reading a passkey"))
}

/// Records a new passkey; false when the credential is registered already (to anyone).
pub async fn insert_passkey(tx: &mut Transaction, passkey: &PasskeyRow) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO svc_passkeys (credential_id, user_id, label, passkey, created_at, \
         last_used_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (credential_id) DO NOTHING",
    )
    .bind(&passkey.credential_id)
    .bind(&passkey.user_id)
    .bind(&passkey.label)
    .bind(&passkey.passkey)
    .bind(passkey.created_at)
    .bind(passkey.last_used_at)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("recording a passkey"))?;
    Ok(done.rows_affected() == 1)
}

/// After a use: the credential's new state (its counter) and the time.
pub async fn passkey_used(
    tx: &mut Transaction,
    credential_id: &str,
    passkey: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE svc_passkeys SET passkey = $2, last_used_at = $3 WHERE credential_id = $1")
        .bind(credential_id)
        .bind(passkey)
        .bind(now)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("updating a passkey"))?;
    Ok(())
}

/// Removes a passkey of `user_id`; whether there was one.
pub async fn delete_passkey(
    tx: &mut Transaction,
    user_id: &str,
    credential_id: &str,
) -> Result<bool> {
    let done = sqlx::query("DELETE FROM svc_passkeys WHERE credential_id = $1 AND user_id = $2")
        .bind(credential_id)
        .bind(user_id)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("removing a passkey"))?;
    Ok(done.rows_affected() == 1)
}

/// Removes every passkey of `user_id` (a reset).
pub async fn delete_passkeys_of(tx: &mut Transaction, user_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM svc_passkeys WHERE user_id = $1")
        .bind(user_id)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("removing passkeys"))?;
    Ok(())
}

/// A WebAuthn ceremony under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyChallengeRow {
    pub id_hash: String,
    pub user_id: Option<String>,
    /// `register`, `second_factor` or `sign_in`.
    pub purpose: String,
    /// The verifier's state (JSON).
    pub state: String,
    pub expires_at: i64,
}

/// Records a ceremony, clearing those past their time; false (nothing recorded) when `limit`
/// ceremonies of its purpose are under way already.
pub async fn insert_passkey_challenge(
    tx: &mut Transaction,
    challenge: &PasskeyChallengeRow,
    limit: Option<i64>,
    now: i64,
) -> Result<bool> {
    sqlx::query("DELETE FROM svc_passkey_challenges WHERE expires_at <= $1")
        .bind(now)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("clearing passkey challenges"))?;
    if let Some(limit) = limit {
        let open: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM svc_passkey_challenges WHERE purpose = $1")
                .bind(&challenge.purpose)
                .fetch_one(tx.conn())
                .await
                .map_err(StoreError::db("counting passkey challenges"))?;
        if open >= limit {
            return Ok(false);
        }
    }
    sqlx::query(
        "INSERT INTO svc_passkey_challenges (id_hash, user_id, purpose, state, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&challenge.id_hash)
    .bind(challenge.user_id.as_deref())
    .bind(&challenge.purpose)
    .bind(&challenge.state)
    .bind(challenge.expires_at)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("recording a passkey challenge"))?;
    Ok(true)
}

/// Takes (reads and deletes: a challenge is answered once) the ceremony `id_hash` of
/// `purpose`, when it has not expired.
pub async fn take_passkey_challenge(
    tx: &mut Transaction,
    id_hash: &str,
    purpose: &str,
    now: i64,
) -> Result<Option<PasskeyChallengeRow>> {
    let row = sqlx::query(
        "SELECT id_hash, user_id, purpose, state, expires_at FROM svc_passkey_challenges \
         WHERE id_hash = $1 AND purpose = $2",
    )
    .bind(id_hash)
    .bind(purpose)
    .fetch_optional(tx.conn())
    .await
    .map_err(StoreError::db("reading a passkey challenge"))?;
    let Some(row) = row else { return Ok(None) };
    sqlx::query("DELETE FROM svc_passkey_challenges WHERE id_hash = $1")
        .bind(id_hash)
        .execute(tx.conn())
        .await
        .map_err(StoreError::db("using a passkey challenge"))?;
    let challenge = (|| -> std::result::Result<_, sqlx::Error> {
        Ok(PasskeyChallengeRow {
            id_hash: row.try_get("id_hash")?,
            user_id: row.try_get("user_id")?,
            purpose: row.try_get("purpose")?,
            state: row.try_get("state")?,
            expires_at: row.try_get("expires_at")?,
        })
    })()
    .map_err(StoreError::db("reading a passkey challenge"))?;
    Ok((challenge.expires_at > now).then_some(challenge))
}
