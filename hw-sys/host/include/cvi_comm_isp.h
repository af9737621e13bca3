/* Host SDK: ISP white balance (layouts as the vendor ABI on LP64). */
#ifndef HWSYS_HOST_CVI_COMM_ISP_H
#define HWSYS_HOST_CVI_COMM_ISP_H

#include "cvi_type.h"

typedef enum _ISP_OP_TYPE_E {
	OP_TYPE_AUTO,
	OP_TYPE_MANUAL,
	OP_TYPE_BUTT
} ISP_OP_TYPE_E;

/* Gains in 1/1024 units (0x400 = 1.0). */
typedef struct _ISP_MWB_ATTR_S {
	CVI_U16 u16Rgain;
	CVI_U16 u16Grgain;
	CVI_U16 u16Gbgain;
	CVI_U16 u16Bgain;
} ISP_MWB_ATTR_S;

/* The auto white balance tuning block: 1276 bytes, not used here. */
typedef struct _ISP_AWB_ATTR_S {
	CVI_U32 au32Reserved[319];
} ISP_AWB_ATTR_S;

typedef enum _ISP_AWB_ALG_E {
	ALG_AWB,
	ALG_AWB_SPEC,
	ALG_BUTT
} ISP_AWB_ALG_E;

/* 1300 bytes. */
typedef struct _ISP_WB_ATTR_S {
	CVI_BOOL bByPass;
	CVI_U8 u8AWBRunInterval;
	ISP_OP_TYPE_E enOpType;
	ISP_MWB_ATTR_S stManual;
	ISP_AWB_ATTR_S stAuto;
	ISP_AWB_ALG_E enAlgType;
	CVI_U8 u8DebugMode;
} ISP_WB_ATTR_S;

#endif
