# SigV4 conformance: the published test vectors (read in place from the
# shared test data) and a differential run against botocore's signer. Both
# drive the real `evident sign` binary. ctest -L sigv4
add_test(NAME sigv4/vectors
  COMMAND ${EV_PYTHON} ${EV_TESTS_DIR}/sigv4/run_suite.py
          --evident $<TARGET_FILE:evident>
          --data ${EV_SHARED_DIR}/testdata/sigv4)
set_tests_properties(sigv4/vectors PROPERTIES LABELS sigv4 TIMEOUT 300)

add_test(NAME sigv4/botocore
  COMMAND ${EV_PYTHON} ${EV_TESTS_DIR}/sigv4/botocore_diff.py
          --evident $<TARGET_FILE:evident>)
set_tests_properties(sigv4/botocore PROPERTIES LABELS sigv4 TIMEOUT 300)

add_test(NAME sigv4/cli
  COMMAND ${EV_PYTHON} ${EV_TESTS_DIR}/sigv4/cli_checks.py
          --evident $<TARGET_FILE:evident>)
set_tests_properties(sigv4/cli PROPERTIES LABELS sigv4 TIMEOUT 120)
