#!/usr/bin/env bash
# CPU time and peak RSS of pushing the same 20 s 720p FLV to nginx-rtmp with
# `rtmp-push --fast` and with `ffmpeg -re`-less `ffmpeg -c copy -f flv`, in
# one run, on 127.0.0.1. Each is run 3 times; the medians and their ratios
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

echo "making a 20 s 1280x720 H.264 + AAC source..."
ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30 \
    -f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 -ac 2 \
    -c:v libx264 -preset veryfast -b:v 3M -g 60 -pix_fmt yuv420p -c:a aac -b:a 128k "$work/src.flv"
ls -l "$work/src.flv" | awk '{print "source:", $5, "bytes"}'

# Peak RSS comes from GNU time, which measures from a tiny parent (ru_maxrss
# counts a child's memory before exec, so measuring from Python or bash would
# add theirs). CPU time comes from wait4 on GNU time, in microseconds (GNU
# time prints only hundredths; a process's rusage includes its waited-for
# children, so this is the program's CPU plus GNU time's own, about 1 ms).
python3 - "$push" "$work" "rtmp://127.0.0.1:$port/live" <<'PY'
import os, statistics, subprocess, sys
push, work, base = sys.argv[1:4]
src = f"{work}/src.flv"

def measure(argv):
    out = f"{work}/rss"
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", out] + argv,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"{argv[0]} failed: {p.stderr.read().decode(errors='replace')}")
    return ru.ru_utime + ru.ru_stime, int(open(out).read().split()[-1])

runs = {"baseline": [measure(["/bin/true"])], "rtmp-push": [], "ffmpeg": []}
for i in range(3):
    runs["rtmp-push"].append(measure([push, "--fast", "-q", src, f"{base}/ours{i}"]))
    runs["ffmpeg"].append(measure(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", src,
                                   "-c", "copy", "-f", "flv", f"{base}/ffmpeg{i}"]))
med = {k: (statistics.median(c for c, _ in v), statistics.median(r for _, r in v)) for k, v in runs.items()}
print(f"{'':10} {'CPU ms':>8} {'peak RSS':>12}   (median of 3)")
for k in ("rtmp-push", "ffmpeg", "baseline"):
    c, r = med[k]
    print(f"{k:10} {c*1000:8.1f} {r/1024:8.2f} MiB")
(oc, orss), (fc, frss) = med["rtmp-push"], med["ffmpeg"]
print(f"ratio rtmp-push/ffmpeg: CPU {oc/fc:.3f}x, peak RSS {orss/frss:.3f}x")
PY
