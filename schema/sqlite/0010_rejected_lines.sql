-- How many metric lines the wrapper could not store (they are in its reject file), written
-- with the run's end. NULL for runs that ended before it was kept. Additive: a nullable column.
ALTER TABLE runs ADD COLUMN rejected_lines INTEGER;
