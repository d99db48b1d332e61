-- Readers answer: what each leaving-soon notice listed, and the actions readers took through signed links.

-- One row per item a leaving-soon e-mail listed for a reader. It counts as that reader's notice only once the
-- ledger has the message (message_key, email) as sent: deliveries.finished_at is when the notice was given.
CREATE TABLE media_notices (
    user_id      BIGINT NOT NULL,
    rating_key   BIGINT NOT NULL,
    message_key  VARCHAR NOT NULL,     -- the leaving-soon e-mail's ledger key ("leaving-<user>-<day>")
    email        VARCHAR NOT NULL,     -- the address it went to (the ledger's second key)
    listed_at    TIMESTAMPTZ NOT NULL,
    leaving_at   TIMESTAMPTZ NOT NULL, -- the date the e-mail gave
    PRIMARY KEY (user_id, rating_key, message_key)
);

-- Every action the web app took in (its inbox, copied here by every run before anything else).
CREATE TABLE reader_actions (
    inbox_uid  VARCHAR NOT NULL,       -- which inbox file (a new file starts its ids at 1 again)
    action_id  BIGINT NOT NULL,        -- the inbox's own id: taking the inbox in twice adds nothing
    acted_at   TIMESTAMPTZ NOT NULL,   -- when the reader pressed the button
    user_id    BIGINT NOT NULL,
    action     VARCHAR NOT NULL,       -- unsubscribe | resubscribe | keep | done | still_here
    target     VARCHAR NOT NULL,       -- the address, the rating_key, or the warning's moment
    taken_at   TIMESTAMPTZ NOT NULL,
    outcome    VARCHAR,                -- applied | refused: why (set when its effect is applied)
    audited_run_id BIGINT,             -- the enforce run whose audit shows it
    PRIMARY KEY (inbox_uid, action_id)
);
