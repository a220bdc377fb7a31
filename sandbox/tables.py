"""The sandbox's SQLite tables: the simulated systems' state, the idempotency records and the
effect ledger. `sandbox.store` creates them; `SCHEMA_VERSION` is stored in the file
(`PRAGMA user_version`) so an older sandbox refuses a file written by a newer one, and this one
refuses a file written by an older one (`sandbox.store` says what to do): version 2 (issue 11)
folds billing, config and entitlements over an account's live orders, which the rows of version 1
cannot be turned into without guessing.

Boundary: DDL only; what each system keeps in its tables is documented in `sandbox.systems`.
"""

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,          -- "METHOD /path": a key belongs to one endpoint
    status      INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    system   TEXT NOT NULL,
    action   TEXT NOT NULL,
    order_id TEXT NOT NULL,
    key      TEXT NOT NULL,
    at       TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_by_order ON ledger (order_id, seq);
CREATE TABLE IF NOT EXISTS transactions (
    transaction_id TEXT PRIMARY KEY,
    order_id       TEXT NOT NULL,
    method         TEXT NOT NULL,
    amount         TEXT NOT NULL,
    currency       TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    approved_at    TEXT,
    settled_at     TEXT,                -- `settle`: succeeded late, whatever the scenario said
    settled_amount TEXT                 -- what was captured then (NULL: the transaction's amount)
);
CREATE TABLE IF NOT EXISTS claims (
    transaction_id TEXT PRIMARY KEY,
    order_id       TEXT NOT NULL,
    claimed_at     TEXT NOT NULL,
    account_id     TEXT                 -- the claiming order's account (for the money audit)
);
CREATE TABLE IF NOT EXISTS payment_refunds (
    refund_id      TEXT PRIMARY KEY,    -- one per transaction and idempotency key
    transaction_id TEXT NOT NULL,       -- several (partial) refunds per transaction
    order_id       TEXT NOT NULL,       -- the order that owns the transaction
    custody        TEXT,                -- the custody workflow that refunded a held payment
    amount         TEXT NOT NULL,
    currency       TEXT NOT NULL,
    reason         TEXT NOT NULL,
    refunded_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS refunds_by_transaction ON payment_refunds (transaction_id);
CREATE TABLE IF NOT EXISTS accounts (
    account_id    TEXT PRIMARY KEY,
    plan          TEXT NOT NULL,              -- the fold: highest tier of base_plan and live orders
    quota_rules   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    base_plan     TEXT,                       -- NULL until first billed: then its plan is the base
    features      TEXT NOT NULL DEFAULT '[]', -- JSON list: the union of the live orders' add-ons
    version       INTEGER NOT NULL DEFAULT 0, -- bumped on every change of plan or add-ons
    fencing_token INTEGER NOT NULL DEFAULT 0  -- the highest fencing token an update carried
);
CREATE TABLE IF NOT EXISTS apps (
    app_id     TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS billing_updates (
    order_id      TEXT PRIMARY KEY,         -- billing is idempotent on the order id
    account_id    TEXT NOT NULL,
    plan          TEXT NOT NULL,            -- the order's own plan and add-ons (its part of the fold)
    features      TEXT NOT NULL,            -- JSON list
    previous_plan TEXT NOT NULL,            -- the account as the update found and left it
    account_plan  TEXT NOT NULL,
    quota_rules   TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    reverted_at   TEXT
);
CREATE INDEX IF NOT EXISTS billing_by_account ON billing_updates (account_id);
CREATE TABLE IF NOT EXISTS compensated_orders (
    system         TEXT NOT NULL,           -- billing, config, entitlements
    order_id       TEXT NOT NULL,
    subject        TEXT NOT NULL,           -- the account or app the undo was asked for
    compensated_at TEXT NOT NULL,
    PRIMARY KEY (system, order_id)          -- a late forward call of the order is refused
);
CREATE TABLE IF NOT EXISTS allocations (
    order_id      TEXT PRIMARY KEY,
    allocation_id TEXT NOT NULL,
    app_id        TEXT NOT NULL,
    regions       TEXT NOT NULL,            -- JSON list
    features      TEXT NOT NULL,            -- JSON list
    requested_at  TEXT NOT NULL,
    released_at   TEXT
);
CREATE TABLE IF NOT EXISTS media_profiles (
    profile_id       TEXT PRIMARY KEY,
    order_id         TEXT NOT NULL,
    app_id           TEXT NOT NULL,
    profile          TEXT NOT NULL,
    resolution       TEXT NOT NULL,
    max_bitrate_kbps INTEGER NOT NULL,
    generated_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS config_versions (
    app_id           TEXT NOT NULL,
    version          INTEGER NOT NULL,
    previous_version INTEGER NOT NULL,      -- the app's newest version before this one
    order_id         TEXT NOT NULL,         -- the order whose publish (or rollback) made it
    cause            TEXT NOT NULL,         -- publish | rollback
    plan             TEXT,                  -- the WHOLE desired config: highest tier of the live
    features         TEXT NOT NULL,         -- orders (NULL: none live) and their add-ons (JSON)
    orders           TEXT NOT NULL,         -- JSON list: the live orders it holds
    change_kinds     TEXT NOT NULL,         -- JSON list: what changed (sets the propagation delay)
    media_profile_id TEXT,
    published_at     TEXT NOT NULL,
    rolled_back_at   TEXT,                  -- a publish version whose order was rolled back
    PRIMARY KEY (app_id, version)
);
CREATE TABLE IF NOT EXISTS config_orders (
    app_id         TEXT NOT NULL,
    order_id       TEXT NOT NULL,
    version        INTEGER NOT NULL,        -- the version its publish made
    plan           TEXT NOT NULL,           -- the order's own part of every later version
    features       TEXT NOT NULL,           -- JSON list
    change_kinds   TEXT NOT NULL,           -- JSON list
    published_at   TEXT NOT NULL,
    rolled_back_at TEXT,
    PRIMARY KEY (app_id, order_id)          -- one version per order
);
CREATE TABLE IF NOT EXISTS config_pushes (
    app_id        TEXT NOT NULL,
    version       INTEGER NOT NULL,
    region        TEXT NOT NULL,
    first_push_at TEXT NOT NULL,            -- the region's clock: never restarted by a re-push
    pushes        INTEGER NOT NULL,
    PRIMARY KEY (app_id, version, region)
);
-- Pushes in flight (`sandbox.load`) are counted by first push time; an index, no new column, so
-- files of this schema version keep working.
CREATE INDEX IF NOT EXISTS config_pushes_by_time ON config_pushes (first_push_at);
CREATE TABLE IF NOT EXISTS entitlement_grants (
    order_id       TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    plan           TEXT NOT NULL,
    features       TEXT NOT NULL,           -- JSON list
    activated_at   TEXT NOT NULL,
    deactivated_at TEXT
);
CREATE INDEX IF NOT EXISTS grants_by_app ON entitlement_grants (app_id, activated_at);
CREATE TABLE IF NOT EXISTS tickets (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  TEXT NOT NULL UNIQUE,
    order_id   TEXT NOT NULL,
    reason     TEXT NOT NULL,
    severity   TEXT NOT NULL,
    diagnosis  TEXT NOT NULL,               -- JSON object
    opened_at  TEXT NOT NULL,
    closed_at  TEXT,
    resolution TEXT,
    UNIQUE (order_id, reason)               -- one ticket per order and reason
);
"""

# version reached -> the statements that reach it from the version before.
