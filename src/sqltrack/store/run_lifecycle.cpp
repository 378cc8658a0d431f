#include "sqltrack/store/run_lifecycle.hpp"

#include <algorithm>

#include "sqltrack/store/run_status.hpp"
#include "sqltrack/util/error.hpp"

namespace sqltrack {
namespace {

using db::Value;

// "$1, $2, ..., $count": one placeholder per id, the ids bound first.
std::string id_placeholders(std::size_t count) {
  std::string list;
  for (std::size_t i = 1; i <= count; ++i) list += (i == 1 ? "$" : ", $") + std::to_string(i);
  return list;
}

std::vector<Value> id_values(std::span<const std::int64_t> ids) {
  return {ids.begin(), ids.end()};
}

// The ids once each, in the order given.
std::vector<std::int64_t> distinct_ids(std::span<const std::int64_t> ids) {
  std::vector<std::int64_t> distinct;
  for (auto id : ids) {
    if (std::find(distinct.begin(), distinct.end(), id) == distinct.end()) distinct.push_back(id);
  }
  return distinct;
}

// find_runs_to_remove; `lock` takes the rows for the caller's transaction on PostgreSQL, so a
// worker's claim waits for the removal (SQLite's immediate transaction locks the file).
std::vector<RunToRemove> load_runs(db::Database& db, std::span<const std::int64_t> given,
                                   bool lock) {
  const auto ids = distinct_ids(given);
  if (ids.empty()) throw UsageError("no run given");
  std::string sql = "SELECT id, status FROM runs WHERE id IN (" + id_placeholders(ids.size()) + ")";
  if (lock && db.engine() == db::Engine::postgres) sql += " FOR UPDATE";
  auto found = db.query(sql, id_values(ids));
  std::vector<RunToRemove> runs;
  for (auto id : ids) {
    auto row = std::find_if(found.rows.begin(), found.rows.end(),
                            [&](const auto& r) { return r[0] == std::to_string(id); });
    if (row == found.rows.end()) throw Error("no run " + std::to_string(id));
    runs.push_back({id, (*row)[1].value_or("")});
  }
  return runs;
}

// Deletes the rows of `table` whose `condition` holds (over the ids bound as $1..$n) and
// returns how many there were.
std::size_t delete_rows(db::Database& db, const std::string& table, const std::string& condition,
                        std::span<const std::int64_t> ids) {
  const auto params = id_values(ids);
  auto count = db.query("SELECT count(*) FROM " + table + " WHERE " + condition, params).scalar();
  db.query("DELETE FROM " + table + " WHERE " + condition, params);
  return count ? static_cast<std::size_t>(std::stoll(*count)) : 0;
}

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The SET clause that applies the tag edits, its values appended to `params`. PostgreSQL
// merges with || and removes with - text[]; SQLite applies one RFC 7396 merge patch, whose
// nulls remove keys.
std::string tags_assignment(db::Engine engine, const RunEdit& edit, std::vector<Value>& params) {
  nlohmann::json set = nlohmann::json::object();
  for (const auto& [key, value] : edit.set_tags) set[key] = value;
  if (engine == db::Engine::postgres) {
    params.emplace_back(json_text(set));
    params.emplace_back(json_text(edit.remove_tags));
    const auto set_at = std::to_string(params.size() - 1),
               remove_at = std::to_string(params.size());
    return "tags = (CASE WHEN jsonb_typeof(tags) = 'object' THEN tags ELSE '{}'::jsonb END || $" +
           set_at + "::jsonb) - ARRAY(SELECT jsonb_array_elements_text($" + remove_at + "::jsonb))";
  }
  nlohmann::json patch = set;
  for (const auto& key : edit.remove_tags) patch[key] = nullptr;
  params.emplace_back(json_text(patch));
  return "tags = json_patch(CASE WHEN json_type(tags) = 'object' THEN tags ELSE '{}' END, $" +
         std::to_string(params.size()) + ")";
}

}  // namespace

std::vector<RunToRemove> find_runs_to_remove(db::Database& db, std::span<const std::int64_t> ids) {
  return load_runs(db, ids, false);
}

bool removal_needs_force(std::string_view status) {
  auto known = parse_run_status(status);
  return !known || !is_terminal(*known);
}

std::string unended_runs_message(const std::vector<RunToRemove>& runs) {
  std::string names;
  std::size_t count = 0;
  for (const auto& run : runs) {
    if (!removal_needs_force(run.status)) continue;
    names += (count++ == 0 ? "run " : ", run ") + std::to_string(run.id) + " (" + run.status + ")";
  }
  if (count == 0) return "";
  return names + (count == 1 ? " has" : " have") + " not ended; nothing removed (--force removes " +
         (count == 1 ? "it" : "them") + " anyway)";
}

RemovedRows remove_runs(db::Database& db, std::span<const std::int64_t> given, bool force) {
  const auto ids = distinct_ids(given);
  db::Transaction transaction(db);
  auto runs = load_runs(db, ids, true);
  if (!force) {
    if (auto refused = unended_runs_message(runs); !refused.empty()) throw Error(refused);
  }
  const std::string in = " IN (" + id_placeholders(ids.size()) + ")";
  RemovedRows removed;
  // Explicitly, table by table: a database made without foreign keys switched on (SQLite's
  // default) or by another tool would not cascade.
  removed.metric_rows = delete_rows(db, "metrics", "run_id" + in, ids);
  removed.status_changes = delete_rows(db, "run_status_history", "run_id" + in, ids);
  removed.resource_samples = delete_rows(db, "run_resources", "run_id" + in, ids);
  removed.relationships =
      delete_rows(db, "run_relationships", "from_id" + in + " OR to_id" + in, ids);
  removed.queued_commands = delete_rows(db, "queued_commands", "run_id" + in, ids);
  removed.runs = delete_rows(db, "runs", "id" + in, ids);
  transaction.commit();
  return removed;
}

void check_run_edit(const RunEdit& edit) {
  if (!edit.comment && edit.set_tags.empty() && edit.remove_tags.empty()) {
    throw UsageError("edit needs --comment TEXT, --tag KEY=VALUE or --untag KEY");
  }
  for (const auto& key : edit.remove_tags) {
    if (edit.set_tags.contains(key)) {
      throw UsageError("tag '" + key + "' is both set (--tag) and removed (--untag)");
    }
  }
}

EditedRun edit_run(db::Database& db, const RunEdit& edit) {
  check_run_edit(edit);
  std::vector<Value> params{edit.run_id};
  std::string assignments;
  if (edit.comment) {
    params.push_back(edit.comment->empty() ? Value(std::monostate{}) : Value(*edit.comment));
    assignments = "comment = $" + std::to_string(params.size());
  }
  if (!edit.set_tags.empty() || !edit.remove_tags.empty()) {
    if (!assignments.empty()) assignments += ", ";
    assignments += tags_assignment(db.engine(), edit, params);
  }
  auto result =
      db.query("UPDATE runs SET " + assignments + " WHERE id = $1 RETURNING comment, tags", params);
  if (result.empty()) throw Error("no run " + std::to_string(edit.run_id));
  EditedRun edited;
  edited.comment = result.rows[0][0];
  if (result.rows[0][1]) {
    auto tags = nlohmann::json::parse(*result.rows[0][1], nullptr, false);
    if (tags.is_object()) edited.tags = std::move(tags);
  }
  return edited;
}

}  // namespace sqltrack
