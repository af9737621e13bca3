//! Generates the bindings with bindgen and, without the vendor SDK, builds
//! our host implementation of the same C API with cc.
//!
//! Environment (each prints `rerun-if-env-changed`):
//!
//! * `CVI_MW_DIR`: the vendor SDK's middleware `v2` directory (headers in
//!   `include/`, `include/linux/`, `include/isp/cv181x/`). When set, the
//!   bindings come from the vendor headers and the vendor libraries are
//!   linked from `CVI_MW_LIBDIR` (default `$CVI_MW_DIR/lib`).
//! * `CVI_MW_LIBS`: comma-separated vendor libraries to link, replacing the
//!   default list.
//! * `OPENH264_DIR`: an OpenH264 install prefix (`include/wels/`, `lib/`) for
//!   the host SDK; needed when cross-compiling (Debian has no riscv64
//!   package: `scripts/build-openh264.sh` builds one). Without it the
//!   system's `libopenh264-dev` is used.

use std::env;
use std::path::{Path, PathBuf};

/// The C API subset this crate binds.
const FUNCTIONS: &[&str] = &[
    "CVI_SYS_Init",
    "CVI_SYS_Exit",
    "CVI_SYS_Bind",
    "CVI_SYS_UnBind",
    "CVI_SYS_Mmap",
    "CVI_SYS_MmapCache",
    "CVI_SYS_Munmap",
    "CVI_SYS_IonAlloc",
    "CVI_SYS_IonAlloc_Cached",
    "CVI_SYS_IonFree",
    "CVI_SYS_IonFlushCache",
    "CVI_SYS_IonInvalidateCache",
    "CVI_VB_SetConfig",
    "CVI_VB_GetConfig",
    "CVI_VB_Init",
    "CVI_VB_Exit",
    "CVI_VB_CreatePool",
    "CVI_VB_DestroyPool",
    "CVI_VB_GetBlock",
    "CVI_VB_ReleaseBlock",
    "CVI_VB_Handle2PhysAddr",
    "CVI_VB_Handle2PoolId",
    "CVI_VI_SetDevAttr",
    "CVI_VI_EnableDev",
    "CVI_VI_DisableDev",
    "CVI_VI_CreatePipe",
    "CVI_VI_DestroyPipe",
    "CVI_VI_StartPipe",
    "CVI_VI_StopPipe",
    "CVI_VI_SetChnAttr",
    "CVI_VI_GetChnAttr",
    "CVI_VI_EnableChn",
    "CVI_VI_DisableChn",
    "CVI_VI_AttachVbPool",
    "CVI_VI_DetachVbPool",
    "CVI_VI_GetChnFrame",
    "CVI_VI_ReleaseChnFrame",
    "CVI_ISP_Init",
    "CVI_ISP_Run",
    "CVI_ISP_Exit",
    "CVI_ISP_SetExposureAttr",
    "CVI_ISP_GetExposureAttr",
    "CVI_ISP_SetWBAttr",
    "CVI_ISP_GetWBAttr",
    "CVI_VENC_CreateChn",
    "CVI_VENC_DestroyChn",
    "CVI_VENC_StartRecvFrame",
    "CVI_VENC_StopRecvFrame",
    "CVI_VENC_QueryStatus",
    "CVI_VENC_SetChnAttr",
    "CVI_VENC_GetChnAttr",
    "CVI_VENC_GetStream",
    "CVI_VENC_ReleaseStream",
    "CVI_VENC_SendFrame",
    "CVI_VENC_RequestIDR",
    "CVI_VENC_GetFd",
    "CVI_VENC_CloseFd",
    "CVI_VDEC_CreateChn",
    "CVI_VDEC_DestroyChn",
    "CVI_VDEC_StartRecvStream",
    "CVI_VDEC_StopRecvStream",
    "CVI_VDEC_QueryStatus",
    "CVI_VDEC_SendStream",
    "CVI_VDEC_GetFrame",
    "CVI_VDEC_ReleaseFrame",
    "CVI_AUDIO_INIT",
    "CVI_AUDIO_DEINIT",
    "CVI_AI_SetPubAttr",
    "CVI_AI_GetPubAttr",
    "CVI_AI_Enable",
    "CVI_AI_Disable",
    "CVI_AI_EnableChn",
    "CVI_AI_DisableChn",
    "CVI_AI_GetFrame",
    "CVI_AI_ReleaseFrame",
    "CVI_AI_SetVolume",
];

/// Constants the board layer uses (enum values keep their own names,
/// `prepend_enum_name(false)`).
const VARS: &str = "PT_H264|PT_H265|PIXEL_FORMAT_NV21|PIXEL_FORMAT_NV12|VENC_RC_MODE_H264CBR|VENC_RC_MODE_H264VBR|\
VENC_RC_MODE_H265CBR|VENC_RC_MODE_H265VBR|VENC_GOPMODE_NORMALP|H264E_NALU_.*|H265E_NALU_.*|VB_INVALID_POOLID|\
VB_INVALID_HANDLE|VB_MAX_COMM_POOLS|VB_REMAP_MODE_.*|OP_TYPE_AUTO|OP_TYPE_MANUAL|AUDIO_SAMPLE_RATE_.*|\
AUDIO_BIT_WIDTH_16|AUDIO_SOUND_MODE_MONO|AUDIO_SOUND_MODE_STEREO|AIO_MODE_I2S_MASTER|AIO_I2STYPE_INNERCODEC|\
CVI_ID_VI|CVI_ID_VENC|VI_PIPE_BYPASS_NONE|COMPRESS_MODE_NONE|VIDEO_FORMAT_LINEAR|DYNAMIC_RANGE_SDR8|\
VIDEO_MODE_FRAME|PIXEL_FORMAT_YUV_PLANAR_420";

/// Vendor libraries linked by default (middleware v2, cv181x).
const VENDOR_LIBS: &[&str] = &[
    "sys",
    "vi",
    "vpss",
    "venc",
    "vdec",
    "isp",
    "isp_algo",
    "ae",
    "awb",
    "cvi_bin",
    "cvi_bin_isp",
    "misc",
    "cvi_audio",
    "ini",
];

fn main() {
    for var in ["CVI_MW_DIR", "CVI_MW_LIBDIR", "CVI_MW_LIBS", "OPENH264_DIR"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-changed=host");
    println!("cargo::rustc-check-cfg=cfg(hw_sys_vendor)");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let includes = match env::var_os("CVI_MW_DIR") {
        Some(dir) => vendor(Path::new(&dir)),
        None => host(),
    };
    bind(&includes, &out.join("bindings.rs"));
}

/// The vendor SDK: its headers, its libraries.
fn vendor(dir: &Path) -> Vec<PathBuf> {
    let includes = vec![dir.join("include"), dir.join("include/linux"), dir.join("include/isp/cv181x")];
    if !includes[0].join("cvi_venc.h").exists() {
        fail(&format!(
            "CVI_MW_DIR={} has no include/cvi_venc.h: point it at the middleware `v2` directory of the vendor SDK \
             (for example a checkout of sophgo/middleware, branch cv18xx-v4.1.x), or unset it to use the host SDK",
            dir.display()
        ));
    }
    println!("cargo:rustc-cfg=hw_sys_vendor");
    let libdir = env::var_os("CVI_MW_LIBDIR").map(PathBuf::from).unwrap_or_else(|| dir.join("lib"));
    println!("cargo:rustc-link-search=native={}", libdir.display());
    let libs: Vec<String> = match env::var("CVI_MW_LIBS") {
        Ok(list) => list.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        Err(_) => VENDOR_LIBS.iter().map(|s| s.to_string()).collect(),
    };
    for lib in libs {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
    includes
}

/// Our host SDK: compile it, link it and OpenH264.
fn host() -> Vec<PathBuf> {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let include = root.join("host/include");
    let mut build = cc::Build::new();
    build
        .include(&include)
        .define("_GNU_SOURCE", None)
        .warnings(true)
        .extra_warnings(true)
        .flag_if_supported("-std=gnu11");
    match env::var_os("OPENH264_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if !dir.join("include/wels/codec_api.h").exists() {
                fail(&format!("OPENH264_DIR={} has no include/wels/codec_api.h", dir.display()));
            }
            build.include(dir.join("include"));
            println!("cargo:rustc-link-search=native={}", dir.join("lib").display());
            // A static OpenH264 is C++: its runtime comes along.
            println!("cargo:rustc-link-lib=static=openh264");
            // scripts/build-openh264.sh builds the encoder only: the host
            // VDEC then decodes through libavcodec alone, where it is found.
            build.define("HOST_OPENH264_NO_DECODER", None);
            println!("cargo:rustc-link-lib=dylib=stdc++");
        }
        None => {
            if env::var("HOST") != env::var("TARGET") {
                fail(
                    "cross-compiling the host SDK needs OpenH264 built for the target: \
                     run scripts/build-openh264.sh <target> and set OPENH264_DIR to the prefix it prints",
                );
            }
            if !Path::new("/usr/include/wels/codec_api.h").exists() {
                fail("the host SDK encodes with OpenH264: install libopenh264-dev (apt-get install libopenh264-dev)");
            }
            println!("cargo:rustc-link-lib=dylib=openh264");
        }
    }
    for file in ["sys", "vb", "vi", "isp", "venc", "venc_x265", "vdec", "vdec_lavc", "audio"] {
        build.file(root.join(format!("host/src/{file}.c")));
    }
    build.compile("cvi_host_sdk");
    println!("cargo:rustc-link-lib=dylib=m");
    vec![include]
}

fn bind(includes: &[PathBuf], out: &Path) {
    let mut b = bindgen::Builder::default()
        .header("wrapper.h")
        .use_core()
        .prepend_enum_name(false)
        .layout_tests(false)
        .derive_default(true)
        .derive_debug(false)
        .generate_comments(false)
        .allowlist_var(VARS)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for f in FUNCTIONS {
        b = b.allowlist_function(f);
    }
    for i in includes {
        b = b.clang_arg(format!("-I{}", i.display()));
    }
    // Cross builds: parse for the target, with its C library's headers.
    let (host, target) = (env::var("HOST").unwrap_or_default(), env::var("TARGET").unwrap_or_default());
    if host != target {
        let clang_target = target.replace("riscv64gc-", "riscv64-");
        b = b.clang_arg(format!("--target={clang_target}"));
        let gnu = clang_target.replace("-unknown-", "-");
        let sysroot = PathBuf::from(format!("/usr/{gnu}/include"));
        if sysroot.exists() {
            b = b.clang_arg(format!("-isystem{}", sysroot.display()));
        }
    }
    match b.generate() {
        Ok(bindings) => bindings.write_to_file(out).expect("write bindings"),
        Err(e) => fail(&format!("bindgen failed ({e}); it needs libclang: apt-get install libclang-dev")),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("hw-sys: {msg}");
    panic!("hw-sys: {msg}");
}
