# `evident report` (every format, the HTML in a headless Chromium when
# /usr/bin/chromium is there) and `evident diff` on snapshots collected from
# the simulator. ctest -L integration
add_test(NAME report/cli
  COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_report.py
          --evident $<TARGET_FILE:evident>
          --workdir ${CMAKE_BINARY_DIR}/report-test)
set_tests_properties(report/cli PROPERTIES LABELS integration TIMEOUT 900)
