-- SimuTrador session store, version 1: sessions, their events, run records and results.
-- Applied by the daemon at start (refinery, table simutrador_schema_history); never edit a
-- migration that has shipped: add V2__….sql instead.

CREATE TABLE sessions (
    id                  text PRIMARY KEY,
    user_id             text NOT NULL,
    params              jsonb NOT NULL,
    limits              jsonb NOT NULL,
    bar_count           bigint NOT NULL,
    data                jsonb,
    state               text NOT NULL,
    termination_reason  text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    started_at          timestamptz,
    ended_at            timestamptz,
    settled_ticks       bigint NOT NULL DEFAULT 0,
    live                jsonb NOT NULL,
    strategy            jsonb,
    client_version      text,
    -- Ownership (leases) and fencing: written by later versions; generation is bumped by
    -- every new run and stamped on its run records.
    owner_daemon        text,
    lease_until         timestamptz,
    generation          bigint NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user_created ON sessions (user_id, created_at);
CREATE INDEX sessions_state_lease ON sessions (state, lease_until);

CREATE TABLE session_events (
    session_id  text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq         bigint NOT NULL,
    time        timestamptz NOT NULL,
    kind        text NOT NULL,
    actor       text NOT NULL,
    data        jsonb NOT NULL,
    PRIMARY KEY (session_id, seq)
);

CREATE TABLE run_records (
    session_id  text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    n           bigint NOT NULL,
    generation  bigint NOT NULL,
    record      jsonb NOT NULL,
    PRIMARY KEY (session_id, n)
);

CREATE TABLE results (
    session_id      text PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    metrics         jsonb NOT NULL,
    open_positions  jsonb NOT NULL,
    trades          bigint NOT NULL,
    equity_points   bigint NOT NULL,
    -- The whole results as the file store's `results` record (JSON, drawdown columns left
    -- out), read back on demand by get_results.
    body            bytea NOT NULL
);

-- One row, rewritten by every probe of a failed store.
CREATE TABLE store_probe (
    id         integer PRIMARY KEY,
    probed_at  timestamptz NOT NULL
);
