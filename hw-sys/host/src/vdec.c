/*
 * Host SDK: the video decoder, one access unit per SendStream
 * (VIDEO_MODE_FRAME). H.264 and H.265 through libavcodec loaded at run time
 * when it is there (vdec_lavc.c: bit-exact, as conforming decoders are);
 * otherwise H.264 through OpenH264's decoder (BSD licence; off by one on
 * some x264 B-frames), and H.265 is refused with CVI_ERR_VDEC_NOT_SUPPORT.
 * HWSYS_HOST_VDEC=openh264 picks OpenH264 even when libavcodec is there.
 *
 * The vendor's rules are kept: decoded pictures wait, as NV21 in physical
 * memory, in a queue bounded by u32FrameBufCnt; GetFrame hands out the
 * oldest (its planes reached through CVI_SYS_Mmap, as the camera's), and
 * ReleaseFrame frees it; SendStream with the queue full returns
 * CVI_ERR_VDEC_BUF_FULL without taking the stream; bEndOfStream lets the
 * pictures still held for reordering come out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wels/codec_api.h>

#include "cvi_sys.h"
#include "cvi_vdec.h"
#include "host.h"

#define MAX_CHN 4
#define MAX_QUEUE 16

struct picture {
	CVI_U64 phys;
	CVI_U32 w, h;
	CVI_U64 pts;
};

struct chn {
	int created, receiving;
	VDEC_CHN_ATTR_S attr;
	struct host_lavc *lavc; /* the conformant backend, or */
	ISVCDecoder *dec; /* OpenH264 (H.264 only) */
	struct picture q[MAX_QUEUE];
	int head, count, limit;
	/* Pictures handed out by GetFrame and not yet released. */
	CVI_U64 out[MAX_QUEUE];
	CVI_U32 received, decoded, errors, width, height;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static struct chn chns[MAX_CHN];

static int valid(VDEC_CHN c)
{
	return c >= 0 && c < MAX_CHN;
}

CVI_S32 CVI_VDEC_CreateChn(VDEC_CHN VdChn, const VDEC_CHN_ATTR_S *pstAttr)
{
	if (!valid(VdChn))
		return CVI_ERR_VDEC_INVALID_CHNID;
	if (!pstAttr)
		return CVI_ERR_VDEC_NULL_PTR;
	if (!host_sys_ready())
		return CVI_ERR_VDEC_NOT_PERM;
	if (pstAttr->enType != PT_H264 && pstAttr->enType != PT_H265)
		return CVI_ERR_VDEC_NOT_SUPPORT;
	if (pstAttr->enMode != VIDEO_MODE_FRAME)
		return CVI_ERR_VDEC_NOT_SUPPORT;
	if (pstAttr->u32PicWidth < 16 || pstAttr->u32PicHeight < 16 || pstAttr->u32PicWidth > 4096 ||
	    pstAttr->u32PicHeight > 4096)
		return CVI_ERR_VDEC_ILLEGAL_PARAM;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VdChn];
	if (c->created) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VDEC_EXIST;
	}
	struct host_lavc *lavc = NULL;
	ISVCDecoder *dec = NULL;
	CVI_S32 opened = host_lavc_open(&lavc, pstAttr->enType == PT_H265);
	if (opened != CVI_SUCCESS && pstAttr->enType == PT_H265) {
		pthread_mutex_unlock(&lock);
		fprintf(stderr, "host SDK: decoding H.265 needs libavcodec (apt-get install libavcodec59; the build reads libavcodec-dev)\n");
		return CVI_ERR_VDEC_NOT_SUPPORT;
	}
	if (opened != CVI_SUCCESS) {
#ifdef HOST_OPENH264_NO_DECODER
		/* An encoder-only OpenH264 (the cross builds'): no fallback. */
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VDEC_NOT_SUPPORT;
#endif
		if (WelsCreateDecoder(&dec) != 0 || !dec) {
			pthread_mutex_unlock(&lock);
			return CVI_ERR_VDEC_NOMEM;
		}
		SDecodingParam p;
		memset(&p, 0, sizeof p);
		p.sVideoProperty.eVideoBsType = VIDEO_BITSTREAM_AVC;
		p.eEcActiveIdc = ERROR_CON_DISABLE; /* no concealment: what is output is what was coded */
		if ((*dec)->Initialize(dec, &p) != 0) {
			WelsDestroyDecoder(dec);
			pthread_mutex_unlock(&lock);
			return CVI_ERR_VDEC_NOMEM;
		}
	}
	memset(c, 0, sizeof *c);
	c->created = 1;
	c->attr = *pstAttr;
	c->lavc = lavc;
	c->dec = dec;
	c->limit = pstAttr->u32FrameBufCnt == 0 ? 4 : (int)pstAttr->u32FrameBufCnt;
	if (c->limit > MAX_QUEUE)
		c->limit = MAX_QUEUE;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VDEC_DestroyChn(VDEC_CHN VdChn)
{
	if (!valid(VdChn))
		return CVI_ERR_VDEC_INVALID_CHNID;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VdChn];
	if (!c->created) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VDEC_UNEXIST;
	}
#ifndef HOST_OPENH264_NO_DECODER
	if (c->dec) {
		(*c->dec)->Uninitialize(c->dec);
		WelsDestroyDecoder(c->dec);
	}
#endif
	host_lavc_close(c->lavc);
	for (int i = 0; i < c->count; i++)
		host_phys_free(c->q[(c->head + i) % MAX_QUEUE].phys);
	for (int i = 0; i < MAX_QUEUE; i++)
		if (c->out[i])
			host_phys_free(c->out[i]);
	memset(c, 0, sizeof *c);
	pthread_cond_broadcast(&ready);
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

static CVI_S32 set_receiving(VDEC_CHN VdChn, int on)
{
	if (!valid(VdChn))
		return CVI_ERR_VDEC_INVALID_CHNID;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VdChn];
	CVI_S32 ret = c->created ? CVI_SUCCESS : CVI_ERR_VDEC_UNEXIST;
	if (c->created)
		c->receiving = on;
	pthread_cond_broadcast(&ready);
	pthread_mutex_unlock(&lock);
	return ret;
}

CVI_S32 CVI_VDEC_StartRecvStream(VDEC_CHN VdChn)
{
	return set_receiving(VdChn, 1);
}

CVI_S32 CVI_VDEC_StopRecvStream(VDEC_CHN VdChn)
{
	return set_receiving(VdChn, 0);
}

CVI_S32 CVI_VDEC_QueryStatus(VDEC_CHN VdChn, VDEC_CHN_STATUS_S *pstStatus)
{
	if (!valid(VdChn))
		return CVI_ERR_VDEC_INVALID_CHNID;
	if (!pstStatus)
		return CVI_ERR_VDEC_NULL_PTR;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VdChn];
	if (!c->created) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VDEC_UNEXIST;
	}
	memset(pstStatus, 0, sizeof *pstStatus);
	pstStatus->enType = c->attr.enType;
	pstStatus->u32LeftPics = c->count;
	pstStatus->bStartRecvStream = c->receiving;
	pstStatus->u32RecvStreamFrames = c->received;
	pstStatus->u32DecodeStreamFrames = c->decoded;
	pstStatus->stVdecDecErr.s32StreamUnsprt = (CVI_S32)c->errors;
	pstStatus->u32Width = c->width;
	pstStatus->u32Height = c->height;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

/* Queues a decoded I420 picture as NV21 in physical memory (lock held;
 * `arg` is the channel). */
static CVI_S32 queue_picture(void *arg, const unsigned char *planes[3], const int strides[3], int w, int h, CVI_U64 pts)
{
	struct chn *c = arg;
	int ys = strides[0], us = strides[1], vs = strides[2];
	if (w <= 0 || h <= 0 || (w | h) & 1 || (CVI_U32)w > c->attr.u32PicWidth || (CVI_U32)h > c->attr.u32PicHeight) {
		c->errors++;
		return CVI_ERR_VDEC_ILLEGAL_PARAM; /* larger than the channel was made for */
	}
	size_t luma = (size_t)w * h, len = luma * 3 / 2;
	CVI_U64 phys = host_phys_alloc(len);
	if (!phys)
		return CVI_ERR_VDEC_NOMEM;
	unsigned char *dst = host_phys_map(phys, len);
	if (!dst) {
		host_phys_free(phys);
		return CVI_ERR_VDEC_NOMEM;
	}
	for (int r = 0; r < h; r++)
		memcpy(dst + (size_t)r * w, planes[0] + (size_t)r * ys, (size_t)w);
	unsigned char *vu = dst + luma;
	for (int r = 0; r < h / 2; r++) {
		const unsigned char *u = planes[1] + (size_t)r * us, *v = planes[2] + (size_t)r * vs;
		unsigned char *row = vu + (size_t)r * w;
		for (int k = 0; k < w / 2; k++) {
			row[2 * k] = v[k]; /* NV21: V first */
			row[2 * k + 1] = u[k];
		}
	}
	host_phys_unmap(dst, len);
	struct picture *p = &c->q[(c->head + c->count) % MAX_QUEUE];
	p->phys = phys;
	p->w = (CVI_U32)w;
	p->h = (CVI_U32)h;
	p->pts = pts;
	c->count++;
	c->decoded++;
	c->width = (CVI_U32)w;
	c->height = (CVI_U32)h;
	pthread_cond_broadcast(&ready);
	return CVI_SUCCESS;
}

/* An OpenH264 picture into the queue. */
static CVI_S32 queue_buffer(struct chn *c, const SBufferInfo *info)
{
	const unsigned char *planes[3] = { info->pDst[0], info->pDst[1], info->pDst[2] };
	int strides[3] = { info->UsrData.sSystemBuffer.iStride[0], info->UsrData.sSystemBuffer.iStride[1],
			   info->UsrData.sSystemBuffer.iStride[1] };
	return queue_picture(c, planes, strides, info->UsrData.sSystemBuffer.iWidth,
			     info->UsrData.sSystemBuffer.iHeight, info->uiOutYuvTimeStamp);
}

CVI_S32 CVI_VDEC_SendStream(VDEC_CHN VdChn, const VDEC_STREAM_S *pstStream, CVI_S32 s32MilliSec)
{
	(void)s32MilliSec;
	if (!valid(VdChn))
		return CVI_ERR_VDEC_INVALID_CHNID;
	if (!pstStream || (pstStream->u32Len > 0 && !pstStream->pu8Addr))
		return CVI_ERR_VDEC_NULL_PTR;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VdChn];
	if (!c->created || !c->receiving) {
		pthread_mutex_unlock(&lock);
		return c->created ? CVI_ERR_VDEC_NOT_PERM : CVI_ERR_VDEC_UNEXIST;
	}
	/* Room for what this access unit may let out (one picture; the end of
	 * the stream flushes, one picture at a time, while there is room). */
	if (c->count >= c->limit) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VDEC_BUF_FULL;
	}
	CVI_S32 ret = CVI_SUCCESS;
	if (c->lavc) {
		if (pstStream->u32Len > 0)
			c->received++;
		int room = c->limit - c->count;
		host_lavc_decode(c->lavc, pstStream->u32Len > 0 ? pstStream->pu8Addr : NULL, pstStream->u32Len,
				 pstStream->u64PTS, queue_picture, c, room, &ret);
		if (pstStream->bEndOfStream && pstStream->u32Len > 0 && ret == CVI_SUCCESS)
			host_lavc_decode(c->lavc, NULL, 0, 0, queue_picture, c, c->limit - c->count, &ret);
		if (ret == CVI_ERR_VDEC_ILLEGAL_PARAM)
			c->errors++;
		pthread_mutex_unlock(&lock);
		return ret;
	}
	unsigned char *planes[3] = { NULL, NULL, NULL };
	SBufferInfo info;
	if (pstStream->u32Len > 0) {
		memset(&info, 0, sizeof info);
		info.uiInBsTimeStamp = pstStream->u64PTS;
		c->received++;
		DECODING_STATE st = (*c->dec)->DecodeFrameNoDelay(c->dec, pstStream->pu8Addr, (int)pstStream->u32Len,
								  planes, &info);
		if (st != dsErrorFree)
			c->errors++;
		if (info.iBufferStatus == 1)
			ret = queue_buffer(c, &info);
		else if (st != dsErrorFree)
			ret = CVI_ERR_VDEC_ILLEGAL_PARAM; /* nothing decodable in this unit */
	}
	if (pstStream->bEndOfStream) {
		while (c->count < c->limit) {
			int left = 0;
			(*c->dec)->GetOption(c->dec, DECODER_OPTION_NUM_OF_FRAMES_REMAINING_IN_BUFFER, &left);
			if (left <= 0)
				break;
			memset(&info, 0, sizeof info);
			(*c->dec)->FlushFrame(c->dec, planes, &info);
			if (info.iBufferStatus != 1 || queue_buffer(c, &info) != CVI_SUCCESS)
				break;
		}
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

/* Waits on `ready` until `deadline_us` (0: for ever); 0 when it passed. */
static int wait_until(CVI_U64 deadline_us)
{
	if (!deadline_us) {
		pthread_cond_wait(&ready, &lock);
		return 1;
	}
	CVI_U64 now = host_now_us();
	if (now >= deadline_us)
		return 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	CVI_U64 ns = (CVI_U64)ts.tv_nsec + (deadline_us - now) * 1000u;
	ts.tv_sec += (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	return pthread_cond_timedwait(&ready, &lock, &ts) != ETIMEDOUT || host_now_us() < deadline_us;
}

CVI_S32 CVI_VDEC_GetFrame(VDEC_CHN VdChn, VIDEO_FRAME_INFO_S *pstFrameInfo, CVI_S32 s32MilliSec)
{
	if (!valid(VdChn))
		return CVI_ERR_VDEC_INVALID_CHNID;
	if (!pstFrameInfo)
		return CVI_ERR_VDEC_NULL_PTR;
	CVI_U64 deadline = s32MilliSec < 0 ? 0 : host_now_us() + (CVI_U64)s32MilliSec * 1000u + (s32MilliSec == 0);
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VdChn];
	for (;;) {
		if (!c->created) {
			pthread_mutex_unlock(&lock);
			return CVI_ERR_VDEC_UNEXIST;
		}
		if (c->count > 0)
			break;
		if (!wait_until(deadline)) {
			pthread_mutex_unlock(&lock);
			return CVI_ERR_VDEC_BUF_EMPTY;
		}
	}
	int slot = -1;
	for (int i = 0; i < MAX_QUEUE && slot < 0; i++)
		if (!c->out[i])
			slot = i;
	if (slot < 0) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VDEC_BUSY; /* every picture is out: release some */
	}
	struct picture p = c->q[c->head];
	c->head = (c->head + 1) % MAX_QUEUE;
	c->count--;
	c->out[slot] = p.phys;
	pthread_mutex_unlock(&lock);

	memset(pstFrameInfo, 0, sizeof *pstFrameInfo);
	VIDEO_FRAME_S *f = &pstFrameInfo->stVFrame;
	f->u32Width = p.w;
	f->u32Height = p.h;
	f->enPixelFormat = PIXEL_FORMAT_NV21;
	f->u32Stride[0] = f->u32Stride[1] = p.w;
	f->u64PhyAddr[0] = p.phys;
	f->u64PhyAddr[1] = p.phys + (CVI_U64)p.w * p.h;
	f->u32Length[0] = p.w * p.h;
	f->u32Length[1] = p.w * p.h / 2;
	f->u64PTS = p.pts;
	return CVI_SUCCESS;
}

CVI_S32 CVI_VDEC_ReleaseFrame(VDEC_CHN VdChn, const VIDEO_FRAME_INFO_S *pstFrameInfo)
{
	if (!valid(VdChn))
		return CVI_ERR_VDEC_INVALID_CHNID;
	if (!pstFrameInfo)
		return CVI_ERR_VDEC_NULL_PTR;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[VdChn];
	CVI_S32 ret = CVI_ERR_VDEC_ILLEGAL_PARAM; /* not a picture that is out */
	for (int i = 0; i < MAX_QUEUE; i++) {
		if (c->out[i] && c->out[i] == pstFrameInfo->stVFrame.u64PhyAddr[0]) {
			host_phys_free(c->out[i]);
			c->out[i] = 0;
			ret = CVI_SUCCESS;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return ret;
}
