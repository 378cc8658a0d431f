# Interface targets that every project target links: warnings and sanitizers
# are set in one place instead of per target.
add_library(sqltrack_options INTERFACE)
target_compile_options(sqltrack_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused
                       -Woverloaded-virtual -Wimplicit-fallthrough)
if(SQLTRACK_WERROR)
  target_compile_options(sqltrack_options INTERFACE -Werror)
endif()
if(SQLTRACK_SANITIZE)
  target_compile_options(sqltrack_options INTERFACE -fsanitize=address,undefined
                         -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(sqltrack_options INTERFACE -fsanitize=address,undefined)
endif()
