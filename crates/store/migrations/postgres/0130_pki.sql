-- The country PKI's state, the source of truth for every node (issue 17). One row holds the
-- PKI's record (keys and their tokens, certificates with their states, revocations with
-- reasons, CRL and serial counters) as the JSON document travdoc-pki keeps; `generation`
-- grows by one with every change, so a node notices a change with one cheap read and a
-- writer whose generation is stale is refused (no lost update between nodes).
CREATE TABLE pki_state (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    generation  BIGINT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Every public artifact the PKI ever made, by name: certificates (cert-<serial>.der), every
-- CRL (crl-g<generation>-<number>.der) and master list (masterlist-<time>.der).
CREATE TABLE pki_artifacts (
    name        TEXT PRIMARY KEY,
    der         BYTEA NOT NULL,
    sha256      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
