#pragma once
// Include this instead of Boost.Process v2 headers directly.
//
// Boost 1.81 with BOOST_PROCESS_USE_STD_FS (which the library target
// defines) uses boost::optional and Boost.TypeTraits names without including
// their headers, so they come first here. Boost.Process v2 in 1.81 is
// header-only unless BOOST_PROCESS_V2_SEPARATE_COMPILATION is defined for
// every translation unit; with the default, no src.hpp translation unit is
// needed (including src.hpp is then an #error).

#include <boost/optional.hpp>
#include <boost/type_traits.hpp>

// After the two above.
#include <boost/process/v2/posix/default_launcher.hpp>
#include <boost/process/v2/posix/vfork_launcher.hpp>
#include <boost/process/v2/process.hpp>
