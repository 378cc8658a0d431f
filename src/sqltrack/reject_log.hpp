#pragma once
// Lines the wrapper could not store: each is reported on stderr (the first few; the rest are
// counted) and appended with its reason to a reject file, so nothing a job wrote is lost
// without a trace. The file is itself valid metric input: reasons are `#` comments, and a
// fixed line can be fed in again.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

namespace sqltrack {

class RejectLog {
 public:
  // path: created on the first reject. stderr_limit: how many rejects are printed.
  explicit RejectLog(std::filesystem::path path, std::size_t stderr_limit = 10);
  ~RejectLog();
  RejectLog(const RejectLog&) = delete;
  RejectLog& operator=(const RejectLog&) = delete;

  // A bad line: where it came from (e.g. "SQLTRACK_METRICS line 12"), why, and its text.
  void reject(std::string_view where, std::string_view reason, std::string_view line);
  // A good row that could not be stored (no database): kept in the file, not printed.
  void keep(std::string_view where, std::string_view reason, std::string_view line);

  std::uint64_t rejected() const;
  std::uint64_t kept() const;
  const std::filesystem::path& path() const noexcept { return path_; }

  // One line on stderr saying what was rejected or kept and where the file is; nothing when
  // everything was stored.
  void print_summary() const;

 private:
  void append(std::string_view where, std::string_view reason, std::string_view line);

  std::filesystem::path path_;
  std::size_t stderr_limit_;
  mutable std::mutex mutex_;
  std::FILE* file_ = nullptr;
  bool file_failed_ = false;
  std::uint64_t rejected_ = 0;
  std::uint64_t kept_ = 0;
};

}  // namespace sqltrack
