-- Security review fixes: tokens are issued by their own user (or the operator's CLI) and may
-- expire; sessions end after an idle period; failed sign-ins are kept as counters per window.

-- Whether the token's user created it. Only such tokens may approve, reject or waive: a
-- token issued by someone else (an admin before this change, the operator's CLI) would let
-- its issuer act as that user.
ALTER TABLE api_tokens ADD COLUMN self_issued INTEGER NOT NULL DEFAULT 0 CHECK (self_issued IN (0, 1));
UPDATE api_tokens SET self_issued = 1
 WHERE created_by = (SELECT username FROM users WHERE users.id = api_tokens.user_id)
    OR created_by LIKE (SELECT username FROM users WHERE users.id = api_tokens.user_id) || '/token:%';
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;

-- Last request seen on a session, for the idle timeout (refreshed at most once a minute).
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
UPDATE sessions SET last_seen_at = created_at;

-- Sign-in throttling by delay (domain::throttle): one counter per key, not one row per
-- attempt; refused attempts are not counted.
DROP TABLE login_failures;
CREATE TABLE login_throttle (
    scope        TEXT NOT NULL CHECK (scope IN ('pair', 'account', 'address')),
    key          TEXT NOT NULL,
    failures     INTEGER NOT NULL,
    last_failure INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX login_throttle_by_age ON login_throttle(last_failure);

-- Failed sign-ins per account and fixed window, reported to the audit trail as one entry
-- when the window closes. Names that are not accounts share the account '*', so guessing
-- names cannot add audit entries.
CREATE TABLE login_failure_windows (
    account      TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    failures     INTEGER NOT NULL,
    addresses    TEXT NOT NULL,
    PRIMARY KEY (account, window_start)
) STRICT, WITHOUT ROWID;
