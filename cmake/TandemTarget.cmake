# Settings for Tandem's own targets only (third-party code keeps its own flags).
option(TANDEM_WERROR "Treat warnings in Tandem's own code as errors" ON)
option(TANDEM_SANITIZE "Build Tandem's own code with ASan and UBSan" OFF)

function(tandem_target target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  if(MSVC)
    # The MSVC build (.github/workflows/windows.yml): the same strictness in its own words.
    target_compile_options(${target} PRIVATE /W4 /permissive- /utf-8 /Zc:__cplusplus)
    if(TANDEM_WERROR)
      target_compile_options(${target} PRIVATE /WX)
    endif()
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                             -Wno-sign-conversion -Wnon-virtual-dtor)
    if(TANDEM_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 reports std::string copies as overlapping memcpy at -O3 (GCC bug 105329).
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(TANDEM_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
  if(WIN32)
    target_compile_definitions(${target} PRIVATE _WIN32_WINNT=0x0A00 WINVER=0x0A00 UNICODE _UNICODE
                                                 WIN32_LEAN_AND_MEAN NOMINMAX)
  endif()
endfunction()

# A Windows program whose entry point is wmain (or wWinMain with GUI): MinGW needs -municode
# (and -mwindows for no console); MSVC picks the entry point from the symbol, WIN32 from the
# executable's WIN32_EXECUTABLE property.
function(tandem_wide_entry target)
  cmake_parse_arguments(E "GUI" "" "" ${ARGN})
  if(MINGW)
    target_link_options(${target} PRIVATE -municode $<$<BOOL:${E_GUI}>:-mwindows>)
  endif()
endfunction()

# A GoogleTest executable registered with CTest. Under cross-compiling, CTest runs it through
# CMAKE_CROSSCOMPILING_EMULATOR (Wine); discovery waits until test time so builds never start Wine.
# ENV: VAR=value items its tests run with; such a suite is one CTest test (gtest_discover_tests
# splits a list-valued ENVIRONMENT into separate properties). WINE_DISPLAY: under Wine it runs
# with an X display, in a Wine prefix of its own (cmake/wine-display-run).
function(tandem_gtest target)
  cmake_parse_arguments(T "WINE_DISPLAY" "LABEL" "SOURCES;LIBS;ENV" ${ARGN})
  add_executable(${target} ${T_SOURCES})
  if(WIN32)
    # A crash must fail the test: under Wine it would otherwise exit with code 0.
    target_sources(${target} PRIVATE "${PROJECT_SOURCE_DIR}/tests/support/crash_exit_win.cpp")
  endif()
  tandem_target(${target})
  target_link_libraries(${target} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  tandem_llama_runtime(${target})  # most suites reach llama.cpp; all share one folder
  set(_props LABELS "${T_LABEL}")
  if(CMAKE_CROSSCOMPILING)
    list(APPEND _props FIXTURES_REQUIRED wine)
  endif()
  if(T_LABEL STREQUAL "e2e")
    # End-to-end suites share machine-wide names (services, registry keys, pipes).
    list(APPEND _props RUN_SERIAL TRUE)
  endif()
  if(T_ENV)
    if(CMAKE_CROSSCOMPILING AND T_WINE_DISPLAY)
      add_test(NAME ${target} COMMAND "${PROJECT_SOURCE_DIR}/cmake/wine-display-run"
               "${CMAKE_BINARY_DIR}/wine-run" "${CMAKE_BINARY_DIR}/wine/display-prefix"
               $<TARGET_FILE:${target}>)
      list(APPEND _props RUN_SERIAL TRUE)  # its own wineserver, ended at its end
    else()
      add_test(NAME ${target} COMMAND ${target})
    endif()
    set_tests_properties(${target} PROPERTIES ${_props} ENVIRONMENT "${T_ENV}"
                         SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
    return()
  endif()
  gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 120
                       TEST_PREFIX "${target}." PROPERTIES ${_props})
endfunction()
