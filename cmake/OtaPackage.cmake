# Installation and the Debian package (`cpack -G DEB` in the build directory):
# the executables, the shipped scenarios and schema under /usr/share/otasim/,
# manual pages made from --help by help2man, bash completion, and the
# planner's desktop entry and icon. Dependencies are computed by
# dpkg-shlibdeps from the binaries, so `apt install ./otasim_*.deb` on a fresh
# Debian 12 pulls the libraries they link.
include(GNUInstallDirs)

set(_ota_programs otasim otasign)
foreach(t otasim-gui otasim-mpi)
  if(TARGET ${t})
    list(APPEND _ota_programs ${t})
  endif()
endforeach()
install(TARGETS ${_ota_programs} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/scenarios/ DESTINATION ${CMAKE_INSTALL_DATADIR}/otasim/scenarios)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/bash-completion/otasim
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
foreach(alias otasign otasim-mpi)
  # bash-completion loads completions/NAME for command NAME: one file, three names.
  install(CODE "file(CREATE_LINK otasim \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/bash-completion/completions/${alias}\" SYMBOLIC)")
endforeach()
if(TARGET otasim-gui)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/otasim-gui.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/otasim.svg
          DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
endif()

# Manual pages from each program's --help and --version.
find_program(OTA_HELP2MAN help2man)
if(OTA_HELP2MAN)
  set(_ota_man_otasim "what will this firmware rollout do to my fleet: run, sweep, check, analyze")
  set(_ota_man_otasign "release signing for otasim's device agent: keygen, sign, verify, delta")
  set(_ota_man_otasim-gui "otasim desktop what-if planner")
  set(_ota_man_otasim-mpi "otasim's run, sweep and check spread over MPI ranks")
  set(_ota_commands_otasim run sweep check analyze)
  set(_ota_commands_otasign keygen sign verify delta)
  set(_ota_pages)
  foreach(t ${_ota_programs})
    set(page ${CMAKE_BINARY_DIR}/man/${t}.1)
    set(extra ${CMAKE_BINARY_DIR}/man/${t}.commands)
    add_custom_command(OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND bash ${PROJECT_SOURCE_DIR}/packaging/man-commands.sh $<TARGET_FILE:${t}> ${extra} ${_ota_commands_${t}}
      COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen OMPI_ALLOW_RUN_AS_ROOT=1
              OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ${OTA_HELP2MAN} --no-info
              "--name=${_ota_man_${t}}" --include=${extra} --output=${page} $<TARGET_FILE:${t}>
      DEPENDS ${t} ${PROJECT_SOURCE_DIR}/packaging/man-commands.sh
      COMMENT "manual page ${t}.1 from --help"
      VERBATIM)
    list(APPEND _ota_pages ${page})
  endforeach()
  add_custom_target(man ALL DEPENDS ${_ota_pages})
  install(FILES ${_ota_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

set(CPACK_PACKAGE_NAME otasim)
set(CPACK_PACKAGE_VENDOR "otasim developers")
set(CPACK_PACKAGE_CONTACT "otasim developers <otasim@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "simulator of firmware over-the-air rollouts to IoT fleets")
set(CPACK_PACKAGE_DESCRIPTION
    "otasim answers, before a firmware rollout starts, how long it takes to reach 95 % of a fleet, how many devices roll back or brick, what it costs in data, energy and service calls, and whether the rollout policy stops a bad build. Includes otasim (headless runs, sweeps, policy checks), otasign (release signing), the Qt planner and otasim-mpi.")
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# chromium prints --pdf reports; --html needs nothing more.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "openmpi-bin, bash-completion, chromium")
set(CPACK_STRIP_FILES ON)
include(CPack)
