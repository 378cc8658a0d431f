#include "sqltrack/util/fault_injection.hpp"

#ifdef SQLTRACK_FAULT_INJECTION

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace sqltrack {

void fault_point(std::string_view point) {
  static const char* const chosen = std::getenv("SQLTRACK_TEST_FAULT");
  static std::atomic<bool> fired{false};
  if (chosen == nullptr || point != chosen || fired.exchange(true)) return;
  throw std::logic_error("injected fault at " + std::string(point) + " (SQLTRACK_TEST_FAULT)");
}

}  // namespace sqltrack

#endif
