#include "sqltrack/monitor/resource_store.hpp"

#include <array>
#include <optional>
#include <string>
#include <type_traits>

#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

using db::optional_value;
using db::Value;

constexpr std::size_t kColumnsPerRow = 11;

Value int_value(std::uint64_t value) {
  return static_cast<std::int64_t>(value);
}

}  // namespace

void insert_resource_sample(db::Database& db, std::int64_t run_id, const ResourceSample& sample) {
  std::vector<Value> params;
  params.reserve(kColumnsPerRow * (1 + sample.gpus.size()));
  const ResourceUsage& host = sample.host;
  params.insert(params.end(),
                {run_id, format_timestamp(sample.time), host.interval_seconds, host.cpu_percent,
                 int_value(host.rss_bytes), int_value(host.read_bytes), int_value(host.write_bytes),
                 int_value(host.processes), std::monostate{}, std::monostate{}, std::monostate{}});
  for (const GpuReading& gpu : sample.gpus) {
    params.insert(
        params.end(),
        {run_id, format_timestamp(gpu.time), std::monostate{}, std::monostate{}, std::monostate{},
         std::monostate{}, std::monostate{}, std::monostate{}, static_cast<std::int64_t>(gpu.index),
         optional_value(gpu.util_percent), optional_value(gpu.memory_used_bytes)});
  }
  // The placeholders of every row; the values are bound.
  std::string sql =
      "INSERT INTO run_resources (run_id, time, interval_seconds, cpu_percent, rss_bytes, "
      "read_bytes, write_bytes, processes, gpu_index, gpu_util_percent, gpu_memory_bytes) "
      "VALUES ";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i % kColumnsPerRow == 0) sql += i == 0 ? "(" : "), (";
    if (i % kColumnsPerRow != 0) sql += ", ";
    sql += "$" + std::to_string(i + 1);
  }
  sql += ")";
  db.query(sql, params);
}

nlohmann::json gpus_json(const std::vector<GpuInfo>& gpus) {
  nlohmann::json list = nlohmann::json::array();
  for (const GpuInfo& gpu : gpus) {
    nlohmann::json entry = {{"index", gpu.index}, {"name", gpu.name}, {"driver", gpu.driver}};
    entry["memory_total"] =
        gpu.memory_total_bytes ? nlohmann::json(*gpu.memory_total_bytes) : nlohmann::json();
    list.push_back(std::move(entry));
  }
  return list;
}

void store_run_gpus(db::Database& db, std::int64_t run_id, const std::vector<GpuInfo>& gpus) {
  const std::array<Value, 2> params{
      run_id, gpus_json(gpus).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  db.query("UPDATE runs SET gpus = $2 WHERE id = $1", params);
}

}  // namespace sqltrack
