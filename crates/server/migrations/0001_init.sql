-- omnicart v0 schema. Never edit a landed migration: add a new one.

CREATE TABLE customers (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- Sessions are stored by the SHA-256 of their token: a leaked database holds no usable token.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_customer ON sessions(customer_id);

-- A cart with no owner is an anonymous device cart: its unguessable id is the capability.
-- A customer has at most one cart (owner is UNIQUE; NULLs do not collide).
CREATE TABLE carts (
    id         TEXT PRIMARY KEY,
    owner      TEXT UNIQUE REFERENCES customers(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
