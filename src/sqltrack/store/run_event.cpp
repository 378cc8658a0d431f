#include "sqltrack/store/run_event.hpp"

#include <type_traits>

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

using nlohmann::json;

std::string time_text(Clock::time_point time) {
  return format_timestamp(time);
}

Clock::time_point time_from(const json& object, const char* key) {
  auto parsed = parse_timestamp(object.at(key).get<std::string>());
  if (!parsed) throw Error(std::string("bad time in field '") + key + "'");
  return *parsed;
}

RunStatus status_from(const json& object) {
  auto status = parse_run_status(object.at("status").get<std::string>());
  if (!status) throw Error("unknown run status '" + object.at("status").get<std::string>() + "'");
  return *status;
}

template <class T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

template <class T>
std::optional<T> optional_from(const json& object, const char* key) {
  auto found = object.find(key);
  if (found == object.end() || found->is_null()) return std::nullopt;
  if constexpr (std::is_integral_v<T>) {
    return integer_from_json<T>(*found, key);
  } else {
    return found->get<T>();
  }
}

}  // namespace

void apply_run_event(RunStore& store, std::int64_t run_id, const RunEvent& event, bool replay) {
  struct Visitor {
    RunStore& store;
    std::int64_t run_id;
    bool replay;
    void operator()(const HeartbeatEvent& e) const { store.heartbeat(run_id, e.time); }
    void operator()(const HistoryEvent& e) const {
      if (replay && store.has_history(run_id, e.status, e.detail, e.time)) return;
      store.add_history(run_id, e.status, e.detail, e.time);
    }
    void operator()(const StatusEvent& e) const {
      // A replayed change that was written before finds the same status, or a terminal one.
      if (replay && store.has_history(run_id, e.status, e.detail, e.time)) return;
      store.set_status(run_id, e.status, e.detail, e.time);
    }
    void operator()(const FinishEvent& e) const {
      store.finish_run(run_id, e.status, e.detail, e.end);
    }
  };
  std::visit(Visitor{store, run_id, replay}, event);
}

json run_event_to_json(const RunEvent& event) {
  struct Visitor {
    json operator()(const HeartbeatEvent& e) const {
      return {{"type", "heartbeat"}, {"time", time_text(e.time)}};
    }
    json operator()(const HistoryEvent& e) const {
      return {{"type", "history"},
              {"status", to_string(e.status)},
              {"detail", e.detail},
              {"time", time_text(e.time)}};
    }
    json operator()(const StatusEvent& e) const {
      return {{"type", "status"},
              {"status", to_string(e.status)},
              {"detail", e.detail},
              {"time", time_text(e.time)}};
    }
    json operator()(const FinishEvent& e) const {
      return {{"type", "finish"},
              {"status", to_string(e.status)},
              {"detail", e.detail},
              {"time", time_text(e.end.time)},
              {"exit_code", optional_json(e.end.exit_code)},
              {"signal", optional_json(e.end.signal)},
              {"core_dumped", e.end.core_dumped},
              {"wall_seconds", e.end.wall_seconds},
              {"cpu_user_seconds", e.end.cpu_user_seconds},
              {"cpu_system_seconds", e.end.cpu_system_seconds},
              {"max_rss_kib", e.end.max_rss_kib},
              {"rejected_lines", e.end.rejected_lines}};
    }
  };
  return std::visit(Visitor{}, event);
}

RunEvent run_event_from_json(const json& object) {
  try {
    const std::string type = object.at("type").get<std::string>();
    if (type == "heartbeat") return HeartbeatEvent{time_from(object, "time")};
    if (type == "history") {
      return HistoryEvent{status_from(object), object.at("detail").get<std::string>(),
                          time_from(object, "time")};
    }
    if (type == "status") {
      return StatusEvent{status_from(object), object.at("detail").get<std::string>(),
                         time_from(object, "time")};
    }
    if (type == "finish") {
      FinishEvent finish{status_from(object), object.at("detail").get<std::string>(), {}};
      finish.end.time = time_from(object, "time");
      finish.end.exit_code = optional_from<int>(object, "exit_code");
      finish.end.signal = optional_from<int>(object, "signal");
      finish.end.core_dumped = object.at("core_dumped").get<bool>();
      finish.end.wall_seconds = object.at("wall_seconds").get<double>();
      finish.end.cpu_user_seconds = object.at("cpu_user_seconds").get<double>();
      finish.end.cpu_system_seconds = object.at("cpu_system_seconds").get<double>();
      finish.end.max_rss_kib = integer_from_json<long>(object.at("max_rss_kib"), "max_rss_kib");
      // Journals written before the count was kept have none.
      if (object.contains("rejected_lines")) {
        finish.end.rejected_lines =
            integer_from_json<std::int64_t>(object.at("rejected_lines"), "rejected_lines");
      }
      return finish;
    }
    throw Error("unknown record type '" + type + "'");
  } catch (const json::exception& e) {
    throw Error(std::string("malformed record: ") + e.what());
  }
}

json run_start_to_json(const RunStart& start) {
  return {{"experiment", start.experiment},
          {"existing_run_id", optional_json(start.existing_run_id)},
          {"comment", optional_json(start.comment)},
          {"tags", start.tags},
          {"args", start.args},
          {"env", start.env},
          {"hostname", start.hostname},
          {"username", start.username},
          {"pid", start.pid},
          {"cwd", start.cwd},
          {"heartbeat_seconds", start.heartbeat_seconds},
          {"slurm_job_id", optional_json(start.slurm_job_id)},
          {"slurm_array_job_id", optional_json(start.slurm_array_job_id)},
          {"slurm_array_task_id", optional_json(start.slurm_array_task_id)},
          {"slurm_restart_count", optional_json(start.slurm_restart_count)},
          {"slurm_job_name", optional_json(start.slurm_job_name)},
          {"slurm_cluster", optional_json(start.slurm_cluster)},
          {"slurm_nodelist", optional_json(start.slurm_nodelist)},
          {"slurm_partition", optional_json(start.slurm_partition)},
          {"git", start.git},
          {"client_id", start.client_id},
          {"time", time_text(start.time)}};
}

RunStart run_start_from_json(const json& object) {
  try {
    RunStart start;
    start.experiment = object.at("experiment").get<std::string>();
    start.existing_run_id = optional_from<std::int64_t>(object, "existing_run_id");
    start.comment = optional_from<std::string>(object, "comment");
    start.tags = object.at("tags");
    start.args = object.at("args");
    start.env = object.at("env");
    start.hostname = object.at("hostname").get<std::string>();
    start.username = object.at("username").get<std::string>();
    start.pid = integer_from_json<long>(object.at("pid"), "pid");
    start.cwd = object.at("cwd").get<std::string>();
    start.heartbeat_seconds = object.at("heartbeat_seconds").get<double>();
    start.slurm_job_id = optional_from<std::int64_t>(object, "slurm_job_id");
    start.slurm_array_job_id = optional_from<std::int64_t>(object, "slurm_array_job_id");
    start.slurm_array_task_id = optional_from<std::int64_t>(object, "slurm_array_task_id");
    start.slurm_restart_count = optional_from<int>(object, "slurm_restart_count");
    start.slurm_job_name = optional_from<std::string>(object, "slurm_job_name");
    start.slurm_cluster = optional_from<std::string>(object, "slurm_cluster");
    start.slurm_nodelist = optional_from<std::string>(object, "slurm_nodelist");
    start.slurm_partition = optional_from<std::string>(object, "slurm_partition");
    // Journals written before runs.git existed have no "git".
    if (auto git = object.find("git"); git != object.end() && git->is_object()) start.git = *git;
    start.client_id = object.at("client_id").get<std::string>();
    start.time = time_from(object, "time");
    return start;
  } catch (const json::exception& e) {
    throw Error(std::string("malformed run start: ") + e.what());
  }
}

}  // namespace sqltrack
