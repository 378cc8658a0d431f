#pragma once
// Times as stored: ISO 8601 in UTC with microseconds, "2026-11-23 10:15:30.123456+00:00".
// PostgreSQL parses it into timestamptz; on SQLite the text sorts in time order.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sqltrack {

std::string format_timestamp(std::chrono::system_clock::time_point time);

// Parses what either engine returns for a timestamp column (PostgreSQL's
// "2026-11-23 10:15:30.12+00", our own format, "T" separators, "Z"). nullopt for text that
// is not one, and for times the clock cannot hold (before 1678, after 2261).
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text);

// The local time as people read it, "2026-11-23 10:15:30", with " CET" when with_zone.
std::string format_local_time(std::chrono::system_clock::time_point time, bool with_zone);

// A span of time as people type it: "90" or "90s" (seconds), "15m", "2h", "3d", "1w";
// nullopt for anything else (negative, empty, another unit, more than 100 years).
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// "12 s ago", "3 min ago", "2 h ago", "4 d ago".
std::string format_age(std::chrono::system_clock::duration age);
// "0:00:12", "1:02:03", "2d 03:04:05".
std::string format_duration(std::chrono::system_clock::duration duration);

}  // namespace sqltrack
