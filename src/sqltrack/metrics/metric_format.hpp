#pragma once
// Writing metric rows back as protocol lines: the spill file and the reject file hold rows in
// the same format users write, so a person can read them and feed them in again.

#include <string>

#include "sqltrack/metrics/metric_batch.hpp"
#include "sqltrack/metrics/protocol.hpp"

namespace sqltrack {

// One value as the line protocol spells it; parse_metric_line reads it back as the same
// value (doubles in their shortest exact form, strings quoted and escaped).
std::string format_metric_value(const MetricValue& value);

// "step=S progress=P key=value ...", with step and progress always given, so the line
// means the same row wherever it is replayed. A key that needs it is quoted ("Val Loss"=1).
std::string format_metric_row(const MetricRow& row);

}  // namespace sqltrack
