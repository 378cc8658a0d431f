-- The run queue: a run made by `sqltrack enqueue` waits as PENDING with its command in args
-- until a worker (`sqltrack-run --next`) claims it. queue_attempts counts the claims (NULL:
-- not a queued run), so a run whose workers keep dying ends FAILED instead of looping.
ALTER TABLE runs ADD COLUMN queue_attempts INTEGER;
CREATE INDEX runs_queue ON runs (experiment_id, status, id) WHERE queue_attempts IS NOT NULL;
