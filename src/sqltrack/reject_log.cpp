#include "sqltrack/reject_log.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>

namespace sqltrack {
namespace {

// One line of stderr or one comment line, whatever the text holds.
std::string one_line(std::string_view text, std::size_t limit = 200) {
  std::string out;
  for (char c : text.substr(0, limit)) out += (c == '\n' || c == '\r') ? ' ' : c;
  if (text.size() > limit) out += "...";
  return out;
}

}  // namespace

RejectLog::RejectLog(std::filesystem::path path, std::size_t stderr_limit)
    : path_(std::move(path)), stderr_limit_(stderr_limit) {}

RejectLog::~RejectLog() {
  if (file_) std::fclose(file_);
}

void RejectLog::append(std::string_view where, std::string_view reason, std::string_view line) {
  if (!file_ && !file_failed_) {
    file_ = std::fopen(path_.c_str(), "a");
    if (!file_) {
      file_failed_ = true;
      std::cerr << "sqltrack-run: warning: cannot write the reject file " << path_.string() << ": "
                << std::strerror(errno) << '\n';
    }
  }
  if (!file_) return;
  std::string text = "# " + one_line(where) + ": " + one_line(reason, 1000) + "\n";
  text.append(line);
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), file_);
  std::fflush(file_);
}

void RejectLog::reject(std::string_view where, std::string_view reason, std::string_view line) {
  std::lock_guard lock(mutex_);
  ++rejected_;
  if (rejected_ <= stderr_limit_) {
    std::cerr << "sqltrack-run: rejected " << one_line(where) << ": " << one_line(reason, 1000)
              << '\n';
    if (rejected_ == stderr_limit_) {
      std::cerr << "sqltrack-run: further rejected lines are only counted; all are kept in "
                << path_.string() << '\n';
    }
  }
  append(where, reason, line);
}

void RejectLog::keep(std::string_view where, std::string_view reason, std::string_view line) {
  std::lock_guard lock(mutex_);
  ++kept_;
  append(where, reason, line);
}

std::uint64_t RejectLog::rejected() const {
  std::lock_guard lock(mutex_);
  return rejected_;
}

std::uint64_t RejectLog::kept() const {
  std::lock_guard lock(mutex_);
  return kept_;
}

void RejectLog::print_summary() const {
  std::lock_guard lock(mutex_);
  if (rejected_ == 0 && kept_ == 0) return;
  std::cerr << "sqltrack-run: ";
  if (rejected_ > 0) std::cerr << rejected_ << " metrics line(s) rejected";
  if (rejected_ > 0 && kept_ > 0) std::cerr << ", ";
  if (kept_ > 0) std::cerr << kept_ << " metrics row(s) not stored";
  if (file_) {
    std::cerr << "; see " << path_.string() << '\n';
  } else {
    std::cerr << "; the reject file " << path_.string() << " could not be written\n";
  }
}

}  // namespace sqltrack
