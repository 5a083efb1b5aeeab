# Third-party dependencies. Nothing third-party lives in this repo: sources and cross builds come
# from the cache that scripts/bootstrap fills (pinned and verified there), the rest from Debian.

file(STRINGS "${PROJECT_SOURCE_DIR}/scripts/deps.env" _deps_lines REGEX "^[A-Z_]+=")
foreach(_line IN LISTS _deps_lines)
  string(REGEX MATCH "^([A-Z_]+)=(.*)$" _ "${_line}")
  set(TANDEM_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
endforeach()

if(DEFINED ENV{TANDEM_DEPS_DIR})
  set(_deps_default "$ENV{TANDEM_DEPS_DIR}")
elseif(DEFINED ENV{XDG_CACHE_HOME})
  set(_deps_default "$ENV{XDG_CACHE_HOME}/tandem-deps")
else()
  set(_deps_default "$ENV{HOME}/.cache/tandem-deps")
endif()
set(TANDEM_DEPS_DIR "${_deps_default}" CACHE PATH "Cache filled by scripts/bootstrap")

function(tandem_require_cached dir what)
  if(NOT EXISTS "${dir}/.tandem-complete")
    message(FATAL_ERROR "${what} not found in ${dir}: run scripts/bootstrap first")
  endif()
endfunction()

set(TANDEM_LLAMA_SOURCE_DIR "${TANDEM_DEPS_DIR}/${TANDEM_LLAMA_DIRNAME}")

# Third-party code compiled here: its warnings are not ours, and it is optimised in Debug too.
if(MSVC)
  set(TANDEM_THIRD_PARTY_FLAGS /w)  # /O2 would clash with /RTC1 in Debug
else()
  set(TANDEM_THIRD_PARTY_FLAGS -w -O2)
endif()

# --- Threads, JSON ---------------------------------------------------------------------------
find_package(Threads REQUIRED)
if(CMAKE_CROSSCOMPILING)
  # Debian's nlohmann/json is header-only; expose just its folder so no Linux header leaks in.
  file(COPY /usr/include/nlohmann DESTINATION "${CMAKE_BINARY_DIR}/_deps/json/include")
  add_library(tandem_json INTERFACE)
  target_include_directories(tandem_json SYSTEM INTERFACE "${CMAKE_BINARY_DIR}/_deps/json/include")
else()
  find_package(nlohmann_json 3 REQUIRED)
  add_library(tandem_json INTERFACE)
  target_link_libraries(tandem_json INTERFACE nlohmann_json::nlohmann_json)
endif()

# --- Boost.Log -------------------------------------------------------------------------------
set(Boost_USE_STATIC_LIBS ON)
if(CMAKE_CROSSCOMPILING)
  set(_boost_prefix "${TANDEM_DEPS_DIR}/${TANDEM_BOOST_MINGW_DIRNAME}")
  tandem_require_cached("${_boost_prefix}" "Boost.Log for MinGW")
  set(Boost_USE_STATIC_RUNTIME ON)
  # The toolchain searches only below CMAKE_FIND_ROOT_PATH; Boost's component configs too.
  list(APPEND CMAKE_FIND_ROOT_PATH "${_boost_prefix}")
endif()
find_package(Boost ${TANDEM_BOOST_VERSION} CONFIG REQUIRED COMPONENTS log log_setup)

# --- llama.cpp -------------------------------------------------------------------------------
# Preferred: an installed package (vcpkg on Windows, or the libraries scripts/bootstrap builds
# into the cache); else the pinned source, built here. Either way shared libraries with ggml's
# backends as loadable modules and one CPU module per x86 variant (GGML_BACKEND_DL,
# GGML_CPU_ALL_VARIANTS): common/llama/llama_backend.cpp loads the best one for the CPU it runs on.
if(CMAKE_CROSSCOMPILING)
  set(_llama_prefix "${TANDEM_DEPS_DIR}/${TANDEM_LLAMA_DIRNAME}-mingw64-dl")
  list(APPEND CMAKE_FIND_ROOT_PATH "${_llama_prefix}")
else()
  set(_llama_prefix "${TANDEM_DEPS_DIR}/${TANDEM_LLAMA_DIRNAME}-native-dl")
  list(APPEND CMAKE_PREFIX_PATH "${_llama_prefix}")
endif()
find_package(llama CONFIG QUIET)
if(llama_FOUND)
  message(STATUS "llama.cpp: using installed package ${llama_DIR}")
  set(TANDEM_LLAMA_PREFIX "${_llama_prefix}")
  # What an executable needs beside it at run time: on Windows every DLL (an .exe finds its
  # imports in its own folder first), everywhere the backend modules (loaded from there only).
  # Natively libllama and libggml are found through the RPATH.
  if(WIN32)
    file(GLOB TANDEM_LLAMA_RUNTIME_FILES "${_llama_prefix}/bin/*.dll")
  else()
    file(GLOB TANDEM_LLAMA_RUNTIME_FILES "${_llama_prefix}/bin/libggml-*.so")
  endif()
  if(NOT TANDEM_LLAMA_RUNTIME_FILES)
    message(FATAL_ERROR "llama.cpp in ${_llama_prefix} has no backend modules: run scripts/bootstrap")
  endif()
else()
  tandem_require_cached("${TANDEM_LLAMA_SOURCE_DIR}" "llama.cpp source")
  message(STATUS "llama.cpp: building pinned source ${TANDEM_LLAMA_SOURCE_DIR}")
  set(BUILD_SHARED_LIBS ON CACHE BOOL "" FORCE)
  foreach(_opt GGML_BACKEND_DL GGML_CPU_ALL_VARIANTS)
    set(${_opt} ON CACHE BOOL "" FORCE)
  endforeach()
  foreach(_opt LLAMA_BUILD_COMMON LLAMA_BUILD_TESTS LLAMA_BUILD_TOOLS LLAMA_BUILD_EXAMPLES
               LLAMA_BUILD_SERVER LLAMA_BUILD_APP LLAMA_OPENSSL GGML_NATIVE GGML_OPENMP
               LLAMA_ALL_WARNINGS GGML_ALL_WARNINGS LLAMA_BUILD_IS_DEV)
    set(${_opt} OFF CACHE BOOL "" FORCE)
  endforeach()
  add_subdirectory("${TANDEM_LLAMA_SOURCE_DIR}" "${CMAKE_BINARY_DIR}/_deps/llama" EXCLUDE_FROM_ALL SYSTEM)
  # Our own libraries stay static; only llama.cpp's are shared.
  set(BUILD_SHARED_LIBS OFF CACHE BOOL "" FORCE)
  set(TANDEM_LLAMA_RUNTIME_TARGETS llama ggml ggml-base ${GGML_AVAILABLE_BACKENDS})
  # Inference must be fast even in Debug builds of our own code.
  foreach(_t IN LISTS TANDEM_LLAMA_RUNTIME_TARGETS)
    target_compile_options(${_t} PRIVATE -O2 -w)
    if(MINGW AND _t MATCHES "^ggml-cpu")
      target_compile_options(${_t} PRIVATE
        "$<$<COMPILE_LANGUAGE:C>:SHELL:-include ${PROJECT_SOURCE_DIR}/cmake/mingw-compat/thread_power_throttling.h>"
        "$<$<COMPILE_LANGUAGE:CXX>:SHELL:-include ${PROJECT_SOURCE_DIR}/cmake/mingw-compat/amx_tile_stride.h>")
    endif()
  endforeach()
endif()

# ggml's GPU backends, built by scripts/bootstrap-gpu into prefixes of their own (the shaders take
# ten minutes): their modules join the run-time files, beside the executables and installed with
# them. Each loads only where its driver's library exists (vulkan-1.dll, libvulkan.so.1, CUDA's).
option(TANDEM_VULKAN "Ship ggml's Vulkan backend module (scripts/bootstrap-gpu builds it)" ON)
option(TANDEM_CUDA "Ship ggml's CUDA backend module (TANDEM_CUDA=1 scripts/bootstrap, natively)" OFF)
if(CMAKE_CROSSCOMPILING)
  set(_gpu_target mingw64)
else()
  set(_gpu_target native)
endif()
foreach(_gpu vulkan cuda)
  string(TOUPPER "${_gpu}" _GPU)
  if(TANDEM_${_GPU})
    set(_gpu_prefix "${TANDEM_DEPS_DIR}/${TANDEM_LLAMA_DIRNAME}-${_gpu}-${_gpu_target}")
    file(GLOB _gpu_module "${_gpu_prefix}/bin/*ggml-${_gpu}.*")
    if(NOT _gpu_module)
      message(FATAL_ERROR "ggml-${_gpu} is not in ${_gpu_prefix}: run scripts/bootstrap "
                          "(or configure with -DTANDEM_${_GPU}=OFF to build without it)")
    endif()
    message(STATUS "ggml-${_gpu}: ${_gpu_module}")
    list(APPEND TANDEM_LLAMA_RUNTIME_FILES ${_gpu_module})
  endif()
endforeach()

# Copies llama.cpp's run-time files (above) beside `target`, once per output folder, before it
# links: the tests run from the build tree, and make-tiny-model runs at build time.
function(tandem_llama_runtime target)
  string(MAKE_C_IDENTIFIER "tandem_llama_runtime_${CMAKE_CURRENT_BINARY_DIR}" _copy)
  if(NOT TARGET ${_copy})
    set(_stamp "${CMAKE_CURRENT_BINARY_DIR}/llama-runtime.stamp")
    set(_files ${TANDEM_LLAMA_RUNTIME_FILES})
    foreach(_t IN LISTS TANDEM_LLAMA_RUNTIME_TARGETS)
      list(APPEND _files "$<TARGET_FILE:${_t}>")
    endforeach()
    add_custom_command(OUTPUT "${_stamp}"
      COMMAND "${CMAKE_COMMAND}" -E copy_if_different ${_files} "${CMAKE_CURRENT_BINARY_DIR}"
      COMMAND "${CMAKE_COMMAND}" -E touch "${_stamp}"
      DEPENDS ${_files} ${TANDEM_LLAMA_RUNTIME_TARGETS}
      COMMENT "Copying llama.cpp's libraries and backend modules beside the executables"
      VERBATIM)
    add_custom_target(${_copy} DEPENDS "${_stamp}")
  endif()
  add_dependencies(${target} ${_copy})
endfunction()

# --- cpp-httplib: the one full copy that ships inside the pinned llama.cpp source ------------
find_package(httplib CONFIG QUIET)
if(httplib_FOUND)
  add_library(tandem_httplib INTERFACE)
  target_link_libraries(tandem_httplib INTERFACE httplib::httplib)
else()
  set(_httplib_dir "${TANDEM_LLAMA_SOURCE_DIR}/vendor/cpp-httplib")
  add_library(tandem_httplib STATIC "${_httplib_dir}/httplib.cpp")
  target_include_directories(tandem_httplib SYSTEM PUBLIC "${_httplib_dir}")
  target_compile_options(tandem_httplib PRIVATE ${TANDEM_THIRD_PARTY_FLAGS})
  target_link_libraries(tandem_httplib PUBLIC Threads::Threads)
  if(WIN32)
    target_link_libraries(tandem_httplib PUBLIC ws2_32 crypt32)
  endif()
endif()
# Nagle's algorithm costs ~26 ms per keep-alive request (TOOLCHAIN.md).
target_compile_definitions(tandem_httplib INTERFACE CPPHTTPLIB_TCP_NODELAY=1)
if(NOT httplib_FOUND)
  target_compile_definitions(tandem_httplib PRIVATE CPPHTTPLIB_TCP_NODELAY=1)
endif()

# --- llama.cpp's common library: chat templates (Jinja), tool-call formats, JSON schema to ----
# grammar. Built here from the pinned source (its parts Tandem uses, nothing that downloads);
# its headers expose only common_json, so its vendored nlohmann stays private to it.
set(_common_dir "${TANDEM_LLAMA_SOURCE_DIR}/common")
set(LLAMA_BUILD_NUMBER 0)
set(LLAMA_BUILD_COMMIT "node-llama-cpp-${TANDEM_NODE_LLAMA_CPP_VERSION}")
set(BUILD_COMPILER "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}")
set(BUILD_TARGET "${CMAKE_SYSTEM_NAME}-${CMAKE_SYSTEM_PROCESSOR}")
configure_file("${_common_dir}/build-info.cpp.in" "${CMAKE_BINARY_DIR}/_deps/llama-common/build-info.cpp" @ONLY)
add_library(tandem_llama_common STATIC
  "${CMAKE_BINARY_DIR}/_deps/llama-common/build-info.cpp"
  ${_common_dir}/chat.cpp ${_common_dir}/chat-auto-parser-generator.cpp
  ${_common_dir}/chat-auto-parser-helpers.cpp ${_common_dir}/chat-diff-analyzer.cpp
  ${_common_dir}/chat-peg-parser.cpp ${_common_dir}/peg-parser.cpp
  ${_common_dir}/json-schema-to-grammar.cpp ${_common_dir}/json.cpp ${_common_dir}/common.cpp
  ${_common_dir}/log.cpp ${_common_dir}/unicode.cpp ${_common_dir}/sampling.cpp
  ${_common_dir}/reasoning-budget.cpp ${_common_dir}/fit.cpp ${_common_dir}/speculative.cpp
  ${_common_dir}/ngram-cache.cpp ${_common_dir}/ngram-map.cpp ${_common_dir}/ngram-mod.cpp
  ${_common_dir}/trie.cpp
  ${_common_dir}/jinja/lexer.cpp ${_common_dir}/jinja/parser.cpp ${_common_dir}/jinja/runtime.cpp
  ${_common_dir}/jinja/value.cpp ${_common_dir}/jinja/string.cpp ${_common_dir}/jinja/caps.cpp)
target_include_directories(tandem_llama_common SYSTEM PUBLIC "${_common_dir}")
target_include_directories(tandem_llama_common SYSTEM PRIVATE "${TANDEM_LLAMA_SOURCE_DIR}/vendor")
target_compile_features(tandem_llama_common PUBLIC cxx_std_17)
target_compile_options(tandem_llama_common PRIVATE ${TANDEM_THIRD_PARTY_FLAGS})
target_link_libraries(tandem_llama_common PUBLIC llama Threads::Threads)

# --- GoogleTest: Debian's source, built with the project's compiler --------------------------
if(BUILD_TESTING AND NOT EXISTS /usr/src/googletest)
  # Elsewhere (the MSVC build with vcpkg.json): an installed GoogleTest.
  find_package(GTest CONFIG REQUIRED)
  include(GoogleTest)
elseif(BUILD_TESTING)
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  set(gtest_force_shared_crt ON CACHE BOOL "" FORCE)
  add_subdirectory(/usr/src/googletest "${CMAKE_BINARY_DIR}/_deps/googletest" EXCLUDE_FROM_ALL SYSTEM)
  foreach(_t gtest gtest_main gmock gmock_main)
    target_compile_options(${_t} PRIVATE -w)
  endforeach()
  include(GoogleTest)
endif()
