-- People who sign in to the web console. API keys stay for machines.
-- email is stored lowercased and is unique per organization; password_hash is a bcrypt hash,
-- NULL until the invited person sets a password.
CREATE TABLE users (
    organization_id uuid        NOT NULL REFERENCES organizations (id),
    id              uuid        NOT NULL UNIQUE,
    email           text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
    name            text        NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    password_hash   text,
    role            text        NOT NULL CHECK (role IN ('admin', 'agent')),
    disabled_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz,
    PRIMARY KEY (organization_id, id),
    UNIQUE (organization_id, email)
);
CREATE INDEX users_email_idx ON users (email);

-- Console sessions, server-side so any instance accepts any session and sign-out or disabling
-- a user ends them everywhere at once. Only the SHA-256 of the cookie's value is stored.
CREATE TABLE user_sessions (
    organization_id uuid        NOT NULL,
    id_hash         bytea       NOT NULL UNIQUE CHECK (length(id_hash) = 32),
    user_id         uuid        NOT NULL,
    csrf_token      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id_hash),
    FOREIGN KEY (organization_id, user_id) REFERENCES users (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX user_sessions_user_idx ON user_sessions (organization_id, user_id);

-- One-time links where an invited person sets a password; only the token's SHA-256 is stored.
CREATE TABLE user_invitations (
    organization_id uuid        NOT NULL,
    token_hash      bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    user_id         uuid        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    PRIMARY KEY (organization_id, token_hash),
    FOREIGN KEY (organization_id, user_id) REFERENCES users (organization_id, id) ON DELETE CASCADE
);

-- Failed sign-ins, counted per account (the lowercased email) and per client address, so
-- throttling holds across instances. Rows older than a day are purged.
CREATE TABLE sign_in_failures (
    id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind    text        NOT NULL CHECK (kind IN ('account', 'address')),
    subject text        NOT NULL CHECK (length(subject) <= 300),
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_subject_idx ON sign_in_failures (kind, subject, at);
