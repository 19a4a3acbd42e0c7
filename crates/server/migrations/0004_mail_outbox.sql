-- Mail to send (the order confirmation with its invoice), written in the transaction of the
-- change it announces and sent after it by the mail sender; `sent_at` is NULL until sent.
CREATE TABLE mail_outbox (
    id         TEXT PRIMARY KEY,
    order_id   TEXT NOT NULL REFERENCES orders(id),
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    text_body  TEXT NOT NULL,
    html_body  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at    BIGINT
);
CREATE INDEX mail_outbox_unsent ON mail_outbox (sent_at, created_at);
