#pragma once
// Lines the wrapper could not store: each is reported on stderr (the first few; the rest are
// counted) and appended with its reason to a reject file, so nothing a job wrote is lost
// without a trace. The file is itself valid metric input: reasons are `#` comments, and a
// fixed line can be fed in again.

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sqltrack {

struct RejectFile {
  std::filesystem::path
      path;            // created (or appended to, when it is the user's) on the first reject
  mode_t mode = 0600;  // of a new file: the setting file_mode
  bool private_directory = false;  // its directory is created then, the user's only (0700)
};

class RejectLog {
 public:
  // stderr_limit: how many rejects are printed.
  explicit RejectLog(RejectFile file, std::size_t stderr_limit = 10);
  ~RejectLog();
  RejectLog(const RejectLog&) = delete;
  RejectLog& operator=(const RejectLog&) = delete;

  // Each input adds at most this much to the file; its further bad lines are only counted.
  static constexpr std::uint64_t kMaxBytesPerSource = 10 * 1024 * 1024;

  // A bad line: where it came from (e.g. "SQLTRACK_METRICS line 12"), why, and its text.
  // source: the input it was read from (SQLTRACK_METRICS), whose share of the file is
  // capped; empty for none.
  void reject(std::string_view where, std::string_view reason, std::string_view line,
              std::string_view source = {});
  // One value that has no place (an unknown key, a value of the wrong type) while the rest of
  // its line is stored; line: the value alone with its row's step and progress. Said on stderr
  // when its key is first rejected (for the first few keys), then counted per key; the
  // summary gives the counts.
  void reject_value(std::string_view where, std::string_view key, std::string_view reason,
                    std::string_view line);
  // A good row that could not be stored (no database): kept in the file, not printed.
  void keep(std::string_view where, std::string_view reason, std::string_view line);

  std::uint64_t rejected() const;
  std::uint64_t rejected_values() const;
  std::uint64_t kept() const;
  const std::filesystem::path& path() const noexcept { return path_; }

  // One line on stderr saying what was rejected or kept and where the file is, or that the
  // file could not take them (they are lost); nothing when everything was stored.
  void print_summary() const;

 private:
  void append(std::string_view where, std::string_view reason, std::string_view line);
  // Counts a rejected value of key; true when the key is rejected for the first time.
  bool count_key(std::string_view key);
  void print_key_counts() const;
  // Counts `bytes` against the source's share of the file; true when they do not fit.
  bool over_cap(std::string_view source, std::size_t bytes);

  void open_file();

  std::filesystem::path path_;
  mode_t mode_;
  bool private_directory_;
  std::size_t stderr_limit_;
  mutable std::mutex mutex_;
  std::FILE* file_ = nullptr;
  bool file_failed_ = false;
  bool created_ = false;       // the file is this log's own, made on the first reject
  std::uint64_t written_ = 0;  // bytes that reached it
  std::string write_error_;    // why the file could not be opened or written, once it could not
  std::uint64_t rejected_ = 0;
  std::uint64_t kept_ = 0;
  std::uint64_t lost_ = 0;  // lines that did not reach the file
  std::map<std::string, std::uint64_t, std::less<>> source_bytes_;  // written per source
  std::uint64_t only_counted_ = 0;                                  // rejects over a cap
  // Rejected values per key, in the order the keys came; past kMaxCountedKeys keys, the
  // values of further keys are counted together.
  static constexpr std::size_t kMaxCountedKeys = 100;
  std::vector<std::pair<std::string, std::uint64_t>> key_values_;
  std::uint64_t rejected_values_ = 0;
  std::uint64_t other_key_values_ = 0;
};

}  // namespace sqltrack
