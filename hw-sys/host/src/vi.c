/*
 * Host SDK: video input. Channel 0 of a pipe produces NV21 frames of the
 * configured size at the configured rate, with PTS, in VB blocks: a moving
 * test picture (gradient, colour bands, a bouncing box and the frame number
 * in large digits) shaped by the ISP's exposure and white balance.
 * Frames the caller does not take in time are dropped, as a sensor's are.
 */
#include <string.h>

#include "cvi_vb.h"
#include "cvi_vi.h"
#include "host.h"

#define MAX_PIPES 4
#define MAX_OUT 16

struct chn {
	int configured, enabled;
	VI_CHN_ATTR_S attr;
	VB_POOL pool;
	int has_pool; /* attached by the caller, or created at enable */
	int own_pool;
	CVI_U64 start_us, period_us;
	CVI_U64 next; /* index of the next frame to deliver */
	CVI_U64 dropped;
	VB_BLK out_blk[MAX_OUT];
	CVI_U64 out_phys[MAX_OUT];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int dev_enabled;
static int pipe_created[MAX_PIPES], pipe_started[MAX_PIPES];
static struct chn chns[MAX_PIPES];

CVI_S32 CVI_VI_SetDevAttr(VI_DEV ViDev, const VI_DEV_ATTR_S *pstDevAttr)
{
	if (ViDev != 0)
		return CVI_ERR_VI_INVALID_PARA;
	return pstDevAttr ? CVI_SUCCESS : CVI_ERR_VI_INVALID_NULL_PTR;
}

CVI_S32 CVI_VI_EnableDev(VI_DEV ViDev)
{
	if (ViDev != 0)
		return CVI_ERR_VI_INVALID_PARA;
	if (!host_sys_ready())
		return CVI_ERR_VI_SYS_NOTREADY;
	pthread_mutex_lock(&lock);
	dev_enabled = 1;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VI_DisableDev(VI_DEV ViDev)
{
	if (ViDev != 0)
		return CVI_ERR_VI_INVALID_PARA;
	pthread_mutex_lock(&lock);
	dev_enabled = 0;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VI_CreatePipe(VI_PIPE ViPipe, const VI_PIPE_ATTR_S *pstPipeAttr)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_VI_INVALID_PARA;
	if (!pstPipeAttr)
		return CVI_ERR_VI_INVALID_NULL_PTR;
	pthread_mutex_lock(&lock);
	int ok = dev_enabled && !pipe_created[ViPipe];
	if (ok)
		pipe_created[ViPipe] = 1;
	pthread_mutex_unlock(&lock);
	return ok ? CVI_SUCCESS : CVI_ERR_VI_NOT_PERM;
}

CVI_S32 CVI_VI_DestroyPipe(VI_PIPE ViPipe)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_VI_INVALID_PARA;
	pthread_mutex_lock(&lock);
	pipe_created[ViPipe] = pipe_started[ViPipe] = 0;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VI_StartPipe(VI_PIPE ViPipe)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_VI_INVALID_PARA;
	pthread_mutex_lock(&lock);
	int ok = pipe_created[ViPipe];
	if (ok)
		pipe_started[ViPipe] = 1;
	pthread_mutex_unlock(&lock);
	return ok ? CVI_SUCCESS : CVI_ERR_VI_NOT_PERM;
}

CVI_S32 CVI_VI_StopPipe(VI_PIPE ViPipe)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_VI_INVALID_PARA;
	pthread_mutex_lock(&lock);
	pipe_started[ViPipe] = 0;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VI_SetChnAttr(VI_PIPE ViPipe, VI_CHN ViChn, VI_CHN_ATTR_S *pstChnAttr)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_VI_INVALID_PARA;
	if (ViChn != 0)
		return CVI_ERR_VI_INVALID_CHNID;
	if (!pstChnAttr)
		return CVI_ERR_VI_INVALID_NULL_PTR;
	const VI_CHN_ATTR_S *a = pstChnAttr;
	if (a->stSize.u32Width < 64 || a->stSize.u32Height < 64 || a->stSize.u32Width > 4096 ||
	    a->stSize.u32Height > 4096 || (a->stSize.u32Width | a->stSize.u32Height) & 1 ||
	    a->enPixelFormat != PIXEL_FORMAT_NV21 || a->stFrameRate.s32DstFrameRate <= 0 ||
	    a->stFrameRate.s32DstFrameRate > 120)
		return CVI_ERR_VI_INVALID_PARA;
	pthread_mutex_lock(&lock);
	if (chns[ViPipe].enabled) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VI_BUSY;
	}
	chns[ViPipe].attr = *a;
	chns[ViPipe].configured = 1;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VI_GetChnAttr(VI_PIPE ViPipe, VI_CHN ViChn, VI_CHN_ATTR_S *pstChnAttr)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES || ViChn != 0)
		return CVI_ERR_VI_INVALID_PARA;
	if (!pstChnAttr)
		return CVI_ERR_VI_INVALID_NULL_PTR;
	pthread_mutex_lock(&lock);
	int ok = chns[ViPipe].configured;
	if (ok)
		*pstChnAttr = chns[ViPipe].attr;
	pthread_mutex_unlock(&lock);
	return ok ? CVI_SUCCESS : CVI_ERR_VI_FAILED_NOTCONFIG;
}

CVI_S32 CVI_VI_AttachVbPool(VI_PIPE ViPipe, VI_CHN ViChn, VB_POOL VbPool)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES || ViChn != 0)
		return CVI_ERR_VI_INVALID_PARA;
	pthread_mutex_lock(&lock);
	if (chns[ViPipe].enabled) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VI_BUSY;
	}
	chns[ViPipe].pool = VbPool;
	chns[ViPipe].has_pool = VbPool != VB_INVALID_POOLID;
	chns[ViPipe].own_pool = 0;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VI_DetachVbPool(VI_PIPE ViPipe, VI_CHN ViChn)
{
	return CVI_VI_AttachVbPool(ViPipe, ViChn, VB_INVALID_POOLID);
}

static CVI_U32 frame_bytes(const VI_CHN_ATTR_S *a)
{
	return a->stSize.u32Width * a->stSize.u32Height * 3 / 2;
}

CVI_S32 CVI_VI_EnableChn(VI_PIPE ViPipe, VI_CHN ViChn)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_VI_INVALID_PARA;
	if (ViChn != 0)
		return CVI_ERR_VI_INVALID_CHNID;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[ViPipe];
	CVI_S32 ret = CVI_SUCCESS;
	if (!c->configured || !pipe_started[ViPipe]) {
		ret = CVI_ERR_VI_FAILED_NOTCONFIG;
	} else if (!c->enabled) {
		if (!c->has_pool) {
			/* Depth + 2 blocks: the caller's frames, one being drawn, one spare. */
			VB_POOL_CONFIG_S cfg;
			memset(&cfg, 0, sizeof(cfg));
			cfg.u32BlkSize = frame_bytes(&c->attr);
			cfg.u32BlkCnt = (c->attr.u32Depth > 8 ? 8 : c->attr.u32Depth) + 2;
			strcpy(cfg.acName, "vi-host");
			c->pool = CVI_VB_CreatePool(&cfg);
			c->has_pool = c->own_pool = c->pool != VB_INVALID_POOLID;
		}
		if (!c->has_pool) {
			ret = CVI_ERR_VI_NOMEM;
		} else {
			c->enabled = 1;
			c->period_us = 1000000u / (CVI_U64)c->attr.stFrameRate.s32DstFrameRate;
			c->start_us = host_now_us();
			c->next = 0;
			c->dropped = 0;
			memset(c->out_blk, 0, sizeof(c->out_blk));
			memset(c->out_phys, 0, sizeof(c->out_phys));
		}
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

CVI_S32 CVI_VI_DisableChn(VI_PIPE ViPipe, VI_CHN ViChn)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_VI_INVALID_PARA;
	if (ViChn != 0)
		return CVI_ERR_VI_INVALID_CHNID;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[ViPipe];
	for (int i = 0; i < MAX_OUT; i++) {
		if (c->out_phys[i]) {
			CVI_VB_ReleaseBlock(c->out_blk[i]);
			c->out_phys[i] = 0;
		}
	}
	if (c->enabled && c->own_pool) {
		CVI_VB_DestroyPool(c->pool);
		c->has_pool = c->own_pool = 0;
	}
	c->enabled = 0;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

/* 5x7 digits, one byte per row, low 5 bits, MSB left. */
static const unsigned char DIGITS[10][7] = {
	{ 14, 17, 19, 21, 25, 17, 14 }, { 4, 12, 4, 4, 4, 4, 14 },   { 14, 17, 1, 2, 4, 8, 31 },
	{ 31, 2, 4, 2, 1, 17, 14 },     { 2, 6, 10, 18, 31, 2, 2 },  { 31, 16, 30, 1, 1, 17, 14 },
	{ 6, 8, 16, 30, 17, 17, 14 },   { 31, 1, 2, 4, 8, 8, 8 },    { 14, 17, 17, 14, 17, 17, 14 },
	{ 14, 17, 17, 15, 1, 2, 12 },
};

static unsigned char clamp8(int v)
{
	return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Draws frame n into an NV21 buffer. */
static void draw(unsigned char *buf, CVI_U32 w, CVI_U32 h, CVI_U64 n, const struct host_isp_look *look)
{
	unsigned char *y = buf, *vu = buf + (size_t)w * h;
	/* Exposure: 10 ms is neutral; brightness follows exposure time. */
	int gain = (int)((CVI_U64)look->exposure_us * 256 / 10000);
	if (gain > 1024)
		gain = 1024;
	CVI_U32 box = h / 4;
	CVI_U32 span = w > box ? w - box : 1;
	CVI_U64 t = (n * 8) % (2 * span);
	CVI_U32 bx = (CVI_U32)(t < span ? t : 2 * span - t), by = h / 2 - box / 2;
	for (CVI_U32 r = 0; r < h; r++) {
		unsigned char *row = y + (size_t)r * w;
		for (CVI_U32 c = 0; c < w; c++) {
			int v = 16 + (int)((c + r + n * 4) % 200);
			if (c >= bx && c < bx + box && r >= by && r < by + box)
				v = 235;
			row[c] = clamp8(v * gain / 256);
		}
	}
	/* Eight colour bands drifting left; white balance gains tint them. */
	int du = ((int)look->b_gain - (int)look->g_gain) / 16, dv = ((int)look->r_gain - (int)look->g_gain) / 16;
	for (CVI_U32 r = 0; r < h / 2; r++) {
		unsigned char *row = vu + (size_t)r * w;
		for (CVI_U32 c = 0; c < w / 2; c++) {
			CVI_U32 band = (CVI_U32)(((c * 16 / (w / 2 ? w / 2 : 1)) + n / 8) % 8);
			row[2 * c] = clamp8(128 + (int)(band * 24) - 84 + dv);     /* V */
			row[2 * c + 1] = clamp8(212 - (int)(band * 24) + du);      /* U */
		}
	}
	/* The frame number, six digits, 4x scale, black on white, top left. */
	CVI_U32 scale = h >= 240 ? 4 : 2, x0 = 8, y0 = 8;
	CVI_U32 cw = 6 * scale, bw = 6 * cw + 2 * scale, bh = 9 * scale;
	for (CVI_U32 r = y0; r < y0 + bh && r < h; r++)
		for (CVI_U32 c = x0; c < x0 + bw && c < w; c++)
			y[(size_t)r * w + c] = 235;
	CVI_U64 num = n;
	for (int d = 5; d >= 0; d--) {
		int digit = (int)(num % 10);
		num /= 10;
		CVI_U32 dx = x0 + scale + (CVI_U32)d * cw, dy = y0 + scale;
		for (CVI_U32 gr = 0; gr < 7; gr++)
			for (CVI_U32 gc = 0; gc < 5; gc++)
				if (DIGITS[digit][gr] & (16 >> gc))
					for (CVI_U32 sy = 0; sy < scale; sy++)
						for (CVI_U32 sx = 0; sx < scale; sx++) {
							CVI_U32 py = dy + gr * scale + sy, px = dx + gc * scale + sx;
							if (py < h && px < w)
								y[(size_t)py * w + px] = 16;
						}
	}
}

CVI_S32 CVI_VI_GetChnFrame(VI_PIPE ViPipe, VI_CHN ViChn, VIDEO_FRAME_INFO_S *pstFrameInfo, CVI_S32 s32MilliSec)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_VI_INVALID_PARA;
	if (ViChn != 0)
		return CVI_ERR_VI_INVALID_CHNID;
	if (!pstFrameInfo)
		return CVI_ERR_VI_INVALID_NULL_PTR;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[ViPipe];
	if (!c->enabled) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VI_FAILED_NOTCONFIG;
	}
	CVI_U64 now = host_now_us();
	/* Frames the caller was too late for are gone. */
	CVI_U64 due = c->start_us + c->next * c->period_us;
	if (now >= due + c->period_us) {
		CVI_U64 latest = (now - c->start_us) / c->period_us;
		c->dropped += latest - c->next;
		c->next = latest;
		due = c->start_us + c->next * c->period_us;
	}
	if (now < due) {
		CVI_U64 wait = due - now;
		if (s32MilliSec >= 0 && wait > (CVI_U64)s32MilliSec * 1000u) {
			pthread_mutex_unlock(&lock);
			if (s32MilliSec > 0)
				host_sleep_until_us(now + (CVI_U64)s32MilliSec * 1000u);
			return CVI_ERR_VI_BUF_EMPTY;
		}
		pthread_mutex_unlock(&lock);
		host_sleep_until_us(due);
		pthread_mutex_lock(&lock);
		if (!c->enabled) {
			pthread_mutex_unlock(&lock);
			return CVI_ERR_VI_FAILED_NOTCONFIG;
		}
	}
	int slot = -1;
	for (int i = 0; i < MAX_OUT; i++)
		if (!c->out_phys[i]) {
			slot = i;
			break;
		}
	CVI_U32 w = c->attr.stSize.u32Width, h = c->attr.stSize.u32Height, len = frame_bytes(&c->attr);
	VB_BLK blk = slot < 0 ? VB_INVALID_HANDLE : CVI_VB_GetBlock(c->pool, len);
	CVI_U64 phys = blk == VB_INVALID_HANDLE ? 0 : host_vb_phys(blk);
	if (!phys) {
		/* Every block is held by the caller: this frame is lost. */
		c->dropped++;
		c->next++;
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VI_NOMEM;
	}
	CVI_U64 n = c->next++;
	CVI_U64 pts = c->start_us + n * c->period_us;
	c->out_blk[slot] = blk;
	c->out_phys[slot] = phys;
	VB_POOL pool = c->pool;
	pthread_mutex_unlock(&lock);

	struct host_isp_look look;
	host_isp_look(ViPipe, &look);
	unsigned char *buf = host_phys_map(phys, len);
	if (!buf) {
		CVI_VI_ReleaseChnFrame(ViPipe, ViChn, &(VIDEO_FRAME_INFO_S){ .stVFrame.u64PhyAddr = { phys } });
		return CVI_ERR_VI_NOMEM;
	}
	draw(buf, w, h, n, &look);
	host_phys_unmap(buf, len);

	memset(pstFrameInfo, 0, sizeof(*pstFrameInfo));
	VIDEO_FRAME_S *f = &pstFrameInfo->stVFrame;
	f->u32Width = w;
	f->u32Height = h;
	f->enPixelFormat = PIXEL_FORMAT_NV21;
	f->u32Stride[0] = f->u32Stride[1] = w;
	f->u64PhyAddr[0] = phys;
	f->u64PhyAddr[1] = phys + (CVI_U64)w * h;
	f->u32Length[0] = w * h;
	f->u32Length[1] = w * h / 2;
	f->u32TimeRef = (CVI_U32)(n * 2);
	f->u64PTS = pts;
	pstFrameInfo->u32PoolId = pool;
	return CVI_SUCCESS;
}

CVI_S32 CVI_VI_ReleaseChnFrame(VI_PIPE ViPipe, VI_CHN ViChn, const VIDEO_FRAME_INFO_S *pstFrameInfo)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_VI_INVALID_PARA;
	if (ViChn != 0)
		return CVI_ERR_VI_INVALID_CHNID;
	if (!pstFrameInfo)
		return CVI_ERR_VI_INVALID_NULL_PTR;
	pthread_mutex_lock(&lock);
	struct chn *c = &chns[ViPipe];
	CVI_S32 ret = CVI_ERR_VI_INVALID_PARA;
	for (int i = 0; i < MAX_OUT; i++) {
		if (c->out_phys[i] && c->out_phys[i] == pstFrameInfo->stVFrame.u64PhyAddr[0]) {
			CVI_VB_ReleaseBlock(c->out_blk[i]);
			c->out_phys[i] = 0;
			ret = CVI_SUCCESS;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return ret;
}
