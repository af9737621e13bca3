/* Host SDK: video frames (layouts as the vendor ABI on LP64). */
#ifndef HWSYS_HOST_CVI_COMM_VIDEO_H
#define HWSYS_HOST_CVI_COMM_VIDEO_H

#include "cvi_type.h"

typedef enum _PIXEL_FORMAT_E {
	PIXEL_FORMAT_RGB_888 = 0,
	PIXEL_FORMAT_YUV_PLANAR_422 = 12,
	PIXEL_FORMAT_YUV_PLANAR_420 = 13,
	PIXEL_FORMAT_YUV_400 = 15,
	PIXEL_FORMAT_NV12 = 18,
	PIXEL_FORMAT_NV21 = 19,
} PIXEL_FORMAT_E;

typedef enum _VIDEO_FORMAT_E { VIDEO_FORMAT_LINEAR = 0 } VIDEO_FORMAT_E;
typedef enum _COMPRESS_MODE_E { COMPRESS_MODE_NONE = 0 } COMPRESS_MODE_E;
typedef enum _DYNAMIC_RANGE_E { DYNAMIC_RANGE_SDR8 = 0 } DYNAMIC_RANGE_E;
typedef enum _BAYER_FORMAT_E { BAYER_FORMAT_BG = 0 } BAYER_FORMAT_E;
typedef enum _COLOR_GAMUT_E { COLOR_GAMUT_BT601 = 0 } COLOR_GAMUT_E;

typedef struct _FRAME_RATE_CTRL_S {
	CVI_S32 s32SrcFrameRate;
	CVI_S32 s32DstFrameRate;
} FRAME_RATE_CTRL_S;

/* 144 bytes. Planes are reached through their physical addresses
 * (CVI_SYS_Mmap); pu8VirAddr is left NULL by VI, as on the board. */
typedef struct _VIDEO_FRAME_S {
	CVI_U32 u32Width;
	CVI_U32 u32Height;
	PIXEL_FORMAT_E enPixelFormat;
	BAYER_FORMAT_E enBayerFormat;
	VIDEO_FORMAT_E enVideoFormat;
	COMPRESS_MODE_E enCompressMode;
	DYNAMIC_RANGE_E enDynamicRange;
	COLOR_GAMUT_E enColorGamut;
	CVI_U32 u32Stride[3];
	CVI_U64 u64PhyAddr[3];
	CVI_U8 *pu8VirAddr[3];
	CVI_U32 u32Length[3];
	CVI_S16 s16OffsetTop;
	CVI_S16 s16OffsetBottom;
	CVI_S16 s16OffsetLeft;
	CVI_S16 s16OffsetRight;
	CVI_U32 u32TimeRef;
	CVI_U64 u64PTS;
	void *pPrivateData;
	CVI_U32 u32FrameFlag;
} VIDEO_FRAME_S;

/* 152 bytes. */
typedef struct _VIDEO_FRAME_INFO_S {
	VIDEO_FRAME_S stVFrame;
	CVI_U32 u32PoolId;
} VIDEO_FRAME_INFO_S;

#endif
