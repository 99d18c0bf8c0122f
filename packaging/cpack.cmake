# The Debian package: in a build directory, `cpack -G DEB` writes
# evident_<version>-<release>_<arch>.deb from the install rules
# (packaging/install.cmake and the binary's). Its maintainer scripts are in
# packaging/debian/.
set(CPACK_PACKAGE_NAME evident)
set(CPACK_PACKAGE_VENDOR "evident")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "evidence collection agent for AWS accounts")
set(CPACK_PACKAGE_DESCRIPTION
    "evident proves, continuously and on demand, that the accounts of an AWS
organization meet the security controls AWS partner audits check (MSP
Partner Program 8.1-8.3, DevOps Competency 3.13-3.16): root MFA and no
root use, CloudTrail with log integrity everywhere, AWS Config auditing,
infrastructure in VPCs, access key rotation, least privilege. It signs
every AWS request itself (SigV4), writes signed and chained evidence
snapshots, and runs as a hardened systemd service or on a timer.")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Debian strips its binaries; the build directory keeps the debug info.
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR "")

set(EV_DEB_MAINTAINER "evident maintainers <maintainers@evident.invalid>"
    CACHE STRING "Maintainer field of the Debian package")
set(EV_DEB_RELEASE 1 CACHE STRING "Debian revision of the package")

set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${EV_DEB_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_RELEASE ${EV_DEB_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

# The shared libraries' packages come from dpkg-shlibdeps when it is there
# (dpkg-dev; CPack also needs `file` for it), with the versions the binary
# was linked against; without them, the list is written out. adduser runs
# in postinst whichever.
find_program(EV_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(EV_FILE_TOOL file)
if(EV_DPKG_SHLIBDEPS AND EV_FILE_TOOL)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "adduser, libc6, libcurl4, libssl3, libjansson4, libexpat1, libinih1, zlib1g")
endif()
# TLS to AWS is verified against the system store unless ca_bundle is set.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "awscli")

set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${EV_PACKAGING_DIR}/debian/conffiles
    ${EV_PACKAGING_DIR}/debian/postinst
    ${EV_PACKAGING_DIR}/debian/prerm
    ${EV_PACKAGING_DIR}/debian/postrm)
# Maintainer scripts 0755 and control files 0644 whatever the checkout's
# modes, as dpkg expects.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
