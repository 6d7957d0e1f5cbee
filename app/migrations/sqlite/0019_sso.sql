-- Single sign-on. A person is known to an identity provider by (issuer, subject), which never
-- changes when their name or e-mail does; `user_identities` links that pair to the Gatehouse
-- account their first sign-in created. `sso_logins` holds a sign-in under way at the provider
-- for ten minutes: the hash of its `state` (the browser keeps the state in a cookie), the
-- nonce the ID token must carry, the PKCE verifier and the page to return to; the callback
-- takes the row, so a state is used once. `settings` holds what an admin switches at run time
-- for every server of the database (`local_sign_in`).
CREATE TABLE user_identities (
    issuer         TEXT NOT NULL,
    subject        TEXT NOT NULL,
    user_id        INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    created_at     TEXT NOT NULL,
    last_sign_in   TEXT NOT NULL,
    PRIMARY KEY (issuer, subject)
) STRICT, WITHOUT ROWID;

CREATE TABLE sso_logins (
    state_hash    TEXT PRIMARY KEY,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next          TEXT NOT NULL,
    expires_at    TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sso_logins_by_expiry ON sso_logins(expires_at);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
) STRICT, WITHOUT ROWID;
