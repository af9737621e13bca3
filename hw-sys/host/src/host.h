/*
 * Internals shared by the host SDK's modules. Not part of the API.
 *
 * "Physical memory" is one shared-memory file (memfd). A physical address
 * is HOST_PHYS_BASE plus an offset into it; the only way to touch the bytes
 * is to map them (CVI_SYS_Mmap), and every mapping is a fresh mmap of the
 * file, so a pointer kept after CVI_SYS_Munmap faults, as on the board.
 */
#ifndef HWSYS_HOST_INTERNAL_H
#define HWSYS_HOST_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cvi_type.h"

#define HOST_PHYS_BASE 0x80000000ull

/* Allocates page-aligned physical memory; 0 when none is left. */
CVI_U64 host_phys_alloc(size_t len);
/* Frees an allocation by its start address; -1 if it is not one. */
int host_phys_free(CVI_U64 phys);
/* Maps [phys, phys + len) when it lies inside one allocation; NULL otherwise. */
void *host_phys_map(CVI_U64 phys, size_t len);
int host_phys_unmap(void *addr, size_t len);
/* Whether SYS is initialised. */
int host_sys_ready(void);

/* Microseconds on the monotonic clock. */
CVI_U64 host_now_us(void);
/* Sleeps until the monotonic time `us`. */
void host_sleep_until_us(CVI_U64 us);

/* VB: a block's pool and physical address (for VI); 0 / -1 if invalid. */
CVI_U64 host_vb_phys(CVI_U64 blk);

/* ISP state read by VI when it draws a frame. */
struct host_isp_look {
	int manual_exposure;
	CVI_U32 exposure_us;
	CVI_U16 r_gain, g_gain, b_gain; /* 0x400 = 1.0 */
	int manual_wb;
};
void host_isp_look(int pipe, struct host_isp_look *out);

/* VENC's H.265 backend (venc_x265.c): libx265 loaded at run time. */
struct host_x265;
CVI_S32 host_x265_open(struct host_x265 **out, CVI_U32 w, CVI_U32 h, CVI_U32 fps, CVI_U32 gop, CVI_U32 kbps,
		       int cbr);
void host_x265_close(struct host_x265 *x);
CVI_S32 host_x265_set_rate(struct host_x265 *x, CVI_U32 kbps, int cbr);
void host_x265_request_idr(struct host_x265 *x);
/* Encodes one I420 picture; returns the NAL units out (0: none yet), -1 on error. */
int host_x265_encode(struct host_x265 *x, unsigned char *planes[3], CVI_U32 w, CVI_U64 pts);
/* NAL unit i of the last encode, start code included; valid until the next encode. */
void host_x265_nal(const struct host_x265 *x, int i, const unsigned char **data, CVI_U32 *len);

/* VDEC's conformant backend (vdec_lavc.c): libavcodec loaded at run time. */
struct host_lavc;
/* A decoded 8-bit 4:2:0 picture: Y, U, V planes and their strides. */
typedef CVI_S32 (*host_picture_fn)(void *arg, const unsigned char *planes[3], const int strides[3], int w, int h,
				   CVI_U64 pts);
CVI_S32 host_lavc_open(struct host_lavc **out, int h265);
void host_lavc_close(struct host_lavc *d);
/* Decodes one access unit (data NULL: the end of the stream, drain), giving
 * at most `room` pictures to `emit`; returns how many, *status the error. */
int host_lavc_decode(struct host_lavc *d, const unsigned char *data, size_t len, CVI_U64 pts, host_picture_fn emit,
		     void *arg, int room, CVI_S32 *status);

#endif
