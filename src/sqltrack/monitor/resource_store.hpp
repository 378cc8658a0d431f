#pragma once
// Writes of resource sampling: rows of run_resources, and the run's GPUs in runs.gpus.

#include <chrono>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "sqltrack/db/database.hpp"
#include "sqltrack/monitor/gpu_probe.hpp"
#include "sqltrack/monitor/process_tree_sampler.hpp"

namespace sqltrack {

// One sample: the job's processes over the interval that ends at `time`, and the newest
// look at the GPUs (none when there is no GPU, or no new look).
struct ResourceSample {
  std::chrono::system_clock::time_point time{};
  ResourceUsage host;
  std::vector<GpuReading> gpus;
};

// One row for the processes (gpu_index NULL) and one per GPU reading, in one statement.
void insert_resource_sample(db::Database& db, std::int64_t run_id, const ResourceSample& sample);

// [{"index":0,"name":"NVIDIA A100-SXM4-40GB","driver":"535.104.05","memory_total":42949672960}]
nlohmann::json gpus_json(const std::vector<GpuInfo>& gpus);

// Sets runs.gpus.
void store_run_gpus(db::Database& db, std::int64_t run_id, const std::vector<GpuInfo>& gpus);

}  // namespace sqltrack
