-- Lmod modulefile for the sqltrack tarball (scripts/package.sh), unpacked into
-- ROOT/sqltrack/VERSION; install it as MODULEPATH/sqltrack/VERSION.lua.
-- The prefix is where this file says, by its own name and version: edit `root` below.
help([[
sqltrack: records jobs (command, environment, Slurm job, metrics, end) in SQLite or PostgreSQL.
Commands: sqltrack, sqltrack-run; man sqltrack, man sqltrack-run, man sqltrack.conf.
Python helper: import sqltrack_run.
]])
whatis("Name: sqltrack")
whatis("Version: " .. myModuleVersion())
whatis("Description: Slurm-aware job wrapper that records experiments in SQL")

local root = pathJoin("/opt/sqltrack", myModuleVersion())

prepend_path("PATH", pathJoin(root, "bin"))
prepend_path("MANPATH", pathJoin(root, "share/man"))
prepend_path("PYTHONPATH", pathJoin(root, "share/sqltrack/python"))
