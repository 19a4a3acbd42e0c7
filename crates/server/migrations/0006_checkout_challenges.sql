-- Checkouts waiting for the shopper's bank (a 3-D Secure style challenge), one per attempt:
-- what step 3 needs to place the order once the challenge is passed, kept with the attempt
-- (which holds the stock and promotion uses meanwhile, until its `expires_at`).
-- `scope` is the checkout's idempotency scope (the customer, or `cart:` and the cart's id);
-- `placement` the JSON of the checkout request with the cart, quote and fulfilment reserved;
-- `completed_by` the idempotency key of the completion that claimed it (NULL until one
-- does): its answer, stored under that key, is the challenge's answer for every completion.
CREATE TABLE checkout_challenges (
    attempt_id   TEXT PRIMARY KEY REFERENCES checkout_attempts(id),
    scope        TEXT NOT NULL,
    placement    TEXT NOT NULL,
    completed_by TEXT,
    created_at   BIGINT NOT NULL
);
