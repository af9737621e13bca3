#!/usr/bin/env bash
# Builds OpenH264's encoder (BSD licence) as a static library for a Rust
# target whose Debian release has no libopenh264 package (riscv64), for the
# hw-sys host SDK. The source is the one packaged in the openh264-sys2 crate
# (fetched from crates.io, never committed here); only generic C++ is built
# (no assembly). Prints the install prefix: set OPENH264_DIR to it.
#
#   scripts/build-openh264.sh riscv64gc-unknown-linux-gnu
#
# Needs the target's C++ cross compiler (g++-riscv64-linux-gnu). The result
# is cached in target/openh264/<target>.
set -euo pipefail
target=${1:?usage: build-openh264.sh <rust target triple>}
cd "$(dirname "$0")/.."
root=$(pwd)
prefix=$root/target/openh264/$target
version=0.9.9 # openh264-sys2, which packages OpenH264 2.6

if [ -f "$prefix/lib/libopenh264.a" ] && [ -f "$prefix/include/wels/codec_api.h" ]; then
    echo "$prefix"
    exit 0
fi

case "$target" in
    riscv64gc-unknown-linux-gnu) cross=riscv64-linux-gnu- ;;
    aarch64-unknown-linux-gnu) cross=aarch64-linux-gnu- ;;
    x86_64-unknown-linux-gnu) cross= ;;
    *) echo "build-openh264.sh: no cross compiler known for $target" >&2; exit 1 ;;
esac
cxx=${CXX:-${cross}g++}
ar=${AR:-${cross}ar}
command -v "$cxx" > /dev/null || { echo "build-openh264.sh: $cxx not found (apt-get install g++-${cross%-})" >&2; exit 1; }

work=$prefix/build
rm -rf "$work"
mkdir -p "$work/fetch/src" "$work/obj" "$prefix/lib" "$prefix/include/wels"
# Let cargo fetch the crate (registry auth, mirrors and checksums as usual).
cat > "$work/fetch/Cargo.toml" <<EOF
[package]
name = "fetch-openh264"
version = "0.0.0"
edition = "2021"
[dependencies]
openh264-sys2 = { version = "=$version", default-features = false }
[workspace]
EOF
touch "$work/fetch/src/lib.rs"
cargo fetch -q --manifest-path "$work/fetch/Cargo.toml" >&2
crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/openh264-sys2-$version.crate | head -1)
tar -xzf "$crate" -C "$work"
src=$work/openh264-sys2-$version/upstream/codec

includes=(-I"$src/api/wels" -I"$src/common/inc" -I"$src/processing/interface" -I"$src/processing/src/common"
    -I"$src/encoder/core/inc" -I"$src/encoder/plus/inc")
# Generic C++ only: the per-architecture directories hold assembly paths.
find "$src/common/src" "$src/processing/src" "$src/encoder/core/src" "$src/encoder/plus/src" -name '*.cpp' \
    ! -name DllEntry.cpp ! -path '*/arm/*' ! -path '*/arm64/*' ! -path '*/x86/*' ! -path '*/loongarch/*' \
    ! -path '*/mips/*' > "$work/sources"
echo "building OpenH264 encoder for $target ($(wc -l < "$work/sources") files)..." >&2
export cxx work
xargs -P "$(nproc)" -I{} sh -c 'o="$work/obj/$(echo "{}" | md5sum | cut -c1-16).o"; "$cxx" -O2 -fPIC -fno-strict-aliasing -w '"${includes[*]}"' -c "{}" -o "$o"' < "$work/sources"
"$ar" rcs "$prefix/lib/libopenh264.a" "$work"/obj/*.o
cp "$src"/api/wels/*.h "$prefix/include/wels/"
rm -rf "$work"
echo "$prefix"
