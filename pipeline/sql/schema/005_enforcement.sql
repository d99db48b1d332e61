-- Enforcement: what the user policy and the retention policy did, and why. Rows are only appended or
-- updated in place by the acting side; deciding never writes here.

-- One row per `invoke enforce` (dry run or apply), so every audit row points at its run.
CREATE TABLE enforce_runs (
    run_id      BIGINT PRIMARY KEY,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    applied     BOOLEAN NOT NULL,      -- false: a dry run (decisions audited, nothing done)
    forced      BOOLEAN NOT NULL,      -- --force skipped the guards
    scope       VARCHAR NOT NULL,      -- all | users | new_users | media
    status      VARCHAR NOT NULL,      -- running | ok | refused | failed
    summary     VARCHAR                -- one line: counts, or why it refused or failed
);

-- What earlier runs did for each user: the user policy's MemberState, one row per user.
CREATE TABLE member_states (
    user_id               BIGINT PRIMARY KEY,
    welcomed_at           TIMESTAMPTZ,
    warned_at             TIMESTAMPTZ,
    warned_for_idle_since TIMESTAMPTZ,   -- the idle stretch the warning was about
    removed_at            TIMESTAMPTZ,
    removal_attempts      INTEGER NOT NULL DEFAULT 0,
    last_error            VARCHAR,
    updated_at            TIMESTAMPTZ NOT NULL
);

-- Every decision and every outcome, users and media alike, with the inputs it was made from.
CREATE SEQUENCE audit_seq START 1;
CREATE TABLE audit (
    audit_id     BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'),
    run_id       BIGINT NOT NULL,
    logged_at    TIMESTAMPTZ NOT NULL,
    subject      VARCHAR NOT NULL,       -- user | media | run
    subject_id   BIGINT,                 -- user_id or rating_key
    subject_name VARCHAR,                -- username or title, as it was then
    action       VARCHAR NOT NULL,       -- welcome | warn | remove | clear_warning | protect | wait | delete | keep | ...
    phase        VARCHAR NOT NULL,       -- planned | done | failed | partial | skipped | refused | forced
    reason       VARCHAR NOT NULL,
    inputs       JSON,                   -- what the decision was made from (dates, thresholds, counts)
    outcome      JSON                    -- what acting did: requests, message ids, bytes freed, errors
);
CREATE INDEX audit_subject ON audit (subject, subject_id);
