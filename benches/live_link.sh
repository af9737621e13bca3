#!/usr/bin/env bash
# A live link throttled to half the camera's bitrate for 30 s: how far the
# stream at nginx-rtmp lags real time, each second, for the camera pipeline
# (adaptive bitrate, drop by priority) and for `ffmpeg -re -c copy` of the
# same H.264 + AAC (recorded from the camera first), pushed at the same time
# through a loopback fault proxy; then the camera's reconnect time after an
# nginx restart. Needs nginx-light, libnginx-mod-rtmp and ffmpeg
# (scripts/test.sh installs them). Fails if the camera's lag reaches 1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --locked -q -p board --test live_link_bench -- --ignored --nocapture --test-threads 1
