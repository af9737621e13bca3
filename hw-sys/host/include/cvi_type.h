/*
 * Host SDK: scalar types, ids and error codes of the CVITEK media SDK
 * ("MPI") subset hw-sys binds. Written for this project; names, values and
 * layouts follow the vendor ABI on LP64 so that the same Rust code builds
 * against either (see hw-sys/README.md).
 */
#ifndef HWSYS_HOST_CVI_TYPE_H
#define HWSYS_HOST_CVI_TYPE_H

#include <stdbool.h>
#include <stdint.h>

typedef unsigned char CVI_UCHAR;
typedef unsigned char CVI_U8;
typedef unsigned short CVI_U16;
typedef unsigned int CVI_U32;
typedef signed char CVI_S8;
typedef char CVI_CHAR;
typedef short CVI_S16;
typedef int CVI_S32;
typedef uint64_t CVI_U64;
typedef int64_t CVI_S64;
typedef float CVI_FLOAT;
typedef void CVI_VOID;
typedef bool CVI_BOOL; /* C's bool, as in the vendor's user-space cvi_type.h */

#define CVI_TRUE 1
#define CVI_FALSE 0
#define CVI_SUCCESS 0
#define CVI_FAILURE (-1)

typedef CVI_S32 VENC_CHN;
typedef CVI_S32 VI_DEV;
typedef CVI_S32 VI_PIPE;
typedef CVI_S32 VI_CHN;
typedef CVI_S32 AUDIO_DEV;
typedef CVI_S32 AI_CHN;

/* Module ids (the order of the vendor's module list). */
typedef enum _MOD_ID_E {
	CVI_ID_BASE = 0,
	CVI_ID_VB = 1,
	CVI_ID_SYS = 2,
	CVI_ID_RGN = 3,
	CVI_ID_CHNL = 4,
	CVI_ID_VDEC = 5,
	CVI_ID_VPSS = 6,
	CVI_ID_VENC = 7,
	CVI_ID_H264E = 8,
	CVI_ID_JPEGE = 9,
	CVI_ID_MPEG4E = 10,
	CVI_ID_H265E = 11,
	CVI_ID_JPEGD = 12,
	CVI_ID_VO = 13,
	CVI_ID_VI = 14,
	CVI_ID_DIS = 15,
	CVI_ID_RC = 16,
	CVI_ID_AIO = 17,
	CVI_ID_AI = 18,
	CVI_ID_AO = 19,
	CVI_ID_AENC = 20,
	CVI_ID_ADEC = 21,
} MOD_ID_E;

typedef struct _MMF_CHN_S {
	MOD_ID_E enModId;
	CVI_S32 s32DevId;
	CVI_S32 s32ChnId;
} MMF_CHN_S;

typedef struct _SIZE_S {
	CVI_U32 u32Width;
	CVI_U32 u32Height;
} SIZE_S;

/* Payload types (RTP numbering, as the vendor uses). */
typedef enum {
	PT_PCMU = 0,
	PT_PCMA = 8,
	PT_H264 = 96,
	PT_JPEG = 26,
	PT_AAC = 37,
	PT_MJPEG = 1002,
	PT_H265 = 265,
} PAYLOAD_TYPE_E;

/*
 * Error codes: 0xC0000000 | module << 16 | level << 13 | id, level 4
 * (error). Only the ones this subset returns.
 */
#define HWSYS_ERR(mod, id) ((CVI_S32)(0xC0000000u | ((CVI_U32)(mod) << 16) | (4u << 13) | (CVI_U32)(id)))
#define EN_ERR_INVALID_CHNID 2
#define EN_ERR_ILLEGAL_PARAM 3
#define EN_ERR_EXIST 4
#define EN_ERR_UNEXIST 5
#define EN_ERR_NULL_PTR 6
#define EN_ERR_NOT_CONFIG 7
#define EN_ERR_NOT_SUPPORT 8
#define EN_ERR_NOT_PERM 9
#define EN_ERR_NOMEM 12
#define EN_ERR_NOBUF 13
#define EN_ERR_BUF_EMPTY 14
#define EN_ERR_BUF_FULL 15
#define EN_ERR_SYS_NOTREADY 16
#define EN_ERR_BUSY 18
#define EN_ERR_SIZE_NOT_ENOUGH 19

#endif
