/* Host SDK: ISP. Exposure and white balance change how VI draws its test
 * picture: manual exposure scales brightness (10 ms is neutral), manual
 * white balance gains tint it. */
#include <string.h>

#include "cvi_ae.h"
#include "cvi_awb.h"
#include "cvi_isp.h"
#include "host.h"

#define MAX_PIPES 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int running[MAX_PIPES];
static ISP_EXPOSURE_ATTR_S exposure[MAX_PIPES];
static ISP_WB_ATTR_S wb[MAX_PIPES];

#define CVI_ERR_ISP_ILLEGAL_PARAM HWSYS_ERR(CVI_ID_VI, EN_ERR_ILLEGAL_PARAM)
#define CVI_ERR_ISP_NULL_PTR HWSYS_ERR(CVI_ID_VI, EN_ERR_NULL_PTR)

static void defaults(int p)
{
	memset(&exposure[p], 0, sizeof(exposure[p]));
	exposure[p].enOpType = OP_TYPE_AUTO;
	exposure[p].u8AERunInterval = 1;
	exposure[p].stManual.u32ExpTime = 10000;
	exposure[p].stManual.u32AGain = 0x400;
	exposure[p].stManual.u32DGain = 0x400;
	exposure[p].stManual.u32ISPDGain = 0x400;
	memset(&wb[p], 0, sizeof(wb[p]));
	wb[p].enOpType = OP_TYPE_AUTO;
	wb[p].u8AWBRunInterval = 1;
	wb[p].stManual.u16Rgain = 0x400;
	wb[p].stManual.u16Grgain = 0x400;
	wb[p].stManual.u16Gbgain = 0x400;
	wb[p].stManual.u16Bgain = 0x400;
}

CVI_S32 CVI_ISP_Init(VI_PIPE ViPipe)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_ISP_ILLEGAL_PARAM;
	pthread_mutex_lock(&lock);
	defaults(ViPipe);
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_ISP_Run(VI_PIPE ViPipe)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_ISP_ILLEGAL_PARAM;
	pthread_mutex_lock(&lock);
	running[ViPipe] = 1;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_ISP_Exit(VI_PIPE ViPipe)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_ISP_ILLEGAL_PARAM;
	pthread_mutex_lock(&lock);
	running[ViPipe] = 0;
	defaults(ViPipe);
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_ISP_SetExposureAttr(VI_PIPE ViPipe, const ISP_EXPOSURE_ATTR_S *pstExpAttr)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_ISP_ILLEGAL_PARAM;
	if (!pstExpAttr)
		return CVI_ERR_ISP_NULL_PTR;
	if (pstExpAttr->enOpType >= OP_TYPE_BUTT || pstExpAttr->stManual.u32ExpTime > 0x7FFFFFFF)
		return CVI_ERR_ISP_ILLEGAL_PARAM;
	pthread_mutex_lock(&lock);
	exposure[ViPipe] = *pstExpAttr;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_ISP_GetExposureAttr(VI_PIPE ViPipe, ISP_EXPOSURE_ATTR_S *pstExpAttr)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_ISP_ILLEGAL_PARAM;
	if (!pstExpAttr)
		return CVI_ERR_ISP_NULL_PTR;
	pthread_mutex_lock(&lock);
	*pstExpAttr = exposure[ViPipe];
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_ISP_SetWBAttr(VI_PIPE ViPipe, const ISP_WB_ATTR_S *pstWBAttr)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_ISP_ILLEGAL_PARAM;
	if (!pstWBAttr)
		return CVI_ERR_ISP_NULL_PTR;
	const ISP_MWB_ATTR_S *m = &pstWBAttr->stManual;
	if (pstWBAttr->enOpType >= OP_TYPE_BUTT || m->u16Rgain == 0 || m->u16Bgain == 0 || m->u16Grgain == 0 ||
	    m->u16Rgain > 0x3FFF || m->u16Bgain > 0x3FFF || m->u16Grgain > 0x3FFF)
		return CVI_ERR_ISP_ILLEGAL_PARAM;
	pthread_mutex_lock(&lock);
	wb[ViPipe] = *pstWBAttr;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_ISP_GetWBAttr(VI_PIPE ViPipe, ISP_WB_ATTR_S *pstWBAttr)
{
	if (ViPipe < 0 || ViPipe >= MAX_PIPES)
		return CVI_ERR_ISP_ILLEGAL_PARAM;
	if (!pstWBAttr)
		return CVI_ERR_ISP_NULL_PTR;
	pthread_mutex_lock(&lock);
	*pstWBAttr = wb[ViPipe];
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

void host_isp_look(int pipe, struct host_isp_look *out)
{
	memset(out, 0, sizeof(*out));
	out->exposure_us = 10000;
	out->r_gain = out->g_gain = out->b_gain = 0x400;
	if (pipe < 0 || pipe >= MAX_PIPES)
		return;
	pthread_mutex_lock(&lock);
	if (running[pipe] && exposure[pipe].enOpType == OP_TYPE_MANUAL) {
		out->manual_exposure = 1;
		out->exposure_us = exposure[pipe].stManual.u32ExpTime;
	}
	if (running[pipe] && wb[pipe].enOpType == OP_TYPE_MANUAL) {
		out->manual_wb = 1;
		out->r_gain = wb[pipe].stManual.u16Rgain;
		out->g_gain = wb[pipe].stManual.u16Grgain;
		out->b_gain = wb[pipe].stManual.u16Bgain;
	}
	pthread_mutex_unlock(&lock);
}
