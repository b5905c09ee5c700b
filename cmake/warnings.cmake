# Warnings every tiny_coro target builds with; CI turns them into errors (TINY_CORO_WERROR).
add_library(tiny_coro_warnings INTERFACE)
target_compile_options(tiny_coro_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference
  $<$<BOOL:${TINY_CORO_WERROR}>:-Werror>)
