-- Staff identity (issue 19): passwords and TOTP on the account, API tokens with expiry in a
-- table of their own, server-side sessions, one-time enrolment codes, recovery codes, pending
-- grants and sign-in throttling. Times in the new tables are Unix seconds (compared as numbers).
-- svc_users is rebuilt as on SQLite (one schema for both); its single token moves to
-- svc_api_tokens with 90 days left from this migration.
CREATE TABLE svc_users_new (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    mission        TEXT,
    created_at     TEXT NOT NULL,
    disabled       BIGINT NOT NULL DEFAULT 0,
    -- 0 while a grant of `role` (approver, admin) awaits a second admin's confirmation.
    granted        BIGINT NOT NULL DEFAULT 1,
    password_hash  TEXT,            -- argon2id PHC string; NULL until the person enrols
    totp_secret    TEXT,            -- base32 RFC 6238 secret, set when enrolment is confirmed
    totp_pending   TEXT,            -- the secret shown at enrolment, until a code confirms it
    totp_last_step BIGINT NOT NULL DEFAULT 0   -- the last time step used (no code twice)
);
INSERT INTO svc_users_new (id, name, role, mission, created_at, disabled)
    SELECT id, name, role, mission, created_at, disabled FROM svc_users;

-- API bearer tokens for scripts and integrations: several per user, each with an expiry.
CREATE TABLE svc_api_tokens (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    label       TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,  -- hex SHA-256; the token itself is never stored
    created_at  BIGINT NOT NULL,       -- Unix seconds
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    created_by  TEXT NOT NULL
);
CREATE INDEX svc_api_tokens_user ON svc_api_tokens (user_id);
INSERT INTO svc_api_tokens (id, user_id, label, token_hash, created_at, expires_at, created_by)
    SELECT id, id, 'migrated', token_hash, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT),
           CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) + 90 * 86400, 'migration'
    FROM svc_users;
DROP TABLE svc_users;
ALTER TABLE svc_users_new RENAME TO svc_users;

-- Console sessions: the cookie holds a random id; the table its SHA-256. A session is
-- `password` (first factor passed) until the second factor makes it `active`, under a new id.
CREATE TABLE svc_sessions (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    stage       TEXT NOT NULL,        -- password | active
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,      -- the absolute lifetime's end
    ended_at    BIGINT,
    client      TEXT
);
CREATE INDEX svc_sessions_user ON svc_sessions (user_id);

-- One-time enrolment codes (24 h): set a password and a second factor.
CREATE TABLE svc_enrolments (
    code_hash   TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    created_by  TEXT NOT NULL
);

-- Recovery codes (each once) for a lost TOTP device.
CREATE TABLE svc_recovery_codes (
    code_hash   TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX svc_recovery_codes_user ON svc_recovery_codes (user_id);

-- Grants of approver or admin (a new account, a change of role, enabling such an account):
-- in force only once a second admin confirms.
CREATE TABLE svc_grants (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    kind          TEXT NOT NULL,      -- role | enable
    role          TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    confirmed_by  TEXT,
    confirmed_at  BIGINT,
    state         TEXT NOT NULL       -- pending | confirmed | withdrawn
);
CREATE INDEX svc_grants_user ON svc_grants (user_id, state);

-- Sign-in failures by subject (`user:<id>` or `client:<address>`): slowed, then locked.
CREATE TABLE svc_throttle (
    subject       TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    last_failure  BIGINT NOT NULL,
    locked_until  BIGINT NOT NULL DEFAULT 0
);
