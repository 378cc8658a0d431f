#include "sqltrack/connect/database_identity.hpp"

#include <boost/crc.hpp>
#include <cstdio>

#include "sqltrack/util/error.hpp"

namespace sqltrack {
namespace {

std::string setting_or(const Settings& settings, const Environment& env, std::string_view key,
                       std::string_view variable, std::string fallback) {
  if (auto value = settings.get(key); value && !value->empty()) return *value;
  if (auto value = lookup(env, variable); value && !value->empty()) return *value;
  return fallback;
}

bool same_configured(const DatabaseIdentity& a, const DatabaseIdentity& b) {
  return a.host == b.host && a.port == b.port && a.dbname == b.dbname && a.schema == b.schema;
}

}  // namespace

DatabaseIdentity configured_identity(const Settings& settings, const Environment& env) {
  DatabaseIdentity identity;
  identity.engine = settings.engine;
  if (settings.engine == db::Engine::sqlite) {
    std::error_code ec;
    auto path =
        std::filesystem::weakly_canonical(std::filesystem::absolute(settings.sqlite_path()), ec);
    identity.path = ec ? std::filesystem::absolute(settings.sqlite_path()).string() : path.string();
    return identity;
  }
  identity.host = setting_or(settings, env, "host", "PGHOST", "");
  identity.port = setting_or(settings, env, "port", "PGPORT", "5432");
  identity.dbname = setting_or(settings, env, "dbname", "PGDATABASE", "");
  identity.schema = settings.get("schema").value_or("");
  return identity;
}

void add_server_identity(db::Database& db, DatabaseIdentity& identity) {
  if (db.engine() != db::Engine::postgres) return;
  try {
    auto found = db.query(
        "SELECT system_identifier, current_database(), current_schema() FROM pg_control_system()");
    if (found.size() != 1) return;
    identity.system_identifier = found.rows[0][0].value_or("");
    identity.server_dbname = found.rows[0][1].value_or("");
    identity.server_schema = found.rows[0][2].value_or("");
  } catch (const DatabaseError&) {
    // A server that hides its identity: the settings are what the journal can name.
  }
}

bool same_database(const DatabaseIdentity& journal, const DatabaseIdentity& here) {
  if (journal.engine != here.engine) return false;
  if (journal.engine == db::Engine::sqlite) return journal.path == here.path;
  if (!journal.system_identifier.empty() && !here.system_identifier.empty()) {
    return journal.system_identifier == here.system_identifier &&
           journal.server_dbname == here.server_dbname &&
           journal.server_schema == here.server_schema;
  }
  return same_configured(journal, here);
}

std::string describe_identity(const DatabaseIdentity& identity) {
  if (identity.engine == db::Engine::sqlite) return "SQLite " + identity.path;
  const bool known = !identity.system_identifier.empty();
  std::string text = "PostgreSQL";
  if (!identity.host.empty()) text += " host=" + identity.host;
  text += " port=" + identity.port;
  const std::string& dbname = known ? identity.server_dbname : identity.dbname;
  const std::string& schema = known ? identity.server_schema : identity.schema;
  if (!dbname.empty()) text += " dbname=" + dbname;
  if (!schema.empty()) text += " schema=" + schema;
  text += known ? " (system identifier " + identity.system_identifier + ")"
                : " (as configured; the server was not reached)";
  return text;
}

std::string identity_tag(const DatabaseIdentity& identity) {
  std::string key;
  if (identity.engine == db::Engine::sqlite) {
    key = identity.path;
  } else if (!identity.system_identifier.empty()) {
    key =
        identity.system_identifier + '\n' + identity.server_dbname + '\n' + identity.server_schema;
  } else {
    key = identity.host + '\n' + identity.port + '\n' + identity.dbname + '\n' + identity.schema;
  }
  boost::crc_32_type crc;
  crc.process_bytes(key.data(), key.size());
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(crc.checksum()));
  return std::string(db::engine_name(identity.engine)) + "-" + hex;
}

nlohmann::json identity_to_json(const DatabaseIdentity& identity) {
  if (identity.engine == db::Engine::sqlite) {
    return {{"engine", "sqlite"}, {"path", identity.path}};
  }
  return {{"engine", "postgres"},
          {"host", identity.host},
          {"port", identity.port},
          {"dbname", identity.dbname},
          {"schema", identity.schema},
          {"system_identifier", identity.system_identifier},
          {"server_dbname", identity.server_dbname},
          {"server_schema", identity.server_schema}};
}

DatabaseIdentity identity_from_json(const nlohmann::json& object) {
  if (!object.is_object()) throw Error("the database it belongs to is not an object");
  DatabaseIdentity identity;
  const std::string engine = object.value("engine", "");
  if (engine == "sqlite") {
    identity.path = object.value("path", "");
    if (identity.path.empty()) throw Error("the SQLite database it belongs to has no path");
    return identity;
  }
  if (engine != "postgres") throw Error("unknown engine '" + engine + "' of its database");
  identity.engine = db::Engine::postgres;
  identity.host = object.value("host", "");
  identity.port = object.value("port", "");
  identity.dbname = object.value("dbname", "");
  identity.schema = object.value("schema", "");
  identity.system_identifier = object.value("system_identifier", "");
  identity.server_dbname = object.value("server_dbname", "");
  identity.server_schema = object.value("server_schema", "");
  return identity;
}

}  // namespace sqltrack
