#include "sqltrack/metrics/reject_log.hpp"
#include "sqltrack/util/text.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "sqltrack/util/output_file.hpp"

namespace sqltrack {
namespace {}  // namespace

RejectLog::RejectLog(RejectFile file, std::size_t stderr_limit)
    : path_(std::move(file.path)),
      mode_(file.mode),
      private_directory_(file.private_directory),
      stderr_limit_(stderr_limit) {}

RejectLog::~RejectLog() {
  if (!file_) return;
  std::fclose(file_);
  // Created, then never written (a full disk): no empty file is left to look like a record.
  if (created_ && written_ == 0) ::unlink(path_.c_str());
}

void RejectLog::open_file() {
  try {
    if (private_directory_) create_private_directory(path_.parent_path());
    OutputFile opened = open_output_file(path_, O_WRONLY | O_APPEND, IfExists::append, mode_);
    created_ = opened.created;
    file_ = ::fdopen(opened.fd, "a");
    if (!file_) {
      write_error_ = std::strerror(errno);
      ::close(opened.fd);
    }
  } catch (const OutputFileError& e) {
    write_error_ = e.reason();
  }
  if (!file_) {
    file_failed_ = true;
    std::cerr << "sqltrack-run: warning: cannot write the reject file " << path_.string() << ": "
              << write_error_ << '\n';
    return;
  }
  // Unbuffered: a line that fails to go out is not written later behind others' backs.
  std::setvbuf(file_, nullptr, _IONBF, 0);
}

void RejectLog::append(std::string_view where, std::string_view reason, std::string_view line) {
  if (!file_ && !file_failed_) open_file();
  if (!file_) {
    ++lost_;
    return;
  }
  std::string text = "# " + one_line(where, 200) + ": " + one_line(reason, 1000) + "\n";
  text.append(line);
  text += '\n';
  if (std::fwrite(text.data(), 1, text.size(), file_) == text.size() && std::fflush(file_) == 0) {
    written_ += text.size();
    return;
  }
  // A full disk: the line is not kept, and nothing may claim it is.
  ++lost_;
  if (write_error_.empty()) {
    write_error_ = std::strerror(errno);
    std::cerr << "sqltrack-run: warning: cannot write the reject file " << path_.string() << ": "
              << write_error_ << "; what cannot go there is lost\n";
  }
  std::clearerr(file_);
}

void RejectLog::reject(std::string_view where, std::string_view reason, std::string_view line,
                       std::string_view source) {
  std::lock_guard lock(mutex_);
  ++rejected_;
  if (rejected_ <= stderr_limit_) {
    std::cerr << "sqltrack-run: rejected " << one_line(where, 200) << ": " << one_line(reason, 1000)
              << '\n';
    if (rejected_ == stderr_limit_) {
      std::cerr << "sqltrack-run: further rejected lines are not printed; they are kept in "
                << path_.string() << '\n';
    }
  }
  if (!source.empty() && over_cap(source, where.size() + reason.size() + line.size())) return;
  append(where, reason, line);
}

bool RejectLog::over_cap(std::string_view source, std::size_t bytes) {
  auto used = source_bytes_.find(source);
  if (used == source_bytes_.end()) used = source_bytes_.emplace(source, 0).first;
  // "# ", ": " and two newlines around the three parts.
  if (used->second + bytes + 6 <= kMaxBytesPerSource) {
    used->second += bytes + 6;
    return false;
  }
  if (used->second <= kMaxBytesPerSource) {
    used->second = kMaxBytesPerSource + 1;  // said once
    std::string note = "# " + one_line(source, 200) +
                       ": 10 MiB of rejected lines kept; the rest are only counted\n";
    if (file_ && std::fwrite(note.data(), 1, note.size(), file_) == note.size()) {
      written_ += note.size();
    }
    std::cerr
        << "sqltrack-run: " << one_line(source, 200)
        << " has filled its 10 MiB of the reject file; further rejected lines are only counted\n";
  }
  ++only_counted_;
  return true;
}

bool RejectLog::count_key(std::string_view key) {
  ++rejected_values_;
  for (auto& [name, values] : key_values_) {
    if (name == key) {
      ++values;
      return false;
    }
  }
  if (key_values_.size() < kMaxCountedKeys) {
    key_values_.emplace_back(std::string(key), 1);
    return true;
  }
  ++other_key_values_;
  return false;
}

void RejectLog::reject_value(std::string_view where, std::string_view key, std::string_view reason,
                             std::string_view line) {
  std::lock_guard lock(mutex_);
  if (count_key(key) && key_values_.size() <= stderr_limit_) {
    std::cerr
        << "sqltrack-run: rejected key \"" << one_line(key) << "\" at " << one_line(where) << ": "
        << one_line(reason, 1000)
        << "; the other keys of its line are stored, later values of this key are only counted\n";
    if (key_values_.size() == stderr_limit_) {
      std::cerr << "sqltrack-run: further rejected keys are not printed; they are kept in "
                << path_.string() << '\n';
    }
  }
  append(where, "key \"" + std::string(key) + "\": " + std::string(reason), line);
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

std::uint64_t RejectLog::rejected_values() const {
  std::lock_guard lock(mutex_);
  return rejected_values_;
}

std::uint64_t RejectLog::kept() const {
  std::lock_guard lock(mutex_);
  return kept_;
}

void RejectLog::print_key_counts() const {
  constexpr std::size_t kShownKeys = 10;
  std::uint64_t hidden_values = other_key_values_;
  std::size_t hidden_keys = 0;
  for (std::size_t i = 0; i < key_values_.size(); ++i) {
    const auto& [key, values] = key_values_[i];
    if (i < kShownKeys) {
      std::cerr << "sqltrack-run: key \"" << one_line(key) << "\": " << counted(values, "value")
                << " rejected\n";
    } else {
      ++hidden_keys;
      hidden_values += values;
    }
  }
  if (hidden_values > 0) {
    std::cerr << "sqltrack-run: " << counted(hidden_values, "value") << " of " << hidden_keys
              << (other_key_values_ > 0 ? " or more" : "")
              << (hidden_keys == 1 && other_key_values_ == 0 ? " other key" : " other keys")
              << " rejected\n";
  }
}

void RejectLog::print_summary() const {
  std::lock_guard lock(mutex_);
  if (rejected_ == 0 && kept_ == 0 && rejected_values_ == 0) return;
  print_key_counts();
  std::string what;
  const auto add = [&what](const std::string& part) { what += (what.empty() ? "" : ", ") + part; };
  if (rejected_ > 0) {
    add(counted(rejected_, "metrics line") + " rejected" +
        (only_counted_ > 0 ? " (" + std::to_string(only_counted_) +
                                 " only counted: a source keeps at most 10 MiB there)"
                           : ""));
  }
  if (rejected_values_ > 0) add(counted(rejected_values_, "metric value") + " rejected");
  if (kept_ > 0) add(counted(kept_, "metrics row") + " not stored");
  std::cerr << "sqltrack-run: " << what;
  if (lost_ == 0) {
    std::cerr << "; see " << path_.string() << '\n';
  } else if (lost_ < rejected_ + rejected_values_ + kept_) {
    std::cerr << "; see " << path_.string() << ", which lacks " << lost_ << " of them ("
              << write_error_ << "): those are lost\n";
  } else {
    std::cerr << "; the reject file " << path_.string() << " could not be written (" << write_error_
              << "): they are lost\n";
  }
}

}  // namespace sqltrack
