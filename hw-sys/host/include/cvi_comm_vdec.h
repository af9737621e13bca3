/*
 * Host SDK: the video decoder's types, field for field as the vendor's
 * middleware v2 declares them (VDEC_CHN_ATTR_S, VDEC_STREAM_S,
 * VDEC_CHN_STATUS_S), and its error codes.
 */
#ifndef HWSYS_HOST_CVI_COMM_VDEC_H
#define HWSYS_HOST_CVI_COMM_VDEC_H

#include "cvi_type.h"
#include "cvi_comm_video.h"

typedef CVI_S32 VDEC_CHN;

typedef enum _VIDEO_MODE_E {
	VIDEO_MODE_STREAM = 0, /* stream in pieces of any size */
	VIDEO_MODE_FRAME, /* one access unit per SendStream */
	VIDEO_MODE_COMPAT,
	VIDEO_MODE_BUTT
} VIDEO_MODE_E;

typedef struct _VDEC_ATTR_VIDEO_S {
	CVI_U32 u32RefFrameNum;
	CVI_BOOL bTemporalMvpEnable;
	CVI_U32 u32TmvBufSize;
} VDEC_ATTR_VIDEO_S;

typedef struct _VDEC_CHN_ATTR_S {
	PAYLOAD_TYPE_E enType;
	VIDEO_MODE_E enMode;
	CVI_U32 u32PicWidth; /* the largest picture */
	CVI_U32 u32PicHeight;
	CVI_U32 u32StreamBufSize;
	CVI_U32 u32FrameBufSize;
	CVI_U32 u32FrameBufCnt; /* decoded pictures that may wait to be taken */
	union {
		VDEC_ATTR_VIDEO_S stVdecVideoAttr;
	};
} VDEC_CHN_ATTR_S;

typedef struct _VDEC_STREAM_S {
	CVI_U32 u32Len;
	CVI_U64 u64PTS;
	CVI_BOOL bEndOfFrame;
	CVI_BOOL bEndOfStream; /* no more input: the pictures still held come out */
	CVI_BOOL bDisplay;
	CVI_U8 *pu8Addr;
} VDEC_STREAM_S;

typedef struct _VDEC_DECODE_ERROR_S {
	CVI_S32 s32FormatErr;
	CVI_S32 s32PicSizeErrSet;
	CVI_S32 s32StreamUnsprt;
	CVI_S32 s32PackErr;
	CVI_S32 s32PrtclNumErrSet;
	CVI_S32 s32RefErrSet;
	CVI_S32 s32PicBufSizeErrSet;
	CVI_S32 s32StreamSizeOver;
	CVI_S32 s32VdecStreamNotRelease;
} VDEC_DECODE_ERROR_S;

typedef struct _VDEC_CHN_STATUS_S {
	PAYLOAD_TYPE_E enType;
	CVI_S32 u32LeftStreamBytes;
	CVI_S32 u32LeftStreamFrames;
	CVI_S32 u32LeftPics; /* decoded pictures waiting to be taken */
	CVI_BOOL bStartRecvStream;
	CVI_U32 u32RecvStreamFrames;
	CVI_U32 u32DecodeStreamFrames;
	VDEC_DECODE_ERROR_S stVdecDecErr;
	CVI_U32 u32Width;
	CVI_U32 u32Height;
} VDEC_CHN_STATUS_S;

#define CVI_ERR_VDEC_INVALID_CHNID HWSYS_ERR(CVI_ID_VDEC, EN_ERR_INVALID_CHNID)
#define CVI_ERR_VDEC_ILLEGAL_PARAM HWSYS_ERR(CVI_ID_VDEC, EN_ERR_ILLEGAL_PARAM)
#define CVI_ERR_VDEC_EXIST HWSYS_ERR(CVI_ID_VDEC, EN_ERR_EXIST)
#define CVI_ERR_VDEC_UNEXIST HWSYS_ERR(CVI_ID_VDEC, EN_ERR_UNEXIST)
#define CVI_ERR_VDEC_NULL_PTR HWSYS_ERR(CVI_ID_VDEC, EN_ERR_NULL_PTR)
#define CVI_ERR_VDEC_NOT_SUPPORT HWSYS_ERR(CVI_ID_VDEC, EN_ERR_NOT_SUPPORT)
#define CVI_ERR_VDEC_NOT_PERM HWSYS_ERR(CVI_ID_VDEC, EN_ERR_NOT_PERM)
#define CVI_ERR_VDEC_NOMEM HWSYS_ERR(CVI_ID_VDEC, EN_ERR_NOMEM)
#define CVI_ERR_VDEC_BUF_EMPTY HWSYS_ERR(CVI_ID_VDEC, EN_ERR_BUF_EMPTY)
#define CVI_ERR_VDEC_BUF_FULL HWSYS_ERR(CVI_ID_VDEC, EN_ERR_BUF_FULL)
#define CVI_ERR_VDEC_BUSY HWSYS_ERR(CVI_ID_VDEC, EN_ERR_BUSY)

#endif
