/* Host SDK: audio input (a generated tone). */
#ifndef HWSYS_HOST_CVI_AUDIO_H
#define HWSYS_HOST_CVI_AUDIO_H

#include "cvi_type.h"
#include "cvi_comm_aio.h"

CVI_S32 CVI_AUDIO_INIT(void);
CVI_S32 CVI_AUDIO_DEINIT(void);
CVI_S32 CVI_AI_SetPubAttr(AUDIO_DEV AiDevId, const AIO_ATTR_S *pstAttr);
CVI_S32 CVI_AI_GetPubAttr(AUDIO_DEV AiDevId, AIO_ATTR_S *pstAttr);
CVI_S32 CVI_AI_Enable(AUDIO_DEV AiDevId);
CVI_S32 CVI_AI_Disable(AUDIO_DEV AiDevId);
CVI_S32 CVI_AI_EnableChn(AUDIO_DEV AiDevId, AI_CHN AiChn);
CVI_S32 CVI_AI_DisableChn(AUDIO_DEV AiDevId, AI_CHN AiChn);
CVI_S32 CVI_AI_GetFrame(AUDIO_DEV AiDevId, AI_CHN AiChn, AUDIO_FRAME_S *pstFrm, AEC_FRAME_S *pstAecFrm,
			CVI_S32 s32MilliSec);
CVI_S32 CVI_AI_ReleaseFrame(AUDIO_DEV AiDevId, AI_CHN AiChn, const AUDIO_FRAME_S *pstFrm,
			    const AEC_FRAME_S *pstAecFrm);
CVI_S32 CVI_AI_SetVolume(AUDIO_DEV AiDevId, CVI_S32 s32VolumeStep);

#endif
