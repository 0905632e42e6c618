-- travdoc service tables (users, idempotency, requests, numbering, documents, print jobs).
-- Owned by the service (src/issuance, src/auth); the store crate owns 0001-00xx.
-- Timestamps are RFC 3339 UTC text, identical on SQLite and PostgreSQL.

CREATE TABLE svc_users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    mission     TEXT,
    token_hash  TEXT NOT NULL UNIQUE,   -- hex SHA-256 of the bearer token; the token itself is never stored
    created_at  TEXT NOT NULL,
    disabled    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE svc_idempotency (
    actor_id     TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       BIGINT NOT NULL,
    response     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (actor_id, key)
);

CREATE TABLE svc_requests (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,      -- ttd | passport | legalization
    state           TEXT NOT NULL,      -- requested | approved | issued
    mission         TEXT,
    requested_by    TEXT NOT NULL,
    approved_by     TEXT,
    data            TEXT NOT NULL,      -- validated request fields (JSON)
    photo           BYTEA,
    document_number TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX svc_requests_state ON svc_requests (kind, state);

CREATE TABLE svc_number_series (
    series     TEXT PRIMARY KEY,
    last_value BIGINT NOT NULL
);

CREATE TABLE svc_document_numbers (
    number       TEXT PRIMARY KEY,
    series       TEXT NOT NULL,
    state        TEXT NOT NULL,         -- allocated | issued | void
    request_id   TEXT NOT NULL,
    allocated_at TEXT NOT NULL,
    closed_at    TEXT,
    reason       TEXT
);
CREATE INDEX svc_document_numbers_state ON svc_document_numbers (state);

CREATE TABLE svc_documents (
    number          TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,      -- ttd | passport | legalization
    request_id      TEXT NOT NULL UNIQUE,
    mission         TEXT,
    state           TEXT NOT NULL,      -- issued | printed | used | revoked
    state_reason    TEXT,
    valid_until     TEXT NOT NULL,
    issued_at       TEXT NOT NULL,
    issued_by       TEXT NOT NULL,
    mrz             TEXT,               -- JSON list of lines
    seal            BYTEA,
    sod             BYTEA,
    payload         TEXT NOT NULL,      -- issued document data (JSON)
    document_sha256 TEXT,               -- legalizations: hash of the legalized document
    ledger_index    BIGINT,
    updated_at      TEXT NOT NULL
);
CREATE INDEX svc_documents_filter ON svc_documents (kind, state, mission);

CREATE TABLE svc_print_jobs (
    id          TEXT PRIMARY KEY,
    number      TEXT NOT NULL,
    printer     TEXT NOT NULL,
    state       TEXT NOT NULL,          -- queued | sent | failed
    detail      TEXT,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX svc_print_jobs_number ON svc_print_jobs (number);

-- Operational event log (who did what, when); the integrity ledger is separate (store crate).
CREATE TABLE svc_events (
    id          TEXT PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    leaf_sha256 TEXT NOT NULL
);
CREATE INDEX svc_events_subject ON svc_events (subject);
