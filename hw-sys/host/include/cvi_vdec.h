#ifndef HWSYS_HOST_CVI_VDEC_H
#define HWSYS_HOST_CVI_VDEC_H

#include "cvi_comm_vdec.h"

CVI_S32 CVI_VDEC_CreateChn(VDEC_CHN VdChn, const VDEC_CHN_ATTR_S *pstAttr);
CVI_S32 CVI_VDEC_DestroyChn(VDEC_CHN VdChn);
CVI_S32 CVI_VDEC_StartRecvStream(VDEC_CHN VdChn);
CVI_S32 CVI_VDEC_StopRecvStream(VDEC_CHN VdChn);
CVI_S32 CVI_VDEC_QueryStatus(VDEC_CHN VdChn, VDEC_CHN_STATUS_S *pstStatus);
CVI_S32 CVI_VDEC_SendStream(VDEC_CHN VdChn, const VDEC_STREAM_S *pstStream, CVI_S32 s32MilliSec);
CVI_S32 CVI_VDEC_GetFrame(VDEC_CHN VdChn, VIDEO_FRAME_INFO_S *pstFrameInfo, CVI_S32 s32MilliSec);
CVI_S32 CVI_VDEC_ReleaseFrame(VDEC_CHN VdChn, const VIDEO_FRAME_INFO_S *pstFrameInfo);

#endif
