# Cross build for 64-bit Arm Linux with Debian's cross compiler
# (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross). ctest runs the test
# programs under qemu's user-mode emulation (qemu-user) with every
# extension that qemu implements (-cpu max). Debian ships no arm64 builds
# of the photo and catalogue libraries for cross builds, so use it with
# -DPICOTAG_ENGINE_ONLY=ON:
#
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#         -DPICOTAG_ENGINE_ONLY=ON
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
# Baseline AArch64: the dotprod and i8mm kernel files add their extensions
# themselves (src/kernels/CMakeLists.txt).
set(CMAKE_C_FLAGS_INIT "-march=armv8-a")

set(PICOTAG_AARCH64_SYSROOT /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH ${PICOTAG_AARCH64_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# qemu-aarch64 finds the arm64 dynamic loader and C library under -L.
set(PICOTAG_QEMU_AARCH64 qemu-aarch64)
set(CMAKE_CROSSCOMPILING_EMULATOR ${PICOTAG_QEMU_AARCH64} -cpu max -L ${PICOTAG_AARCH64_SYSROOT})
