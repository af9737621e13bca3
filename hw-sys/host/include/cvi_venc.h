/* Host SDK: the video encoder (H.264 through OpenH264). */
#ifndef HWSYS_HOST_CVI_VENC_H
#define HWSYS_HOST_CVI_VENC_H

#include "cvi_type.h"
#include "cvi_comm_venc.h"

CVI_S32 CVI_VENC_CreateChn(VENC_CHN VeChn, const VENC_CHN_ATTR_S *pstAttr);
CVI_S32 CVI_VENC_DestroyChn(VENC_CHN VeChn);
CVI_S32 CVI_VENC_StartRecvFrame(VENC_CHN VeChn, const VENC_RECV_PIC_PARAM_S *pstRecvParam);
CVI_S32 CVI_VENC_StopRecvFrame(VENC_CHN VeChn);
CVI_S32 CVI_VENC_QueryStatus(VENC_CHN VeChn, VENC_CHN_STATUS_S *pstStatus);
CVI_S32 CVI_VENC_SetChnAttr(VENC_CHN VeChn, const VENC_CHN_ATTR_S *pstChnAttr);
CVI_S32 CVI_VENC_GetChnAttr(VENC_CHN VeChn, VENC_CHN_ATTR_S *pstChnAttr);
CVI_S32 CVI_VENC_GetStream(VENC_CHN VeChn, VENC_STREAM_S *pstStream, CVI_S32 S32MilliSec);
CVI_S32 CVI_VENC_ReleaseStream(VENC_CHN VeChn, VENC_STREAM_S *pstStream);
CVI_S32 CVI_VENC_SendFrame(VENC_CHN VeChn, const VIDEO_FRAME_INFO_S *pstFrame, CVI_S32 s32MilliSec);
CVI_S32 CVI_VENC_RequestIDR(VENC_CHN VeChn, CVI_BOOL bInstant);
CVI_S32 CVI_VENC_GetFd(VENC_CHN VeChn);
CVI_S32 CVI_VENC_CloseFd(VENC_CHN VeChn);

#endif
