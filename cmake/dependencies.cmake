# Finds the libraries the project builds on.  blst is not in Debian: unless
# SIGNER_SYSTEM_BLST is set, scripts/fetch-blst.sh fetches it from the npm
# registry (integrity-checked) and builds libblst.a under deps/.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
pkg_check_modules(SECP256K1 REQUIRED IMPORTED_TARGET libsecp256k1)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(CBOR REQUIRED IMPORTED_TARGET libcbor)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
if(SIGNER_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()

if(SIGNER_SYSTEM_BLST)
  find_path(BLST_INCLUDE_DIR blst.h PATH_SUFFIXES blst REQUIRED)
  find_library(BLST_LIBRARY blst REQUIRED)
else()
  set(BLST_DIR ${CMAKE_SOURCE_DIR}/deps/blst)
  if(NOT EXISTS ${BLST_DIR}/libblst.a)
    message(STATUS "Fetching and building blst into ${BLST_DIR}")
    execute_process(COMMAND ${CMAKE_SOURCE_DIR}/scripts/fetch-blst.sh ${BLST_DIR}
                    RESULT_VARIABLE blst_result)
    if(NOT blst_result EQUAL 0)
      message(FATAL_ERROR "scripts/fetch-blst.sh failed; set -DSIGNER_SYSTEM_BLST=ON to use a system blst")
    endif()
  endif()
  set(BLST_INCLUDE_DIR ${BLST_DIR}/include)
  set(BLST_LIBRARY ${BLST_DIR}/libblst.a)
endif()
add_library(blst STATIC IMPORTED GLOBAL)
set_target_properties(blst PROPERTIES IMPORTED_LOCATION ${BLST_LIBRARY}
                      INTERFACE_INCLUDE_DIRECTORIES ${BLST_INCLUDE_DIR})

# devkms (host-only development KMS, issue 3): its HTTPS server and its key
# store.  (Its tests use libcurl, found above.)
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)
