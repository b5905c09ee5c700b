# `cmake --install` produces a CMake package:
#   find_package(tiny_coro CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE tiny_coro::tiny_coro)
# and both `#include "scheduler.h"` and `#include <tiny_coro/scheduler.h>` work.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(TINY_CORO_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tiny_coro)

install(TARGETS tiny_coro tiny_coro_platform tiny_coro_mem tiny_coro_task tiny_coro_io tiny_coro_net tiny_coro_http
                tiny_coro_runtime tiny_coro_sync tiny_coro_fs tiny_coro_dns
        EXPORT tiny_coroTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tiny_coro DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT tiny_coroTargets NAMESPACE tiny_coro:: DESTINATION ${TINY_CORO_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tiny_coroConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/tiny_coroConfig.cmake
                              INSTALL_DESTINATION ${TINY_CORO_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tiny_coroConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tiny_coroConfig.cmake
              ${PROJECT_BINARY_DIR}/tiny_coroConfigVersion.cmake
        DESTINATION ${TINY_CORO_CMAKE_DIR})
