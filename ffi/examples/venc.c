/* venc URL SECONDS [h264|h265] [AUDIO.aac]
 *
 * Firmware that runs its own encoder and wants only the sending: it draws
 * 640x480 NV21 pictures itself (a moving bar and a frame counter in binary
 * squares), encodes them with the media SDK's VENC (CVI_VENC_SendFrame,
 * CVI_VENC_GetStream) and gives each stream to rtmp_push_venc_stream,
 * which writes the packs to the socket from the encoder's memory, before
 * CVI_VENC_ReleaseStream. With AUDIO.aac (ADTS), its frames are sent beside
 * the video at their pace with rtmp_push_aac, as an AENC channel would
 * give them. 30 frames a second for SECONDS.
 *
 * Built against the SDK's headers: hw-sys/host/include for the host SDK
 * (CI), the vendor's include directory on the board (the Makefile picks).
 * Exit status: 0 sent, 1 failed (one line saying why), 2 usage. */
#include "rtmp_board.h"

#include "cvi_comm_venc.h"
#include "cvi_sys.h"
#include "cvi_venc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { W = 640, H = 480, FPS = 30, CHN = 0, MAX_PACKS = 16 };

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sleep_until_us(uint64_t t) {
    struct timespec ts = {(time_t)(t / 1000000u), (long)(t % 1000000u) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
    }
}

/* A gray picture, a bar moving across it, and the frame number as 16
 * black-or-white squares along the top. */
static void draw(uint8_t *nv21, unsigned n) {
    uint8_t *y = nv21, *vu = nv21 + W * H;
    memset(y, 96, W * H);
    memset(vu, 128, W * H / 2);
    unsigned x0 = (n * 8) % W;
    for (unsigned row = 120; row < 360; row++)
        for (unsigned x = x0; x < x0 + 32 && x < W; x++) y[row * W + x] = 235;
    for (unsigned bit = 0; bit < 16; bit++) {
        uint8_t v = (n >> (15 - bit)) & 1 ? 235 : 16;
        for (unsigned row = 8; row < 40; row++) memset(y + row * W + 8 + bit * 38, v, 32);
    }
}

struct adts {
    uint8_t *data;
    size_t len, pos;
    unsigned rate;
};

static const unsigned adts_rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                      22050, 16000, 12000, 11025, 8000,  7350};

/* The next ADTS frame's length (0 at the end or on a malformed header). */
static size_t adts_next(struct adts *a) {
    const uint8_t *p = a->data + a->pos;
    if (a->len - a->pos < 7 || p[0] != 0xFF || (p[1] & 0xF6) != 0xF0) return 0;
    unsigned idx = (p[2] >> 2) & 0xF;
    size_t n = ((size_t)(p[3] & 3) << 11) | ((size_t)p[4] << 3) | (p[5] >> 5);
    if (idx >= sizeof adts_rates / sizeof adts_rates[0] || n < 7 || n > a->len - a->pos) return 0;
    a->rate = adts_rates[idx];
    return n;
}

static int sdk_failed(const char *call, CVI_S32 ret) {
    fprintf(stderr, "venc: %s failed (SDK code 0x%08X)\n", call, (unsigned)ret);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: venc rtmp://host[:port]/app/stream SECONDS [h264|h265] [AUDIO.aac]\n");
        return 2;
    }
    double seconds = atof(argv[2]);
    int h265 = argc >= 4 && strcmp(argv[3], "h265") == 0;
    if (seconds <= 0 || (argc >= 4 && !h265 && strcmp(argv[3], "h264") != 0)) {
        fprintf(stderr, "venc: SECONDS > 0, and the codec h264 or h265\n");
        return 2;
    }
    struct adts audio = {0};
    if (argc == 5) {
        FILE *f = fopen(argv[4], "rb");
        if (!f) {
            perror(argv[4]);
            return 1;
        }
        fseek(f, 0, SEEK_END);
        audio.len = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        audio.data = malloc(audio.len ? audio.len : 1);
        if (!audio.data || fread(audio.data, 1, audio.len, f) != audio.len) {
            fprintf(stderr, "venc: cannot read %s\n", argv[4]);
            return 1;
        }
        fclose(f);
    }

    CVI_S32 ret;
    if ((ret = CVI_SYS_Init()) != CVI_SUCCESS) return sdk_failed("CVI_SYS_Init", ret);
    CVI_U64 phys;
    void *virt;
    if ((ret = CVI_SYS_IonAlloc(&phys, &virt, "venc-example", W * H * 3 / 2)) != CVI_SUCCESS)
        return sdk_failed("CVI_SYS_IonAlloc", ret);

    VENC_CHN_ATTR_S attr;
    memset(&attr, 0, sizeof attr);
    attr.stVencAttr.enType = h265 ? PT_H265 : PT_H264;
    attr.stVencAttr.u32MaxPicWidth = attr.stVencAttr.u32PicWidth = W;
    attr.stVencAttr.u32MaxPicHeight = attr.stVencAttr.u32PicHeight = H;
    attr.stVencAttr.u32BufSize = 1 << 20;
    attr.stVencAttr.bByFrame = CVI_TRUE;
    attr.stRcAttr.enRcMode = h265 ? VENC_RC_MODE_H265CBR : VENC_RC_MODE_H264CBR;
    attr.stRcAttr.stH264Cbr.u32Gop = FPS;
    attr.stRcAttr.stH264Cbr.u32StatTime = 2;
    attr.stRcAttr.stH264Cbr.u32SrcFrameRate = FPS;
    attr.stRcAttr.stH264Cbr.fr32DstFrameRate = FPS;
    attr.stRcAttr.stH264Cbr.u32BitRate = 1000; /* kbit/s */
    attr.stGopAttr.enGopMode = VENC_GOPMODE_NORMALP;
    if ((ret = CVI_VENC_CreateChn(CHN, &attr)) != CVI_SUCCESS) return sdk_failed("CVI_VENC_CreateChn", ret);
    VENC_RECV_PIC_PARAM_S recv = {.s32RecvPicNum = -1};
    if ((ret = CVI_VENC_StartRecvFrame(CHN, &recv)) != CVI_SUCCESS) return sdk_failed("CVI_VENC_StartRecvFrame", ret);

    /* The URL holds the stream key: it is never printed (nor is it in the error). */
    char error[256];
    struct rtmp_push *p = rtmp_push_connect(argv[1], h265 ? RTMP_CODEC_H265 : RTMP_CODEC_H264, error, sizeof error);
    if (!p) {
        fprintf(stderr, "venc: %s\n", error);
        return 1;
    }

    unsigned frames = (unsigned)(seconds * FPS), media_errors = 0;
    uint64_t start = now_us(), audio_us = start;
    int status = 0;
    for (unsigned n = 0; n < frames && status == 0; n++) {
        uint64_t due = start + (uint64_t)n * 1000000u / FPS;
        /* Audio up to this frame's time, paced with the video. */
        size_t alen;
        while (audio.data && audio_us <= due && (alen = adts_next(&audio)) > 0) {
            if (rtmp_push_aac(p, audio.data + audio.pos, alen, audio_us) == RTMP_BOARD_ERR_RTMP) {
                status = 1;
                break;
            }
            audio.pos += alen;
            audio_us += 1024u * 1000000u / audio.rate;
        }
        sleep_until_us(due);
        draw(virt, n);
        VIDEO_FRAME_INFO_S frame;
        memset(&frame, 0, sizeof frame);
        frame.stVFrame.u32Width = W;
        frame.stVFrame.u32Height = H;
        frame.stVFrame.enPixelFormat = PIXEL_FORMAT_NV21;
        frame.stVFrame.u32Stride[0] = frame.stVFrame.u32Stride[1] = W;
        frame.stVFrame.u64PhyAddr[0] = phys;
        frame.stVFrame.u64PhyAddr[1] = phys + W * H;
        frame.stVFrame.u32Length[0] = W * H;
        frame.stVFrame.u32Length[1] = W * H / 2;
        frame.stVFrame.u64PTS = due;
        if ((ret = CVI_VENC_SendFrame(CHN, &frame, 1000)) != CVI_SUCCESS) {
            status = sdk_failed("CVI_VENC_SendFrame", ret);
            break;
        }
        VENC_PACK_S packs[MAX_PACKS];
        VENC_STREAM_S stream;
        memset(&stream, 0, sizeof stream);
        stream.pstPack = packs;
        stream.u32PackCount = MAX_PACKS;
        if ((ret = CVI_VENC_GetStream(CHN, &stream, 1000)) != CVI_SUCCESS) {
            status = sdk_failed("CVI_VENC_GetStream", ret);
            break;
        }
        int sent = rtmp_push_venc_stream(p, &stream);
        CVI_VENC_ReleaseStream(CHN, &stream);
        if (sent == RTMP_BOARD_ERR_MEDIA) {
            fprintf(stderr, "venc: frame %u not sent: %s\n", n, rtmp_push_last_error(p));
            media_errors++;
        } else if (sent != RTMP_BOARD_OK) {
            status = 1;
        }
    }
    if (status) fprintf(stderr, "venc: %s\n", rtmp_push_last_error(p));
    struct rtmp_push_stats s = {0};
    if (rtmp_push_close(p, &s) != RTMP_BOARD_OK && !status) {
        fprintf(stderr, "venc: the close failed\n");
        status = 1;
    }
    CVI_VENC_StopRecvFrame(CHN);
    CVI_VENC_DestroyChn(CHN);
    CVI_SYS_IonFree(phys, virt);
    CVI_SYS_Exit();
    free(audio.data);
    printf("venc: sent %llu video and %llu audio frames (%llu bytes), %u not sent\n",
           (unsigned long long)s.video_frames, (unsigned long long)s.audio_frames, (unsigned long long)s.bytes_sent,
           media_errors);
    return status;
}
