/*
 * Host SDK: the video decoder's conformant backend, libavcodec loaded at
 * run time (Debian builds it GPL, so nothing links it: the first channel
 * dlopen()s libavcodec.so.<major> and libavutil.so.<major> of the
 * libavcodec-dev headers read at build time). It decodes H.264 bit-exactly
 * (OpenH264, the fallback, is off by one on some x264 B-frames) and H.265.
 * Without the headers at build time or the libraries at run time,
 * host_lavc_open returns CVI_ERR_VDEC_NOT_SUPPORT and vdec.c falls back.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvi_vdec.h"
#include "host.h"

#if defined(__has_include)
#if __has_include(<libavcodec/avcodec.h>)
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#define HOST_HAVE_LAVC 1
#endif
#endif

#ifdef HOST_HAVE_LAVC

#define STR_(x) #x
#define STR(x) STR_(x)

static struct {
	const AVCodec *(*find_decoder)(enum AVCodecID);
	AVCodecContext *(*alloc_context3)(const AVCodec *);
	int (*open2)(AVCodecContext *, const AVCodec *, AVDictionary **);
	void (*free_context)(AVCodecContext **);
	AVPacket *(*packet_alloc)(void);
	void (*packet_free)(AVPacket **);
	int (*send_packet)(AVCodecContext *, const AVPacket *);
	int (*receive_frame)(AVCodecContext *, AVFrame *);
	unsigned (*version)(void);
	AVFrame *(*frame_alloc)(void);
	void (*frame_free)(AVFrame **);
	void (*frame_unref)(AVFrame *);
} av;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded;

static void load(void)
{
	void *codec = dlopen("libavcodec.so." STR(LIBAVCODEC_VERSION_MAJOR), RTLD_NOW | RTLD_LOCAL);
	void *util = dlopen("libavutil.so." STR(LIBAVUTIL_VERSION_MAJOR), RTLD_NOW | RTLD_LOCAL);
	if (!codec || !util)
		return;
#define SYM(lib, field, name) *(void **)(&av.field) = dlsym(lib, name)
	SYM(codec, find_decoder, "avcodec_find_decoder");
	SYM(codec, alloc_context3, "avcodec_alloc_context3");
	SYM(codec, open2, "avcodec_open2");
	SYM(codec, free_context, "avcodec_free_context");
	SYM(codec, packet_alloc, "av_packet_alloc");
	SYM(codec, packet_free, "av_packet_free");
	SYM(codec, send_packet, "avcodec_send_packet");
	SYM(codec, receive_frame, "avcodec_receive_frame");
	SYM(codec, version, "avcodec_version");
	SYM(util, frame_alloc, "av_frame_alloc");
	SYM(util, frame_free, "av_frame_free");
	SYM(util, frame_unref, "av_frame_unref");
#undef SYM
	loaded = av.find_decoder && av.alloc_context3 && av.open2 && av.free_context && av.packet_alloc &&
		 av.packet_free && av.send_packet && av.receive_frame && av.version && av.frame_alloc &&
		 av.frame_free && av.frame_unref && (av.version() >> 16) == LIBAVCODEC_VERSION_MAJOR;
}

struct host_lavc {
	AVCodecContext *ctx;
	AVPacket *pkt;
	AVFrame *frame;
	int draining;
};

CVI_S32 host_lavc_open(struct host_lavc **out, int h265)
{
	if (getenv("HWSYS_HOST_VDEC") && strcmp(getenv("HWSYS_HOST_VDEC"), "openh264") == 0)
		return CVI_ERR_VDEC_NOT_SUPPORT; /* asked for the fallback */
	pthread_once(&load_once, load);
	if (!loaded)
		return CVI_ERR_VDEC_NOT_SUPPORT;
	const AVCodec *codec = av.find_decoder(h265 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
	struct host_lavc *d = calloc(1, sizeof *d);
	if (!codec || !d) {
		free(d);
		return CVI_ERR_VDEC_NOT_SUPPORT;
	}
	d->ctx = av.alloc_context3(codec);
	d->pkt = av.packet_alloc();
	d->frame = av.frame_alloc();
	if (!d->ctx || !d->pkt || !d->frame || av.open2(d->ctx, codec, NULL) < 0) {
		host_lavc_close(d);
		return CVI_ERR_VDEC_NOMEM;
	}
	*out = d;
	return CVI_SUCCESS;
}

void host_lavc_close(struct host_lavc *d)
{
	if (!d)
		return;
	av.frame_free(&d->frame);
	av.packet_free(&d->pkt);
	av.free_context(&d->ctx);
	free(d);
}

/* Takes pictures out while `room` lasts; counts them in *emitted. */
static CVI_S32 drain(struct host_lavc *d, host_picture_fn emit, void *arg, int room, int *emitted)
{
	while (*emitted < room) {
		int r = av.receive_frame(d->ctx, d->frame);
		if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
			return CVI_SUCCESS;
		if (r < 0)
			return CVI_ERR_VDEC_ILLEGAL_PARAM;
		AVFrame *f = d->frame;
		CVI_S32 ret = CVI_ERR_VDEC_NOT_SUPPORT; /* only 8-bit 4:2:0 */
		if (f->format == AV_PIX_FMT_YUV420P || f->format == AV_PIX_FMT_YUVJ420P) {
			const unsigned char *planes[3] = { f->data[0], f->data[1], f->data[2] };
			int strides[3] = { f->linesize[0], f->linesize[1], f->linesize[2] };
			CVI_U64 pts = f->pts == AV_NOPTS_VALUE ? 0 : (CVI_U64)f->pts;
			ret = emit(arg, planes, strides, f->width, f->height, pts);
		}
		av.frame_unref(f);
		if (ret != CVI_SUCCESS)
			return ret;
		(*emitted)++;
	}
	return CVI_SUCCESS;
}

int host_lavc_decode(struct host_lavc *d, const unsigned char *data, size_t len, CVI_U64 pts, host_picture_fn emit,
		     void *arg, int room, CVI_S32 *status)
{
	int emitted = 0;
	*status = drain(d, emit, arg, room, &emitted);
	if (*status != CVI_SUCCESS)
		return emitted;
	if (data && len > 0) {
		d->pkt->data = (uint8_t *)data;
		d->pkt->size = (int)len;
		d->pkt->pts = (int64_t)pts;
		d->pkt->dts = AV_NOPTS_VALUE;
		int r = av.send_packet(d->ctx, d->pkt);
		d->pkt->data = NULL;
		d->pkt->size = 0;
		if (r == AVERROR(EAGAIN)) {
			*status = CVI_ERR_VDEC_BUF_FULL; /* pictures still to take first */
			return emitted;
		}
		if (r < 0) {
			*status = CVI_ERR_VDEC_ILLEGAL_PARAM;
			return emitted;
		}
	} else if (!data && !d->draining) {
		d->draining = 1;
		av.send_packet(d->ctx, NULL);
	}
	*status = drain(d, emit, arg, room, &emitted);
	return emitted;
}

#else

CVI_S32 host_lavc_open(struct host_lavc **out, int h265)
{
	(void)out;
	(void)h265;
	return CVI_ERR_VDEC_NOT_SUPPORT;
}

void host_lavc_close(struct host_lavc *d)
{
	(void)d;
}

int host_lavc_decode(struct host_lavc *d, const unsigned char *data, size_t len, CVI_U64 pts, host_picture_fn emit,
		     void *arg, int room, CVI_S32 *status)
{
	(void)d;
	(void)data;
	(void)len;
	(void)pts;
	(void)emit;
	(void)arg;
	(void)room;
	*status = CVI_ERR_VDEC_NOT_SUPPORT;
	return 0;
}

#endif
