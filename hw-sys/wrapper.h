/*
 * What hw-sys binds: the same header names in the vendor SDK (CVI_MW_DIR)
 * and in our host SDK (hw-sys/host/include). Order matters for the vendor
 * headers: cvi_comm_vb.h must come before cvi_comm_venc.h.
 */
#include "cvi_type.h"
#include "cvi_comm_vb.h"
#include "cvi_comm_video.h"
#include "cvi_comm_sys.h"
#include "cvi_comm_venc.h"
#include "cvi_comm_vdec.h"
#include "cvi_comm_vi.h"
#include "cvi_comm_aio.h"
#include "cvi_comm_isp.h"
#include "cvi_comm_3a.h"
#include "cvi_sys.h"
#include "cvi_vb.h"
#include "cvi_venc.h"
#include "cvi_vdec.h"
#include "cvi_vi.h"
#include "cvi_isp.h"
#include "cvi_ae.h"
#include "cvi_awb.h"
#include "cvi_audio.h"
