/* Host SDK: VB pools. */
#ifndef HWSYS_HOST_CVI_VB_H
#define HWSYS_HOST_CVI_VB_H

#include "cvi_type.h"
#include "cvi_comm_vb.h"

CVI_S32 CVI_VB_SetConfig(const VB_CONFIG_S *pstVbConfig);
CVI_S32 CVI_VB_GetConfig(VB_CONFIG_S *pstVbConfig);
CVI_S32 CVI_VB_Init(void);
CVI_S32 CVI_VB_Exit(void);
VB_POOL CVI_VB_CreatePool(VB_POOL_CONFIG_S *pstVbPoolCfg);
CVI_S32 CVI_VB_DestroyPool(VB_POOL Pool);
VB_BLK CVI_VB_GetBlock(VB_POOL Pool, CVI_U32 u32BlkSize);
CVI_S32 CVI_VB_ReleaseBlock(VB_BLK Block);
CVI_U64 CVI_VB_Handle2PhysAddr(VB_BLK Block);
VB_POOL CVI_VB_Handle2PoolId(VB_BLK Block);

#endif
