#pragma once
// One lock for every schema change, so that migrations and view regeneration by concurrent
// processes take turns.

#include "sqltrack/db/database.hpp"

namespace sqltrack {

// Queues this transaction behind other processes' schema changes (migrations, view
// regeneration): a transaction-scoped advisory lock on PostgreSQL; on SQLite the write
// transaction itself does it.
void lock_schema_changes(db::Database& db);

}  // namespace sqltrack
