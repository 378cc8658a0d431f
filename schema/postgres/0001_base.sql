-- The base schema of sqltrack 0.1.3, unchanged: databases created by the
-- Python tool and by this one are the same.
CREATE TYPE runstatus AS ENUM (
    'BOOT_FAIL',
    'CANCELLED',
    'COMPLETED',
    'CONFIGURING',
    'COMPLETING',
    'DEADLINE',
    'FAILED',
    'NODE_FAIL',
    'OUT_OF_MEMORY',
    'PENDING',
    'PREEMPTED',
    'RUNNING',
    'RESV_DEL_HOLD',
    'REQUEUE_FED',
    'REQUEUE_HOLD',
    'REQUEUED',
    'RESIZING',
    'REVOKED',
    'SIGNALING',
    'SPECIAL_EXIT',
    'STAGE_OUT',
    'STOPPED',
    'SUSPENDED',
    'TIMEOUT'
);

CREATE TABLE experiments (
    id BIGSERIAL PRIMARY KEY,
    time_created TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    name TEXT NOT NULL UNIQUE,
    comment TEXT,
    tags JSONB
);

CREATE TABLE experiment_relationships (
    experiment_id_a BIGINT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    experiment_id_b BIGINT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    PRIMARY KEY (experiment_id_a, kind, experiment_id_b)
);

CREATE TABLE runs (
    id BIGSERIAL PRIMARY KEY,
    experiment_id BIGINT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    status runstatus NOT NULL DEFAULT 'PENDING',
    time_created TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    time_started TIMESTAMP WITH TIME ZONE,
    time_updated TIMESTAMP WITH TIME ZONE,
    comment TEXT,
    tags JSONB,
    args JSONB,
    env JSONB
);

CREATE TABLE run_relationships (
    run_id_a BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    run_id_b BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    PRIMARY KEY (run_id_a, kind, run_id_b)
);

CREATE TABLE metrics (
    run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step BIGINT NOT NULL DEFAULT 0,
    progress DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    PRIMARY KEY (run_id, step, progress)
);
