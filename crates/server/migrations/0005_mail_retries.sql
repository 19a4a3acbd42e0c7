-- Retries of the mail outbox. A sender claims a mail before sending it by moving
-- `next_attempt_at` past the time a send can take (another process's sender then skips it; a
-- crashed one's claim runs out and the mail is sent again: at least once). A mail that fails
-- waits longer before each retry, so mail a relay keeps refusing cannot hold the oldest rows
-- of the outbox and keep newer mail from being sent. `last_error` is for the operator.
ALTER TABLE mail_outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mail_outbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mail_outbox ADD COLUMN last_error TEXT;
CREATE INDEX mail_outbox_due ON mail_outbox (sent_at, next_attempt_at);
