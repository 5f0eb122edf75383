# CMake generated Testfile for 
# Source directory: /work/main/tests/tpm
# Build directory: /work/main/build/tests/tpm
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
