-- sqltrack 0.1.3 orders runstatus BOOT_FAIL, CANCELLED, CONFIGURING, COMPLETED, ... REVOKED,
-- RUNNING, SIGNALING, ...; databases that earlier versions of this tool set up have
-- CONFIGURING after COMPLETED and RUNNING after PREEMPTED, which changes ORDER BY status and
-- comparisons. An enum's labels cannot be reordered in place: the type is made again in the
-- reference order and the two status columns are converted to it, in the one transaction
-- that applies this migration (run_summary and latest_metrics, which use runs.status, are
-- dropped before and made again after it). A database whose order is right already (made by
-- sqltrack 0.1.3, or set up since) is left as it is. A view or column of your own that uses
-- the type stops the migration, which then changes nothing.
DO $$
DECLARE
    reference TEXT[] := ARRAY[
        'BOOT_FAIL', 'CANCELLED', 'CONFIGURING', 'COMPLETED', 'COMPLETING', 'DEADLINE',
        'FAILED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PENDING', 'PREEMPTED', 'RESV_DEL_HOLD',
        'REQUEUE_FED', 'REQUEUE_HOLD', 'REQUEUED', 'RESIZING', 'REVOKED', 'RUNNING',
        'SIGNALING', 'SPECIAL_EXIT', 'STAGE_OUT', 'STOPPED', 'SUSPENDED', 'TIMEOUT'];
BEGIN
    IF (SELECT array_agg(enumlabel::TEXT ORDER BY enumsortorder) FROM pg_enum
        WHERE enumtypid = 'runstatus'::regtype) = reference THEN
        RETURN;
    END IF;
    ALTER TYPE runstatus RENAME TO runstatus_in_earlier_order;
    CREATE TYPE runstatus AS ENUM (
        'BOOT_FAIL', 'CANCELLED', 'CONFIGURING', 'COMPLETED', 'COMPLETING', 'DEADLINE',
        'FAILED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PENDING', 'PREEMPTED', 'RESV_DEL_HOLD',
        'REQUEUE_FED', 'REQUEUE_HOLD', 'REQUEUED', 'RESIZING', 'REVOKED', 'RUNNING',
        'SIGNALING', 'SPECIAL_EXIT', 'STAGE_OUT', 'STOPPED', 'SUSPENDED', 'TIMEOUT');
    ALTER TABLE runs ALTER COLUMN status DROP DEFAULT,
        ALTER COLUMN status TYPE runstatus USING CAST(CAST(status AS TEXT) AS runstatus),
        ALTER COLUMN status SET DEFAULT 'PENDING';
    ALTER TABLE run_status_history
        ALTER COLUMN status TYPE runstatus USING CAST(CAST(status AS TEXT) AS runstatus);
    DROP TYPE runstatus_in_earlier_order;
END
$$;
