#include "sqltrack/read/report_resources.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

enum Measure { kCpu, kMemory, kGpuUse, kGpuMemory, kMeasures };
constexpr std::array<const char*, kMeasures> kTitles{"CPU (%)", "memory (MiB)", "GPU use (%)",
                                                     "GPU memory (MiB)"};

// One sample time of one run: the process row's values and the GPU rows' totals.
struct Sample {
  std::array<double, kMeasures> sum{};
  std::array<int, kMeasures> count{};

  void add(Measure measure, const std::optional<std::string>& text, double scale) {
    if (!text) return;
    sum[measure] += std::strtod(text->c_str(), nullptr) / scale;
    ++count[measure];
  }
  std::optional<double> value(Measure measure) const {
    if (count[measure] == 0) return std::nullopt;
    // GPU memory adds up over GPUs; every other measure is one value per sample or a mean.
    return measure == kGpuMemory ? sum[measure] : sum[measure] / count[measure];
  }
};

using RunSamples = std::map<double, Sample>;  // by minutes since the run's first sample

std::map<std::int64_t, RunSamples> read_samples(db::Database& db,
                                                std::span<const std::int64_t> run_ids) {
  std::vector<db::Value> params;
  std::string ids;
  for (auto id : run_ids) {
    params.emplace_back(id);
    ids += (ids.empty() ? "$" : ", $") + std::to_string(params.size());
  }
  auto rows = db.query(
      "SELECT run_id, time, cpu_percent, rss_bytes, gpu_index, gpu_util_percent, "
      "gpu_memory_bytes FROM run_resources WHERE run_id IN (" +
          ids + ") ORDER BY run_id, time",
      params);
  std::map<std::int64_t, RunSamples> samples;
  std::map<std::int64_t, Clock::time_point> first;
  for (const auto& row : rows.rows) {
    auto time = parse_timestamp(row[1].value_or(""));
    if (!row[0] || !time) continue;
    std::int64_t run = std::stoll(*row[0]);
    auto start = first.emplace(run, *time).first->second;
    double minutes = std::chrono::duration<double>(*time - start).count() / 60;
    Sample& sample = samples[run][minutes];
    if (row[4]) {
      sample.add(kGpuUse, row[5], 1);
      sample.add(kGpuMemory, row[6], kMiB);
    } else {
      sample.add(kCpu, row[2], 1);
      sample.add(kMemory, row[3], kMiB);
    }
  }
  return samples;
}

// At most max_points points: consecutive samples averaged in near-equal buckets.
MetricSeries averaged(const std::vector<MetricPoint>& points, std::size_t max_points) {
  MetricSeries series;
  const std::size_t n = points.size();
  for (std::size_t bucket = 0, begin = 0; begin < n; ++bucket) {
    std::size_t end = std::max(begin + 1, (bucket + 1) * n / std::min(n, max_points));
    MetricPoint mean;
    for (std::size_t i = begin; i < end; ++i) {
      mean.step += points[i].step / static_cast<double>(end - begin);
      mean.value += points[i].value / static_cast<double>(end - begin);
    }
    series.points.push_back(mean);
    begin = end;
  }
  if (!points.empty()) series.last_value = points.back().value;
  return series;
}

}  // namespace

std::vector<ReportChart> read_resource_charts(db::Database& db,
                                              std::span<const std::int64_t> run_ids,
                                              std::size_t max_points) {
  std::vector<ReportChart> charts;
  if (run_ids.empty() || max_points == 0 || !db.table_exists("run_resources")) return charts;
  auto samples = read_samples(db, run_ids);
  // Short runs read better in seconds.
  double longest = 0;
  for (const auto& [run, by_time] : samples) longest = std::max(longest, by_time.rbegin()->first);
  const bool seconds = longest < 2;
  for (int m = 0; m < kMeasures; ++m) {
    ReportChart chart{kTitles[m], {}, seconds ? "seconds" : "minutes"};
    for (const auto& [run, by_time] : samples) {
      std::vector<MetricPoint> points;
      for (const auto& [minutes, sample] : by_time) {
        if (auto value = sample.value(static_cast<Measure>(m))) {
          points.push_back({seconds ? minutes * 60 : minutes, *value});
        }
      }
      if (!points.empty()) chart.series[run] = averaged(points, max_points);
    }
    if (!chart.series.empty()) charts.push_back(std::move(chart));
  }
  return charts;
}

}  // namespace sqltrack
