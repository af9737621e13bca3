/*
 * Host SDK: the video encoder. H.264 through OpenH264 (BSD licence), H.265
 * through libx265 loaded at run time (venc_x265.c; GPL, so never linked).
 *
 * The vendor's rules are kept so the board layer is tested honestly:
 * encoded frames wait in a bounded queue in physical memory; GetStream maps
 * the oldest one and hands out one pack per NAL unit (SPS, PPS and IDR
 * separately, Annex-B start codes included, DataType set); ReleaseStream
 * unmaps it, so a pointer kept past it faults; one stream may be out per
 * channel; the caller sizes the pack array from QueryStatus; GetFd polls
 * readable while a stream is ready; bit rates are in kbit/s.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <wels/codec_api.h>

#include "cvi_sys.h"
#include "cvi_venc.h"
#include "host.h"

#define MAX_CHN 4
#define QUEUE 4
#define MAX_PACKS 16

struct pack {
	CVI_U32 off, len;
	CVI_U32 type; /* H264E_NALU_TYPE_E or H265E_NALU_TYPE_E */
};

struct frame {
	CVI_U64 phys;
	CVI_U32 len, npacks, seq;
	CVI_U64 pts;
	struct pack packs[MAX_PACKS];
};

struct chn {
	int created, receiving;
	VENC_CHN_ATTR_S attr;
	ISVCEncoder *enc; /* H.264 */
	struct host_x265 *x265; /* H.265 */
	pthread_mutex_t encode; /* serialises the encoder; the queue uses `lock` */
	int efd;
	struct frame q[QUEUE];
	int head, count;
	int out; /* a stream is out: the head frame, mapped at map */
	void *map;
	unsigned char *i420;
	CVI_U32 seq;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void close_encoder(ISVCEncoder *enc, struct host_x265 *x265);
static CVI_S32 open_h264(const VENC_CHN_ATTR_S *pstAttr, ISVCEncoder **out);
static struct chn chns[MAX_CHN];

static int valid(VENC_CHN c)
{
	return c >= 0 && c < MAX_CHN;
}

static int is_vbr(const VENC_RC_ATTR_S *rc)
{
	return rc->enRcMode == VENC_RC_MODE_H264VBR || rc->enRcMode == VENC_RC_MODE_H265VBR;
}

static CVI_U32 kbps(const VENC_RC_ATTR_S *rc)
{
	/* CBR and VBR of both codecs share the layout. */
	return is_vbr(rc) ? rc->stH264Vbr.u32MaxBitRate : rc->stH264Cbr.u32BitRate;
}

/* Checks what this encoder can do; the error says what it cannot. */
static CVI_S32 check_attr(const VENC_CHN_ATTR_S *a)
{
	const VENC_ATTR_S *v = &a->stVencAttr;
	if (v->enType != PT_H264 && v->enType != PT_H265)
		return CVI_ERR_VENC_NOT_SUPPORT;
	if (v->u32Profile != 0)
		return CVI_ERR_VENC_NOT_SUPPORT; /* H.264 baseline, H.265 Main only on the host */
	if (v->u32PicWidth < 16 || v->u32PicHeight < 16 || v->u32PicWidth > 4096 || v->u32PicHeight > 4096 ||
	    (v->u32PicWidth | v->u32PicHeight) & 1)
		return CVI_ERR_VENC_ILLEGAL_PARAM;
	VENC_RC_MODE_E rc = a->stRcAttr.enRcMode;
	if (v->enType == PT_H264 ? rc != VENC_RC_MODE_H264CBR && rc != VENC_RC_MODE_H264VBR
				 : rc != VENC_RC_MODE_H265CBR && rc != VENC_RC_MODE_H265VBR)
		return CVI_ERR_VENC_NOT_SUPPORT;
	const VENC_H264_CBR_S *r = &a->stRcAttr.stH264Cbr; /* VBR shares the layout */
	if (kbps(&a->stRcAttr) == 0 || kbps(&a->stRcAttr) > 100000 || r->u32Gop == 0 || r->u32SrcFrameRate == 0 ||
	    r->u32SrcFrameRate > 120 || (r->fr32DstFrameRate & 0xFFFF) == 0)
		return CVI_ERR_VENC_ILLEGAL_PARAM;
	if (a->stGopAttr.enGopMode != VENC_GOPMODE_NORMALP)
		return CVI_ERR_VENC_NOT_SUPPORT;
	return CVI_SUCCESS;
}

static float fps_of(const VENC_CHN_ATTR_S *a)
{
	return (float)(a->stRcAttr.stH264Cbr.fr32DstFrameRate & 0xFFFF);
}

CVI_S32 CVI_VENC_CreateChn(VENC_CHN VeChn, const VENC_CHN_ATTR_S *pstAttr)
{
	if (!valid(VeChn))
		return CVI_ERR_VENC_INVALID_CHNID;
	if (!pstAttr)
		return CVI_ERR_VENC_NULL_PTR;
	if (!host_sys_ready())
		return CVI_ERR_VENC_SYS_NOTREADY;
	CVI_S32 ret = check_attr(pstAttr);
	if (ret != CVI_SUCCESS)
		return ret;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VeChn];
	if (c->created) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_EXIST;
	}
	const VENC_ATTR_S *v = &pstAttr->stVencAttr;
	ISVCEncoder *enc = NULL;
	struct host_x265 *x265 = NULL;
	if (v->enType == PT_H265) {
		const VENC_H264_CBR_S *r = &pstAttr->stRcAttr.stH264Cbr;
		ret = host_x265_open(&x265, v->u32PicWidth, v->u32PicHeight, r->fr32DstFrameRate & 0xFFFF, r->u32Gop,
				     kbps(&pstAttr->stRcAttr), !is_vbr(&pstAttr->stRcAttr));
		if (ret != CVI_SUCCESS) {
			pthread_mutex_unlock(&lock);
			return ret;
		}
	} else if ((ret = open_h264(pstAttr, &enc)) != CVI_SUCCESS) {
		pthread_mutex_unlock(&lock);
		return ret;
	}
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
	unsigned char *i420 = malloc((size_t)v->u32PicWidth * v->u32PicHeight * 3 / 2);
	if (efd < 0 || !i420) {
		if (efd >= 0)
			close(efd);
		free(i420);
		close_encoder(enc, x265);
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_NOMEM;
	}
	memset(c, 0, sizeof(*c));
	c->created = 1;
	c->attr = *pstAttr;
	c->enc = enc;
	c->x265 = x265;
	c->efd = efd;
	c->i420 = i420;
	pthread_mutex_init(&c->encode, NULL);
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

static void close_encoder(ISVCEncoder *enc, struct host_x265 *x265)
{
	if (enc) {
		(*enc)->Uninitialize(enc);
		WelsDestroySVCEncoder(enc);
	}
	host_x265_close(x265);
}

/* An OpenH264 encoder for the channel's attributes. */
static CVI_S32 open_h264(const VENC_CHN_ATTR_S *pstAttr, ISVCEncoder **out)
{
	const VENC_ATTR_S *v = &pstAttr->stVencAttr;
	ISVCEncoder *enc = NULL;
	SEncParamExt p;
	if (WelsCreateSVCEncoder(&enc) != 0 || !enc)
		return CVI_ERR_VENC_NOMEM;
	int trace = WELS_LOG_ERROR; /* no warnings on the caller's stderr */
	(*enc)->SetOption(enc, ENCODER_OPTION_TRACE_LEVEL, &trace);
	(*enc)->GetDefaultParams(enc, &p);
	p.iUsageType = CAMERA_VIDEO_REAL_TIME;
	p.iPicWidth = (int)v->u32PicWidth;
	p.iPicHeight = (int)v->u32PicHeight;
	p.iTargetBitrate = (int)(kbps(&pstAttr->stRcAttr) * 1000);
	p.iMaxBitrate = pstAttr->stRcAttr.enRcMode == VENC_RC_MODE_H264CBR ? p.iTargetBitrate : UNSPECIFIED_BIT_RATE;
	p.iRCMode = RC_BITRATE_MODE;
	p.fMaxFrameRate = fps_of(pstAttr);
	p.uiIntraPeriod = pstAttr->stRcAttr.stH264Cbr.u32Gop;
	p.bEnableFrameSkip = false; /* a camera's frames are all kept */
	p.bEnableSceneChangeDetect = false; /* IDRs follow the GOP, as on the board */
	p.iMultipleThreadIdc = 1;
	p.eSpsPpsIdStrategy = CONSTANT_ID;
	p.iEntropyCodingModeFlag = 0;
	p.iSpatialLayerNum = 1;
	p.sSpatialLayers[0].iVideoWidth = p.iPicWidth;
	p.sSpatialLayers[0].iVideoHeight = p.iPicHeight;
	p.sSpatialLayers[0].fFrameRate = p.fMaxFrameRate;
	p.sSpatialLayers[0].iSpatialBitrate = p.iTargetBitrate;
	p.sSpatialLayers[0].iMaxSpatialBitrate = p.iMaxBitrate;
	p.sSpatialLayers[0].uiProfileIdc = PRO_BASELINE;
	p.sSpatialLayers[0].sSliceArgument.uiSliceMode = SM_SINGLE_SLICE;
	if ((*enc)->InitializeExt(enc, &p) != 0) {
		WelsDestroySVCEncoder(enc);
		return CVI_ERR_VENC_ILLEGAL_PARAM;
	}
	*out = enc;
	return CVI_SUCCESS;
}

CVI_S32 CVI_VENC_DestroyChn(VENC_CHN VeChn)
{
	if (!valid(VeChn))
		return CVI_ERR_VENC_INVALID_CHNID;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VeChn];
	if (!c->created) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_UNEXIST;
	}
	if (c->receiving || c->out) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_BUSY; /* stop receiving and release the stream first */
	}
	for (int i = 0; i < c->count; i++)
		host_phys_free(c->q[(c->head + i) % QUEUE].phys);
	pthread_mutex_lock(&c->encode);
	close_encoder(c->enc, c->x265);
	pthread_mutex_unlock(&c->encode);
	pthread_mutex_destroy(&c->encode);
	close(c->efd);
	free(c->i420);
	memset(c, 0, sizeof(*c));
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VENC_StartRecvFrame(VENC_CHN VeChn, const VENC_RECV_PIC_PARAM_S *pstRecvParam)
{
	if (!valid(VeChn))
		return CVI_ERR_VENC_INVALID_CHNID;
	if (!pstRecvParam)
		return CVI_ERR_VENC_NULL_PTR;
	pthread_mutex_lock(&lock);
	CVI_S32 ret = chns[VeChn].created ? CVI_SUCCESS : CVI_ERR_VENC_UNEXIST;
	if (ret == CVI_SUCCESS)
		chns[VeChn].receiving = 1;
	pthread_mutex_unlock(&lock);
	return ret;
}

CVI_S32 CVI_VENC_StopRecvFrame(VENC_CHN VeChn)
{
	if (!valid(VeChn))
		return CVI_ERR_VENC_INVALID_CHNID;
	pthread_mutex_lock(&lock);
	CVI_S32 ret = chns[VeChn].created ? CVI_SUCCESS : CVI_ERR_VENC_UNEXIST;
	chns[VeChn].receiving = 0;
	pthread_mutex_unlock(&lock);
	return ret;
}

CVI_S32 CVI_VENC_QueryStatus(VENC_CHN VeChn, VENC_CHN_STATUS_S *pstStatus)
{
	if (!valid(VeChn))
		return CVI_ERR_VENC_INVALID_CHNID;
	if (!pstStatus)
		return CVI_ERR_VENC_NULL_PTR;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VeChn];
	if (!c->created) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_UNEXIST;
	}
	memset(pstStatus, 0, sizeof(*pstStatus));
	pstStatus->u32LeftStreamFrames = (CVI_U32)c->count;
	for (int i = 0; i < c->count; i++)
		pstStatus->u32LeftStreamBytes += c->q[(c->head + i) % QUEUE].len;
	pstStatus->u32CurPacks = c->count ? c->q[c->head].npacks : 0;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VENC_GetChnAttr(VENC_CHN VeChn, VENC_CHN_ATTR_S *pstChnAttr)
{
	if (!valid(VeChn))
		return CVI_ERR_VENC_INVALID_CHNID;
	if (!pstChnAttr)
		return CVI_ERR_VENC_NULL_PTR;
	pthread_mutex_lock(&lock);
	CVI_S32 ret = chns[VeChn].created ? CVI_SUCCESS : CVI_ERR_VENC_UNEXIST;
	if (ret == CVI_SUCCESS)
		*pstChnAttr = chns[VeChn].attr;
	pthread_mutex_unlock(&lock);
	return ret;
}

/* Changes bit rate, frame rate and GOP at run time; the size is fixed. */
CVI_S32 CVI_VENC_SetChnAttr(VENC_CHN VeChn, const VENC_CHN_ATTR_S *pstChnAttr)
{
	if (!valid(VeChn))
		return CVI_ERR_VENC_INVALID_CHNID;
	if (!pstChnAttr)
		return CVI_ERR_VENC_NULL_PTR;
	CVI_S32 ret = check_attr(pstChnAttr);
	if (ret != CVI_SUCCESS)
		return ret;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VeChn];
	if (!c->created) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_UNEXIST;
	}
	const VENC_ATTR_S *o = &c->attr.stVencAttr, *n = &pstChnAttr->stVencAttr;
	if (o->u32PicWidth != n->u32PicWidth || o->u32PicHeight != n->u32PicHeight) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_NOT_SUPPORT;
	}
	if (o->enType != n->enType) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_NOT_SUPPORT;
	}
	pthread_mutex_lock(&c->encode);
	int err = 0;
	if (c->x265) {
		/* The bit rate changes at run time; x265 keeps frame rate and GOP. */
		const VENC_H264_CBR_S *on = &c->attr.stRcAttr.stH264Cbr, *nn = &pstChnAttr->stRcAttr.stH264Cbr;
		if (on->u32Gop != nn->u32Gop || on->fr32DstFrameRate != nn->fr32DstFrameRate)
			err = 1;
		else
			err = host_x265_set_rate(c->x265, kbps(&pstChnAttr->stRcAttr), !is_vbr(&pstChnAttr->stRcAttr));
	} else {
		SBitrateInfo br = { .iLayer = SPATIAL_LAYER_ALL,
				    .iBitrate = (int)(kbps(&pstChnAttr->stRcAttr) * 1000) };
		err = (*c->enc)->SetOption(c->enc, ENCODER_OPTION_BITRATE, &br);
		if (pstChnAttr->stRcAttr.enRcMode == VENC_RC_MODE_H264CBR)
			err |= (*c->enc)->SetOption(c->enc, ENCODER_OPTION_MAX_BITRATE, &br);
		float fps = fps_of(pstChnAttr);
		err |= (*c->enc)->SetOption(c->enc, ENCODER_OPTION_FRAME_RATE, &fps);
		int idr = (int)pstChnAttr->stRcAttr.stH264Cbr.u32Gop;
		err |= (*c->enc)->SetOption(c->enc, ENCODER_OPTION_IDR_INTERVAL, &idr);
	}
	pthread_mutex_unlock(&c->encode);
	if (err == 0)
		c->attr = *pstChnAttr;
	pthread_mutex_unlock(&lock);
	return err == 0 ? CVI_SUCCESS : CVI_ERR_VENC_ILLEGAL_PARAM;
}

CVI_S32 CVI_VENC_RequestIDR(VENC_CHN VeChn, CVI_BOOL bInstant)
{
	(void)bInstant;
	if (!valid(VeChn))
		return CVI_ERR_VENC_INVALID_CHNID;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VeChn];
	if (!c->created) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_UNEXIST;
	}
	pthread_mutex_lock(&c->encode);
	int err = 0;
	if (c->x265)
		host_x265_request_idr(c->x265);
	else
		err = (*c->enc)->ForceIntraFrame(c->enc, true);
	pthread_mutex_unlock(&c->encode);
	pthread_mutex_unlock(&lock);
	return err == 0 ? CVI_SUCCESS : CVI_ERR_VENC_NOT_PERM;
}

CVI_S32 CVI_VENC_GetFd(VENC_CHN VeChn)
{
	if (!valid(VeChn))
		return CVI_ERR_VENC_INVALID_CHNID;
	pthread_mutex_lock(&lock);
	CVI_S32 fd = chns[VeChn].created ? chns[VeChn].efd : CVI_ERR_VENC_UNEXIST;
	pthread_mutex_unlock(&lock);
	return fd;
}

CVI_S32 CVI_VENC_CloseFd(VENC_CHN VeChn)
{
	/* The descriptor lives as long as the channel. */
	return valid(VeChn) ? CVI_SUCCESS : CVI_ERR_VENC_INVALID_CHNID;
}

/* The NAL units of one encoded frame, where the encoder left them. */
struct nals {
	const unsigned char *data[MAX_PACKS];
	CVI_U32 len[MAX_PACKS];
	int count;
};

/* The vendor's pack type for an H.265 NAL unit type. */
static CVI_U32 h265_pack_type(unsigned t)
{
	switch (t) {
	case 19: /* IDR_W_RADL */
	case 20: /* IDR_N_LP */
		return H265E_NALU_IDRSLICE;
	case H265E_NALU_VPS:
	case H265E_NALU_SPS:
	case H265E_NALU_PPS:
	case H265E_NALU_SEI:
		return t;
	default:
		return t >= 16 && t <= 23 ? H265E_NALU_ISLICE : H265E_NALU_PSLICE;
	}
}

/* Encodes with OpenH264: NAL units out, 0 for a skipped frame, -1 on error. */
static int encode_h264(struct chn *c, unsigned char *planes[3], CVI_U32 w, CVI_U32 h, CVI_U64 pts, struct nals *out)
{
	SSourcePicture pic;
	memset(&pic, 0, sizeof(pic));
	pic.iColorFormat = videoFormatI420;
	pic.iPicWidth = (int)w;
	pic.iPicHeight = (int)h;
	pic.iStride[0] = (int)w;
	pic.iStride[1] = pic.iStride[2] = (int)w / 2;
	pic.pData[0] = planes[0];
	pic.pData[1] = planes[1];
	pic.pData[2] = planes[2];
	pic.uiTimeStamp = (long long)(pts / 1000u);
	SFrameBSInfo info;
	memset(&info, 0, sizeof(info));
	int err = (*c->enc)->EncodeFrame(c->enc, &pic, &info);
	if (err != 0 || info.eFrameType == videoFrameTypeInvalid)
		return -1;
	out->count = 0;
	if (info.eFrameType == videoFrameTypeSkip)
		return 0;
	for (int l = 0; l < info.iLayerNum; l++) {
		const SLayerBSInfo *layer = &info.sLayerInfo[l];
		const unsigned char *src = layer->pBsBuf;
		for (int k = 0; k < layer->iNalCount; k++) {
			CVI_U32 len = (CVI_U32)layer->pNalLengthInByte[k];
			if (out->count < MAX_PACKS) {
				out->data[out->count] = src;
				out->len[out->count++] = len;
			}
			src += len;
		}
	}
	return out->count;
}

/* Encodes with x265: as encode_h264. */
static int encode_h265(struct chn *c, unsigned char *planes[3], CVI_U32 w, CVI_U64 pts, struct nals *out)
{
	int n = host_x265_encode(c->x265, planes, w, pts);
	out->count = 0;
	for (int k = 0; k < n && out->count < MAX_PACKS; k++) {
		host_x265_nal(c->x265, k, &out->data[out->count], &out->len[out->count]);
		out->count++;
	}
	return n < 0 ? -1 : out->count;
}

CVI_S32 CVI_VENC_SendFrame(VENC_CHN VeChn, const VIDEO_FRAME_INFO_S *pstFrame, CVI_S32 s32MilliSec)
{
	(void)s32MilliSec;
	if (!valid(VeChn))
		return CVI_ERR_VENC_INVALID_CHNID;
	if (!pstFrame)
		return CVI_ERR_VENC_NULL_PTR;
	const VIDEO_FRAME_S *f = &pstFrame->stVFrame;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VeChn];
	if (!c->created || !c->receiving) {
		pthread_mutex_unlock(&lock);
		return c->created ? CVI_ERR_VENC_NOT_PERM : CVI_ERR_VENC_UNEXIST;
	}
	CVI_U32 w = c->attr.stVencAttr.u32PicWidth, h = c->attr.stVencAttr.u32PicHeight;
	if (f->u32Width != w || f->u32Height != h || f->enPixelFormat != PIXEL_FORMAT_NV21 || f->u32Stride[0] < w ||
	    f->u32Stride[1] < w) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_ILLEGAL_PARAM;
	}
	if (c->count == QUEUE) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_BUF_FULL; /* nobody is taking the streams */
	}
	pthread_mutex_lock(&c->encode);
	pthread_mutex_unlock(&lock);

	/* The frame's planes, through their physical addresses. */
	size_t ylen = (size_t)f->u32Stride[0] * h, clen = (size_t)f->u32Stride[1] * h / 2;
	unsigned char *y = host_phys_map(f->u64PhyAddr[0], ylen);
	unsigned char *vu = host_phys_map(f->u64PhyAddr[1], clen);
	if (!y || !vu) {
		if (y)
			host_phys_unmap(y, ylen);
		if (vu)
			host_phys_unmap(vu, clen);
		pthread_mutex_unlock(&c->encode);
		return CVI_ERR_VENC_ILLEGAL_PARAM;
	}
	unsigned char *py = c->i420, *pu = py + (size_t)w * h, *pv = pu + (size_t)w * h / 4;
	for (CVI_U32 r = 0; r < h; r++)
		memcpy(py + (size_t)r * w, y + (size_t)r * f->u32Stride[0], w);
	for (CVI_U32 r = 0; r < h / 2; r++) {
		const unsigned char *row = vu + (size_t)r * f->u32Stride[1];
		for (CVI_U32 k = 0; k < w / 2; k++) {
			pv[(size_t)r * (w / 2) + k] = row[2 * k]; /* NV21: V first */
			pu[(size_t)r * (w / 2) + k] = row[2 * k + 1];
		}
	}
	host_phys_unmap(y, ylen);
	host_phys_unmap(vu, clen);

	struct nals out;
	unsigned char *planes[3] = { py, pu, pv };
	int n = c->x265 ? encode_h265(c, planes, w, f->u64PTS, &out) : encode_h264(c, planes, w, h, f->u64PTS, &out);
	if (n <= 0) {
		/* An error, or a frame the encoder skipped or keeps for later. */
		pthread_mutex_unlock(&c->encode);
		return n < 0 ? CVI_ERR_VENC_BUSY : CVI_SUCCESS;
	}
	/* Copy the NAL units into the channel's stream memory, one pack each. */
	struct frame fr;
	memset(&fr, 0, sizeof(fr));
	for (int k = 0; k < out.count; k++)
		fr.len += out.len[k];
	fr.pts = f->u64PTS;
	fr.phys = host_phys_alloc(fr.len);
	unsigned char *dst = fr.phys ? host_phys_map(fr.phys, fr.len) : NULL;
	if (!dst) {
		if (fr.phys)
			host_phys_free(fr.phys);
		pthread_mutex_unlock(&c->encode);
		return CVI_ERR_VENC_NOMEM;
	}
	CVI_U32 at = 0;
	for (int k = 0; k < out.count; k++) {
		const unsigned char *src = out.data[k];
		CVI_U32 len = out.len[k];
		memcpy(dst + at, src, len);
		/* The NAL header follows a 3- or 4-byte start code. */
		CVI_U32 sc = len > 3 && src[2] == 1 ? 3 : 4;
		struct pack *pk = &fr.packs[fr.npacks++];
		pk->off = at;
		pk->len = len;
		pk->type = len <= sc ? (c->x265 ? (CVI_U32)H265E_NALU_BUTT : (CVI_U32)H264E_NALU_BUTT)
		    : c->x265	     ? h265_pack_type((src[sc] >> 1) & 0x3F)
				     : (CVI_U32)(src[sc] & 0x1F);
		at += len;
	}
	host_phys_unmap(dst, fr.len);
	pthread_mutex_unlock(&c->encode);

	pthread_mutex_lock(&lock);
	if (!c->created || c->count == QUEUE) {
		pthread_mutex_unlock(&lock);
		host_phys_free(fr.phys);
		return CVI_ERR_VENC_BUF_FULL;
	}
	fr.seq = c->seq++;
	c->q[(c->head + c->count) % QUEUE] = fr;
	c->count++;
	CVI_U64 one = 1;
	ssize_t wr = write(c->efd, &one, sizeof(one));
	(void)wr;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VENC_GetStream(VENC_CHN VeChn, VENC_STREAM_S *pstStream, CVI_S32 S32MilliSec)
{
	if (!valid(VeChn))
		return CVI_ERR_VENC_INVALID_CHNID;
	if (!pstStream || !pstStream->pstPack)
		return CVI_ERR_VENC_NULL_PTR;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VeChn];
	if (!c->created) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_UNEXIST;
	}
	if (c->out) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_BUSY; /* release the stream that is out first */
	}
	int efd = c->efd;
	pthread_mutex_unlock(&lock);
	if (S32MilliSec != 0) {
		struct pollfd pfd = { .fd = efd, .events = POLLIN };
		while (poll(&pfd, 1, S32MilliSec < 0 ? -1 : S32MilliSec) < 0 && errno == EINTR) {
		}
	}
	pthread_mutex_lock(&lock);
	if (!c->created || c->out) {
		pthread_mutex_unlock(&lock);
		return c->created ? CVI_ERR_VENC_BUSY : CVI_ERR_VENC_UNEXIST;
	}
	if (c->count == 0) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_BUF_EMPTY;
	}
	struct frame *fr = &c->q[c->head];
	if (pstStream->u32PackCount < fr->npacks) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_ILLEGAL_PARAM; /* size the packs from QueryStatus */
	}
	unsigned char *map = host_phys_map(fr->phys, fr->len);
	if (!map) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_NOMEM;
	}
	CVI_U64 one;
	ssize_t rd = read(efd, &one, sizeof(one));
	(void)rd;
	for (CVI_U32 i = 0; i < fr->npacks; i++) {
		VENC_PACK_S *p = &pstStream->pstPack[i];
		memset(p, 0, sizeof(*p));
		p->u64PhyAddr = fr->phys + fr->packs[i].off;
		p->pu8Addr = map + fr->packs[i].off;
		p->u32Len = fr->packs[i].len;
		p->u64PTS = fr->pts;
		p->bFrameEnd = i + 1 == fr->npacks;
		if (c->x265)
			p->DataType.enH265EType = (H265E_NALU_TYPE_E)fr->packs[i].type;
		else
			p->DataType.enH264EType = (H264E_NALU_TYPE_E)fr->packs[i].type;
	}
	pstStream->u32PackCount = fr->npacks;
	pstStream->u32Seq = fr->seq;
	c->out = 1;
	c->map = map;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VENC_ReleaseStream(VENC_CHN VeChn, VENC_STREAM_S *pstStream)
{
	if (!valid(VeChn))
		return CVI_ERR_VENC_INVALID_CHNID;
	if (!pstStream || !pstStream->pstPack)
		return CVI_ERR_VENC_NULL_PTR;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VeChn];
	if (!c->created || !c->out) {
		pthread_mutex_unlock(&lock);
		return c->created ? CVI_ERR_VENC_NOT_PERM : CVI_ERR_VENC_UNEXIST;
	}
	struct frame *fr = &c->q[c->head];
	if (pstStream->u32PackCount == 0 || pstStream->pstPack[0].u64PhyAddr != fr->phys + fr->packs[0].off) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VENC_ILLEGAL_PARAM; /* not the stream that is out */
	}
	host_phys_unmap(c->map, fr->len);
	host_phys_free(fr->phys);
	c->map = NULL;
	c->out = 0;
	c->head = (c->head + 1) % QUEUE;
	c->count--;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}
