# One sanitizer per build tree (see CMakePresets.json: asan, tsan). Flags apply to every target,
# so GoogleTest-driven tests and the library agree on instrumentation.
if(TINY_CORO_SANITIZER STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(TINY_CORO_SANITIZER STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT TINY_CORO_SANITIZER STREQUAL "" AND NOT TINY_CORO_SANITIZER STREQUAL "none")
  message(FATAL_ERROR "TINY_CORO_SANITIZER must be empty, none, address or thread")
endif()
