-- Audit ledger (RFC 6962 tree over typed events). Append-only: the triggers below refuse
-- UPDATE and DELETE (production should also REVOKE UPDATE, DELETE from the application role
-- and GRANT SELECT on ledger_entry_body to auditors only); `travdoc ledger verify` detects
-- changes made around them.

CREATE TABLE ledger_entry (
    idx             BIGINT PRIMARY KEY,
    idempotency_key TEXT   NOT NULL UNIQUE,
    kind            BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    leaf            BYTEA  NOT NULL,
    leaf_hash       BYTEA  NOT NULL
);
CREATE INDEX ledger_entry_leaf_hash ON ledger_entry (leaf_hash);

CREATE TABLE ledger_entry_body (
    idx  BIGINT PRIMARY KEY,
    body BYTEA  NOT NULL
);

CREATE TABLE ledger_hash (
    idx  BIGINT PRIMARY KEY,
    hash BYTEA  NOT NULL
);

CREATE TABLE ledger_state (
    id       BIGINT PRIMARY KEY CHECK (id = 0),
    size     BIGINT NOT NULL,
    root     BYTEA  NOT NULL,
    frontier BYTEA  NOT NULL
);
INSERT INTO ledger_state (id, size, root, frontier)
VALUES (0, 0, decode('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex'), '\x'::bytea);

CREATE TABLE ledger_checkpoint (
    size      BIGINT PRIMARY KEY,
    note      TEXT   NOT NULL,
    signed_at BIGINT NOT NULL
);

CREATE TABLE ledger_key (
    name     TEXT   NOT NULL,
    key_id   BIGINT NOT NULL,
    spki     BYTEA  NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (name, key_id)
);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;

CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entry_body_append_only BEFORE UPDATE OR DELETE ON ledger_entry_body
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_hash_append_only BEFORE UPDATE OR DELETE ON ledger_hash
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_checkpoint_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoint
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_key_append_only BEFORE UPDATE OR DELETE ON ledger_key
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_state_no_delete BEFORE DELETE ON ledger_state
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
