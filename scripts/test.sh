#!/usr/bin/env bash
# Runs every test of the project. On a fresh Debian machine it first installs
# what the tests need: nginx with the RTMP module, ffmpeg, libclang (bindgen),
# OpenH264 (the host SDK's encoder), the riscv64 cross compilers and
# qemu-user, the bare-metal and riscv64 Rust targets, and cargo-fuzz (run
# with the machine's nightly toolchain).
#
#   scripts/test.sh            everything
#   FUZZ_SECONDS=60 scripts/test.sh   longer fuzz smoke (default 20 s a target)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fuzz_seconds=${FUZZ_SECONDS:-20}
passed=0
step() { echo; echo "==> $*"; }
ok() { passed=$((passed + 1)); }

# --- prerequisites -----------------------------------------------------------
step "prerequisites"
# cbindgen (which regenerates the C headers, checked against the committed
# ones) compiles for about two minutes: in the background while packages install.
cbindgen_log=$(mktemp)
cbindgen_pid=""
if ! cbindgen --version 2> /dev/null | grep -q '^cbindgen 0\.29\.'; then
    cargo install cbindgen --locked --version '^0.29' > "$cbindgen_log" 2>&1 &
    cbindgen_pid=$!
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
apt_packages=(nginx-light libnginx-mod-rtmp libnginx-mod-stream ffmpeg python3 python3-pip time libclang-dev libopenh264-dev libx265-dev libavcodec-dev openssl
    chromium librtmp1
    gcc-riscv64-linux-gnu g++-riscv64-linux-gnu libc6-dev-riscv64-cross qemu-user)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
# Debian starts nginx on port 80 when it is installed; the tests run their own.
$sudo systemctl stop nginx 2>/dev/null || true
# Node-Media-Server 4, a second RTMP server for the link tests, from npm.
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm > /dev/null
fi
if [ ! -f target/peers/node_modules/node-media-server/bin/app.js ]; then
    mkdir -p target/peers
    npm install --silent --no-audit --no-fund --prefix target/peers node-media-server@4 > /dev/null
fi
# hls.js plays HLS in Debian's Chromium, driven by playwright-core (which,
# unlike the full playwright package, downloads no browser).
if [ ! -d target/peers/node_modules/playwright-core ] || [ ! -d target/peers/node_modules/hls.js ]; then
    npm install --silent --no-audit --no-fund --prefix target/peers playwright-core@1 hls.js@1 > /dev/null
fi
# A current ffmpeg (9.x: Enhanced RTMP, libx265, RTMPS) from the imageio-ffmpeg
# wheel: the HEVC reference. Installed into target/peers/py, not the system.
# m3u8 reads the HLS playlists; oss2 (Aliyun's SDK) is the reference for
# OSS LiveChannel URL signing.
if [ ! -d target/peers/py/imageio_ffmpeg ] || [ ! -d target/peers/py/m3u8 ] || [ ! -d target/peers/py/oss2 ]; then
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages \
        --target target/peers/py imageio-ffmpeg m3u8 oss2
fi
rustup target add thumbv7em-none-eabihf riscv32imac-unknown-none-elf riscv64gc-unknown-linux-gnu
# Miri checks the C API's unsafe code (aliasing, bounds) through its tests.
rustup component add --toolchain nightly miri rust-src
if ! cargo fuzz --version > /dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
if [ -n "$cbindgen_pid" ] && ! wait "$cbindgen_pid"; then
    cat "$cbindgen_log"
    echo "installing cbindgen failed"
    exit 1
fi

# --- static checks -------------------------------------------------------------
step "rustfmt"
cargo fmt --all -- --check
ok
step "clippy (warnings denied)"
cargo clippy --all-targets --locked -- -D warnings
ok
step "docs build without warnings (broken links, missing docs)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked -p rtmp-core -p hw-sys -p board -p rtmp-ffi -p board-ffi --features rtmp-core/embedded-io
ok
step "rtmp-core builds for bare metal, no_std and no alloc"
for target in thumbv7em-none-eabihf riscv32imac-unknown-none-elf; do
    cargo build -p rtmp-core --no-default-features --locked --target "$target"
    cargo build -p rtmp-core --no-default-features --features embedded-io --locked --target "$target"
done
if grep -rnE 'extern crate alloc|alloc::' rtmp-core/src; then
    echo "rtmp-core must not use alloc"; exit 1
fi
# `extern crate std` is allowed only in test modules.
if grep -rn 'extern crate std' rtmp-core/src | grep -v 'roundtrip_tests.rs' | while IFS=: read -r file line _; do
    # grep -c reads all of head's output: with -q it could exit first and
    # kill head with SIGPIPE, which pipefail reports as a failure.
    head -n "$line" "$file" | grep -cE '#!?\[cfg\(test\)\]' > /dev/null || echo "$file:$line"
done | grep .; then
    echo "extern crate std outside a test module"; exit 1
fi
ok

step "C API: the headers regenerated by cbindgen equal the committed ones; the core library builds for bare metal"
cbindgen --quiet --config ffi/core/cbindgen.toml --crate rtmp-ffi --output target/rtmp.h ffi/core
diff -u ffi/core/include/rtmp.h target/rtmp.h
cbindgen --quiet --config ffi/board/cbindgen.toml --crate board-ffi --output target/rtmp_board.h ffi/board
diff -u ffi/board/include/rtmp_board.h target/rtmp_board.h
for target in thumbv7em-none-eabihf riscv32imac-unknown-none-elf; do
    cargo build -p rtmp-ffi --profile ffi --no-default-features --locked --target "$target"
done
ok

# --- tests -----------------------------------------------------------------------
step "unit, integration and doc tests"
cargo test --workspace --locked
cargo test -p rtmp-core --locked --features embedded-io
ok
step "fresh captures from the installed ffmpeg and nginx-rtmp decode"
captures=$(mktemp -d)
trap 'rm -rf "$captures"' EXIT
scripts/capture-peers.sh "$captures"
RTMP_PEER_CAPTURES="$captures" cargo test -p rtmp-core --locked --test peer_captures
ok
step "rtmp-push, rtmp-serve, rtmp-pull against nginx-rtmp and ffmpeg"
cargo test -p board --locked --test push_nginx --test blocking_nginx --test serve_peers -- --ignored
ok
step "rtmp-push camera (host SDK camera, OpenH264, AAC) against nginx-rtmp and its embedded server"
cargo test -p board --locked --test camera_peers -- --ignored --test-threads 1
ok
step "C API from C: publish.c (cc + rtmp-ffi) pushes three profiles to nginx-rtmp identically, prints a refusal; camera.c (cc + board-ffi) streams the host camera to nginx; venc.c sends its own VENC loop (H.264 to nginx, H.265 to Node-Media-Server); publish.c and venc.c under AddressSanitizer + UBSan"
# Debug libraries: the test build's artifacts are reused (a release build of
# board would cost CI minutes; users get release by default).
make -C ffi/examples PROFILE=debug
make -C ffi/examples PROFILE=debug SANITIZE=1 asan/publish asan/venc
cargo test -p board --locked --test c_api -- --ignored --nocapture --skip riscv64
ok
step "C API under Miri: its tests (publisher against a server session in memory, zero-copy gather lists, URL, FLV, bad arguments)"
cargo +nightly miri test --locked -p rtmp-ffi --test c_api
ok
step "H.265 / Enhanced RTMP: camera --codec h265 to Node-Media-Server 4 and rtmp-serve; HEVC, AV1, VP9, Opus files; ffmpeg 9 publishing and playing"
cargo test -p board --locked --test hevc_peers -- --ignored --test-threads 1
ok
step "pictures from the program: rtmp-push raw (piped I420), Rtmp::push_frame (NV21) and examples/overlay.rs through the encoder to nginx-rtmp; the numbers drawn read back in order, the box found"
cargo build -p board --locked --example overlay
cargo test -p board --locked --test frames_in -- --ignored
ok
step "decoding what is pulled: rtmp-pull --decode of nginx-rtmp while ffmpeg publishes (pictures against ffmpeg's decode, PCM within rounding, PNG); a slow RtmpCapture consumer"
cargo test -p board --locked --test decode_pull -- --ignored
ok
step "MP4 input: rtmp-push of ffmpeg-made MP4/MOV files (H.264 High with B-frames + AAC, baseline, H.265 + AAC) to nginx-rtmp and Node-Media-Server, packet for packet; paced 10 s; --loop"
cargo test -p board --locked --test mp4_push -- --include-ignored
ok
step "MPEG-TS muxer: H.264+AAC and H.265+AAC FLVs muxed to .ts, decoded by ffmpeg / ffmpeg 9 identical to the source"
cargo test -p board --locked --test ts_peers -- --ignored
ok
step "HLS: rtmp-serve --hls fed by ffmpeg and rtmp-push; m3u8 parses the playlist; ffmpeg decodes it identical to the source"
cargo test -p board --locked --test hls_peers -- --ignored
ok
step "a browser plays the camera: Chromium + hls.js (playwright-core) from rtmp-serve --http; screenshot in target/test-output/hls-browser.png"
cargo test -p board --locked --test browser_hls -- --ignored --nocapture
ok
step "OSS LiveChannel: rtmp-oss sign equal to oss2; rtmp-serve --oss-bucket takes oss2's URLs, refuses expired/forged/unsigned ones with OSS codes, drops MP3, refuses H.265; rtmp-push re-signs at a reconnect"
cargo test -p board --locked --test oss_peers -- --ignored
ok
step "RTMPS: NMS 4 and nginx behind TLS termination, certificate refusals, hostile TLS servers, rtmp-serve --tls-listen with ffmpeg 9"
cargo test -p board --locked --test rtmps_peers -- --ignored --test-threads 2
ok
step "the camera on a bad network (fault proxy; nginx-rtmp, Node-Media-Server 4): restart, blackhole, throttle, stale publisher"
cargo test -p board --locked --test link_faults -- --ignored --test-threads 1
ok
step "riscv64 (SG2002 / CV181x) cross build; tests under qemu-riscv64"
OPENH264_DIR=$(scripts/build-openh264.sh riscv64gc-unknown-linux-gnu)
export OPENH264_DIR
cargo test --locked --target riscv64gc-unknown-linux-gnu -p rtmp-core -p hw-sys -p board --lib --tests
# The C camera example cross-built with riscv64-linux-gnu-gcc, run under qemu to nginx.
make -C ffi/examples PROFILE=debug TARGET=riscv64gc-unknown-linux-gnu CC=riscv64-linux-gnu-gcc riscv64gc-unknown-linux-gnu/camera
unset OPENH264_DIR
cargo test -p board --locked --test c_api -- --ignored --nocapture riscv64
ok
step "push benchmark against ffmpeg (CPU time, peak RSS)"
benches/push_vs_ffmpeg.sh
ok
step "RTMPS push benchmark against ffmpeg 9 (CPU time, peak RSS)"
benches/push_rtmps_vs_ffmpeg.sh
ok
step "HLS benchmark: FLV to HLS segments, our TS muxer and segmenter against ffmpeg -c copy -f hls (CPU time, peak RSS)"
benches/hls_vs_ffmpeg.sh
ok
step "relay benchmark against nginx-rtmp (server CPU per delivered MB, 1/10/50 players)"
benches/relay_vs_nginx.sh
ok
step "live-link benchmark: lag at nginx on a link throttled to half the bitrate, camera vs ffmpeg -re; reconnect time"
benches/live_link.sh
ok
step "footprint of the C-callable publisher (thumbv7em, opt-level z, LTO) and beside librtmp on x86_64"
benches/footprint.sh
ok
step "benchmarks run once each (criterion --test)"
cargo bench -p benches --locked -- --test
ok

# --- fuzz smoke ------------------------------------------------------------------
step "fuzz smoke, ${fuzz_seconds}s per target, two targets at a time"
cargo +nightly fuzz build
fuzz_one() {
    local target=$1 scratch
    scratch=$(mktemp -d)
    if ! cargo +nightly fuzz run "$target" "$scratch" "fuzz/corpus/$target" -- \
        -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 > "$scratch.log" 2>&1; then
        tail -n 60 "$scratch.log"
        echo "fuzz target $target failed; reproducer in fuzz/artifacts/$target"
        return 1
    fi
    echo "fuzz $target: $(grep -E '^#[0-9]+[[:space:]]+DONE' "$scratch.log" || echo done)"
    rm -rf "$scratch" "$scratch.log"
}
mapfile -t fuzz_targets < <(cargo +nightly fuzz list)
for ((i = 0; i < ${#fuzz_targets[@]}; i += 2)); do
    fuzz_one "${fuzz_targets[i]}" &
    first=$!
    second=""
    if ((i + 1 < ${#fuzz_targets[@]})); then
        fuzz_one "${fuzz_targets[i + 1]}" &
        second=$!
    fi
    status=0
    wait "$first" || status=1
    if [ -n "$second" ]; then wait "$second" || status=1; fi
    [ "$status" -eq 0 ] || exit 1
done
ok

echo
echo "test.sh: $passed passed, 0 failed"
