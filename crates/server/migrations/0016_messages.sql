-- Messages beyond the order's own (issue 17): abandoned-cart reminders, opt-outs, surveys.
--
-- The mail outbox takes mail about no order (a cart reminder): `order_id` becomes optional.
-- SQLite cannot drop a NOT NULL, so the table is rebuilt (the same on PostgreSQL).
CREATE TABLE mail_outbox_v2 (
    id              TEXT PRIMARY KEY,
    order_id        TEXT REFERENCES orders(id),
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT
);
INSERT INTO mail_outbox_v2 (id, order_id, recipient, subject, text_body, html_body, created_at, sent_at, attempts, next_attempt_at, last_error)
    SELECT id, order_id, recipient, subject, text_body, html_body, created_at, sent_at, attempts, next_attempt_at, last_error FROM mail_outbox;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_v2 RENAME TO mail_outbox;
CREATE INDEX mail_outbox_unsent ON mail_outbox (sent_at, created_at);
CREATE INDEX mail_outbox_due ON mail_outbox (sent_at, next_attempt_at);

-- The reminders a customer's cart got since it was last changed at `idle_since`
-- (`carts.updated_at`): a change starts the count again.
CREATE TABLE cart_reminders (
    cart_id      TEXT PRIMARY KEY,
    idle_since   BIGINT NOT NULL,
    sent         BIGINT NOT NULL,
    last_sent_at BIGINT NOT NULL
);

-- Customers who asked for no more reminders, and the unsubscribe links' tokens (by SHA-256,
-- as sessions), which work without signing in.
CREATE TABLE mail_opt_outs (
    customer_id TEXT PRIMARY KEY,
    at          BIGINT NOT NULL
);
CREATE TABLE unsubscribe_tokens (
    token_hash  TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL
);

-- The feedback survey sent once an order is delivered or collected: one per order, its link's
-- token by SHA-256, answered once (`answer`: the omnicart_api::SurveyAnswer as JSON).
CREATE TABLE surveys (
    order_id    TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    sent_at     BIGINT NOT NULL,
    answered_at BIGINT,
    answer      TEXT
);
