# CMake generated Testfile for 
# Source directory: /work/main/tests/crypto
# Build directory: /work/main/build/tests/crypto
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
include("/work/main/build/tests/crypto/crypto_test[1]_include.cmake")
