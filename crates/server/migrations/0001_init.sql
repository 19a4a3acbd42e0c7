-- omnicart schema. The same SQL runs on SQLite (the embedded default) and PostgreSQL, so it
-- sticks to what both speak: TEXT, BIGINT, no autoincrement (sequences are kept per cart).
-- Never edit a migration once it has shipped in a release: add a new one. (This file replaced
-- three SQLite-only pre-release migrations when PostgreSQL support landed; no release had them.)

CREATE TABLE customers (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    -- Segments that promotions can target, comma-separated (e.g. "vip").
    segments      TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Sessions are stored by the SHA-256 of their token: a leaked database holds no usable token.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_customer ON sessions(customer_id);

-- A cart with no owner is an anonymous device cart: its unguessable id is the capability.
-- A customer has at most one cart (owner is UNIQUE; NULLs do not collide).
-- `body` is the cart its operation log makes (the engine's `OpLog::cart`), `version` counts
-- its changes. `log_seq` is the last sequence number given to one of its operations, `live`
-- the number not compacted. `head` is where the replay of the log ended (the engine's
-- `replica::Head`, JSON), so newer operations apply without a replay. `base` is the compacted
-- part of the log (the engine's `replica::Base`, JSON; NULL while nothing is compacted) and
-- `generation` counts compactions.
CREATE TABLE carts (
    id         TEXT PRIMARY KEY,
    owner      TEXT UNIQUE REFERENCES customers(id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    body       TEXT NOT NULL,
    log_seq    BIGINT NOT NULL DEFAULT 0,
    live       BIGINT NOT NULL DEFAULT 0,
    head       TEXT,
    base       TEXT,
    generation BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The operation log of each cart, for offline-first sync across devices. `seq` is the cart's
-- cursor: a device asks for the operations after the last `seq` it has. Each operation is
-- stored once per cart, by the id its device gave it (pushing it again changes nothing, even
-- after it was compacted: a compacted operation keeps its row, with `folded` = 1).
CREATE TABLE cart_ops (
    cart_id     TEXT NOT NULL REFERENCES carts(id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    op_id       TEXT NOT NULL,
    body        TEXT NOT NULL,
    folded      BIGINT NOT NULL DEFAULT 0,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (cart_id, seq),
    UNIQUE (cart_id, op_id)
);
