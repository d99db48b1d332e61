-- The delivery ledger: one row per (message key, recipient), so each e-mail goes out exactly once.
-- A row is claimed (state 'sending', committed) before the provider is called and recorded after,
-- so a run killed in between leaves 'sending' behind; the next run reports it as 'unknown'.
CREATE TABLE deliveries (
    message_key         VARCHAR NOT NULL,  -- idempotency key: issue_key for digests ("weekly-2026-W46"), "welcome", ...
    email               VARCHAR NOT NULL,  -- lower-cased recipient address
    user_id             BIGINT,            -- NULL for extra recipients the admin added
    kind                VARCHAR NOT NULL,  -- digest | welcome | warning | removal | admin_report | preview
    state               VARCHAR NOT NULL,  -- pending | sending | sent | failed | unknown | suppressed
    attempts            INTEGER NOT NULL,  -- claims so far (one per run that tried), not API retries
    first_attempt_at    TIMESTAMPTZ,
    last_attempt_at     TIMESTAMPTZ,
    finished_at         TIMESTAMPTZ,       -- when the outcome was recorded
    backend             VARCHAR,           -- ses | smtp | outbox
    provider_message_id VARCHAR,           -- SES MessageId, SMTP queue reply, or the outbox file
    error               VARCHAR,           -- why it failed, is pending again, or is unknown
    size_bytes          BIGINT,            -- size of the MIME message
    PRIMARY KEY (message_key, email)
);

-- Addresses that asked for no more mail (invoke unsubscribe / a List-Unsubscribe request).
CREATE TABLE email_optouts (
    email        VARCHAR PRIMARY KEY,     -- lower-cased
    opted_out_at TIMESTAMPTZ NOT NULL,
    source       VARCHAR NOT NULL         -- cli | link | complaint
);
