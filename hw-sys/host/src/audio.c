/*
 * Host SDK: audio input. Device 0 delivers 16-bit PCM frames of the
 * configured rate and size, paced in real time, with microsecond
 * timestamps: a 440 Hz tone that beeps up to 880 Hz for 100 ms each second,
 * so that a listener (or a test) can tell the stream is live.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cvi_audio.h"
#include "host.h"

#define MAX_CHN 2

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static AIO_ATTR_S attr;
static int attr_set, enabled;
static int chn_enabled[MAX_CHN];
static CVI_U64 start_us, frames[MAX_CHN];
static double phase[MAX_CHN];
static short *buf[MAX_CHN];
static int out[MAX_CHN];
static int volume = 0;

CVI_S32 CVI_AUDIO_INIT(void)
{
	return CVI_SUCCESS;
}

CVI_S32 CVI_AUDIO_DEINIT(void)
{
	return CVI_SUCCESS;
}

CVI_S32 CVI_AI_SetPubAttr(AUDIO_DEV AiDevId, const AIO_ATTR_S *pstAttr)
{
	if (AiDevId != 0)
		return (CVI_S32)CVI_ERR_AI_INVALID_DEVID;
	if (!pstAttr)
		return (CVI_S32)CVI_ERR_AI_NULL_PTR;
	const AIO_ATTR_S *a = pstAttr;
	if (a->enSamplerate < 8000 || a->enSamplerate > 64000 || a->enBitwidth != AUDIO_BIT_WIDTH_16 ||
	    a->enSoundmode > AUDIO_SOUND_MODE_STEREO || a->u32PtNumPerFrm < 80 || a->u32PtNumPerFrm > 4096 ||
	    a->u32ChnCnt == 0 || a->u32ChnCnt > 2)
		return (CVI_S32)CVI_ERR_AI_ILLEGAL_PARAM;
	pthread_mutex_lock(&lock);
	if (enabled) {
		pthread_mutex_unlock(&lock);
		return (CVI_S32)CVI_ERR_AI_BUSY;
	}
	attr = *a;
	attr_set = 1;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_AI_GetPubAttr(AUDIO_DEV AiDevId, AIO_ATTR_S *pstAttr)
{
	if (AiDevId != 0)
		return (CVI_S32)CVI_ERR_AI_INVALID_DEVID;
	if (!pstAttr)
		return (CVI_S32)CVI_ERR_AI_NULL_PTR;
	pthread_mutex_lock(&lock);
	int ok = attr_set;
	if (ok)
		*pstAttr = attr;
	pthread_mutex_unlock(&lock);
	return ok ? CVI_SUCCESS : (CVI_S32)CVI_ERR_AI_NOT_CONFIG;
}

CVI_S32 CVI_AI_Enable(AUDIO_DEV AiDevId)
{
	if (AiDevId != 0)
		return (CVI_S32)CVI_ERR_AI_INVALID_DEVID;
	pthread_mutex_lock(&lock);
	int ok = attr_set;
	if (ok)
		enabled = 1;
	pthread_mutex_unlock(&lock);
	return ok ? CVI_SUCCESS : (CVI_S32)CVI_ERR_AI_NOT_CONFIG;
}

CVI_S32 CVI_AI_Disable(AUDIO_DEV AiDevId)
{
	if (AiDevId != 0)
		return (CVI_S32)CVI_ERR_AI_INVALID_DEVID;
	pthread_mutex_lock(&lock);
	enabled = 0;
	for (int c = 0; c < MAX_CHN; c++) {
		chn_enabled[c] = 0;
		free(buf[c]);
		buf[c] = NULL;
		out[c] = 0;
	}
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_AI_EnableChn(AUDIO_DEV AiDevId, AI_CHN AiChn)
{
	if (AiDevId != 0)
		return (CVI_S32)CVI_ERR_AI_INVALID_DEVID;
	if (AiChn < 0 || AiChn >= MAX_CHN)
		return (CVI_S32)CVI_ERR_AI_INVALID_CHNID;
	pthread_mutex_lock(&lock);
	if (!enabled) {
		pthread_mutex_unlock(&lock);
		return (CVI_S32)CVI_ERR_AI_NOT_ENABLED;
	}
	if (!chn_enabled[AiChn]) {
		size_t ch = attr.enSoundmode == AUDIO_SOUND_MODE_STEREO ? 2 : 1;
		buf[AiChn] = calloc(attr.u32PtNumPerFrm * ch, sizeof(short));
		if (!buf[AiChn]) {
			pthread_mutex_unlock(&lock);
			return (CVI_S32)CVI_ERR_AI_BUSY;
		}
		chn_enabled[AiChn] = 1;
		frames[AiChn] = 0;
		phase[AiChn] = 0;
		start_us = host_now_us();
	}
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_AI_DisableChn(AUDIO_DEV AiDevId, AI_CHN AiChn)
{
	if (AiDevId != 0)
		return (CVI_S32)CVI_ERR_AI_INVALID_DEVID;
	if (AiChn < 0 || AiChn >= MAX_CHN)
		return (CVI_S32)CVI_ERR_AI_INVALID_CHNID;
	pthread_mutex_lock(&lock);
	chn_enabled[AiChn] = 0;
	free(buf[AiChn]);
	buf[AiChn] = NULL;
	out[AiChn] = 0;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_AI_GetFrame(AUDIO_DEV AiDevId, AI_CHN AiChn, AUDIO_FRAME_S *pstFrm, AEC_FRAME_S *pstAecFrm,
			CVI_S32 s32MilliSec)
{
	if (AiDevId != 0)
		return (CVI_S32)CVI_ERR_AI_INVALID_DEVID;
	if (AiChn < 0 || AiChn >= MAX_CHN)
		return (CVI_S32)CVI_ERR_AI_INVALID_CHNID;
	if (!pstFrm)
		return (CVI_S32)CVI_ERR_AI_NULL_PTR;
	pthread_mutex_lock(&lock);
	if (!chn_enabled[AiChn]) {
		pthread_mutex_unlock(&lock);
		return (CVI_S32)CVI_ERR_AI_NOT_ENABLED;
	}
	if (out[AiChn]) {
		pthread_mutex_unlock(&lock);
		return (CVI_S32)CVI_ERR_AI_BUSY; /* release the frame that is out first */
	}
	CVI_U32 n = attr.u32PtNumPerFrm, rate = attr.enSamplerate;
	CVI_U64 k = frames[AiChn];
	/* Frame k is complete once its last sample has been "recorded". */
	CVI_U64 due = start_us + (k + 1) * n * 1000000u / rate;
	CVI_U64 now = host_now_us();
	if (now < due) {
		if (s32MilliSec >= 0 && due - now > (CVI_U64)s32MilliSec * 1000u) {
			pthread_mutex_unlock(&lock);
			return (CVI_S32)CVI_ERR_AI_BUF_EMPTY;
		}
		pthread_mutex_unlock(&lock);
		host_sleep_until_us(due);
		pthread_mutex_lock(&lock);
		if (!chn_enabled[AiChn]) {
			pthread_mutex_unlock(&lock);
			return (CVI_S32)CVI_ERR_AI_NOT_ENABLED;
		}
	}
	int stereo = attr.enSoundmode == AUDIO_SOUND_MODE_STEREO;
	double amp = 8000.0 * pow(10.0, volume / 20.0);
	for (CVI_U32 i = 0; i < n; i++) {
		CVI_U64 sample = k * n + i;
		double f = (sample % rate) < rate / 10 ? 880.0 : 440.0;
		phase[AiChn] += 2.0 * M_PI * f / rate;
		if (phase[AiChn] > 2.0 * M_PI)
			phase[AiChn] -= 2.0 * M_PI;
		short v = (short)(amp * sin(phase[AiChn]));
		if (stereo) {
			buf[AiChn][2 * i] = v;
			buf[AiChn][2 * i + 1] = v;
		} else {
			buf[AiChn][i] = v;
		}
	}
	memset(pstFrm, 0, sizeof(*pstFrm));
	pstFrm->enBitwidth = AUDIO_BIT_WIDTH_16;
	pstFrm->enSoundmode = attr.enSoundmode;
	pstFrm->u64VirAddr[0] = (CVI_U8 *)buf[AiChn];
	pstFrm->u64TimeStamp = start_us + k * n * 1000000u / rate;
	pstFrm->u32Seq = (CVI_U32)k;
	pstFrm->u32Len = n * 2 * (stereo ? 2 : 1);
	frames[AiChn] = k + 1;
	out[AiChn] = 1;
	if (pstAecFrm)
		memset(pstAecFrm, 0, sizeof(*pstAecFrm));
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_AI_ReleaseFrame(AUDIO_DEV AiDevId, AI_CHN AiChn, const AUDIO_FRAME_S *pstFrm,
			    const AEC_FRAME_S *pstAecFrm)
{
	(void)pstAecFrm;
	if (AiDevId != 0)
		return (CVI_S32)CVI_ERR_AI_INVALID_DEVID;
	if (AiChn < 0 || AiChn >= MAX_CHN)
		return (CVI_S32)CVI_ERR_AI_INVALID_CHNID;
	if (!pstFrm)
		return (CVI_S32)CVI_ERR_AI_NULL_PTR;
	pthread_mutex_lock(&lock);
	out[AiChn] = 0;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_AI_SetVolume(AUDIO_DEV AiDevId, CVI_S32 s32VolumeStep)
{
	if (AiDevId != 0)
		return (CVI_S32)CVI_ERR_AI_INVALID_DEVID;
	if (s32VolumeStep < -40 || s32VolumeStep > 12)
		return (CVI_S32)CVI_ERR_AI_ILLEGAL_PARAM;
	pthread_mutex_lock(&lock);
	volume = s32VolumeStep;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}
