-- The sqltrack 0.1.3 base schema in SQLite terms: the same tables and columns, runstatus
-- becomes TEXT checked against the same 24 states (listed in the enum's order in the table
-- runstatus), JSONB becomes TEXT checked by json_valid, timestamps are ISO 8601 text in UTC.
CREATE TABLE experiments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time_created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    name TEXT NOT NULL UNIQUE,
    comment TEXT,
    tags TEXT CHECK (tags IS NULL OR json_valid(tags))
);

CREATE TABLE experiment_relationships (
    from_id INTEGER NOT NULL REFERENCES experiments (id),
    kind TEXT NOT NULL,
    to_id INTEGER NOT NULL REFERENCES experiments (id),
    PRIMARY KEY (from_id, kind, to_id)
);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id INTEGER NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN (
        'BOOT_FAIL', 'CANCELLED', 'CONFIGURING', 'COMPLETED', 'COMPLETING', 'DEADLINE',
        'FAILED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PENDING', 'PREEMPTED', 'RESV_DEL_HOLD',
        'REQUEUE_FED', 'REQUEUE_HOLD', 'REQUEUED', 'RESIZING', 'REVOKED', 'RUNNING',
        'SIGNALING', 'SPECIAL_EXIT', 'STAGE_OUT', 'STOPPED', 'SUSPENDED', 'TIMEOUT')),
    time_created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    time_started TEXT,
    time_updated TEXT,
    comment TEXT,
    tags TEXT CHECK (tags IS NULL OR json_valid(tags)),
    args TEXT CHECK (args IS NULL OR json_valid(args)),
    env TEXT CHECK (env IS NULL OR json_valid(env))
);

CREATE TABLE run_relationships (
    from_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    to_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    PRIMARY KEY (from_id, kind, to_id)
);

-- WITHOUT ROWID keeps rows clustered on the key that every read and upsert uses.
CREATE TABLE metrics (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL DEFAULT 0,
    progress REAL NOT NULL DEFAULT 0.0,
    PRIMARY KEY (run_id, step, progress)
) WITHOUT ROWID;

-- The PostgreSQL enum's values in order, so both engines can list them.
CREATE TABLE runstatus (
    position INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
INSERT INTO runstatus (position, name) VALUES
    (1, 'BOOT_FAIL'), (2, 'CANCELLED'), (3, 'CONFIGURING'), (4, 'COMPLETED'),
    (5, 'COMPLETING'), (6, 'DEADLINE'), (7, 'FAILED'), (8, 'NODE_FAIL'),
    (9, 'OUT_OF_MEMORY'), (10, 'PENDING'), (11, 'PREEMPTED'), (12, 'RESV_DEL_HOLD'),
    (13, 'REQUEUE_FED'), (14, 'REQUEUE_HOLD'), (15, 'REQUEUED'), (16, 'RESIZING'),
    (17, 'REVOKED'), (18, 'RUNNING'), (19, 'SIGNALING'), (20, 'SPECIAL_EXIT'),
    (21, 'STAGE_OUT'), (22, 'STOPPED'), (23, 'SUSPENDED'), (24, 'TIMEOUT');
