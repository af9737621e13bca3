/*
 * Host SDK: H.265 for the video encoder, through libx265 loaded at run time.
 *
 * x265 is GPL, so nothing links it: the first H.265 channel dlopen()s the
 * library the Debian package libx265-199 (or any x265 of the same build)
 * installs and takes its function table from x265_api_get_<BUILD>. The
 * header (libx265-dev) is read at build time for the types only; without
 * it, or without the library at run time, channel creation fails with
 * CVI_ERR_VENC_NOT_SUPPORT and a line on stderr naming the package.
 *
 * The stream follows the board encoder's rules: VPS, SPS and PPS before
 * every IDR (repeat headers), one NAL unit per pack, IDRs only at the GOP
 * or on request (no scene cuts, closed GOPs, no B-frames), bit rate
 * changeable at run time.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvi_venc.h"
#include "host.h"

#if defined(__has_include)
#if __has_include(<x265.h>)
#include <x265.h>
#define HOST_HAVE_X265 1
#endif
#endif

#ifdef HOST_HAVE_X265

#define STR_(x) #x
#define STR(x) STR_(x)

struct host_x265 {
	x265_encoder *enc;
	x265_param *param;
	x265_picture *pic;
	x265_nal *nals;
	uint32_t nnal;
	int force_idr;
};

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const x265_api *api;
static char load_error[256];

static void load(void)
{
	/* The soname of the build our header describes, then the dev symlink. */
	const char *names[] = { "libx265.so." STR(X265_BUILD), "libx265.so" };
	void *lib = NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !lib; i++)
		lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(load_error, sizeof(load_error), "%s", dlerror());
		return;
	}
	const x265_api *(*get)(int) = (const x265_api *(*)(int))dlsym(lib, "x265_api_get_" STR(X265_BUILD));
	const x265_api *a = get ? get(8) : NULL;
	if (!a || a->api_build_number != X265_BUILD || a->sizeof_param != (int)sizeof(x265_param) ||
	    a->sizeof_picture != (int)sizeof(x265_picture)) {
		snprintf(load_error, sizeof(load_error), "libx265 is not build %d with 8-bit support", X265_BUILD);
		dlclose(lib);
		return;
	}
	api = a;
}

/* Sets one x265 option from a number; 0 on success. */
static int set(x265_param *p, const char *name, unsigned value)
{
	char v[16];
	snprintf(v, sizeof(v), "%u", value);
	return api->param_parse(p, name, v);
}

/* The average rate, under a one-second VBV at the same rate. */
static int set_rate(x265_param *p, CVI_U32 kbps)
{
	return set(p, "bitrate", kbps) | set(p, "vbv-maxrate", kbps) | set(p, "vbv-bufsize", kbps);
}

CVI_S32 host_x265_open(struct host_x265 **out, CVI_U32 w, CVI_U32 h, CVI_U32 fps, CVI_U32 gop, CVI_U32 kbps,
		       int cbr)
{
	pthread_once(&load_once, load);
	if (!api) {
		fprintf(stderr,
			"host SDK: H.265 needs libx265 at run time (Debian: apt-get install libx265-199): %s\n",
			load_error);
		return CVI_ERR_VENC_NOT_SUPPORT;
	}
	struct host_x265 *x = calloc(1, sizeof(*x));
	x265_param *p = api->param_alloc();
	x265_picture *pic = api->picture_alloc();
	if (!x || !p || !pic) {
		free(x);
		if (p)
			api->param_free(p);
		if (pic)
			api->picture_free(pic);
		return CVI_ERR_VENC_NOMEM;
	}
	int err = api->param_default_preset(p, "ultrafast", "zerolatency");
	err |= api->param_parse(p, "log-level", "error");
	p->sourceWidth = (int)w;
	p->sourceHeight = (int)h;
	p->internalCsp = X265_CSP_I420;
	err |= set(p, "fps", fps);
	err |= set(p, "keyint", gop) | set(p, "min-keyint", gop);
	err |= set(p, "scenecut", 0) | api->param_parse(p, "open-gop", "0") | set(p, "bframes", 0);
	err |= api->param_parse(p, "repeat-headers", "1") | api->param_parse(p, "info", "0");
	err |= api->param_parse(p, "annexb", "1") | set(p, "frame-threads", 1) | api->param_parse(p, "pools", "1");
	(void)cbr; /* ABR under the VBV serves both: a camera's CBR is a ceiling */
	err |= set_rate(p, kbps);
	err |= api->param_apply_profile(p, "main");
	x265_encoder *enc = err == 0 ? api->encoder_open(p) : NULL;
	if (!enc) {
		api->param_free(p);
		api->picture_free(pic);
		free(x);
		return CVI_ERR_VENC_ILLEGAL_PARAM;
	}
	api->picture_init(p, pic);
	x->enc = enc;
	x->param = p;
	x->pic = pic;
	*out = x;
	return CVI_SUCCESS;
}

void host_x265_close(struct host_x265 *x)
{
	if (!x)
		return;
	api->encoder_close(x->enc);
	api->param_free(x->param);
	api->picture_free(x->pic);
	free(x);
}

/*
 * A new rate. x265 picks the stream's level from the VBV rate and will not
 * reconfigure rate control across a level (x265_encoder_reconfig returns 0
 * and keeps the old rate), nor move the average under a fixed VBV, so the
 * host starts a new stream at the new rate: the next frame is an IDR with
 * new parameter sets. (The board's encoder changes the rate in place.)
 */
CVI_S32 host_x265_set_rate(struct host_x265 *x, CVI_U32 kbps, int cbr)
{
	(void)cbr;
	x265_param *now = api->param_alloc();
	if (!now)
		return CVI_ERR_VENC_NOMEM;
	api->encoder_parameters(x->enc, now);
	CVI_U32 old = (CVI_U32)now->rc.bitrate;
	api->param_free(now);
	if (old == kbps)
		return CVI_SUCCESS;
	if (set_rate(x->param, kbps) != 0)
		return CVI_ERR_VENC_ILLEGAL_PARAM;
	x265_encoder *enc = api->encoder_open(x->param);
	if (!enc) {
		set_rate(x->param, old);
		return CVI_ERR_VENC_ILLEGAL_PARAM;
	}
	api->encoder_close(x->enc);
	x->enc = enc;
	x->force_idr = 1;
	return CVI_SUCCESS;
}

void host_x265_request_idr(struct host_x265 *x)
{
	x->force_idr = 1;
}

int host_x265_encode(struct host_x265 *x, unsigned char *planes[3], CVI_U32 w, CVI_U64 pts)
{
	x265_picture *pic = x->pic;
	pic->planes[0] = planes[0];
	pic->planes[1] = planes[1];
	pic->planes[2] = planes[2];
	pic->stride[0] = (int)w;
	pic->stride[1] = pic->stride[2] = (int)w / 2;
	pic->bitDepth = 8;
	pic->colorSpace = X265_CSP_I420;
	pic->pts = (int64_t)pts;
	pic->sliceType = x->force_idr ? X265_TYPE_IDR : X265_TYPE_AUTO;
	x->force_idr = 0;
	x->nals = NULL;
	x->nnal = 0;
	int n = api->encoder_encode(x->enc, &x->nals, &x->nnal, pic, NULL);
	return n < 0 ? -1 : (int)x->nnal;
}

void host_x265_nal(const struct host_x265 *x, int i, const unsigned char **data, CVI_U32 *len)
{
	*data = x->nals[i].payload;
	*len = x->nals[i].sizeBytes;
}

#else /* no x265.h at build time */

struct host_x265;

CVI_S32 host_x265_open(struct host_x265 **out, CVI_U32 w, CVI_U32 h, CVI_U32 fps, CVI_U32 gop, CVI_U32 kbps,
		       int cbr)
{
	(void)out, (void)w, (void)h, (void)fps, (void)gop, (void)kbps, (void)cbr;
	fprintf(stderr, "host SDK: built without H.265 (install libx265-dev and rebuild hw-sys)\n");
	return CVI_ERR_VENC_NOT_SUPPORT;
}

void host_x265_close(struct host_x265 *x)
{
	(void)x;
}

CVI_S32 host_x265_set_rate(struct host_x265 *x, CVI_U32 kbps, int cbr)
{
	(void)x, (void)kbps, (void)cbr;
	return CVI_ERR_VENC_NOT_SUPPORT;
}

void host_x265_request_idr(struct host_x265 *x)
{
	(void)x;
}

int host_x265_encode(struct host_x265 *x, unsigned char *planes[3], CVI_U32 w, CVI_U64 pts)
{
	(void)x, (void)planes, (void)w, (void)pts;
	return -1;
}

void host_x265_nal(const struct host_x265 *x, int i, const unsigned char **data, CVI_U32 *len)
{
	(void)x, (void)i;
	*data = NULL;
	*len = 0;
}

#endif
