# `evident daemon` and `evident status` against the simulator: cycles,
# SIGHUP, SIGTERM, S3 upload with Object Lock, pruning; and a soak of many
# short cycles watching memory and descriptors. ctest -L integration
add_test(NAME daemon/daemon
  COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_daemon.py
          --evident $<TARGET_FILE:evident>
          --snapwriter $<TARGET_FILE:evidence_snapwriter>
          --workdir ${CMAKE_BINARY_DIR}/daemon-test/daemon)
set(EV_DAEMON_SOAK_ARGS)
if(EV_SANITIZE)
  # ASan's quarantine and shadow memory grow RSS on their own: only the
  # descriptors and the sanitizers' own leak report are judged there.
  list(APPEND EV_DAEMON_SOAK_ARGS --sanitized)
endif()
add_test(NAME daemon/soak
  COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/soak.py
          --evident $<TARGET_FILE:evident>
          --workdir ${CMAKE_BINARY_DIR}/daemon-test/soak ${EV_DAEMON_SOAK_ARGS})
set_tests_properties(daemon/daemon daemon/soak
  PROPERTIES LABELS integration TIMEOUT 600)
