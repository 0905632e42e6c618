//! Users, roles and bearer tokens.
//!
//! A token is 32 random bytes (256 bits) from the operating system, shown once as
//! `tdk_<base64url>`; the database holds only its SHA-256. A presented token is hashed, looked
//! up by hash and the stored hash compared in constant time. Roles decide which acts a user may
//! perform ([`Role::may`]); a `mission` user is bound to one mission code and sees only that
//! mission's documents.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::issuance::db::Db;

/// Errors from user management and authentication.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error(
        "unknown role `{0}` (expected issuer, approver, mission, consular, immigration, auditor or admin)"
    )]
    UnknownRole(String),
    #[error("mission code `{0}` must be 3 to 8 characters A-Z, 0-9 or '-'")]
    InvalidMission(String),
    #[error("the mission role needs --mission CODE")]
    MissionRequired,
    #[error("only the mission role is bound to a mission code")]
    MissionNotAllowed,
    #[error("user name `{0}` must be 1 to 64 characters A-Z, a-z, 0-9, '.', '_' or '-'")]
    InvalidName(String),
    #[error("a user named `{0}` already exists")]
    DuplicateName(String),
    #[error("the operating system random generator failed: {0}")]
    Random(String),
    #[error("database error: {0}")]
    Database(crate::issuance::db::DbFault),
    #[error("audit ledger: {0}")]
    Ledger(String),
}

/// Classified where the SQL runs: a sqlx error goes no further than this file.
impl From<sqlx::Error> for AuthError {
    fn from(error: sqlx::Error) -> Self {
        AuthError::Database(error.into())
    }
}

impl From<travdoc_store::StoreError> for AuthError {
    fn from(error: travdoc_store::StoreError) -> Self {
        match error {
            travdoc_store::StoreError::Database { source, .. }
            | travdoc_store::StoreError::Connect { source, .. } => {
                AuthError::Database(source.into())
            }
            other => AuthError::Ledger(other.to_string()),
        }
    }
}

/// The roles of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Issuer,
    Approver,
    Mission,
    Consular,
    Immigration,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Issuer,
        Role::Approver,
        Role::Mission,
        Role::Consular,
        Role::Immigration,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Issuer => "issuer",
            Role::Approver => "approver",
            Role::Mission => "mission",
            Role::Consular => "consular",
            Role::Immigration => "immigration",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may perform `act` at all (mission scoping is checked separately).
    pub fn may(self, act: Act) -> bool {
        use Act::*;
        use Role::*;
        match act {
            RequestTtd => self == Mission,
            ApproveTtd | ApprovePassport => self == Approver,
            IssueTtd => matches!(self, Mission | Issuer),
            ApplyPassport | IssuePassport => self == Issuer,
            Legalize => self == Consular,
            ReadRequest | ReadDocument => matches!(
                self,
                Issuer | Approver | Mission | Consular | Immigration | Auditor | Admin
            ),
            ListDocuments => matches!(
                self,
                Issuer | Approver | Mission | Consular | Auditor | Admin
            ),
            Print => matches!(self, Mission | Issuer | Consular),
            Revoke => matches!(self, Issuer | Approver | Mission | Consular),
            ClearArrival => self == Immigration,
            ReadLedger => matches!(self, Auditor | Admin),
            ManageUsers => self == Admin,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AuthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| AuthError::UnknownRole(s.to_owned()))
    }
}

/// Every act the API exposes, for the role check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    RequestTtd,
    ApproveTtd,
    IssueTtd,
    ApplyPassport,
    ApprovePassport,
    IssuePassport,
    Legalize,
    ReadRequest,
    ReadDocument,
    ListDocuments,
    Print,
    Revoke,
    ClearArrival,
    ReadLedger,
    ManageUsers,
}

/// A mission code (e.g. `LON`, `KWI-1`): 3 to 8 of A-Z, 0-9, '-'.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MissionCode(String);

impl MissionCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MissionCode {
    type Error = AuthError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let ok = (3..=8).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(MissionCode(value))
        } else {
            Err(AuthError::InvalidMission(value))
        }
    }
}

impl From<MissionCode> for String {
    fn from(value: MissionCode) -> Self {
        value.0
    }
}

impl FromStr for MissionCode {
    type Err = AuthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MissionCode::try_from(s.to_owned())
    }
}

impl fmt::Display for MissionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An authenticated user acting on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub mission: Option<MissionCode>,
}

impl Actor {
    /// Whether this actor may see a record belonging to `mission` (None = headquarters).
    /// Only mission users are scoped.
    pub fn can_see_mission(&self, mission: Option<&str>) -> bool {
        match (self.role, &self.mission) {
            (Role::Mission, Some(own)) => mission == Some(own.as_str()),
            (Role::Mission, None) => false,
            _ => true,
        }
    }
}

/// A freshly created user with the only copy of its token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewUser {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub mission: Option<String>,
    /// The bearer token. It is shown once and stored only as a SHA-256 hash.
    pub token: String,
}

/// A bearer token as shown to its owner.
pub struct Token(String);

impl Token {
    /// 32 bytes from the operating system's generator.
    pub fn generate() -> Result<Self, AuthError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|error| AuthError::Random(error.to_string()))?;
        Ok(Token(format!(
            "tdk_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        )))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Hex SHA-256 of a presented token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Creates a user and returns its token (shown once).
pub async fn add_user(
    db: &Db,
    name: &str,
    role: Role,
    mission: Option<MissionCode>,
    now: &str,
    operator: &str,
) -> Result<NewUser, AuthError> {
    if !valid_name(name) {
        return Err(AuthError::InvalidName(name.to_owned()));
    }
    match (role, &mission) {
        (Role::Mission, None) => return Err(AuthError::MissionRequired),
        (Role::Mission, Some(_)) | (_, None) => {}
        (_, Some(_)) => return Err(AuthError::MissionNotAllowed),
    }
    let token = Token::generate()?;
    let id = uuid::Uuid::new_v4().to_string();
    // The account and its ledger entry (the id and role, never the name or token) commit together.
    let mut tx = db.begin().await?;
    let result = sqlx::query(
        "INSERT INTO svc_users (id, name, role, mission, token_hash, created_at, disabled) \
         VALUES ($1, $2, $3, $4, $5, $6, 0)",
    )
    .bind(&id)
    .bind(name)
    .bind(role.as_str())
    .bind(mission.as_ref().map(|m| m.as_str().to_owned()))
    .bind(token_hash(token.expose()))
    .bind(now)
    .execute(tx.conn())
    .await;
    if result.is_ok() {
        let at = time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339)
            .map(|t| t.unix_timestamp())
            .unwrap_or_else(|_| travdoc_store::ledger::unix_now());
        let entry = travdoc_store::ledger::Entry::new(
            at,
            travdoc_store::ledger::Event::UserAdded {
                user_ref: id.clone(),
                role: role.as_str().to_owned(),
                operator_ref: operator.to_owned(),
            },
        );
        travdoc_store::ledger::append(&mut tx, &format!("user.added:{id}"), &entry).await?;
        tx.commit().await?;
    }
    match result {
        Ok(_) => Ok(NewUser {
            id,
            name: name.to_owned(),
            role,
            mission: mission.map(String::from),
            token: token.0,
        }),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            Err(AuthError::DuplicateName(name.to_owned()))
        }
        Err(error) => Err(AuthError::Database(error.into())),
    }
}

/// Finds the active user holding `token`; `None` when there is none.
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<Actor>, AuthError> {
    use sqlx::Row as _;
    let presented = token_hash(token);
    let row = sqlx::query(
        "SELECT id, name, role, mission, token_hash FROM svc_users \
         WHERE token_hash = $1 AND disabled = 0",
    )
    .bind(&presented)
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let stored: String = row.try_get("token_hash")?;
    if !bool::from(stored.as_bytes().ct_eq(presented.as_bytes())) {
        return Ok(None);
    }
    actor_of(&row).map(Some)
}

/// The actor a `svc_users` row (`id`, `name`, `role`, `mission`) describes.
fn actor_of(row: &sqlx::any::AnyRow) -> Result<Actor, AuthError> {
    use sqlx::Row as _;
    let role: String = row.try_get("role")?;
    let mission: Option<String> = row.try_get("mission")?;
    Ok(Actor {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: Role::from_str(&role)?,
        mission: mission.map(MissionCode::try_from).transpose()?,
    })
}

/// The enabled user named `name` (a TLS client certificate's common name, see
/// `http::tls`): the certificate authority vouches for the name, the user store for the role.
pub async fn actor_by_name(db: &Db, name: &str) -> Result<Option<Actor>, AuthError> {
    let row = sqlx::query(
        "SELECT id, name, role, mission FROM svc_users WHERE name = $1 AND disabled = 0",
    )
    .bind(name)
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(actor_of).transpose()
}

/// Whether any admin exists (for the first-run bootstrap).
pub async fn has_admin(db: &Db) -> Result<bool, AuthError> {
    use sqlx::Row as _;
    let row = sqlx::query("SELECT COUNT(*) AS n FROM svc_users WHERE role = 'admin'")
        .fetch_one(db.reader())
        .await?;
    let count: i64 = row.try_get("n")?;
    Ok(count > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_distinct() {
        let first = Token::generate().map(|t| t.0).unwrap_or_default();
        let second = Token::generate().map(|t| t.0).unwrap_or_default();
        // 32 bytes base64url without padding = 43 characters after the prefix.
        assert_eq!(first.len(), 4 + 43);
        assert_ne!(first, second);
        assert_ne!(token_hash(&first), token_hash(&second));
        assert_eq!(token_hash(&first).len(), 64);
    }

    #[test]
    fn roles_round_trip_and_unknown_is_rejected() {
        for role in Role::ALL {
            assert_eq!(Role::from_str(role.as_str()).ok(), Some(role));
        }
        assert!(Role::from_str("root").is_err());
    }

    #[test]
    fn mission_scope() {
        let actor = Actor {
            id: "1".into(),
            name: "m".into(),
            role: Role::Mission,
            mission: MissionCode::from_str("LON").ok(),
        };
        assert!(actor.can_see_mission(Some("LON")));
        assert!(!actor.can_see_mission(Some("PAR")));
        assert!(!actor.can_see_mission(None));
        let issuer = Actor {
            role: Role::Issuer,
            mission: None,
            ..actor
        };
        assert!(issuer.can_see_mission(Some("PAR")));
        assert!(MissionCode::from_str("lo").is_err());
    }
}
