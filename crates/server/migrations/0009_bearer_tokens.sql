-- Bearer tokens (`Authorization: Bearer …`), the cookie's alternative for a page on another
-- origin (issue 19, part 5), stored by the SHA-256 of the token like sessions. A token is
-- either a signed-in session's (`session_hash`: it acts as that session and goes with it,
-- so sign-out revokes it) or a guest cart's (`cart_id`, an anonymous cart). `expires_at` in
-- Unix seconds, never after its session's.
CREATE TABLE bearer_tokens (
    token_hash   TEXT PRIMARY KEY,
    session_hash TEXT REFERENCES sessions(token_hash) ON DELETE CASCADE,
    cart_id      TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX bearer_tokens_session ON bearer_tokens(session_hash);
