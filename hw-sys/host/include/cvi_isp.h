/* Host SDK: ISP (exposure, cvi_ae.h, and white balance, cvi_awb.h, shape
 * the test picture). */
#ifndef HWSYS_HOST_CVI_ISP_H
#define HWSYS_HOST_CVI_ISP_H

#include "cvi_type.h"
#include "cvi_comm_isp.h"
#include "cvi_comm_3a.h"

CVI_S32 CVI_ISP_Init(VI_PIPE ViPipe);
CVI_S32 CVI_ISP_Run(VI_PIPE ViPipe);
CVI_S32 CVI_ISP_Exit(VI_PIPE ViPipe);

#endif
