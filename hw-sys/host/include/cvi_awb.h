/* Host SDK: auto white balance control (white balance attributes). */
#ifndef HWSYS_HOST_CVI_AWB_H
#define HWSYS_HOST_CVI_AWB_H

#include "cvi_comm_isp.h"

CVI_S32 CVI_ISP_SetWBAttr(VI_PIPE ViPipe, const ISP_WB_ATTR_S *pstWBAttr);
CVI_S32 CVI_ISP_GetWBAttr(VI_PIPE ViPipe, ISP_WB_ATTR_S *pstWBAttr);

#endif
