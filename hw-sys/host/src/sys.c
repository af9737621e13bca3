/* Host SDK: SYS, ION and the physical memory behind VB, VI and VENC. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cvi_sys.h"
#include "host.h"

#define PHYS_SIZE (512ull << 20) /* sparse: pages exist once touched */
#define MAX_ALLOCS 1024

struct alloc {
	CVI_U64 off;
	CVI_U64 len; /* 0: free slot */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int memfd = -1;
static int init_count;
static struct alloc allocs[MAX_ALLOCS];

static size_t page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

CVI_U64 host_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (CVI_U64)ts.tv_sec * 1000000u + (CVI_U64)ts.tv_nsec / 1000u;
}

void host_sleep_until_us(CVI_U64 us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000u), .tv_nsec = (long)(us % 1000000u) * 1000 };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
	}
}

int host_sys_ready(void)
{
	pthread_mutex_lock(&lock);
	int ready = memfd >= 0;
	pthread_mutex_unlock(&lock);
	return ready;
}

CVI_S32 CVI_SYS_Init(void)
{
	pthread_mutex_lock(&lock);
	if (memfd < 0) {
		memfd = memfd_create("hwsys-host-phys", MFD_CLOEXEC);
		if (memfd < 0 || ftruncate(memfd, (off_t)PHYS_SIZE) != 0) {
			if (memfd >= 0)
				close(memfd);
			memfd = -1;
			pthread_mutex_unlock(&lock);
			return CVI_ERR_SYS_NOMEM;
		}
		memset(allocs, 0, sizeof(allocs));
	}
	init_count++;
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_S32 CVI_SYS_Exit(void)
{
	pthread_mutex_lock(&lock);
	if (init_count == 0) {
		pthread_mutex_unlock(&lock);
		return CVI_ERR_SYS_NOTREADY;
	}
	if (--init_count == 0) {
		close(memfd);
		memfd = -1;
	}
	pthread_mutex_unlock(&lock);
	return CVI_SUCCESS;
}

CVI_U64 host_phys_alloc(size_t len)
{
	size_t pg = page();
	CVI_U64 want = ((CVI_U64)len + pg - 1) / pg * pg;
	if (want == 0)
		return 0;
	pthread_mutex_lock(&lock);
	if (memfd < 0) {
		pthread_mutex_unlock(&lock);
		return 0;
	}
	/* First fit over the gaps between allocations, in address order. */
	CVI_U64 at = 0;
	for (;;) {
		int moved = 0;
		for (int i = 0; i < MAX_ALLOCS; i++) {
			struct alloc *a = &allocs[i];
			if (a->len && a->off < at + want && at < a->off + a->len) {
				at = a->off + a->len;
				moved = 1;
			}
		}
		if (!moved)
			break;
	}
	CVI_U64 phys = 0;
	if (at + want <= PHYS_SIZE) {
		for (int i = 0; i < MAX_ALLOCS; i++) {
			if (allocs[i].len == 0) {
				allocs[i].off = at;
				allocs[i].len = want;
				phys = HOST_PHYS_BASE + at;
				break;
			}
		}
	}
	pthread_mutex_unlock(&lock);
	return phys; /* zero: never written, or punched out when freed */
}

int host_phys_free(CVI_U64 phys)
{
	int found = -1;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_ALLOCS; i++) {
		if (allocs[i].len && HOST_PHYS_BASE + allocs[i].off == phys) {
			/* Give the pages back; the next owner starts from zeros. */
			(void)fallocate(memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)allocs[i].off,
					(off_t)allocs[i].len);
			allocs[i].len = 0;
			found = 0;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return found;
}

void *host_phys_map(CVI_U64 phys, size_t len)
{
	if (phys < HOST_PHYS_BASE || len == 0)
		return NULL;
	CVI_U64 off = phys - HOST_PHYS_BASE;
	int fd = -1;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_ALLOCS; i++) {
		struct alloc *a = &allocs[i];
		if (a->len && a->off <= off && off + len <= a->off + a->len) {
			fd = memfd;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	if (fd < 0)
		return NULL;
	size_t pg = page();
	CVI_U64 base = off / pg * pg;
	size_t skip = (size_t)(off - base);
	void *p = mmap(NULL, len + skip, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)base);
	if (p == MAP_FAILED)
		return NULL;
	return (char *)p + skip;
}

int host_phys_unmap(void *addr, size_t len)
{
	size_t pg = page();
	uintptr_t a = (uintptr_t)addr;
	uintptr_t base = a / pg * pg;
	return munmap((void *)base, len + (a - base));
}

void *CVI_SYS_Mmap(CVI_U64 u64PhyAddr, CVI_U32 u32Size)
{
	return host_phys_map(u64PhyAddr, u32Size);
}

void *CVI_SYS_MmapCache(CVI_U64 u64PhyAddr, CVI_U32 u32Size)
{
	return host_phys_map(u64PhyAddr, u32Size);
}

CVI_S32 CVI_SYS_Munmap(void *pVirAddr, CVI_U32 u32Size)
{
	if (!pVirAddr)
		return CVI_ERR_SYS_NULL_PTR;
	return host_phys_unmap(pVirAddr, u32Size) == 0 ? CVI_SUCCESS : CVI_ERR_SYS_ILLEGAL_PARAM;
}

static CVI_S32 ion_alloc(CVI_U64 *phys, CVI_VOID **virt, CVI_U32 len)
{
	if (!phys || !virt)
		return CVI_ERR_SYS_NULL_PTR;
	if (!host_sys_ready())
		return CVI_ERR_SYS_NOTREADY;
	CVI_U64 p = host_phys_alloc(len);
	if (!p)
		return CVI_ERR_SYS_NOMEM;
	void *v = host_phys_map(p, len);
	if (!v) {
		host_phys_free(p);
		return CVI_ERR_SYS_NOMEM;
	}
	*phys = p;
	*virt = v;
	return CVI_SUCCESS;
}

CVI_S32 CVI_SYS_IonAlloc(CVI_U64 *pu64PhyAddr, CVI_VOID **ppVirAddr, const CVI_CHAR *strName, CVI_U32 u32Len)
{
	(void)strName;
	return ion_alloc(pu64PhyAddr, ppVirAddr, u32Len);
}

CVI_S32 CVI_SYS_IonAlloc_Cached(CVI_U64 *pu64PhyAddr, CVI_VOID **ppVirAddr, const CVI_CHAR *strName,
				CVI_U32 u32Len)
{
	(void)strName;
	return ion_alloc(pu64PhyAddr, ppVirAddr, u32Len);
}

CVI_S32 CVI_SYS_IonFree(CVI_U64 u64PhyAddr, CVI_VOID *pVirAddr)
{
	/* The length of the mapping is the allocation's; look it up. */
	size_t len = 0;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_ALLOCS; i++) {
		if (allocs[i].len && HOST_PHYS_BASE + allocs[i].off == u64PhyAddr)
			len = (size_t)allocs[i].len;
	}
	pthread_mutex_unlock(&lock);
	if (len == 0)
		return CVI_ERR_SYS_ILLEGAL_PARAM;
	if (pVirAddr)
		host_phys_unmap(pVirAddr, len);
	host_phys_free(u64PhyAddr);
	return CVI_SUCCESS;
}

CVI_S32 CVI_SYS_IonFlushCache(CVI_U64 u64PhyAddr, CVI_VOID *pVirAddr, CVI_U32 u32Len)
{
	(void)u64PhyAddr;
	(void)u32Len;
	return pVirAddr ? CVI_SUCCESS : CVI_ERR_SYS_NULL_PTR; /* coherent on the host */
}

CVI_S32 CVI_SYS_IonInvalidateCache(CVI_U64 u64PhyAddr, CVI_VOID *pVirAddr, CVI_U32 u32Len)
{
	return CVI_SYS_IonFlushCache(u64PhyAddr, pVirAddr, u32Len);
}

CVI_S32 CVI_SYS_Bind(const MMF_CHN_S *pstSrcChn, const MMF_CHN_S *pstDestChn)
{
	if (!pstSrcChn || !pstDestChn)
		return CVI_ERR_SYS_NULL_PTR;
	/* The host pipeline moves frames explicitly (GetChnFrame, SendFrame). */
	return CVI_ERR_SYS_NOT_PERM;
}

CVI_S32 CVI_SYS_UnBind(const MMF_CHN_S *pstSrcChn, const MMF_CHN_S *pstDestChn)
{
	if (!pstSrcChn || !pstDestChn)
		return CVI_ERR_SYS_NULL_PTR;
	return CVI_ERR_SYS_NOT_PERM;
}
