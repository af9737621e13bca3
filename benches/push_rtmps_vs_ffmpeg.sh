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

echo "making a 20 s 1280x720 H.264 + AAC source..."
ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30 \
    -f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 -ac 2 \
    -c:v libx264 -preset veryfast -b:v 3M -g 60 -pix_fmt yuv420p -c:a aac -b:a 128k "$work/src.flv"
ls -l "$work/src.flv" | awk '{print "source:", $5, "bytes"}'

# Measured as in push_vs_ffmpeg.sh: peak RSS from GNU time, CPU from wait4.
SSL_CERT_FILE=$work/ca.pem python3 - "$push" "$ffmpeg9" "$work" "rtmps://localhost:$tls_port/live" <<'PY'
import os, statistics, subprocess, sys
push, ffmpeg9, work, base = sys.argv[1:5]
src = f"{work}/src.flv"

def measure(argv):
    out = f"{work}/rss"
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", out] + argv,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"{argv[0]} failed: {p.stderr.read().decode(errors='replace')}")
    return ru.ru_utime + ru.ru_stime, int(open(out).read().split()[-1])

runs = {"rtmp-push": [], "ffmpeg 9": []}
for i in range(3):
    runs["rtmp-push"].append(measure([push, "--fast", "-q", src, f"{base}/ours{i}"]))
    runs["ffmpeg 9"].append(measure([ffmpeg9, "-nostdin", "-loglevel", "error", "-i", src,
                                     "-c", "copy", "-f", "flv", f"{base}/ffmpeg{i}"]))
med = {k: (statistics.median(c for c, _ in v), statistics.median(r for _, r in v)) for k, v in runs.items()}
print(f"{'over TLS':10} {'CPU ms':>8} {'peak RSS':>12}   (median of 3)")
for k in ("rtmp-push", "ffmpeg 9"):
    c, r = med[k]
    print(f"{k:10} {c*1000:8.1f} {r/1024:8.2f} MiB")
(oc, orss), (fc, frss) = med["rtmp-push"], med["ffmpeg 9"]
print(f"ratio rtmp-push/ffmpeg 9 over RTMPS: CPU {oc/fc:.3f}x, peak RSS {orss/frss:.3f}x")
PY
