#!/usr/bin/env bash
# RTMPS: CPU time and peak RSS of pushing the same 20 s 720p FLV over TLS
# with `rtmp-push --fast` and with a current ffmpeg (9.x, from the
# imageio-ffmpeg wheel; `ffmpeg -c copy -f flv rtmps://...`), in one run, on
# 127.0.0.1, to nginx-rtmp behind nginx's TLS termination (stream module),
# both verifying the server's certificate against a test CA made here with
# openssl (SSL_CERT_FILE). Each is run 3 times; medians and ratios printed.
# Needs what scripts/test.sh installs (nginx-light, libnginx-mod-rtmp,
# libnginx-mod-stream, openssl, ffmpeg, GNU time, imageio-ffmpeg).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release -q -p board --bin rtmp-push --manifest-path "$root/Cargo.toml"
push=$root/target/release/rtmp-push
ffmpeg9=${FFMPEG9:-$(PYTHONPATH=$root/target/peers/py python3 -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())')}

# A test CA and a certificate for localhost.
(
    cd "$work"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=rtmps bench CA" -keyout ca.key -out ca.pem 2> /dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
        -keyout server.key -out server.csr 2> /dev/null
    printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile server.ext -out server.pem 2> /dev/null
)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
tls_port=$(free_port)
{
    echo "load_module /usr/lib/nginx/modules/ngx_stream_module.so;"
    sed -e "s#@DIR@#$work#g" -e "s#@PORT@#$port#g" "$root/scripts/nginx-rtmp.conf.in"
    printf 'stream {\n server {\n  listen 127.0.0.1:%s ssl;\n  ssl_certificate %s;\n  ssl_certificate_key %s;\n  proxy_pass 127.0.0.1:%s;\n }\n}\n' \
        "$tls_port" "$work/server.pem" "$work/server.key" "$port"
} > "$work/nginx.conf"
mkdir -p "$work/rec"
nginx -p "$work" -c "$work/nginx.conf" &
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$tls_port) 2>/dev/null && break; sleep 0.1; done

. "$here/source.sh"
make_source "$work/src.flv"

# Measured by benches/measure.py: peak RSS from GNU time, CPU from wait4.
SSL_CERT_FILE=$work/ca.pem PYTHONPATH=$here python3 - "$push" "$ffmpeg9" "$work" "rtmps://localhost:$tls_port/live" <<'PY'
import sys
from measure import measure, report
push, ffmpeg9, work, base = sys.argv[1:5]
src = f"{work}/src.flv"
runs = {"rtmp-push": [], "ffmpeg 9": []}
for i in range(3):
    runs["rtmp-push"].append(measure([push, "--fast", "-q", src, f"{base}/ours{i}"], work))
    runs["ffmpeg 9"].append(measure([ffmpeg9, "-nostdin", "-loglevel", "error", "-i", src,
                                     "-c", "copy", "-f", "flv", f"{base}/ffmpeg{i}"], work))
report(runs, ["rtmp-push", "ffmpeg 9"], "over TLS")
PY
