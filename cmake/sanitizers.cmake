# One sanitizer per build tree (see CMakePresets.json: asan, tsan). Flags apply to every target,
# so GoogleTest-driven tests and the library agree on instrumentation.
if(TINY_CORO_SANITIZER STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # clang 14's -fsanitize=function (part of "undefined") fails to assemble some function-template
  # coroutines, such as tiny_coro::select's ("Cannot represent a difference across sections": its
  # prologue data points across the sections the coroutine is split into; LLVM reworked that
  # prologue in clang 17). The check only catches calls through a mistyped function pointer.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 17)
    add_compile_options(-fno-sanitize=function)
  endif()
elseif(TINY_CORO_SANITIZER STREQUAL "fuzzer")
  # Everything gets libFuzzer's coverage hooks; only fuzz/ targets link its main.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 17)
    add_compile_options(-fno-sanitize=function)
  endif()
elseif(TINY_CORO_SANITIZER STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT TINY_CORO_SANITIZER STREQUAL "" AND NOT TINY_CORO_SANITIZER STREQUAL "none")
  message(FATAL_ERROR "TINY_CORO_SANITIZER must be empty, none, address, thread or fuzzer")
endif()
