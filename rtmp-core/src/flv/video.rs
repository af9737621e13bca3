//! One packager for H.264 or H.265, for drivers where the codec is a setting
//! (the camera pipeline, firmware with a hardware encoder that does both).

use super::avc::{AvcError, AvcPackager, VideoFrame};
use super::hevc::{self, HevcError, HevcPackager};
use core::fmt;

/// The NAL units of length-prefixed data (an FLV/MP4 AVC or HEVC frame:
/// each unit behind a big-endian length of `length_size` bytes, 1 to 4),
/// as slices of it. After a length that runs past the data (or a
/// `length_size` out of range) it yields one `Err` and ends.
#[derive(Clone, Debug)]
pub struct LengthPrefixed<'a> {
    rest: &'a [u8],
    size: usize,
}

/// A NAL unit length runs past its data, or the length size is not 1 to 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadNalLength;

impl fmt::Display for BadNalLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a NAL unit length runs past its data")
    }
}

impl<'a> LengthPrefixed<'a> {
    /// The units of `data`, each behind `length_size` bytes of length.
    pub fn new(data: &'a [u8], length_size: u8) -> Self {
        LengthPrefixed { rest: data, size: usize::from(length_size) }
    }
}

impl<'a> Iterator for LengthPrefixed<'a> {
    type Item = Result<&'a [u8], BadNalLength>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let unit = (1..=4).contains(&self.size).then_some(()).and_then(|()| {
            let (len, tail) = self.rest.split_at_checked(self.size)?;
            let len = len.iter().fold(0usize, |v, b| v << 8 | usize::from(*b));
            tail.split_at_checked(len)
        });
        match unit {
            Some((nal, tail)) => {
                self.rest = tail;
                Some(Ok(nal))
            }
            None => {
                self.rest = &[];
                Some(Err(BadNalLength))
            }
        }
    }
}

/// A video codec an encoder produces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Codec {
    /// H.264, as legacy FLV (codec id 7): every server takes it.
    #[default]
    H264,
    /// H.265, as Enhanced RTMP (FourCC `hvc1`).
    H265,
}

impl Codec {
    /// The Enhanced RTMP FourCC, for `fourCcList` in `connect` and
    /// `videocodecid` in `onMetaData`; `None` for legacy H.264.
    pub fn fourcc(self) -> Option<[u8; 4]> {
        match self {
            Codec::H264 => None,
            Codec::H265 => Some(hevc::FOURCC),
        }
    }

    /// The `fourCcList` a publisher of this codec announces.
    pub fn four_cc_list(self) -> &'static [&'static str] {
        match self {
            Codec::H264 => &[],
            Codec::H265 => &["hvc1"],
        }
    }

    /// The video tag body that ends a stream of this codec.
    pub fn end_of_sequence(self) -> [u8; 5] {
        match self {
            Codec::H264 => super::avc::END_OF_SEQUENCE,
            Codec::H265 => hevc::END_OF_SEQUENCE,
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Codec::H264 => "H.264",
            Codec::H265 => "H.265",
        })
    }
}

/// Why a frame could not be packaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageError {
    /// From the H.264 packager.
    Avc(AvcError),
    /// From the H.265 packager.
    Hevc(HevcError),
}

impl fmt::Display for PackageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackageError::Avc(e) => e.fmt(f),
            PackageError::Hevc(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for PackageError {}

/// [`AvcPackager`] or [`HevcPackager`], chosen by [`Codec`]: about 1 KiB
/// either way (no allocator to box the larger one into).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum VideoPackager {
    /// H.264.
    Avc(AvcPackager),
    /// H.265.
    Hevc(HevcPackager),
}

impl VideoPackager {
    /// A packager for `codec` that has seen no parameter sets yet.
    pub const fn new(codec: Codec) -> Self {
        match codec {
            Codec::H264 => VideoPackager::Avc(AvcPackager::new()),
            Codec::H265 => VideoPackager::Hevc(HevcPackager::new()),
        }
    }

    /// The codec.
    pub fn codec(&self) -> Codec {
        match self {
            VideoPackager::Avc(_) => Codec::H264,
            VideoPackager::Hevc(_) => Codec::H265,
        }
    }

    /// Sends the sequence header again before the next keyframe.
    pub fn resend_config(&mut self) {
        match self {
            VideoPackager::Avc(p) => p.resend_config(),
            VideoPackager::Hevc(p) => p.resend_config(),
        }
    }

    /// Width and height from the latest SPS.
    pub fn size(&self) -> Option<(u32, u32)> {
        match self {
            VideoPackager::Avc(p) => p.info().map(|i| (i.width, i.height)),
            VideoPackager::Hevc(p) => p.info().map(|i| (i.width, i.height)),
        }
    }

    /// See [`AvcPackager::package_nal_units`] and [`HevcPackager::package_nal_units`].
    #[allow(clippy::type_complexity)]
    pub fn package_nal_units<'a, const N: usize>(
        &mut self,
        nal_units: impl IntoIterator<Item = &'a [u8]>,
        composition_ms: i32,
    ) -> Result<(Option<&[u8]>, VideoFrame<'a, N>), PackageError> {
        match self {
            VideoPackager::Avc(p) => p.package_nal_units(nal_units, composition_ms).map_err(PackageError::Avc),
            VideoPackager::Hevc(p) => p.package_nal_units(nal_units, composition_ms).map_err(PackageError::Hevc),
        }
    }

    /// See [`AvcPackager::package_parts`] and [`HevcPackager::package_parts`].
    #[allow(clippy::type_complexity)]
    pub fn package_parts<'a, const N: usize>(
        &mut self,
        pieces: impl IntoIterator<Item = &'a [u8]>,
        composition_ms: i32,
    ) -> Result<(Option<&[u8]>, VideoFrame<'a, N>), PackageError> {
        match self {
            VideoPackager::Avc(p) => p.package_parts(pieces, composition_ms).map_err(PackageError::Avc),
            VideoPackager::Hevc(p) => p.package_parts(pieces, composition_ms).map_err(PackageError::Hevc),
        }
    }
}

#[cfg(test)]
mod length_prefixed_tests {
    use super::*;

    #[test]
    fn units_behind_lengths_of_one_to_four_bytes_and_one_error_at_a_bad_length() {
        let mut it = LengthPrefixed::new(&[0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x41], 4);
        assert_eq!(it.next(), Some(Ok(&[0x65, 1][..])));
        assert_eq!(it.next(), Some(Ok(&[0x41][..])));
        assert_eq!(it.next(), None);
        let mut it = LengthPrefixed::new(&[1, 0x09, 2, 0x65, 0x88], 1);
        assert_eq!((it.next(), it.next(), it.next()), (Some(Ok(&[0x09][..])), Some(Ok(&[0x65, 0x88][..])), None));
        // A length past the end, a cut length, a size out of range: one error, then the end.
        for (data, size) in [(&[0, 0, 0, 9, 0x65][..], 4), (&[0, 0][..], 4), (&[1, 0x41][..], 0), (&[1, 0x41][..], 5)] {
            let mut it = LengthPrefixed::new(data, size);
            assert_eq!((it.next(), it.next()), (Some(Err(BadNalLength)), None), "{data:?}, {size}");
        }
        assert_eq!(LengthPrefixed::new(&[], 4).next(), None);
    }
}
