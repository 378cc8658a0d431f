#pragma once
// Points where a test makes sqltrack-run fail on purpose, to prove that no failure of the
// wrapper's own ends or signals the command. Compiled in only with the CMake option
// SQLTRACK_FAULT_INJECTION (scripts/test.sh turns it on for its builds); elsewhere a point is
// nothing at all, and no environment variable changes what the executables do.
//
// With the option, SQLTRACK_TEST_FAULT=<point> makes that point throw an
// std::logic_error (not a sqltrack::Error) the first time it is reached.

#include <string_view>

namespace sqltrack {

#ifdef SQLTRACK_FAULT_INJECTION
void fault_point(std::string_view point);
#else
inline void fault_point(std::string_view) {}
#endif

}  // namespace sqltrack
