# The curl transport against a local TLS peer with its own throw-away CA
# (peer.py runs transport_test and reports its status). ctest -L unit
add_executable(http_transport_test ${CMAKE_CURRENT_LIST_DIR}/transport_test.c)
target_link_libraries(http_transport_test PRIVATE evident_core PkgConfig::CMOCKA)
add_test(NAME http/transport
  COMMAND ${EV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/peer.py
          --workdir ${CMAKE_BINARY_DIR}/http-test
          -- $<TARGET_FILE:http_transport_test>)
set_tests_properties(http/transport PROPERTIES LABELS unit TIMEOUT 180)
