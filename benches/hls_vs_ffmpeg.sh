#!/usr/bin/env bash
# HLS muxing: CPU time and peak RSS of turning the same 20 s 720p H.264 +
# AAC FLV into 2 s MPEG-TS segments and a playlist, with our path (the TS
# muxer and segmenter of rtmp-serve --hls, fed from the file by
# benches/src/bin/flv_to_hls.rs) and with `ffmpeg -c copy -f hls` (Debian's
# ffmpeg), in one run. Each is run 5 times; medians and ratios printed.
# Both outputs are decoded afterwards and must equal the source frame for
# frame (framemd5), so the two did the same work.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p benches --bin flv_to_hls --manifest-path "$root/Cargo.toml"
ours=$root/target/release/flv_to_hls

. "$here/source.sh"
make_source "$work/src.flv"

PYTHONPATH=$here python3 - "$ours" "$work" <<'PY'
import os, shutil, subprocess, sys
from measure import measure, report
ours, work = sys.argv[1:3]
src = f"{work}/src.flv"
runs = {"ours": [], "ffmpeg": []}
for i in range(5):
    for name in runs:
        out = f"{work}/{name}"
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        argv = ([ours, src, out, "2"] if name == "ours" else
                ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", src, "-c", "copy", "-f", "hls",
                 "-hls_time", "2", "-hls_list_size", "0", f"{out}/playlist.m3u8"])
        runs[name].append(measure(argv, work))

def md5s(path, stream):
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-map", f"0:{stream}", "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True).stdout
    return [l.rsplit(",", 1)[1].strip() for l in out.splitlines() if not l.startswith("#")]

for stream in "va":
    want = md5s(src, stream)
    for name in runs:
        got = md5s(f"{work}/{name}/playlist.m3u8", stream)
        if got != want:
            sys.exit(f"{name}: {stream} frames differ from the source ({len(got)} vs {len(want)})")
segments = len([f for f in os.listdir(f"{work}/ours") if f.endswith(".ts")])
print(f"{len(md5s(src, 'v'))} video frames, {segments} segments; both outputs decode identically to the source")
report(runs, ["ours", "ffmpeg"], "FLV->HLS")
PY
