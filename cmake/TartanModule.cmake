# Helpers that keep every module's CMakeLists.txt to a few lines.

# tartan_add_subdirectories(ROOT [ONLY dir...]): add every child folder of ROOT (or just the
# named ones) that has a CMakeLists.txt, in sorted order.
function(tartan_add_subdirectories root)
  cmake_parse_arguments(A "" "" "ONLY" ${ARGN})
  if(A_ONLY)
    set(children ${A_ONLY})
  else()
    file(GLOB children RELATIVE ${PROJECT_SOURCE_DIR}/${root} LIST_DIRECTORIES true
         ${PROJECT_SOURCE_DIR}/${root}/*)
    list(SORT children)
  endif()
  foreach(child ${children})
    if(EXISTS ${PROJECT_SOURCE_DIR}/${root}/${child}/CMakeLists.txt)
      add_subdirectory(${PROJECT_SOURCE_DIR}/${root}/${child}
                       ${PROJECT_BINARY_DIR}/${root}/${child})
    endif()
  endforeach()
endfunction()

# tartan_library(NAME SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Defines tartan_NAME (alias tartan::NAME): public headers from include/, private headers from
# the module's own folder, which no other module can see.
function(tartan_library name)
  cmake_parse_arguments(A "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(tartan_${name} STATIC ${A_SOURCES})
  add_library(tartan::${name} ALIAS tartan_${name})
  target_include_directories(tartan_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(tartan_${name} PUBLIC ${A_PUBLIC_DEPS} PRIVATE ${A_PRIVATE_DEPS})
endfunction()

# tartan_test(NAME LABEL unit|kernel|interop|e2e SOURCES ... DEPS ... [TIMEOUT s])
# A Catch2 test binary registered with CTest under its label.
function(tartan_test name)
  cmake_parse_arguments(A "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE tartan_catch_main ${A_DEPS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/test)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  # 77: a test that cannot run here (no root) reports SKIPPED (test/support/skip.hpp).
  set_tests_properties(${name} PROPERTIES LABELS ${A_LABEL} TIMEOUT ${A_TIMEOUT} SKIP_RETURN_CODE 77
    ENVIRONMENT "TARTAN_SOURCE_DIR=${PROJECT_SOURCE_DIR};TARTAN_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()

# tartan_fuzz_target(NAME SOURCES ... DEPS ...)
# With TARTAN_FUZZ: a libFuzzer binary. Otherwise: the same entry point linked to a replay main
# that runs every file of test/fuzz/corpus/NAME, registered as a unit test, so that every crash
# once found stays fixed.
function(tartan_fuzz_target name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(fuzz_${name} ${A_SOURCES})
  target_link_libraries(fuzz_${name} PRIVATE ${A_DEPS})
  if(TARTAN_FUZZ)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  else()
    target_sources(fuzz_${name} PRIVATE ${PROJECT_SOURCE_DIR}/test/fuzz/replay_main.cpp)
    add_test(NAME fuzz_replay_${name}
             COMMAND fuzz_${name} ${PROJECT_SOURCE_DIR}/test/fuzz/corpus/${name})
    set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS unit TIMEOUT 300)
  endif()
endfunction()
