# libbacktrace, which GCC ships with its runtime (libgcc-12-dev, installed with g++): with it,
# the library's hottest awaiters note a suspension's program counter rather than every
# co_await's site, and dump_tasks() turns the counter into a source line
# (include/tiny_coro/detail/await_record.h). Sets TINY_CORO_BACKTRACE_LIBRARY and
# TINY_CORO_BACKTRACE_INCLUDE_DIR when it is there; clang before 19 notes sites anyway.
set(TINY_CORO_BACKTRACE_LIBRARY "")
if(TINY_CORO_TRACK_AWAITS AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  execute_process(
    COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libbacktrace.a
    OUTPUT_VARIABLE backtrace_library
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(IS_ABSOLUTE "${backtrace_library}" AND EXISTS "${backtrace_library}")
    get_filename_component(backtrace_dir "${backtrace_library}" DIRECTORY)
    if(EXISTS "${backtrace_dir}/include/backtrace.h")
      set(TINY_CORO_BACKTRACE_LIBRARY "${backtrace_library}")
      set(TINY_CORO_BACKTRACE_INCLUDE_DIR "${backtrace_dir}/include")
    endif()
  endif()
endif()
if(TINY_CORO_BACKTRACE_LIBRARY)
  message(STATUS "tiny_coro: task dumps read suspensions' program counters (${TINY_CORO_BACKTRACE_LIBRARY})")
endif()
