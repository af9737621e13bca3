/* camera URL [SECONDS]
 *
 * Streams the board's camera (640x480, 30 fps, H.264 from the hardware
 * encoder) and microphone (48 kHz mono AAC) to URL through the camera
 * pipeline's C API (rtmp_board.h), for SECONDS or until interrupted,
 * printing a status line a second on a terminal and the final counters.
 * Exit status: 0 stopped cleanly, 1 failed (one line saying why, with the
 * media SDK's code when it was the cause), 2 usage. */
#include "rtmp_board.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int failed(struct rtmp *r) {
    unsigned sdk = rtmp_last_sdk_error(r);
    if (sdk) fprintf(stderr, "camera: %s (SDK code 0x%08X)\n", rtmp_last_error(r), sdk);
    else fprintf(stderr, "camera: %s\n", rtmp_last_error(r));
    rtmp_free(r);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: camera rtmp://host[:port]/app/stream [SECONDS]\n");
        return 2;
    }
    double seconds = argc == 3 ? atof(argv[2]) : 0;
    /* The URL holds the stream key: it is never printed. */
    struct rtmp *r = rtmp_new_url(argv[1]);
    if (!r) {
        fprintf(stderr, "camera: not a valid rtmp:// or rtmps:// URL\n");
        return 2;
    }
    if (rtmp_bind_camera(r, 640, 480, 30) < 0 || rtmp_bind_audio(r, 48000, 1) < 0 || rtmp_start(r) < 0) {
        return failed(r);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int tty = isatty(2);
    double start = now_s();
    while (!interrupted && rtmp_is_running(r) && (seconds <= 0 || now_s() - start < seconds)) {
        usleep(100000);
        struct rtmp_stats s;
        if (tty && rtmp_stats(r, &s) == RTMP_BOARD_OK) {
            fprintf(stderr, "\r%6.1f s  %5.0f kbit/s  %4.1f fps  dropped %llu  reconnects %u ", s.seconds,
                    s.bitrate / 1000, s.fps, (unsigned long long)s.dropped_frames, s.reconnects);
        }
    }
    int gave_up = !rtmp_is_running(r);
    struct rtmp_stats s = {0};
    /* The pipeline keeps trying a server that is not there yet (a camera may
     * boot before its network); a run that never got a frame out failed. */
    if (rtmp_stop(r, &s) < 0 || gave_up || s.video_frames == 0) return failed(r);
    if (tty) fprintf(stderr, "\n");
    printf("camera: sent %llu video and %llu audio frames (%llu bytes) in %.1f s, %u reconnects, %llu dropped\n",
           (unsigned long long)s.video_frames, (unsigned long long)s.audio_frames, (unsigned long long)s.bytes_sent,
           s.seconds, s.reconnects, (unsigned long long)s.dropped_frames);
    rtmp_free(r);
    return 0;
}
