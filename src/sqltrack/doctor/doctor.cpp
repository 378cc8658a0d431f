#include "sqltrack/doctor/doctor.hpp"

#include <algorithm>
#include <memory>

#include "sqltrack/connect/connect.hpp"
#include "sqltrack/db/database.hpp"
#include "sqltrack/journal/journal.hpp"
#include "sqltrack/schema/schema.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/text.hpp"
#include "sqltrack/util/utf8_text.hpp"

namespace sqltrack {

namespace {

CheckResult skipped(std::string name, std::string why) {
  return {std::move(name), CheckVerdict::skipped, std::move(why)};
}

CheckResult failed(std::string name, std::string finding, std::string remedy) {
  return {std::move(name), CheckVerdict::failed, std::move(finding), std::move(remedy)};
}

// The settings, resolved as every command resolves them, and the lines that show them.
CheckResult check_config(const DoctorRequest& request, std::optional<Settings>& settings) {
  try {
    settings = resolve_settings(request.flags, request.env, request.cwd);
  } catch (const Error& e) {
    return failed("config", one_line(e.what()),
                  "fix what the line names: every command stops there until then");
  }
  CheckResult result("config", CheckVerdict::ok, "");
  if (settings->config_file) {
    result.finding = "config file '" + escape_for_terminal(settings->config_file->string()) +
                     "' (" + settings->config_origin + ")";
  } else {
    result.finding =
        "no config file (none given with -c or $SQLTRACK_CONFIG_PATH, no ./sqltrack.conf or "
        "./sqltrack.yaml)";
  }
  result.details.push_back("engine = " + std::string(db::engine_name(settings->engine)) + " (" +
                           settings->engine_source + ")");
  for (const auto& [key, setting] : settings->values) {
    if (key == "engine") continue;
    result.details.push_back(key + " = " + shown_setting_value(key, setting.value) + " (" +
                             setting.source + ")");
  }
  for (const auto& warning : settings->warnings) {
    result.verdict = CheckVerdict::warning;
    result.details.push_back("warning: " + warning);
    result.remedy = "do what the warning says";
  }
  return result;
}

// What to do when the database does not answer, by what the failure says.
std::string database_remedy(const Settings& settings, const DatabaseError& error) {
  if (settings.engine == db::Engine::sqlite) {
    std::error_code ec;
    if (!std::filesystem::exists(settings.sqlite_path(), ec)) {
      return "run `sqltrack setup` to create it, or set path (-c FILE, SQLTRACK_DSN_PATH) to the "
             "database you mean";
    }
    return "make path name a SQLite database of sqltrack that you may read";
  }
  if (error.kind() == DatabaseError::Kind::connection) {
    return "start the server, or fix host and port (-a, SQLTRACK_DSN_HOST, SQLTRACK_DSN_PORT, the "
           "config file)";
  }
  return "fix user, password or dbname: a role and a database the server knows, the role "
         "allowed to connect";
}

// Opened as the read commands open it: read-only, a SQLite file never created.
std::unique_ptr<db::Database> open_to_look(const Settings& settings) {
  // Whether the file's filesystem suits SQLite is a check of its own (below); reading it
  // once is safe anywhere.
  Settings looking = settings;
  looking.values["sqlite_on_network_fs"] = Setting{"true", "sqltrack doctor"};
  return open_database(looking, db::WalOnClose::checkpoint, db::OpenMode::read_only);
}

CheckResult check_database(const Settings& settings, std::unique_ptr<db::Database>& db) {
  try {
    db = open_to_look(settings);
  } catch (const Error& e) {
    const auto* database_error = dynamic_cast<const DatabaseError*>(&e);
    return failed("database", one_line(e.what()),
                  database_error ? database_remedy(settings, *database_error)
                                 : "fix the settings the line names");
  }
  CheckResult result("database", CheckVerdict::ok, db->describe() + " answers");
  try {
    const bool postgres = db->engine() == db::Engine::postgres;
    auto version = db->query(postgres ? "SHOW server_version" : "SELECT sqlite_version()", {});
    if (auto text = version.scalar()) {
      result.finding += std::string(postgres ? " (PostgreSQL " : " (SQLite ") + *text + ")";
    }
  } catch (const DatabaseError&) {
    // The version is a detail; the database answered.
  }
  return result;
}

std::string some_names(const std::vector<std::string>& names) {
  std::string text = names.front();
  if (names.size() > 1) text += " and " + std::to_string(names.size() - 1) + " more";
  return text;
}

CheckResult check_schema(db::Database& db) {
  SchemaState state;
  try {
    state = read_schema_state(db);
  } catch (const DatabaseError& e) {
    return failed("schema", "cannot read applied_migrations: " + one_line(e.what()),
                  "use a role that may read the schema's tables");
  }
  const std::string who =
      db.engine() == db::Engine::postgres ? " with a role that may change the schema" : "";
  if (!state.set_up) {
    return failed("schema", db.describe() + " has no sqltrack schema (no applied_migrations)",
                  "run `sqltrack setup`" + who);
  }
  if (!state.missing.empty()) {
    return failed(
        "schema",
        "older than this build: " + std::to_string(state.missing.size()) + " of its " +
            std::to_string(state.known) + " migrations not applied (" + some_names(state.missing) +
            ")",
        "run `sqltrack setup`" + who + "; until then status, export and report refuse it");
  }
  CheckResult result(
      "schema", CheckVerdict::ok,
      "current: the " + std::to_string(state.known) + " migrations of this build are applied");
  if (!state.newer.empty()) {
    result.finding += ", and " + std::to_string(state.newer.size()) + " of a later sqltrack (" +
                      some_names(state.newer) + ")";
  }
  return result;
}

// What add_columns is, where its value comes from, and why it is what it is.
CheckResult check_add_columns(const Settings& settings) {
  bool on = false;
  try {
    on = settings.add_columns();
  } catch (const Error& e) {
    return failed("add_columns", one_line(e.what()), "set add_columns to true or false");
  }
  const bool sqlite = settings.engine == db::Engine::sqlite;
  const Setting* given = settings.find("add_columns");
  CheckResult result("add_columns", CheckVerdict::ok, "");
  result.finding = std::string(on ? "on" : "off") + " (" +
                   (given    ? given->source
                    : sqlite ? "default for SQLite"
                             : "default for PostgreSQL") +
                   "): a metric key without a column " +
                   (on ? "becomes a new column of metrics" : "is rejected into the reject file");
  if (on && sqlite) {
    result.details.push_back(
        "the SQLite file is yours: the first line that names a metric makes its column");
  } else if (on) {
    result.details.push_back(
        "columns are added with ALTER TABLE, which briefly stalls every writer of metrics, and "
        "only a role that owns the table may");
  } else {
    result.details.push_back(
        std::string(sqlite ? "" : "a shared server's schema belongs to its owners: ") +
        "add columns with a migration (`sqltrack setup v001.sql`), or turn it on with "
        "add_columns = true or --add-columns");
  }
  return result;
}

std::filesystem::path journal_directory(const std::optional<Settings>& settings,
                                        const Environment& env) {
  if (settings) {
    if (auto dir = settings->get("journal_dir"); dir && !dir->empty()) return *dir;
  }
  return default_journal_dir(env);
}

// The checks that need the settings, and those that need the database as well.
void check_database_side(const std::optional<Settings>& settings,
                         std::vector<CheckResult>& results) {
  if (!settings) {
    for (const char* name : {"database", "schema", "add_columns"}) {
      results.push_back(skipped(name, "no settings (see config)"));
    }
    return;
  }
  std::unique_ptr<db::Database> db;
  results.push_back(check_database(*settings, db));
  results.push_back(db ? check_schema(*db) : skipped("schema", "no database (see database)"));
  results.push_back(check_add_columns(*settings));
}

}  // namespace

std::vector<CheckResult> run_doctor_checks(const DoctorRequest& request) {
  std::vector<CheckResult> results;
  std::optional<Settings> settings;
  results.push_back(check_config(request, settings));
  check_database_side(settings, results);
  results.push_back(check_journal_directory(journal_directory(settings, request.env)));
  if (!settings) {
    results.push_back(skipped("filesystem", "no settings (see config)"));
  } else {
    results.push_back(check_sqlite_filesystem_of(*settings));
  }
  for (auto& result : check_slurm(request.env, request.slurm_timeout)) {
    results.push_back(std::move(result));
  }
  return results;
}

bool all_passed(const std::vector<CheckResult>& results) {
  return std::none_of(results.begin(), results.end(), [](const CheckResult& result) {
    return result.verdict == CheckVerdict::failed;
  });
}

}  // namespace sqltrack
