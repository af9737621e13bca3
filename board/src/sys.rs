//! The media system (SYS and VB) that camera, encoder and audio share, and
//! the error type of every SDK call.
//!
//! Works the same against the vendor SDK on the board and against hw-sys's
//! host SDK on any Linux machine.

use hw_sys as ffi;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, Weak};

/// A media SDK call failed: which call, and the SDK's own code (kept as is,
/// e.g. `0xC0078012` for a busy encoder).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MpiError {
    /// The SDK function, e.g. `CVI_VENC_GetStream`.
    pub call: &'static str,
    /// The code it returned.
    pub code: i32,
}

impl MpiError {
    /// What the code's error id means (the low bits of `0xC0MM8XXX` codes).
    pub fn meaning(&self) -> &'static str {
        let c = self.code as u32;
        if c & 0xF000_0000 != 0xC000_0000 {
            return if c == u32::MAX { "failed" } else { "vendor-specific error" };
        }
        match c & 0x1FFF {
            1 => "invalid device",
            2 => "invalid channel",
            3 => "illegal parameter",
            4 => "already exists",
            5 => "does not exist",
            6 => "null pointer",
            7 => "not configured",
            8 => "not supported",
            9 => "not permitted now",
            12 => "out of memory",
            13 => "no buffer",
            14 => "buffer empty",
            15 => "buffer full",
            16 => "system not ready",
            18 => "busy",
            19 => "size not enough",
            _ => "error",
        }
    }
}

impl fmt::Debug for MpiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MpiError({}: {:#010X})", self.call, self.code as u32)
    }
}

impl fmt::Display for MpiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {:#010X} ({})", self.call, self.code as u32, self.meaning())
    }
}

impl std::error::Error for MpiError {}

impl From<MpiError> for io::Error {
    fn from(e: MpiError) -> io::Error {
        let kind = match e.code as u32 & 0x1FFF {
            3 | 6 => io::ErrorKind::InvalidInput,
            8 => io::ErrorKind::Unsupported,
            12 | 13 => io::ErrorKind::OutOfMemory,
            14 | 15 | 18 => io::ErrorKind::WouldBlock,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

/// `Ok` for `CVI_SUCCESS`, the call and its code otherwise.
pub(crate) fn check(call: &'static str, ret: i32) -> Result<(), MpiError> {
    if ret == 0 {
        Ok(())
    } else {
        Err(MpiError { call, code: ret })
    }
}

struct SysGuard;

impl Drop for SysGuard {
    fn drop(&mut self) {
        // SAFETY: SYS and VB were initialised by `Sys::get`, and the last
        // handle (every camera, encoder and pool holds one) is going away.
        unsafe {
            ffi::CVI_VB_Exit();
            ffi::CVI_SYS_Exit();
        }
    }
}

static SYSTEM: Mutex<Weak<SysGuard>> = Mutex::new(Weak::new());

/// The initialised media system: SYS and VB, set up on the first
/// [`Sys::get`] and torn down when the last handle is dropped. Cameras,
/// encoders, pools and audio inputs each keep one.
#[derive(Clone)]
pub struct Sys {
    _guard: Arc<SysGuard>,
}

impl fmt::Debug for Sys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sys")
    }
}

impl Sys {
    /// The media system, initialised if no one holds it yet.
    pub fn get() -> Result<Sys, MpiError> {
        let mut slot = SYSTEM.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(guard) = slot.upgrade() {
            return Ok(Sys { _guard: guard });
        }
        // SAFETY: plain init calls; VB's configuration is a zeroed struct
        // (no common pools: each user creates its own).
        unsafe {
            check("CVI_SYS_Init", ffi::CVI_SYS_Init())?;
            let cfg = ffi::VB_CONFIG_S::default();
            let set = check("CVI_VB_SetConfig", ffi::CVI_VB_SetConfig(&cfg));
            let init = set.and_then(|()| check("CVI_VB_Init", ffi::CVI_VB_Init()));
            if let Err(e) = init {
                ffi::CVI_SYS_Exit();
                return Err(e);
            }
        }
        let guard = Arc::new(SysGuard);
        *slot = Arc::downgrade(&guard);
        Ok(Sys { _guard: guard })
    }
}

/// A pool of equal-sized blocks of physical memory (for camera frames).
#[derive(Debug)]
pub struct VbPool {
    id: u32,
    block_size: u32,
    _sys: Sys,
}

impl VbPool {
    /// Creates a pool of `count` blocks of `block_size` bytes.
    pub fn new(sys: &Sys, block_size: u32, count: u32) -> Result<VbPool, MpiError> {
        let mut cfg = ffi::VB_POOL_CONFIG_S { u32BlkSize: block_size, u32BlkCnt: count, ..Default::default() };
        for (dst, src) in cfg.acName.iter_mut().zip(b"board") {
            *dst = *src as _;
        }
        // SAFETY: `cfg` is a valid, initialised pool configuration.
        let id = unsafe { ffi::CVI_VB_CreatePool(&mut cfg) };
        if id == ffi::VB_INVALID_POOLID as u32 {
            return Err(MpiError { call: "CVI_VB_CreatePool", code: -1 });
        }
        Ok(VbPool { id, block_size, _sys: sys.clone() })
    }

    /// The SDK's pool id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Takes a block; `None` when all are out.
    pub fn block(&self) -> Option<VbBlock<'_>> {
        // SAFETY: the pool exists while `self` does.
        let handle = unsafe { ffi::CVI_VB_GetBlock(self.id, self.block_size) };
        // `VB_INVALID_HANDLE` is `(-1U)`, widened to the 64-bit `VB_BLK`:
        // 0xFFFF_FFFF (bindgen types the macro as `i32`, so it is rebuilt
        // here; all ones is refused too).
        if handle == ffi::VB_BLK::from(u32::MAX) || handle == ffi::VB_BLK::MAX {
            return None;
        }
        // SAFETY: `handle` is a block of this pool.
        let phys = unsafe { ffi::CVI_VB_Handle2PhysAddr(handle) };
        Some(VbBlock { handle, phys, pool: self })
    }
}

impl Drop for VbPool {
    fn drop(&mut self) {
        // SAFETY: every block borrows the pool, so none is out any more.
        unsafe {
            ffi::CVI_VB_DestroyPool(self.id);
        }
    }
}

/// A block taken from a [`VbPool`]; returned to it when dropped.
#[derive(Debug)]
pub struct VbBlock<'p> {
    handle: ffi::VB_BLK,
    phys: u64,
    pool: &'p VbPool,
}

impl VbBlock<'_> {
    /// The block's physical address (what the hardware is given).
    pub fn phys(&self) -> u64 {
        self.phys
    }

    /// Maps the block into this process to read or write it.
    pub fn map(&mut self) -> Result<Mapping<'_>, MpiError> {
        Mapping::new(self.phys, self.pool.block_size as usize)
    }
}

impl Drop for VbBlock<'_> {
    fn drop(&mut self) {
        // SAFETY: the block was taken by `VbPool::block` and is released once.
        unsafe {
            ffi::CVI_VB_ReleaseBlock(self.handle);
        }
    }
}

/// Physical memory mapped into this process (`CVI_SYS_Mmap`), unmapped when
/// dropped.
#[derive(Debug)]
pub struct Mapping<'a> {
    ptr: *mut u8,
    len: usize,
    _owner: std::marker::PhantomData<&'a mut ()>,
}

impl Mapping<'_> {
    pub(crate) fn new(phys: u64, len: usize) -> Result<Self, MpiError> {
        let size = u32::try_from(len).map_err(|_| MpiError { call: "CVI_SYS_Mmap", code: -1 })?;
        // SAFETY: mapping a physical range we own (a block or frame plane);
        // the SDK checks the range and returns NULL if it is not mappable.
        let ptr = unsafe { ffi::CVI_SYS_Mmap(phys, size) } as *mut u8;
        if ptr.is_null() {
            return Err(MpiError { call: "CVI_SYS_Mmap", code: -1 });
        }
        Ok(Mapping { ptr, len, _owner: std::marker::PhantomData })
    }

    /// The mapped bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` bytes until `drop`, and `&self` is shorter.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The mapped bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as above; `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Mapping<'_> {
    fn drop(&mut self) {
        // SAFETY: unmapping what `new` mapped, once.
        unsafe {
            ffi::CVI_SYS_Munmap(self.ptr.cast(), self.len as u32);
        }
    }
}
