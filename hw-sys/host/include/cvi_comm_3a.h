/* Host SDK: ISP exposure (layouts as the vendor ABI on LP64). */
#ifndef HWSYS_HOST_CVI_COMM_3A_H
#define HWSYS_HOST_CVI_COMM_3A_H

#include "cvi_type.h"
#include "cvi_comm_isp.h"

typedef enum _ISP_AE_GAIN_TYPE_E {
	AE_TYPE_GAIN = 0,
	AE_TYPE_ISO = 1,
	AE_TYPE_BUTT
} ISP_AE_GAIN_TYPE_E;

typedef enum _ISP_AE_METER_MODE_E {
	AE_METER_MULTI = 0,
	AE_METER_AVERAGE,
	AE_METER_HIGHLIGHT_PRIORITY,
	AE_METER_LOWLIGHT_PRIORITY,
	AE_METER_BUTT
} ISP_AE_METER_MODE_E;

/* Manual exposure: 44 bytes. Time in microseconds, gains in 1/1024. */
typedef struct _ISP_ME_ATTR_S {
	ISP_OP_TYPE_E enExpTimeOpType;
	ISP_OP_TYPE_E enAGainOpType;
	ISP_OP_TYPE_E enDGainOpType;
	ISP_OP_TYPE_E enISPDGainOpType;
	CVI_U32 u32ExpTime;
	CVI_U32 u32AGain;
	CVI_U32 u32DGain;
	CVI_U32 u32ISPDGain;
	ISP_OP_TYPE_E enISONumOpType;
	ISP_AE_GAIN_TYPE_E enGainType;
	CVI_U32 u32ISONum;
} ISP_ME_ATTR_S;

/* The auto exposure tuning block: 216 bytes, not used here. */
typedef struct _ISP_AE_ATTR_S {
	CVI_U32 au32Reserved[54];
} ISP_AE_ATTR_S;

/* 284 bytes. */
typedef struct _ISP_EXPOSURE_ATTR_S {
	CVI_BOOL bByPass;
	ISP_OP_TYPE_E enOpType;
	CVI_U8 u8AERunInterval;
	CVI_BOOL bHistStatAdjust;
	CVI_BOOL bAERouteExValid;
	ISP_ME_ATTR_S stManual;
	ISP_AE_ATTR_S stAuto;
	CVI_U8 u8DebugMode;
	ISP_AE_METER_MODE_E enMeterMode;
	CVI_BOOL bAEGainSepCfg;
} ISP_EXPOSURE_ATTR_S;

#endif
