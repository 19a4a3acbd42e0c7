-- Wrong passwords per (email, client address) within a window, shared by every server process
-- on the database: the sign-in lock is per pair, the back-off per email sums the pairs
-- (service/accounts.rs). `client` is the address as service::limits keys it.
CREATE TABLE sign_in_failures (
    email TEXT NOT NULL,
    client TEXT NOT NULL,
    failures BIGINT NOT NULL,
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (email, client)
);
-- Windows that have passed are deleted by their start.
CREATE INDEX sign_in_failures_by_start ON sign_in_failures (first_at);
