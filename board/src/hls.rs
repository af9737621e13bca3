//! HLS out of a live stream: rtmp-core's MPEG-TS muxer and segmenter,
//! written to `DIR/<app>/<name>/` as numbered `.ts` segments and a
//! playlist. Each file is written under a temporary name and renamed into
//! place when complete, so a player (or a power cut) never sees half a
//! segment or half a playlist; segments are deleted a window after they
//! leave the playlist; the playlist gets `#EXT-X-ENDLIST` when the stream
//! ends.
//!
//! Segment bytes go through a 64 KiB `BufWriter`: the muxer hands out each
//! 188-byte packet as slices of the frame, and gathering them for the disk
//! costs one copy into that buffer (a write per packet would cost a system
//! call per 188 bytes instead).

use rtmp_core::flv::media::{AudioCodec, AudioTag, MediaRole, VideoCodec, VideoTag};
use rtmp_core::flv::video::Codec;
use rtmp_core::message::type_id;
use rtmp_core::ts::hls::{Decision, HlsConfig, Segmenter};
use rtmp_core::ts::{Muxed, TsMuxer, MAX_PARTS, PACKET_LEN};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Where and how to write HLS.
#[derive(Clone, Debug)]
pub struct HlsOptions {
    /// Each stream goes to `dir/<app>/<name>/`.
    pub dir: PathBuf,
    /// Segment target and maximum duration, window.
    pub config: HlsConfig,
    /// The playlist's file name. Default `playlist.m3u8` (OSS's default).
    pub playlist: String,
    /// Keep every segment and list them all (`#EXT-X-PLAYLIST-TYPE:EVENT`):
    /// a recording, not a live window. The playlist is then appended to,
    /// one entry per segment (memory and writes stay constant however long
    /// the recording), under a `#EXT-X-TARGETDURATION` fixed at the start
    /// from the longest segment the configuration allows. Default off.
    pub keep: bool,
}

impl HlsOptions {
    /// HLS into `dir` with the defaults (5 s fragments, 3 listed).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        HlsOptions {
            dir: dir.into(),
            config: HlsConfig::default(),
            playlist: String::from("playlist.m3u8"),
            keep: false,
        }
    }
}

/// What an HLS stream has written and left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HlsStats {
    /// Segments completed.
    pub segments: u64,
    /// Frames written into segments.
    pub frames: u64,
    /// Frames left out: before the first keyframe, or of a codec MPEG-TS
    /// does not carry here (audio other than AAC, video other than
    /// H.264/H.265), or refused by the muxer.
    pub dropped: u64,
}

/// One live stream's HLS output.
pub struct HlsStream {
    dir: PathBuf,
    playlist: String,
    seg: Segmenter<32>,
    mux: Option<TsMuxer>,
    video: Option<Codec>,
    audio: bool,
    /// Configuration messages seen before the muxer exists (video, audio).
    configs: [Option<Vec<u8>>; 2],
    file: Option<(BufWriter<File>, PathBuf)>,
    stats: HlsStats,
    /// The playlist, open for appending, when every segment is kept.
    record: Option<File>,
    /// The first audio frame's timestamp while no video configuration has
    /// come: audio alone does not start the program until it has gone on
    /// for [`AUDIO_ALONE_MS`].
    audio_alone_since: Option<u32>,
}

/// How long audio without a video configuration waits before the stream is
/// taken to be audio only: the program's streams are fixed when the first
/// segment starts, and a publisher whose audio comes before its first
/// video message (a camera whose encoder starts slower than its
/// microphone) would otherwise get an HLS stream without video.
const AUDIO_ALONE_MS: u32 = 3000;

impl std::fmt::Debug for HlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HlsStream").field("dir", &self.dir).field("stats", &self.stats).finish()
    }
}

fn tmp(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

impl HlsStream {
    /// Starts `opts.dir/<rel>/` (the server uses `<app>/<name>`), removing
    /// the segments and playlist a previous publish there left.
    pub fn create(opts: &HlsOptions, rel: &Path) -> io::Result<HlsStream> {
        let dir = opts.dir.join(rel);
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let stale = path.extension().is_some_and(|e| e == "ts" || e == "tmp" || e == "m3u8");
            if stale {
                std::fs::remove_file(&path)?;
            }
        }
        let seg = Segmenter::new(opts.config);
        let record = match opts.keep {
            true => {
                let cfg = seg.config();
                // A segment is cut at the first frame after max_ms (frames
                // are at most jump_ms apart, or it is a jump) and the last
                // one gets one frame interval more: none rounds above this.
                let target = cfg.max_ms.saturating_add(cfg.jump_ms).div_ceil(1000);
                let path = dir.join(&opts.playlist);
                let head = format!(
                    "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:0\n"
                );
                std::fs::write(tmp(&path), head)?;
                std::fs::rename(tmp(&path), &path)?;
                Some(File::options().append(true).open(&path)?)
            }
            false => None,
        };
        Ok(HlsStream {
            dir,
            playlist: opts.playlist.clone(),
            seg,
            mux: None,
            video: None,
            audio: false,
            configs: [None, None],
            file: None,
            stats: HlsStats::default(),
            record,
            audio_alone_since: None,
        })
    }

    /// The playlist's path.
    pub fn playlist_path(&self) -> PathBuf {
        self.dir.join(&self.playlist)
    }

    /// Counters so far.
    pub fn stats(&self) -> HlsStats {
        self.stats
    }

    /// Takes one media message (type 8 or 9, as the publisher sent it).
    pub fn frame(&mut self, kind: u8, timestamp: u32, body: &[u8]) -> io::Result<()> {
        let role = MediaRole::of(kind, body);
        if role == MediaRole::Config {
            return self.config(kind, body);
        }
        let has_video = self.video.is_some();
        let carried = match kind {
            type_id::VIDEO => has_video,
            type_id::AUDIO => self.audio && AudioTag::parse(body).is_ok_and(|t| t.codec == AudioCodec::Aac),
            _ => false,
        };
        if !carried || self.waiting_for_video(kind, timestamp) {
            self.stats.dropped += 1;
            return Ok(());
        }
        let d = self.seg.frame(timestamp, role == MediaRole::Keyframe, kind == type_id::VIDEO, has_video);
        self.apply(&d)?;
        if d.skip {
            self.stats.dropped += 1;
            return Ok(());
        }
        let (Some(mux), Some((file, _))) = (self.mux.as_mut(), self.file.as_mut()) else { return Ok(()) };
        match mux.mux(kind, body, timestamp) {
            Ok(Muxed::Frame(mut frame)) => {
                while let Some(packet) = frame.next_packet() {
                    let mut slots: [&[u8]; MAX_PARTS] = [&[]; MAX_PARTS];
                    for part in packet.parts(&mut slots) {
                        file.write_all(part)?;
                    }
                }
                self.stats.frames += 1;
            }
            Ok(_) => {}
            Err(_) => self.stats.dropped += 1,
        }
        Ok(())
    }

    /// Whether an audio frame is held back (dropped, counted) because no
    /// segment has started and video may still come.
    fn waiting_for_video(&mut self, kind: u8, timestamp: u32) -> bool {
        if kind != type_id::AUDIO || self.mux.is_some() || self.video.is_some() {
            return false;
        }
        let since = *self.audio_alone_since.get_or_insert(timestamp);
        timestamp.wrapping_sub(since) < AUDIO_ALONE_MS
    }

    fn config(&mut self, kind: u8, body: &[u8]) -> io::Result<()> {
        let slot = match kind {
            type_id::VIDEO => {
                let codec = match VideoTag::parse(body).map(|t| t.codec) {
                    Ok(VideoCodec::Avc) => Codec::H264,
                    Ok(VideoCodec::Hevc) => Codec::H265,
                    _ => return Ok(()),
                };
                // The program's streams are fixed once the first segment starts.
                if self.mux.is_none() {
                    self.video = Some(codec);
                }
                0
            }
            _ => {
                if !AudioTag::parse(body).is_ok_and(|t| t.codec == AudioCodec::Aac) {
                    return Ok(());
                }
                if self.mux.is_none() {
                    self.audio = true;
                }
                1
            }
        };
        self.configs[slot] = Some(body.to_vec());
        if let Some(m) = self.mux.as_mut() {
            let _ = m.mux(kind, body, 0);
        }
        Ok(())
    }

    fn segment_path(&self, sequence: u64) -> PathBuf {
        self.dir.join(format!("{sequence}.ts"))
    }

    fn apply(&mut self, d: &Decision) -> io::Result<()> {
        if d.closed.is_some() {
            self.close_file()?;
        }
        if let Some(old) = d.delete.filter(|_| self.record.is_none()) {
            match std::fs::remove_file(self.segment_path(old)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        match (&mut self.record, d.closed) {
            (Some(record), Some(seg)) => {
                // One entry, one write, on disk before the next segment starts.
                let mut entry = String::new();
                if seg.discontinuity {
                    entry.push_str("#EXT-X-DISCONTINUITY\n");
                }
                entry += &format!(
                    "#EXTINF:{}.{:03},\n{}.ts\n",
                    seg.duration_ms / 1000,
                    seg.duration_ms % 1000,
                    seg.sequence
                );
                record.write_all(entry.as_bytes())?;
                record.sync_data()?;
            }
            (None, Some(_)) => self.write_playlist()?,
            _ => {}
        }
        if let Some(seq) = d.start {
            let path = self.segment_path(seq);
            let mux = self.mux.get_or_insert_with(|| {
                let mut m = TsMuxer::new(self.video, self.audio);
                for (kind, c) in [(type_id::VIDEO, &self.configs[0]), (type_id::AUDIO, &self.configs[1])] {
                    if let Some(c) = c {
                        let _ = m.mux(kind, c, 0);
                    }
                }
                m
            });
            let mut file = BufWriter::with_capacity(64 * 1024, File::create(tmp(&path))?);
            let mut tables = [0u8; 2 * PACKET_LEN];
            file.write_all(mux.tables(&mut tables))?;
            self.file = Some((file, path));
        }
        Ok(())
    }

    /// Completes the open segment: flushed, then renamed into place.
    fn close_file(&mut self) -> io::Result<()> {
        if let Some((file, path)) = self.file.take() {
            file.into_inner().map_err(|e| e.into_error())?.sync_data()?;
            std::fs::rename(tmp(&path), &path)?;
            self.stats.segments += 1;
        }
        Ok(())
    }

    fn write_playlist(&self) -> io::Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        let n = self
            .seg
            .write_playlist(&mut buf, |seq, w| write!(w, "{seq}.ts"))
            .map_err(|e| io::Error::other(e.to_string()))?;
        let path = self.playlist_path();
        std::fs::write(tmp(&path), &buf[..n])?;
        std::fs::rename(tmp(&path), &path)
    }

    /// The stream ended: the last segment is completed and the playlist
    /// says `#EXT-X-ENDLIST`.
    pub fn finish(&mut self) -> io::Result<()> {
        let d = self.seg.end();
        self.apply(&d)?;
        match &mut self.record {
            Some(record) => {
                record.write_all(b"#EXT-X-ENDLIST\n")?;
                record.sync_data()
            }
            None if d.closed.is_none() => self.write_playlist(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtmp_core::flv::aac::AacConfig;

    // An x264 SPS and PPS (High, 160x90) and an IDR slice header's first bytes.
    const SPS: &[u8] = &[
        0x67, 0x64, 0x00, 0x0a, 0xac, 0xd9, 0x42, 0x84, 0x7e, 0x5c, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00,
        0x00, 0x05, 0x03, 0xc4, 0x89, 0x65, 0x80,
    ];
    const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];

    fn avc_config() -> Vec<u8> {
        let mut out = [0u8; 128];
        let n = rtmp_core::flv::avc::write_sequence_header(&mut out, SPS, PPS).unwrap();
        out[..n].to_vec()
    }

    fn keyframe() -> Vec<u8> {
        let mut body = rtmp_core::flv::avc::avcc_tag_header(true, 0).to_vec();
        body.extend_from_slice(&[0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00]);
        body
    }

    #[test]
    fn audio_before_the_video_configuration_does_not_make_an_audio_only_stream() {
        let dir = std::env::temp_dir().join(format!("hls-audio-first-{}", std::process::id()));
        let mut hls = HlsStream::create(&HlsOptions::new(&dir), Path::new("live/cam")).unwrap();
        let aac = AacConfig::from_audio_specific_config(&[0x11, 0x90]).unwrap();
        hls.frame(8, 0, &aac.sequence_header()).unwrap();
        // Half a second of audio before the encoder's first output.
        for i in 0..24 {
            hls.frame(8, i * 21, &[0xAF, 1, 0x21, 0x10]).unwrap();
        }
        hls.frame(9, 500, &avc_config()).unwrap();
        hls.frame(9, 500, &keyframe()).unwrap();
        hls.frame(8, 510, &[0xAF, 1, 0x21, 0x10]).unwrap();
        assert_eq!(hls.video, Some(Codec::H264), "the program has video");
        assert!(hls.audio);
        assert_eq!((hls.stats.frames, hls.stats.dropped), (2, 24), "{:?}", hls.stats);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn audio_alone_for_three_seconds_is_an_audio_stream() {
        let dir = std::env::temp_dir().join(format!("hls-audio-only-{}", std::process::id()));
        let mut hls = HlsStream::create(&HlsOptions::new(&dir), Path::new("live/radio")).unwrap();
        let aac = AacConfig::from_audio_specific_config(&[0x11, 0x90]).unwrap();
        hls.frame(8, 0, &aac.sequence_header()).unwrap();
        for i in 0..200 {
            hls.frame(8, i * 21, &[0xAF, 1, 0x21, 0x10]).unwrap();
        }
        assert!(hls.mux.is_some() && hls.video.is_none());
        // 3000 ms / 21 ms: the first 143 frames waited for video.
        assert_eq!((hls.stats.frames, hls.stats.dropped), (200 - 143, 143), "{:?}", hls.stats);
        let _ = std::fs::remove_dir_all(dir);
    }
}
