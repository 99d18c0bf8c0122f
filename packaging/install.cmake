# What `cmake --install` (and so the Debian package) puts where, besides the
# binary itself (install(TARGETS evident) in the top CMakeLists.txt).
#
# The configuration and the systemd units go to the absolute paths Debian
# uses whatever the prefix, so the units' ExecStart=/usr/bin/evident and the
# daemon's default --config hold in the package. To stage a tree elsewhere:
#   DESTDIR=/tmp/root cmake --install build --prefix /usr
# Both directories are cache variables for other layouts.
include(GNUInstallDirs)

set(EV_INSTALL_CONFDIR /etc/evident CACHE PATH
    "where the configuration file is installed (absolute)")
set(EV_INSTALL_UNITDIR /lib/systemd/system CACHE PATH
    "where the systemd units are installed (absolute)")
set(EV_INSTALL_COMPLETIONDIR
    ${CMAKE_INSTALL_DATADIR}/bash-completion/completions CACHE PATH
    "where the bash completion is installed")

set(EV_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})

# Man pages are compressed as Debian policy asks; -n keeps the gzip header
# free of names and times so the package builds reproducibly.
set(EV_MAN_PAGES ${EV_PACKAGING_DIR}/man/evident.1
                 ${EV_PACKAGING_DIR}/man/evident.ini.5)
set(EV_MAN_GZ)
foreach(page ${EV_MAN_PAGES})
  get_filename_component(name ${page} NAME)
  set(gz ${CMAKE_BINARY_DIR}/packaging/man/${name}.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging/man
    COMMAND gzip -9 -n -c ${page} > ${gz}
    DEPENDS ${page} VERBATIM)
  list(APPEND EV_MAN_GZ ${gz})
endforeach()
add_custom_target(evident_man ALL DEPENDS ${EV_MAN_GZ})

list(GET EV_MAN_GZ 0 EV_MAN1_GZ)
list(GET EV_MAN_GZ 1 EV_MAN5_GZ)
install(FILES ${EV_MAN1_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${EV_MAN5_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)

# The example configuration becomes the live one. It names the signing key
# and may name an external ID: readable by root and the evident group only
# (the package's postinst sets the group).
install(FILES ${CMAKE_SOURCE_DIR}/config/evident.ini
        DESTINATION ${EV_INSTALL_CONFDIR}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)

install(FILES ${EV_PACKAGING_DIR}/systemd/evident.service
              ${EV_PACKAGING_DIR}/systemd/evident-snapshot.service
              ${EV_PACKAGING_DIR}/systemd/evident-snapshot.timer
        DESTINATION ${EV_INSTALL_UNITDIR})

# The catalog is compiled in; this copy is the one to start from when a site
# writes its own ([controls] catalog).
install(FILES ${CMAKE_SOURCE_DIR}/config/controls.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/evident)

install(FILES ${EV_PACKAGING_DIR}/completion/evident.bash
        DESTINATION ${EV_INSTALL_COMPLETIONDIR} RENAME evident)

install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/LICENSE
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
