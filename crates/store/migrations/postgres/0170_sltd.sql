-- Lost, stolen, revoked and invalidated travel documents of any state (INTERPOL SLTD and
-- national lists), imported from CSV (docs/checks.md). One row per document and status: an
-- import of the same line adds nothing.
CREATE TABLE svc_sltd_entries (
    issuing_state   TEXT NOT NULL,
    document_type   TEXT NOT NULL,
    document_number TEXT NOT NULL,
    status          TEXT NOT NULL,   -- lost | stolen | revoked | invalidated
    reported_on     TEXT NOT NULL,   -- YYYY-MM-DD
    source          TEXT,            -- the file's extra columns, as name=value pairs
    import_id       TEXT NOT NULL,
    line            BIGINT NOT NULL,
    PRIMARY KEY (document_number, issuing_state, document_type, status)
);

-- Every import: the file's SHA-256 and what it gave.
CREATE TABLE svc_sltd_imports (
    id           TEXT PRIMARY KEY,
    sha256       TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    imported_by  TEXT NOT NULL,
    lines        BIGINT NOT NULL,
    added        BIGINT NOT NULL,
    rejected     BIGINT NOT NULL
);
