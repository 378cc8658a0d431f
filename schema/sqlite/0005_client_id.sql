-- The wrapper's own id for a run (a UUID), known before the database is reached: a run
-- started while the database was away is created once from its journal, however often the
-- journal is replayed. Additive: a nullable column and a unique index.
ALTER TABLE runs ADD COLUMN client_id TEXT;
CREATE UNIQUE INDEX runs_client_id ON runs (client_id);
