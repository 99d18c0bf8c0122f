# Packaging: the systemd units (systemd-analyze verify and security), the
# Debian package (cpack -G DEB, dpkg-deb, dpkg -x, the maintainer scripts),
# the man pages (groff/man warnings, agreement with --help and the config
# parser) and the bash completion. Each works in its own directory under
# packaging-test/. ctest -L integration
add_executable(packaging_config_keys ${CMAKE_CURRENT_LIST_DIR}/config_keys.c)
target_link_libraries(packaging_config_keys PRIVATE evident_core)

foreach(name units deb man completion)
  add_test(NAME packaging/${name}
    COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_${name}.py
            --evident $<TARGET_FILE:evident>
            --source ${CMAKE_SOURCE_DIR}
            --build ${CMAKE_BINARY_DIR}
            --workdir ${CMAKE_BINARY_DIR}/packaging-test/${name}
            --config-keys $<TARGET_FILE:packaging_config_keys>)
  set_tests_properties(packaging/${name} PROPERTIES LABELS integration
                       TIMEOUT 300)
endforeach()
# cpack runs the build's preinstall target, which relinks whatever is out of
# date: run alone so it never replaces a binary another test is running.
set_tests_properties(packaging/deb PROPERTIES RUN_SERIAL TRUE)
