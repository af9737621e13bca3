#!/usr/bin/env bash
# The main job in one command: installs what building the camera needs
# (libclang for bindgen, OpenH264 for the host SDK's encoder) when it is
# missing, then streams the camera for 5 seconds into the embedded RTMP
# server and prints the recording's path (recordings/live/camera.flv).
#
#   scripts/main-job.sh                      5 s into the embedded server
#   scripts/main-job.sh rtmp://host/app/key  any rtmp-push camera arguments
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for p in libclang-dev libopenh264-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "main-job: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
if [ $# -eq 0 ]; then
    set -- --duration 5
fi
exec cargo run --release --locked -p board --bin rtmp-push -- camera "$@"
