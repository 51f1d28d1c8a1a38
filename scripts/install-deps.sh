#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and training need,
# including the aarch64 cross compiler and qemu for the Arm kernel tests.
# Runs apt-get as root, or through sudo when started by another user.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang
  zlib1g-dev
  libsqlite3-dev libxml2-dev libssl-dev libunistring-dev libimage-exiftool-perl libcjson-dev
  libjpeg62-turbo-dev libpng-dev libwebp-dev libheif-dev libexif-dev
  python3 python3-numpy python3-torch python3-torchvision python3-pil python3-pytest
  python3-flatbuffers python3-onnx
  # The aarch64 cross build and its tests under qemu's user-mode emulation.
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
)

if [ "$(id -u)" -eq 0 ]; then
  apt_get=(apt-get)
else
  apt_get=(sudo apt-get)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  "${apt_get[@]}" update -q
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q --no-install-recommends "${missing[@]}"
fi
