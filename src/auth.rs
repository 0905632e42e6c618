//! Roles, acts, the authenticated actor, and API bearer tokens.
//!
//! An API token is 32 random bytes (256 bits) from the operating system, shown once as
//! `tdk_<base64url>`; the database holds only its SHA-256, with its owner, label and expiry
//! (`usecase::accounts` makes them). A presented token is hashed, looked up by hash and the
//! stored hash compared in constant time; a revoked or expired token, or one of a disabled
//! account, is refused on its next use. Roles decide which acts a user may perform
//! ([`Actor::may`]: the role's acts, once a grant of it is in force); a `mission` user is bound
//! to one mission code and sees only that mission's documents. Console sign-in is in
//! `usecase::signin`.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::db::Db;

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
    #[error("language `{0}` is not one of en (English), si (Sinhala) or ta (Tamil)")]
    Language(String),
    #[error("a user named `{0}` already exists")]
    DuplicateName(String),
    #[error("no user named `{0}`")]
    UnknownUser(String),
    #[error("no API token `{0}` (or it is revoked already)")]
    UnknownToken(String),
    #[error("a token lives 1 to {0} days")]
    TokenLife(u32),
    #[error(
        "a token label is at most 64 characters, without control characters or white space at either end"
    )]
    TokenLabel,
    #[error("`{0}` holds that role already")]
    SameRole(String),
    #[error("that would leave the service without an enabled admin")]
    LastAdmin,
    #[error("`{0}` has no grant awaiting confirmation")]
    NoPendingGrant(String),
    #[error("nobody confirms a grant they asked for or that is theirs (four eyes)")]
    OwnGrant,
    #[error("only an enabled admin in force confirms a grant")]
    NotAnAdmin,
    #[error(
        "the host operator confirms only while the service has fewer than two admins, and only \
         a grant an admin asked for; ask a second admin"
    )]
    HostMayNotConfirm,
    #[error(
        "this enrolment code is not valid (wrong, used or older than 24 hours); ask an administrator for a new one"
    )]
    EnrolmentInvalid,
    #[error("password refused: {0}")]
    WeakPassword(String),
    #[error("that code is not right; use the current code from your app, or a recovery code")]
    BadCode,
    #[error("the name or the password is wrong")]
    BadCredentials,
    #[error("too many failed sign-ins: locked until {}; an administrator can unlock the account", crate::timefmt::rfc3339_unix(u64::try_from(*.0).unwrap_or_default()))]
    Locked(i64),
    #[error("the passkey was not accepted: {0}")]
    Passkey(String),
    #[error("passkeys are not set up on this service: {0}")]
    PasskeyConfig(String),
    #[error("busy: {0}")]
    Busy(String),
    #[error("the sign-in took too long; start again")]
    SignInExpired,
    #[error("credential processing failed: {0}")]
    Credential(String),
    #[error("the operating system random generator failed: {0}")]
    Random(String),
    #[error("database error: {0}")]
    Database(crate::db::DbFault),
    #[error("audit ledger: {0}")]
    Ledger(String),
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
            ManageUsers | ImportSltd => self == Admin,
            ExportSltd => matches!(self, Auditor | Admin),
            ReadReports => matches!(self, Issuer | Approver | Auditor | Admin),
            ManageStock => matches!(self, Issuer | Admin),
            KeepMissionStock => self == Mission,
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
    /// Import a lost/stolen documents list.
    ImportSltd,
    /// Export our lost, stolen and revoked documents.
    ExportSltd,
    /// Read the reports (issuances, print jobs, spoilage, stock).
    ReadReports,
    /// Receive, move and spoil blank stock anywhere (headquarters).
    ManageStock,
    /// See the blank stock at one's own mission and spoil a blank there (the blanks a mission
    /// damages in its printer); receiving and moving stay with headquarters.
    KeepMissionStock,
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
    /// False while a grant of `role` awaits a second admin: the account may do nothing yet.
    pub granted: bool,
}

impl Actor {
    /// Whether this actor may perform `act`: its role may, and the grant of the role is in
    /// force.
    pub fn may(&self, act: Act) -> bool {
        self.granted && self.role.may(act)
    }

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

/// The actor an account row describes.
pub fn actor_of(user: &travdoc_store::identity::UserRow) -> Result<Actor, AuthError> {
    Ok(Actor {
        id: user.id.clone(),
        name: user.name.clone(),
        role: Role::from_str(&user.role)?,
        mission: user
            .mission
            .clone()
            .map(MissionCode::try_from)
            .transpose()?,
        granted: user.granted,
    })
}

/// The actor holding API token `token` at `now` (Unix seconds): a token not revoked, not
/// expired, of an enabled account. `None` otherwise.
pub async fn authenticate(db: &Db, token: &str, now: i64) -> Result<Option<Actor>, AuthError> {
    let presented = token_hash(token);
    let Some((stored, user)) =
        travdoc_store::identity::token_and_owner(db.reader(), &presented).await?
    else {
        return Ok(None);
    };
    let same = bool::from(stored.token_hash.as_bytes().ct_eq(presented.as_bytes()));
    if !same || stored.revoked_at.is_some() || stored.expires_at <= now || user.disabled {
        return Ok(None);
    }
    actor_of(&user).map(Some)
}

/// The enabled user named `name` (a TLS client certificate's common name, see
/// `http::tls`): the certificate authority vouches for the name, the user store for the role.
pub async fn actor_by_name(db: &Db, name: &str) -> Result<Option<Actor>, AuthError> {
    match travdoc_store::identity::user_by_name(db.reader(), name).await? {
        Some(user) if !user.disabled => actor_of(&user).map(Some),
        _ => Ok(None),
    }
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
            granted: true,
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
