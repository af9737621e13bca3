# Sourced by the push benchmarks: the 20 s 1280x720 30 fps H.264 (3 Mbit/s)
# + AAC source both push, made with Debian's ffmpeg.
make_source() {
    echo "making a 20 s 1280x720 H.264 + AAC source..."
    ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30 \
        -f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 -ac 2 \
        -c:v libx264 -preset veryfast -b:v 3M -g 60 -pix_fmt yuv420p -c:a aac -b:a 128k "$1"
    ls -l "$1" | awk '{print "source:", $5, "bytes"}'
}
