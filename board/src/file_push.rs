//! Publishing an FLV file or stream (`rtmp-push FILE`): tags paced to
//! real time by their timestamps (or as fast as the link takes), and, when
//! paced, a link that fails is reconnected with backoff and the push
//! resumes at the next keyframe, the metadata and sequence headers sent
//! again first.

use crate::push::{PushBuffers, PushOptions, PushStats, PushTarget, RtmpPush};
use crate::RtmpError;
use rtmp_core::flv::media::MediaRole;
use rtmp_core::flv::{FlvItem, FlvReader, TagType};
use rtmp_core::live::{Backoff, BackoffConfig, Failure, Retry};
use rtmp_core::message::SET_DATA_FRAME;
use rtmp_core::time::Instant as CoreInstant;
use std::fmt;
use std::io::Read;
use std::time::{Duration, Instant};

/// How to push a file.
#[derive(Clone, Copy, Debug)]
pub struct FilePushOptions {
    /// The connection's options.
    pub push: PushOptions,
    /// Pace to the tags' timestamps (like `ffmpeg -re`); otherwise as fast
    /// as the connection takes, failing at once when the link fails.
    pub paced: bool,
    /// Reconnect tries after a failure of a paced push: `None` for ever,
    /// `Some(0)` never. The first connection's failure is always final.
    pub max_retries: Option<u32>,
}

/// What a file push reports as it goes.
#[derive(Debug)]
pub enum FilePushEvent<'a> {
    /// Connected and publishing; `reconnect` when not the first connection.
    Connected {
        /// Not the first connection.
        reconnect: bool,
    },
    /// A tag was sent; `bytes_sent` on this connection so far.
    Sent {
        /// Bytes written on this connection.
        bytes_sent: u64,
        /// The tag was video.
        video: bool,
    },
    /// A tag was skipped while resuming at the next keyframe.
    Skipped,
    /// The link failed; reconnecting after the backoff.
    Reconnecting(&'a RtmpError),
    /// The source ended inside a tag: its last `bytes` were not sent.
    Truncated {
        /// Bytes of the incomplete tag.
        bytes: usize,
    },
}

/// Why a file push failed.
#[derive(Debug)]
pub enum FilePushError {
    /// Reading or parsing the source failed (the message names it).
    Source(String),
    /// The OSS URL could not be signed.
    Oss(crate::oss::OssSignError),
    /// The connection failed and was not (or no longer) retried.
    Rtmp(RtmpError),
}

impl fmt::Display for FilePushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilePushError::Source(e) => f.write_str(e),
            FilePushError::Rtmp(e) => write!(f, "{e}"),
            FilePushError::Oss(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for FilePushError {}

impl From<RtmpError> for FilePushError {
    fn from(e: RtmpError) -> Self {
        FilePushError::Rtmp(e)
    }
}

/// One tag of a source: an FLV tag body in up to two parts (an MP4
/// sample goes out as its tag header and the sample, read into one buffer).
pub(crate) struct Tag<'a> {
    pub kind: TagType,
    pub timestamp: u32,
    pub role: TagRole,
    pub parts: [&'a [u8]; 2],
}

/// Where tags come from: an FLV file or stream, an MP4 file.
pub(crate) trait TagSource {
    /// The next tag, or `None` at the end; errors name the source.
    fn next_tag(&mut self, on_event: &mut dyn FnMut(FilePushEvent<'_>)) -> Result<Option<Tag<'_>>, String>;
}

/// The FLV source, read as tags.
struct FlvSource<'r> {
    input: &'r mut dyn Read,
    name: String,
    reader: FlvReader,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Bytes of the tag handed out last, consumed at the next call.
    consumed: usize,
}

/// The last onMetaData, video and audio sequence headers (tag bodies),
/// sent again on a new connection.
#[derive(Default)]
struct Kept {
    metadata: Option<(u32, Vec<u8>)>,
    video_config: Option<(u32, Vec<u8>)>,
    audio_config: Option<(u32, Vec<u8>)>,
}

/// What a tag is, for resuming after a reconnect.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TagRole {
    Metadata,
    VideoConfig,
    AudioConfig,
    Keyframe,
    Other,
}

pub(crate) fn role(kind: TagType, data: &[u8]) -> TagRole {
    match kind {
        TagType::Script if data.starts_with(b"\x02\x00\x0aonMetaData") => TagRole::Metadata,
        TagType::Video | TagType::Audio => match (kind, MediaRole::of(kind.to_byte(), data)) {
            (TagType::Video, MediaRole::Config) => TagRole::VideoConfig,
            (_, MediaRole::Config) => TagRole::AudioConfig,
            (_, MediaRole::Keyframe) => TagRole::Keyframe,
            _ => TagRole::Other,
        },
        _ => TagRole::Other,
    }
}

/// How sending a source over one connection ended.
enum Pumped {
    /// The source ended.
    Done,
    /// The link failed.
    Link(RtmpError),
}

fn send_tag(push: &mut RtmpPush<'_>, kind: TagType, ts: u32, parts: [&[u8]; 2]) -> Result<(), RtmpError> {
    match kind {
        TagType::Script if parts[0].starts_with(b"\x02\x00\x0aonMetaData") => {
            push.send(18, ts, &[SET_DATA_FRAME, parts[0], parts[1]])
        }
        TagType::Other(_) => Ok(()),
        kind => push.send(kind.to_byte(), ts, &parts),
    }
}

impl TagSource for FlvSource<'_> {
    fn next_tag(&mut self, on_event: &mut dyn FnMut(FilePushEvent<'_>)) -> Result<Option<Tag<'_>>, String> {
        self.start += std::mem::take(&mut self.consumed);
        // Where the tag found lies in `buf` (returned after the loop: a
        // borrow returned from inside it would hold `buf` for every turn).
        let (kind, timestamp, at, len) = loop {
            let (n, item) =
                self.reader.read(&self.buf[self.start..self.end]).map_err(|e| format!("{}: {e}", self.name))?;
            match item {
                FlvItem::Header(_) => self.start += n,
                FlvItem::Tag(tag) => {
                    self.consumed = n;
                    let at = tag.data.as_ptr() as usize - self.buf.as_ptr() as usize;
                    break (tag.kind, tag.timestamp, at, tag.data.len());
                }
                FlvItem::NeedMore(want) => {
                    self.start += n;
                    self.buf.copy_within(self.start..self.end, 0);
                    self.end -= self.start;
                    self.start = 0;
                    if want > self.buf.len() {
                        self.buf.resize(want, 0);
                    }
                    let r = loop {
                        match self.input.read(&mut self.buf[self.end..]) {
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                            other => break other,
                        }
                    }
                    .map_err(|e| format!("{}: {e}", self.name))?;
                    if r == 0 {
                        if self.end > 0 {
                            on_event(FilePushEvent::Truncated { bytes: self.end });
                            self.start = self.end;
                        }
                        return Ok(None);
                    }
                    self.end += r;
                }
            }
        };
        let data = &self.buf[at..at + len];
        Ok(Some(Tag { kind, timestamp, role: role(kind, data), parts: [data, &[]] }))
    }
}

impl Kept {
    /// Sends tags from `source` until it ends or the link fails. When
    /// `resume`, first the kept metadata and sequence headers, then from
    /// the next keyframe on (tags before it are skipped and counted), with
    /// the pacing clock restarted there.
    fn pump(
        &mut self,
        source: &mut dyn TagSource,
        push: &mut RtmpPush<'_>,
        fast: bool,
        resume: bool,
        on_event: &mut dyn FnMut(FilePushEvent<'_>),
    ) -> Result<Pumped, String> {
        let mut clock: Option<(Instant, u32)> = None;
        let mut waiting_for_keyframe = resume;
        if resume {
            let kept = [&self.metadata, &self.audio_config, &self.video_config];
            for (kind, tag) in [TagType::Script, TagType::Audio, TagType::Video].into_iter().zip(kept) {
                if let Some((ts, data)) = tag {
                    if let Err(e) = send_tag(push, kind, *ts, [data, &[]]) {
                        return Ok(Pumped::Link(e));
                    }
                }
            }
        }
        while let Some(tag) = source.next_tag(on_event)? {
            let keep = |parts: [&[u8]; 2]| Some((tag.timestamp, [parts[0], parts[1]].concat()));
            match tag.role {
                TagRole::Metadata => self.metadata = keep(tag.parts),
                TagRole::VideoConfig => self.video_config = keep(tag.parts),
                TagRole::AudioConfig => self.audio_config = keep(tag.parts),
                _ => {}
            }
            if waiting_for_keyframe && tag.role == TagRole::Keyframe {
                waiting_for_keyframe = false;
            }
            if waiting_for_keyframe {
                // Headers are current already (sent above, or kept for later).
                if tag.role == TagRole::Other {
                    on_event(FilePushEvent::Skipped);
                }
                continue;
            }
            if !fast {
                let (base, t0) = *clock.get_or_insert((Instant::now(), tag.timestamp));
                let due = base + Duration::from_millis(u64::from(tag.timestamp.saturating_sub(t0)));
                if let Err(e) = push.idle_until(due) {
                    return Ok(Pumped::Link(e));
                }
            }
            // A tag that fails is lost with the link; resuming skips to a keyframe.
            if let Err(e) = send_tag(push, tag.kind, tag.timestamp, tag.parts) {
                return Ok(Pumped::Link(e));
            }
            on_event(FilePushEvent::Sent { bytes_sent: push.stats().bytes_sent, video: tag.kind == TagType::Video });
        }
        Ok(Pumped::Done)
    }
}

fn core_now(epoch: Instant) -> CoreInstant {
    CoreInstant::from_micros(epoch.elapsed().as_micros() as u64)
}

/// Pushes the FLV in `input` (named `name` in errors) to `target`; returns the
/// last connection's counters after a clean close. `on_event` hears of
/// progress, skips and reconnects.
pub fn push_flv(
    input: &mut dyn Read,
    name: &str,
    target: &PushTarget,
    opts: FilePushOptions,
    on_event: impl FnMut(FilePushEvent<'_>),
) -> Result<PushStats, FilePushError> {
    let mut source = FlvSource {
        input,
        name: name.to_string(),
        reader: FlvReader::new(),
        buf: vec![0u8; 256 * 1024],
        start: 0,
        end: 0,
        consumed: 0,
    };
    push_source(&mut source, target, opts, on_event)
}

/// Pushes the tags of `source` to `target` (see [`push_flv`]).
pub(crate) fn push_source(
    source: &mut dyn TagSource,
    target: &PushTarget,
    opts: FilePushOptions,
    mut on_event: impl FnMut(FilePushEvent<'_>),
) -> Result<PushStats, FilePushError> {
    let mut kept = Kept::default();
    let epoch = Instant::now();
    // Fast pushes keep failing fast; a paced push stays up.
    let max_retries = if opts.paced { opts.max_retries } else { Some(0) };
    let mut backoff = Backoff::new(BackoffConfig { max_retries, ..BackoffConfig::default() });
    let mut seed = (epoch.elapsed().as_nanos() as u64) ^ u64::from(std::process::id()) | 1;
    let mut connected_once = false;
    loop {
        let mut bufs = PushBuffers::new();
        let url = target.connect_url().map_err(FilePushError::Oss)?;
        let failed = match RtmpPush::connect(&url, &mut bufs, opts.push) {
            Ok(mut push) => {
                backoff.on_connected(core_now(epoch));
                on_event(FilePushEvent::Connected { reconnect: connected_once });
                let resume = connected_once;
                connected_once = true;
                match kept.pump(source, &mut push, !opts.paced, resume, &mut on_event).map_err(FilePushError::Source)? {
                    Pumped::Done => return Ok(push.close()?),
                    Pumped::Link(e) => e,
                }
            }
            Err(e) => e,
        };
        if !connected_once {
            // The first connection: a wrong URL, key or server is reported at once.
            return Err(failed.into());
        }
        let failure = failed.refusal().map_or(Failure::Transient, |(code, _)| Failure::from_status_code(code));
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let Retry::At(at) = backoff.on_failure(core_now(epoch), failure, seed as u32) else {
            return Err(failed.into());
        };
        on_event(FilePushEvent::Reconnecting(&failed));
        std::thread::sleep(Duration::from_micros(at.as_micros().saturating_sub(core_now(epoch).as_micros())));
    }
}
