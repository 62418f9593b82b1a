-- Concord schema v4 (SQLite): the security layer's bookkeeping. Accounts,
-- registered OAuth clients, short-lived grants (sessions, codes, refresh
-- tokens, launch contexts, revocations) and token-signing keys. Not FHIR data.
-- (Version 3 is the search migration.)
CREATE TABLE auth_users (
    tenant               TEXT    NOT NULL,
    id                   TEXT    NOT NULL,
    username             TEXT    NOT NULL,
    kind                 TEXT    NOT NULL,
    role                 TEXT,
    patients             TEXT    NOT NULL,  -- JSON array of Patient ids
    fhir_user            TEXT,
    display_name         TEXT    NOT NULL,
    password_hash        TEXT    NOT NULL,
    totp_secret          TEXT,
    active               INTEGER NOT NULL,
    must_change_password INTEGER NOT NULL,
    failed_logins        INTEGER NOT NULL,
    locked_until         INTEGER,
    created_at           INTEGER NOT NULL,
    last_login           INTEGER,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, username)
);

CREATE TABLE auth_clients (
    tenant         TEXT    NOT NULL,
    client_id      TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    client_type    TEXT    NOT NULL,
    secret_hash    TEXT,
    redirect_uris  TEXT    NOT NULL,  -- JSON array
    allowed_scopes TEXT    NOT NULL,
    jwks           TEXT,
    active         INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant, client_id)
);

CREATE TABLE auth_grants (
    tenant      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    handle_hash TEXT    NOT NULL,
    subject     TEXT,
    client_id   TEXT,
    data        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, handle_hash)
);
CREATE INDEX auth_grants_subject ON auth_grants (tenant, kind, subject);
CREATE INDEX auth_grants_expiry ON auth_grants (tenant, expires_at);

CREATE TABLE auth_signing_keys (
    tenant      TEXT    NOT NULL,
    kid         TEXT    NOT NULL,
    alg         TEXT    NOT NULL,
    private_der BLOB    NOT NULL,
    public_jwk  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, kid)
);
