#!/usr/bin/env bash
# CPU time and peak RSS of pushing the same 20 s 720p FLV to nginx-rtmp with
# `rtmp-push --fast` and with `ffmpeg -re`-less `ffmpeg -c copy -f flv`, in
# one run, on 127.0.0.1; then the same for an MP4 holding the same packets
# (remuxed by ffmpeg). Each is run 3 times; the medians and their ratios
# are printed. Needs nginx-light, libnginx-mod-rtmp, ffmpeg (scripts/test.sh
# installs them) and GNU time (package `time`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release -q -p board --bin rtmp-push --manifest-path "$root/Cargo.toml"
push=$root/target/release/rtmp-push

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s#@DIR@#$work#g" -e "s#@PORT@#$port#g" "$root/scripts/nginx-rtmp.conf.in" > "$work/nginx.conf"
mkdir -p "$work/rec"
nginx -p "$work" -c "$work/nginx.conf" &
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

. "$here/source.sh"
make_source "$work/src.flv"
ffmpeg -nostdin -loglevel error -y -i "$work/src.flv" -c copy "$work/src.mp4"

# Measured by benches/measure.py: peak RSS from GNU time, CPU from wait4.
PYTHONPATH=$here python3 - "$push" "$work" "rtmp://127.0.0.1:$port/live" <<'PY'
import sys
from measure import measure, report
push, work, base = sys.argv[1:4]
baseline = measure(["/bin/true"], work)
for kind in ["flv", "mp4"]:
    src = f"{work}/src.{kind}"
    runs = {"baseline": [baseline], "rtmp-push": [], "ffmpeg": []}
    for i in range(3):
        runs["rtmp-push"].append(measure([push, "--fast", "-q", src, f"{base}/ours-{kind}{i}"], work))
        runs["ffmpeg"].append(measure(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", src,
                                       "-c", "copy", "-f", "flv", f"{base}/ffmpeg-{kind}{i}"], work))
    report(runs, ["rtmp-push", "ffmpeg", "baseline"], f"from {kind.upper()}")
PY
