#!/usr/bin/env bash
# Footprint of the C-callable publisher: what a firmware links to push
# (the publisher with its digest handshake, zero-copy sends, H.264
# packaging), built for thumbv7em-none-eabihf (Cortex-M4F) at opt-level "z"
# with LTO and panic = "abort" (the `ffi` profile), linked with rust-lld and
# --gc-sections keeping only those entry points: its .text and .rodata, and
# the publisher's state (rtmp_publisher_size with a 4 KiB receive buffer).
# As the peer reference, on x86_64: our library linked the same way beside
# Debian's librtmp.so.1 (package librtmp1, what ffmpeg, OBS on Linux and
# curl use), both measured with `size`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
target_dir=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lld=$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld

keep=(rtmp_publisher_init rtmp_publisher_size rtmp_publisher_align rtmp_publisher_recv
    rtmp_publisher_poll_transmit rtmp_publisher_transmitted rtmp_publisher_timeout
    rtmp_publisher_on_timeout rtmp_publisher_peer_closed rtmp_publisher_poll_event
    rtmp_publisher_close rtmp_publisher_send rtmp_message_iov rtmp_message_advance
    rtmp_message_remaining rtmp_avc_packager_init rtmp_avc_packager_resend_config
    rtmp_avc_package rtmp_video_frame_parts rtmp_video_frame_is_keyframe rtmp_strerror
    RTMP_PUBLISHER_STATE_SIZE)
undefined=() wl_undefined=()
for s in "${keep[@]}"; do undefined+=(-u "$s"); wl_undefined+=("-Wl,-u,$s"); done

# section sizes of an ELF file: "text rodata"
sections() { size -A "$1" | awk '$1==".text"{t=$2} $1==".rodata"{r=$2} END{print t+0, r+0}'; }

cargo build -q -p rtmp-ffi --profile ffi --no-default-features --locked --target thumbv7em-none-eabihf \
    --manifest-path "$root/Cargo.toml"
"$lld" -flavor gnu --gc-sections -e rtmp_publisher_init "${undefined[@]}" -o "$work/thumb.elf" \
    "$target_dir/thumbv7em-none-eabihf/ffi/librtmp_ffi.a"
read -r text rodata < <(sections "$work/thumb.elf")

# The publisher's state on the target: the value of the library's
# RTMP_PUBLISHER_STATE_SIZE (a 4-byte little-endian word on thumbv7em).
state=$(python3 - "$work/thumb.elf" <<'PY'
import subprocess, sys
elf = sys.argv[1]
addr = next(int(l.split()[0], 16) for l in subprocess.run(["nm", elf], capture_output=True, text=True).stdout.splitlines()
            if l.endswith(" RTMP_PUBLISHER_STATE_SIZE"))
for l in subprocess.run(["readelf", "-SW", elf], capture_output=True, text=True).stdout.splitlines():
    f = l.replace("[ ", "[").split()
    if len(f) > 5 and f[0].startswith("[") and f[1] == ".rodata":
        start, offset = int(f[3], 16), int(f[4], 16)
        data = open(elf, "rb").read()
        print(int.from_bytes(data[offset + addr - start:offset + addr - start + 4], "little"))
PY
)

echo "C API publisher (publisher + digest handshake + zero-copy send + H.264 packaging), thumbv7em-none-eabihf, opt-level z, LTO:"
printf "  .text %6d bytes (%.1f KiB)   .rodata %5d bytes\n" "$text" "$(awk -v t="$text" 'BEGIN{print t/1024}')" "$rodata"
printf "  publisher state: %s bytes (plus the receive buffer you choose, 4 KiB minimum)\n" "$state"

# x86_64: the same set linked from the host build, beside librtmp.
cargo build -q -p rtmp-ffi --profile ffi --no-default-features --locked --target x86_64-unknown-linux-gnu \
    --manifest-path "$root/Cargo.toml"
host_lib=$target_dir/x86_64-unknown-linux-gnu/ffi/librtmp_ffi.a
librtmp=$(ldconfig -p | awk '/librtmp.so.1 /{print $NF; exit}')
if [ -z "$librtmp" ]; then
    echo "librtmp.so.1 not installed (apt install librtmp1): no peer figure"
else
    # Linked by cc: the C library (memcpy, strlen) stays a shared library, as for librtmp.
    cc -nostartfiles -Wl,--gc-sections -Wl,-e,rtmp_publisher_init "${wl_undefined[@]}" -o "$work/x86.elf" \
        "$host_lib" \
        && read -r xtext xrodata < <(sections "$work/x86.elf") \
        && read -r ltext lrodata < <(sections "$librtmp") \
        && printf "x86_64: ours .text %d bytes; librtmp.so.1 (%s) .text %d bytes; ratio %.2fx\n" \
            "$xtext" "$(basename "$librtmp")" "$ltext" "$(awk -v a="$xtext" -v b="$ltext" 'BEGIN{print a/b}')"
fi
