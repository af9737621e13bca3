/* Host SDK: VB pools of fixed-size blocks in physical memory. */
#include <string.h>

#include "cvi_vb.h"
#include "host.h"

#define MAX_POOLS 32
#define MAX_BLOCKS 64

struct pool {
	int used;
	CVI_U32 blk_size;
	CVI_U32 blk_cnt;
	CVI_U64 phys;
	unsigned char taken[MAX_BLOCKS];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct pool pools[MAX_POOLS];
static VB_CONFIG_S config;
static int config_set;
static int vb_ready;
/* Pools created by CVI_VB_Init from the configuration. */
static VB_POOL common[VB_MAX_COMM_POOLS];
static CVI_U32 common_cnt;

/* A block handle: pool + 1 in the high half, block index in the low half. */
static VB_BLK handle(VB_POOL p, CVI_U32 i)
{
	return ((VB_BLK)(p + 1) << 32) | i;
}

static struct pool *lookup(VB_BLK blk, CVI_U32 *index)
{
	CVI_U64 p = (blk >> 32);
	CVI_U32 i = (CVI_U32)blk;
	if (p == 0 || p > MAX_POOLS)
		return NULL;
	struct pool *pl = &pools[p - 1];
	if (!pl->used || i >= pl->blk_cnt || !pl->taken[i])
		return NULL;
	*index = i;
	return pl;
}

static VB_POOL create(const VB_POOL_CONFIG_S *cfg)
{
	if (!cfg || cfg->u32BlkSize == 0 || cfg->u32BlkCnt == 0 || cfg->u32BlkCnt > MAX_BLOCKS)
		return VB_INVALID_POOLID;
	CVI_U64 phys = host_phys_alloc((size_t)cfg->u32BlkSize * cfg->u32BlkCnt);
	if (!phys)
		return VB_INVALID_POOLID;
	for (VB_POOL p = 0; p < MAX_POOLS; p++) {
		if (!pools[p].used) {
			memset(&pools[p], 0, sizeof(pools[p]));
			pools[p].used = 1;
			pools[p].blk_size = cfg->u32BlkSize;
			pools[p].blk_cnt = cfg->u32BlkCnt;
			pools[p].phys = phys;
			return p;
		}
	}
	host_phys_free(phys);
	return VB_INVALID_POOLID;
}

CVI_S32 CVI_VB_SetConfig(const VB_CONFIG_S *pstVbConfig)
{
	if (!pstVbConfig)
		return CVI_ERR_VB_NULL_PTR;
	if (pstVbConfig->u32MaxPoolCnt > VB_MAX_COMM_POOLS)
		return CVI_ERR_VB_ILLEGAL_PARAM;
	pthread_mutex_lock(&lock);
	if (vb_ready) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VB_BUSY;
	}
	config = *pstVbConfig;
	config_set = 1;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VB_GetConfig(VB_CONFIG_S *pstVbConfig)
{
	if (!pstVbConfig)
		return CVI_ERR_VB_NULL_PTR;
	pthread_mutex_lock(&lock);
	*pstVbConfig = config;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VB_Init(void)
{
	if (!host_sys_ready())
		return CVI_ERR_VB_NOTREADY;
	pthread_mutex_lock(&lock);
	if (vb_ready) {
		pthread_mutex_unlock(&lock);
		return CVI_SUCCESS;
	}
	common_cnt = 0;
	for (CVI_U32 i = 0; config_set && i < config.u32MaxPoolCnt; i++) {
		VB_POOL p = create(&config.astCommPool[i]);
		if (p == VB_INVALID_POOLID) {
			for (CVI_U32 k = 0; k < common_cnt; k++) {
				host_phys_free(pools[common[k]].phys);
				pools[common[k]].used = 0;
			}
			pthread_mutex_unlock(&lock);
			return CVI_ERR_VB_NOMEM;
		}
		common[common_cnt++] = p;
	}
	vb_ready = 1;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_VB_Exit(void)
{
	pthread_mutex_lock(&lock);
	for (VB_POOL p = 0; p < MAX_POOLS; p++) {
		if (pools[p].used) {
			host_phys_free(pools[p].phys);
			pools[p].used = 0;
		}
	}
	vb_ready = 0;
	common_cnt = 0;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

VB_POOL CVI_VB_CreatePool(VB_POOL_CONFIG_S *pstVbPoolCfg)
{
	if (!host_sys_ready())
		return VB_INVALID_POOLID;
	pthread_mutex_lock(&lock);
	VB_POOL p = create(pstVbPoolCfg);
	pthread_mutex_unlock(&lock);
	return p;
}

CVI_S32 CVI_VB_DestroyPool(VB_POOL Pool)
{
	pthread_mutex_lock(&lock);
	if (Pool >= MAX_POOLS || !pools[Pool].used) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VB_UNEXIST;
	}
	for (CVI_U32 i = 0; i < pools[Pool].blk_cnt; i++) {
		if (pools[Pool].taken[i]) {
			pthread_mutex_unlock(&lock);
			return CVI_ERR_VB_BUSY; /* blocks still out */
		}
	}
	host_phys_free(pools[Pool].phys);
	pools[Pool].used = 0;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

VB_BLK CVI_VB_GetBlock(VB_POOL Pool, CVI_U32 u32BlkSize)
{
	VB_BLK blk = VB_INVALID_HANDLE;
	pthread_mutex_lock(&lock);
	if (Pool == VB_INVALID_POOLID) {
		/* Any common pool with blocks large enough. */
		for (CVI_U32 k = 0; k < common_cnt && blk == VB_INVALID_HANDLE; k++) {
			struct pool *pl = &pools[common[k]];
			if (pl->blk_size < u32BlkSize)
				continue;
			for (CVI_U32 i = 0; i < pl->blk_cnt; i++) {
				if (!pl->taken[i]) {
					pl->taken[i] = 1;
					blk = handle(common[k], i);
					break;
				}
			}
		}
	} else if (Pool < MAX_POOLS && pools[Pool].used && pools[Pool].blk_size >= u32BlkSize) {
		struct pool *pl = &pools[Pool];
		for (CVI_U32 i = 0; i < pl->blk_cnt; i++) {
			if (!pl->taken[i]) {
				pl->taken[i] = 1;
				blk = handle(Pool, i);
				break;
			}
		}
	}
	pthread_mutex_unlock(&lock);
	return blk;
}

CVI_S32 CVI_VB_ReleaseBlock(VB_BLK Block)
{
	CVI_U32 i;
	pthread_mutex_lock(&lock);
	struct pool *pl = lookup(Block, &i);
	if (!pl) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_VB_ILLEGAL_PARAM;
	}
	pl->taken[i] = 0;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_U64 host_vb_phys(CVI_U64 blk)
{
	CVI_U32 i;
	pthread_mutex_lock(&lock);
	struct pool *pl = lookup(blk, &i);
	CVI_U64 phys = pl ? pl->phys + (CVI_U64)pl->blk_size * i : 0;
	pthread_mutex_unlock(&lock);
	return phys;
}

CVI_U64 CVI_VB_Handle2PhysAddr(VB_BLK Block)
{
	return host_vb_phys(Block);
}

VB_POOL CVI_VB_Handle2PoolId(VB_BLK Block)
{
	CVI_U32 i;
	pthread_mutex_lock(&lock);
	struct pool *pl = lookup(Block, &i);
	VB_POOL p = pl ? (VB_POOL)(pl - pools) : VB_INVALID_POOLID;
	pthread_mutex_unlock(&lock);
	return p;
}
