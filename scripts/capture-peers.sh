#!/usr/bin/env bash
# Re-captures the peer vectors in rtmp-core/tests/data: ffmpeg publishing to
# nginx-rtmp, and ffmpeg playing from it, through scripts/relay.py, all on
# 127.0.0.1. Needs nginx-light, libnginx-mod-rtmp, ffmpeg, python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../rtmp-core/tests/data}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port)
relay_port=$(free_port)
sed -e "s#@DIR@#$work#g" -e "s#@PORT@#$nginx_port#g" "$here/nginx-rtmp.conf.in" > "$work/nginx.conf"
mkdir -p "$work/rec"
nginx -p "$work" -c "$work/nginx.conf" &
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$nginx_port) 2>/dev/null && break; sleep 0.1; done

# 1. A publisher: 1 s of 160x120 H.264 High with B-frames + AAC stereo.
python3 "$here/relay.py" $relay_port $nginx_port "$work/publish" > "$work/relay1.log" &
relay=$!
sleep 0.3
ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i testsrc=size=160x120:rate=10 \
    -f lavfi -i sine=frequency=440:sample_rate=44100 -t 1 -ac 2 \
    -c:v libx264 -profile:v high -bf 2 -g 10 -pix_fmt yuv420p -c:a aac -b:a 32k \
    -f flv "rtmp://127.0.0.1:$relay_port/live/cap"
sleep 0.5
kill $relay
cp "$work/publish-0-c2s.bin" "$out/ffmpeg-publish-c2s.bin"
cp "$work/publish-0-s2c.bin" "$out/ffmpeg-publish-s2c.bin"

# 2. A player: ffmpeg plays 1 s of a live stream that another ffmpeg publishes directly.
ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi -i testsrc=size=160x120:rate=10 \
    -f lavfi -i sine=frequency=440:sample_rate=44100 -t 8 -ac 2 \
    -c:v libx264 -profile:v baseline -g 10 -pix_fmt yuv420p -c:a aac -b:a 32k \
    -f flv "rtmp://127.0.0.1:$nginx_port/live/cap" &
pub=$!
sleep 1
python3 "$here/relay.py" $relay_port $nginx_port "$work/play" > "$work/relay2.log" &
relay=$!
sleep 0.3
timeout 20 ffmpeg -nostdin -hide_banner -loglevel error -analyzeduration 500000 -probesize 20000 -i "rtmp://127.0.0.1:$relay_port/live/cap" -t 1 -c copy -f flv -y /dev/null
sleep 0.5
kill $relay
kill $pub 2>/dev/null || true; wait $pub 2>/dev/null || true
cp "$work/play-0-c2s.bin" "$out/ffmpeg-play-c2s.bin"
cp "$work/play-0-s2c.bin" "$out/ffmpeg-play-s2c.bin"
ls -l "$out"/*.bin
