# cmake -DMODE=installed|subdirectory -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DCXX=...
#       -P run_consumer.cmake
# Installs the already built tree (installed mode) or points at the sources (subdirectory
# mode), then configures, builds and runs the consumer project.
file(REMOVE_RECURSE "${WORK_DIR}")
set(consumer_src "${SOURCE_DIR}/tests/install/consumer")
if(MODE STREQUAL "installed")
  execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix"
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cmake --install failed: ${rc}")
  endif()
  # SPEC.md §2: the server lands in <prefix>/bin.
  execute_process(COMMAND "${WORK_DIR}/prefix/bin/tiny_httpd" --help RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "<prefix>/bin/tiny_httpd --help failed: ${rc}")
  endif()
  set(configure_args "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix")
else()
  set(configure_args "-DTINY_CORO_SOURCE_DIR=${SOURCE_DIR}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${consumer_src}" -B "${WORK_DIR}/build" -G Ninja
                        -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release ${configure_args}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${WORK_DIR}/build" -j 2 RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND "${WORK_DIR}/build/consumer" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()
