#!/usr/bin/env bash
# Relay cost: one publisher to N players (N = 1, 10, 50) through nginx-rtmp
# and through rtmp-serve, on 127.0.0.1, in one run. The publisher is
# `rtmp-push --fast` of a 20 s 720p FLV; the players are `rtmp-pull -o
# /dev/null` (the same for both servers), started before the publisher.
# Measured: the server process's CPU time (from /proc/<pid>/task/*/schedstat,
# over the publish) per MB of payload the players received. Prints a table and
# the rtmp-serve/nginx ratio per N. Needs nginx-light, libnginx-mod-rtmp
# and ffmpeg (scripts/test.sh installs them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release -q -p board --bins --manifest-path "$root/Cargo.toml"
bin=$root/target/release

echo "making a 20 s 1280x720 H.264 + AAC source..."
ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30 \
    -f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 -ac 2 \
    -c:v libx264 -preset ultrafast -b:v 6M -g 60 -pix_fmt yuv420p -c:a aac -b:a 128k "$work/src.flv"
ls -l "$work/src.flv" | awk '{print "source:", $5, "bytes"}'

python3 - "$bin" "$work" "$root/scripts/nginx-rtmp.conf.in" "${RELAY_PLAYERS:-1 10 50}" <<'PY'
import os, re, socket, subprocess, sys, time
bin, work, conf_in, counts = sys.argv[1], sys.argv[2], sys.argv[3], [int(n) for n in sys.argv[4].split()]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def wait_port(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close(); return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")

def cpu(pid):
    # Nanoseconds on a CPU, summed over the process's threads
    # (/proc/<pid>/task/*/schedstat); utime + stime has only 10 ms ticks.
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        total += int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0])
    return total / 1e9

def hwm(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmHWM:"):
            return int(l.split()[1]) / 1024
    return 0.0

def start_nginx():
    port = free_port()
    d = f"{work}/nginx"; os.makedirs(f"{d}/rec", exist_ok=True)
    open(f"{d}/nginx.conf", "w").write(open(conf_in).read().replace("@DIR@", d).replace("@PORT@", str(port)))
    p = subprocess.Popen(["nginx", "-p", d, "-c", f"{d}/nginx.conf"], stderr=subprocess.DEVNULL)
    wait_port(port); return p, port

def start_ours():
    p = subprocess.Popen([f"{bin}/rtmp-serve", "--listen", "127.0.0.1:0", "-q", "--max-connections", "256"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(p.stdout.readline().rsplit(":", 1)[1]); return p, port

def run(server, port, n, tag, name):
    """Three publishes to n players each: (server CPU seconds, MB the players received)."""
    total_cpu, total_mb = 0.0, 0.0
    for r in range(3):
        c, mb = run_once(server, port, n, f"{tag}_{r}", name)
        total_cpu += c
        total_mb += mb
    return total_cpu, total_mb

def run_once(server, port, n, tag, name):
    url = f"rtmp://127.0.0.1:{port}/live/bench{tag}"
    players = [subprocess.Popen([f"{bin}/rtmp-pull", url, "-o", "/dev/null", "--timeout", "30"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(n)]
    time.sleep(0.5 + n * 0.02)
    c0 = cpu(server.pid)
    subprocess.run([f"{bin}/rtmp-push", "--fast", "-q", f"{work}/src.flv", url], check=True)
    got = 0
    for p in players:
        _, err = p.communicate(timeout=120)
        m = re.search(r"wrote \d+ tags \((\d+) bytes\)", err)
        if p.returncode == 0 and m:
            got += int(m.group(1))
            continue
        # A peer dropping a player is reported and its bytes still count;
        # rtmp-serve dropping one is a bug and fails the run.
        cut = re.search(r"after \d+ tags, (\d+) bytes", err)
        if name == "rtmp-serve" or not cut:
            sys.exit(f"{name}: a player of {n} failed: {err}")
        print(f"note: {name} cut a player of {n}: {err.strip()}")
        got += int(cut.group(1))
    return cpu(server.pid) - c0, got / 1e6

rows = {}
for name, start in (("nginx-rtmp", start_nginx), ("rtmp-serve", start_ours)):
    server, port = start()
    for n in counts:
        rows[(name, n)] = run(server, port, n, n, name)
    rows[(name, "rss")] = hwm(server.pid)
    server.terminate(); server.wait()

print(f"{'players':>7} {'server':>11} {'CPU ms':>8} {'MB out':>8} {'CPU ms/MB':>10}")
for n in counts:
    for name in ("nginx-rtmp", "rtmp-serve"):
        c, mb = rows[(name, n)]
        print(f"{n:>7} {name:>11} {c*1000:8.0f} {mb:8.1f} {c*1000/mb:10.3f}")
for n in counts:
    (oc, omb), (nc, nmb) = rows[("rtmp-serve", n)], rows[("nginx-rtmp", n)]
    ratio = (oc / omb) / (nc / nmb) if nc > 0 else float("nan")
    print(f"N={n}: rtmp-serve/nginx CPU per delivered MB = {ratio:.2f}x")
print(f"peak RSS: rtmp-serve {rows[('rtmp-serve', 'rss')]:.1f} MiB, nginx {rows[('nginx-rtmp', 'rss')]:.1f} MiB")
PY
