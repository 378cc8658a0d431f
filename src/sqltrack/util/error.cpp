#include "sqltrack/util/error.hpp"

#include <atomic>
#include <cstdio>
#include <exception>
#include <string>

namespace sqltrack {

bool report_internal_failure(std::string_view where) noexcept {
  static std::atomic<bool> reported{false};
  if (reported.exchange(true)) return false;
  std::string what = "an exception of an unknown type";
  try {
    throw;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  // stdio, not iostream: this may run on any thread, and with memory exhausted.
  std::fprintf(stderr,
               "sqltrack-run: error: internal failure in %.*s: %s; the command runs on, and this "
               "run records no more (what it holds is kept in its journal or reject file)\n",
               static_cast<int>(where.size()), where.data(), what.c_str());
  return true;
}

}  // namespace sqltrack
