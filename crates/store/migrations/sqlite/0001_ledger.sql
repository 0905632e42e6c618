-- Audit ledger (RFC 6962 tree over typed events). Append-only: the triggers below refuse
-- UPDATE and DELETE; `travdoc ledger verify` detects changes made around them.

-- One row per entry. The leaf commits to the entry body by hash and holds no personal data.
CREATE TABLE ledger_entry (
    idx             INTEGER PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE,
    kind            INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    leaf            BLOB    NOT NULL,
    leaf_hash       BLOB    NOT NULL
);
CREATE INDEX ledger_entry_leaf_hash ON ledger_entry (leaf_hash);

-- Entry bodies (canonical JSON), stored apart from the leaves: readable by auditors only.
CREATE TABLE ledger_entry_body (
    idx  INTEGER PRIMARY KEY,
    body BLOB    NOT NULL
);

-- Every complete subtree hash, in the dense stored-hash order (leaf i and the parents it
-- completes are written when leaf i is appended); proofs read O(log n) rows.
CREATE TABLE ledger_hash (
    idx  INTEGER PRIMARY KEY,
    hash BLOB    NOT NULL
);

-- The single sequencing row: size, root and compact range (perfect subtree hashes).
CREATE TABLE ledger_state (
    id       INTEGER PRIMARY KEY CHECK (id = 0),
    size     INTEGER NOT NULL,
    root     BLOB    NOT NULL,
    frontier BLOB    NOT NULL
);
INSERT INTO ledger_state (id, size, root, frontier)
VALUES (0, 0, X'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', X'');

-- Every signed checkpoint (C2SP signed note), kept so old receipts can be upgraded.
CREATE TABLE ledger_checkpoint (
    size      INTEGER PRIMARY KEY,
    note      TEXT    NOT NULL,
    signed_at INTEGER NOT NULL
);

-- Public keys (SPKI DER) that signed checkpoints, so verify needs no HSM.
CREATE TABLE ledger_key (
    name     TEXT    NOT NULL,
    key_id   INTEGER NOT NULL,
    spki     BLOB    NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (name, key_id)
);

CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry
BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only'); END;
CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry
BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only'); END;
CREATE TRIGGER ledger_entry_body_no_update BEFORE UPDATE ON ledger_entry_body
BEGIN SELECT RAISE(ABORT, 'ledger_entry_body is append-only'); END;
CREATE TRIGGER ledger_entry_body_no_delete BEFORE DELETE ON ledger_entry_body
BEGIN SELECT RAISE(ABORT, 'ledger_entry_body is append-only'); END;
CREATE TRIGGER ledger_hash_no_update BEFORE UPDATE ON ledger_hash
BEGIN SELECT RAISE(ABORT, 'ledger_hash is append-only'); END;
CREATE TRIGGER ledger_hash_no_delete BEFORE DELETE ON ledger_hash
BEGIN SELECT RAISE(ABORT, 'ledger_hash is append-only'); END;
CREATE TRIGGER ledger_checkpoint_no_update BEFORE UPDATE ON ledger_checkpoint
BEGIN SELECT RAISE(ABORT, 'ledger_checkpoint is append-only'); END;
CREATE TRIGGER ledger_checkpoint_no_delete BEFORE DELETE ON ledger_checkpoint
BEGIN SELECT RAISE(ABORT, 'ledger_checkpoint is append-only'); END;
CREATE TRIGGER ledger_key_no_update BEFORE UPDATE ON ledger_key
BEGIN SELECT RAISE(ABORT, 'ledger_key is append-only'); END;
CREATE TRIGGER ledger_key_no_delete BEFORE DELETE ON ledger_key
BEGIN SELECT RAISE(ABORT, 'ledger_key is append-only'); END;
CREATE TRIGGER ledger_state_no_delete BEFORE DELETE ON ledger_state
BEGIN SELECT RAISE(ABORT, 'ledger_state cannot be deleted'); END;
