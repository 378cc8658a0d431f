#pragma once
// Which database a run belongs to, in terms that survive a restart of the server: a SQLite
// file's absolute path; a PostgreSQL server's system identifier with the database and schema
// the server names. A wrapper that never reached its server knows only its settings: host,
// port, database and schema as configured. A run's journal records this, so `sqltrack sync`
// stores the journal only into the database it belongs to.

#include <string>

#include <nlohmann/json.hpp>

#include "sqltrack/config/config.hpp"
#include "sqltrack/db/database.hpp"
#include "sqltrack/util/environment.hpp"

namespace sqltrack {

struct DatabaseIdentity {
  db::Engine engine = db::Engine::sqlite;
  std::string path;  // SQLite: the file, absolute, symbolic links resolved where they exist
  // PostgreSQL as the settings name it (else as libpq's PGHOST, PGPORT and PGDATABASE do):
  std::string host, port, dbname, schema;
  // PostgreSQL as the server says; empty when it was not reached.
  std::string system_identifier, server_dbname, server_schema;
};

// What the settings say, before any connection.
DatabaseIdentity configured_identity(const Settings& settings, const Environment& env);

// Adds what a PostgreSQL server says about itself (one query; pg_control_system() needs no
// privilege). Left out when the server does not answer it.
void add_server_identity(db::Database& db, DatabaseIdentity& identity);

// Whether a journal that belongs to `journal` may be stored into `here`: the same SQLite
// file; the same server (system identifier), database and schema; or, when either side does
// not know the server's identity, the same host, port, database and schema as configured.
bool same_database(const DatabaseIdentity& journal, const DatabaseIdentity& here);

// "SQLite /home/alice/sqltrack.db", "PostgreSQL host=db port=5432 dbname=runs schema=public
// (system identifier 7301...)"; never a password.
std::string describe_identity(const DatabaseIdentity& identity);

// A short, stable name of the database for file names (reject files): "sqlite-" or
// "postgres-" and eight hex digits of a checksum of the identity (of the server's identity
// when it is known), so that files of two databases never share a name.
std::string identity_tag(const DatabaseIdentity& identity);

nlohmann::json identity_to_json(const DatabaseIdentity& identity);
// Throws sqltrack::Error when the object is not an identity.
DatabaseIdentity identity_from_json(const nlohmann::json& object);

}  // namespace sqltrack
