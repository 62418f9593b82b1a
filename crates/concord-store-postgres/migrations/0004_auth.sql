-- Concord schema v4 (PostgreSQL): the security layer's bookkeeping. Accounts,
-- registered OAuth clients, short-lived grants (sessions, codes, refresh
-- tokens, launch contexts, revocations) and token-signing keys. Not FHIR data.
-- (Version 3 is the search migration.)
CREATE TABLE auth_users (
    tenant               text    NOT NULL,
    id                   text    NOT NULL,
    username             text    NOT NULL,
    kind                 text    NOT NULL,
    role                 text,
    patients             text[]  NOT NULL,
    fhir_user            text,
    display_name         text    NOT NULL,
    password_hash        text    NOT NULL,
    totp_secret          text,
    active               boolean NOT NULL,
    must_change_password boolean NOT NULL,
    failed_logins        bigint  NOT NULL,
    locked_until         bigint,
    created_at           bigint  NOT NULL,
    last_login           bigint,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, username)
);

CREATE TABLE auth_clients (
    tenant         text    NOT NULL,
    client_id      text    NOT NULL,
    name           text    NOT NULL,
    client_type    text    NOT NULL,
    secret_hash    text,
    redirect_uris  text[]  NOT NULL,
    allowed_scopes text    NOT NULL,
    jwks           text,
    active         boolean NOT NULL,
    created_at     bigint  NOT NULL,
    PRIMARY KEY (tenant, client_id)
);

CREATE TABLE auth_grants (
    tenant      text   NOT NULL,
    kind        text   NOT NULL,
    handle_hash text   NOT NULL,
    subject     text,
    client_id   text,
    data        jsonb  NOT NULL,
    created_at  bigint NOT NULL,
    expires_at  bigint NOT NULL,
    PRIMARY KEY (tenant, kind, handle_hash)
);
CREATE INDEX auth_grants_subject ON auth_grants (tenant, kind, subject);
CREATE INDEX auth_grants_expiry ON auth_grants (tenant, expires_at);

CREATE TABLE auth_signing_keys (
    tenant      text   NOT NULL,
    kid         text   NOT NULL,
    alg         text   NOT NULL,
    private_der bytea  NOT NULL,
    public_jwk  text   NOT NULL,
    created_at  bigint NOT NULL,
    PRIMARY KEY (tenant, kid)
);
