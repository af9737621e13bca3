/*
 * Host SDK: video input types (layouts as the vendor ABI on LP64).
 * VI_DEV_ATTR_S describes the sensor interface; the host camera needs none
 * of it and keeps it opaque, at the vendor's size.
 */
#ifndef HWSYS_HOST_CVI_COMM_VI_H
#define HWSYS_HOST_CVI_COMM_VI_H

#include "cvi_type.h"
#include "cvi_comm_video.h"

/* 140 bytes. */
typedef struct _VI_DEV_ATTR_S {
	CVI_U32 au32Reserved[35];
} VI_DEV_ATTR_S;

typedef enum _VI_PIPE_BYPASS_MODE_E {
	VI_PIPE_BYPASS_NONE = 0,
	VI_PIPE_BYPASS_FE,
	VI_PIPE_BYPASS_BE,
	VI_PIPE_BYPASS_BUTT
} VI_PIPE_BYPASS_MODE_E;

/* 44 bytes. */
typedef struct _VI_PIPE_ATTR_S {
	VI_PIPE_BYPASS_MODE_E enPipeBypassMode;
	CVI_BOOL bYuvSkip;
	CVI_BOOL bIspBypass;
	CVI_U32 u32MaxW;
	CVI_U32 u32MaxH;
	PIXEL_FORMAT_E enPixFmt;
	COMPRESS_MODE_E enCompressMode;
	CVI_U32 au32Reserved0[2];
	FRAME_RATE_CTRL_S stFrameRate;
	CVI_U32 au32Reserved1[1];
} VI_PIPE_ATTR_S;

/* 44 bytes. */
typedef struct _VI_CHN_ATTR_S {
	SIZE_S stSize;
	PIXEL_FORMAT_E enPixelFormat;
	DYNAMIC_RANGE_E enDynamicRange;
	VIDEO_FORMAT_E enVideoFormat;
	COMPRESS_MODE_E enCompressMode;
	CVI_BOOL bMirror;
	CVI_BOOL bFlip;
	CVI_U32 u32Depth;
	FRAME_RATE_CTRL_S stFrameRate;
	CVI_U32 u32BindVbPool;
} VI_CHN_ATTR_S;

#define CVI_ERR_VI_INVALID_PARA HWSYS_ERR(CVI_ID_VI, EN_ERR_ILLEGAL_PARAM)
#define CVI_ERR_VI_INVALID_CHNID HWSYS_ERR(CVI_ID_VI, EN_ERR_INVALID_CHNID)
#define CVI_ERR_VI_INVALID_NULL_PTR HWSYS_ERR(CVI_ID_VI, EN_ERR_NULL_PTR)
#define CVI_ERR_VI_FAILED_NOTCONFIG HWSYS_ERR(CVI_ID_VI, EN_ERR_NOT_CONFIG)
#define CVI_ERR_VI_SYS_NOTREADY HWSYS_ERR(CVI_ID_VI, EN_ERR_SYS_NOTREADY)
#define CVI_ERR_VI_BUF_EMPTY HWSYS_ERR(CVI_ID_VI, EN_ERR_BUF_EMPTY)
#define CVI_ERR_VI_NOMEM HWSYS_ERR(CVI_ID_VI, EN_ERR_NOMEM)
#define CVI_ERR_VI_BUSY HWSYS_ERR(CVI_ID_VI, EN_ERR_BUSY)
#define CVI_ERR_VI_NOT_PERM HWSYS_ERR(CVI_ID_VI, EN_ERR_NOT_PERM)

#endif
