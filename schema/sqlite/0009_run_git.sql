-- Which code a run ran: the commit, branch and origin URL (without credentials) of the git
-- work tree its command started in, and whether tracked files were changed (capture_git =
-- full). NULL outside a work tree. Additive: a nullable column. (SQLite: JSON is text checked
-- by json_valid.)
ALTER TABLE runs ADD COLUMN git TEXT CHECK (git IS NULL OR json_valid(git));
