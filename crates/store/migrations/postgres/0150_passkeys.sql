-- Passkeys (WebAuthn) of staff: a second factor after the password, or a sign-in on their own
-- (the authenticator verified the person: PIN or biometrics).
CREATE TABLE svc_passkeys (
    credential_id  TEXT PRIMARY KEY,   -- base64url, as the authenticator names it
    user_id        TEXT NOT NULL,
    label          TEXT NOT NULL,
    passkey        TEXT NOT NULL,      -- the public key and counters (webauthn-rs `Passkey`, JSON)
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT
);
CREATE INDEX svc_passkeys_user ON svc_passkeys (user_id);

-- A WebAuthn ceremony under way (5 minutes, used once): the challenge state the browser's
-- answer is checked against. `purpose`: register | second_factor | sign_in.
CREATE TABLE svc_passkey_challenges (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT,
    purpose     TEXT NOT NULL,
    state       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
