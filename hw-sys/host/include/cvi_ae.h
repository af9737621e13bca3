/* Host SDK: auto exposure control (exposure attributes). */
#ifndef HWSYS_HOST_CVI_AE_H
#define HWSYS_HOST_CVI_AE_H

#include "cvi_comm_3a.h"

CVI_S32 CVI_ISP_SetExposureAttr(VI_PIPE ViPipe, const ISP_EXPOSURE_ATTR_S *pstExpAttr);
CVI_S32 CVI_ISP_GetExposureAttr(VI_PIPE ViPipe, ISP_EXPOSURE_ATTR_S *pstExpAttr);

#endif
