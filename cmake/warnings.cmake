# Warnings are errors for every target of the project (not for third-party code).
add_library(tl_warnings INTERFACE)
target_compile_options(tl_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Wimplicit-fallthrough -Wformat=2 -Werror)
