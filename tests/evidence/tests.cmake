# Snapshots on disk: `evident keygen` and `evident verify` as commands, and
# a writer killed with SIGKILL at random points (snapwriter is the writer,
# driven by the scripts). ctest -L integration
add_executable(evidence_snapwriter ${CMAKE_CURRENT_LIST_DIR}/snapwriter.c)
target_link_libraries(evidence_snapwriter PRIVATE evident_core)

add_test(NAME evidence/cli
  COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_cli.py
          --evident $<TARGET_FILE:evident>
          --writer $<TARGET_FILE:evidence_snapwriter>
          --workdir ${CMAKE_BINARY_DIR}/evidence-test/cli)
add_test(NAME evidence/crash
  COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/crash_test.py
          --evident $<TARGET_FILE:evident>
          --writer $<TARGET_FILE:evidence_snapwriter>
          --workdir ${CMAKE_BINARY_DIR}/evidence-test/crash)
set_tests_properties(evidence/cli evidence/crash
  PROPERTIES LABELS integration TIMEOUT 600)
