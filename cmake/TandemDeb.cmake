# The Linux package (issue 9): `cpack -G DEB` in a native build folder makes tandem_<ver>_<arch>.deb
# with tandem-llm, tandem-trainer, the bundled test model, both systemd units, the sysusers entry
# and default configs in /etc/tandem (conffiles: an upgrade keeps the administrator's edits).
# Included from the root CMakeLists only when NOT WIN32. Only the `tandem` component is packaged,
# so install rules of third-party code never end up in the .deb.
set(_linux "${PROJECT_SOURCE_DIR}/installer/linux")

# Both services sit in /usr/lib/tandem beside llama.cpp's libraries and backend modules, which
# they load from their own folder only (the RPATH $ORIGIN; common/llama/llama_backend.cpp);
# /usr/bin holds links to them (/proc/self/exe names the real file, so the folder is the same).
set_target_properties(tandem-llm tandem-trainer PROPERTIES INSTALL_RPATH "$ORIGIN")
install(TARGETS tandem-llm tandem-trainer RUNTIME DESTINATION lib/tandem COMPONENT tandem)
if(TANDEM_LLAMA_PREFIX)
  file(GLOB _llama_libs "${TANDEM_LLAMA_PREFIX}/lib/lib*.so*")
  install(FILES ${_llama_libs} ${TANDEM_LLAMA_RUNTIME_FILES} DESTINATION lib/tandem COMPONENT tandem)
else()  # llama.cpp built here (cmake/Dependencies.cmake)
  install(TARGETS ${TANDEM_LLAMA_RUNTIME_TARGETS} LIBRARY DESTINATION lib/tandem COMPONENT tandem)
endif()
file(MAKE_DIRECTORY "${PROJECT_BINARY_DIR}/deb-links")
foreach(_exe tandem-llm tandem-trainer)
  file(CREATE_LINK "../lib/tandem/${_exe}" "${PROJECT_BINARY_DIR}/deb-links/${_exe}" SYMBOLIC)
  install(FILES "${PROJECT_BINARY_DIR}/deb-links/${_exe}" DESTINATION bin COMPONENT tandem)
endforeach()
if(TARGET tandemctl)
  install(TARGETS tandemctl RUNTIME DESTINATION bin COMPONENT tandem)
endif()
install(FILES "${PROJECT_BINARY_DIR}/service/tandem-tiny.gguf" DESTINATION share/tandem
        COMPONENT tandem)
install(FILES "${_linux}/tandem-llm.service" "${_linux}/tandem-trainer.service"
        DESTINATION lib/systemd/system COMPONENT tandem)
install(FILES "${_linux}/tandem.sysusers" DESTINATION lib/sysusers.d RENAME tandem.conf
        COMPONENT tandem)
install(FILES "${_linux}/llm-server.json" "${_linux}/trainer.json" DESTINATION /etc/tandem
        COMPONENT tandem)
install(FILES "${PROJECT_SOURCE_DIR}/README.md" DESTINATION share/doc/tandem COMPONENT tandem)

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "tandem")
set(CPACK_PACKAGE_VENDOR "Tandem")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Local LLM server and trainer as a systemd service pair")
set(CPACK_PACKAGE_CONTACT "Tandem maintainers <tandem@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL tandem)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# llama.cpp's libraries ship inside the package: dpkg-shlibdeps finds them there.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${CMAKE_INSTALL_PREFIX}/lib/tandem")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${_linux}/conffiles;${_linux}/postinst;${_linux}/prerm;${_linux}/postrm")
include(CPack)
