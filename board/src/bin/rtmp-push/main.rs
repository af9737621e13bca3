//! `rtmp-push`: publish an FLV file (or FLV on stdin), or the board's
//! camera, to an RTMP server.
//!
//! ```text
//! rtmp-push [OPTIONS] <SOURCE> <URL>
//! rtmp-push camera [URL] [--size WxH] [--fps N] [--bitrate BPS] [--audio] [--duration SECS]
//! ```
//!
//! Paces to real time by the tags' timestamps (like `ffmpeg -re`) unless
//! `--fast`. A paced push reconnects when the link fails and resumes at the
//! next keyframe; `--fast` fails at once. Exits 0 after a clean close; on
//! failure prints one line naming the server, the step and the reason (for
//! a refusal, the server's status code and description) and exits 1. The
//! stream key is never printed.

use board::push::{PushBuffers, PushOptions, RtmpPush};
use board::RtmpError;
use rtmp_core::flv::{FlvItem, FlvReader, TagType};
use rtmp_core::live::{Backoff, BackoffConfig, Failure, Retry};
use rtmp_core::message::SET_DATA_FRAME;
use rtmp_core::time::Instant as CoreInstant;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: rtmp-push [OPTIONS] <SOURCE> <URL>
       rtmp-push camera [URL] [OPTIONS]   (see rtmp-push camera --help)

Publishes an FLV file to an RTMP server (nginx-rtmp, SRS, YouTube, Bilibili, ...).

  SOURCE              an .flv file, or - for FLV on standard input
  URL                 rtmp://host[:port]/app[/instance]/stream[?query]

Options:
  --fast              send as fast as the connection takes (default: real time);
                      fails at once when the link fails
  --chunk-size N      outgoing chunk size in bytes (default 4096)
  --timeout SECS      connect and publish timeout (default 10)
  --link-timeout SECS a link that stops moving this long is dead (default 10)
  --max-retries N     paced pushes reconnect after a failure, resuming at the
                      next keyframe: N tries (default: for ever; 0: never)
  --stats-json        one JSON line a second on standard output
  -q, --quiet         no status line
  -h, --help          this text";

struct Args {
    source: String,
    url: String,
    fast: bool,
    quiet: bool,
    stats_json: bool,
    max_retries: Option<u32>,
    opts: PushOptions,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut fast = false;
    let mut quiet = false;
    let mut stats_json = false;
    let mut max_retries = None;
    let mut opts = PushOptions::default();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--fast" => fast = true,
            "-q" | "--quiet" => quiet = true,
            "--stats-json" => stats_json = true,
            "--max-retries" => {
                let v = it.next().ok_or("--max-retries needs a value")?;
                max_retries = Some(v.parse().map_err(|_| "--max-retries must be a count")?);
            }
            "--link-timeout" => {
                let v = it.next().ok_or("--link-timeout needs a value")?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s >= 1.0 && *s <= 600.0)
                    .ok_or("--link-timeout must be seconds, 1..600")?;
                opts.link_timeout = Duration::from_secs_f64(secs);
            }
            "--chunk-size" => {
                let v = it.next().ok_or("--chunk-size needs a value")?;
                opts.chunk_size = v
                    .parse()
                    .ok()
                    .filter(|n| (128..=16 * 1024 * 1024).contains(n))
                    .ok_or("--chunk-size must be 128..16777216")?;
            }
            "--timeout" => {
                let v = it.next().ok_or("--timeout needs a value")?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0 && *s < 3600.0)
                    .ok_or("--timeout must be seconds, 0..3600")?;
                opts.timeout = Duration::from_secs_f64(secs);
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => positional.push(a),
        }
    }
    let [source, url]: [String; 2] = positional.try_into().map_err(|_| "expected SOURCE and URL".to_string())?;
    Ok(Args { source, url, fast, quiet, stats_json, max_retries, opts })
}

mod camera;

fn main() -> ExitCode {
    let all: Vec<String> = std::env::args().skip(1).collect();
    if all.first().map(String::as_str) == Some("camera") {
        return match camera::run(&all[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rtmp-push camera: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rtmp-push: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rtmp-push: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Status once a second: a line on a terminal, JSON lines for machines.
struct Status {
    tty: bool,
    json: bool,
    start: Instant,
    last: Instant,
    bytes_at_last: u64,
    frames: u32,
    state: &'static str,
    reconnects: u32,
    skipped: u64,
}

impl Status {
    fn tick(&mut self, bytes: u64, video: bool) {
        if video {
            self.frames += 1;
        }
        let now = Instant::now();
        let dt = now - self.last;
        if !(self.tty || self.json) || dt < Duration::from_secs(1) {
            return;
        }
        let secs = dt.as_secs_f64();
        let bps = bytes.saturating_sub(self.bytes_at_last) as f64 * 8.0 / secs;
        let fps = f64::from(self.frames) / secs;
        let el = (now - self.start).as_secs_f64();
        if self.tty {
            let e = el as u64;
            eprint!(
                "\r{:02}:{:02}:{:02} {:<12} {:6.0} kbit/s {:5.1} fps  skipped {}  reconnects {} ",
                e / 3600,
                e / 60 % 60,
                e % 60,
                self.state,
                bps / 1000.0,
                fps,
                self.skipped,
                self.reconnects
            );
            let _ = std::io::stderr().flush();
        }
        if self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "{{\"t\":{el:.3},\"state\":\"{}\",\"bitrate\":{bps:.0},\"fps\":{fps:.2},\"bytes_sent\":{bytes},\"reconnects\":{},\"skipped\":{}}}",
                self.state, self.reconnects, self.skipped
            );
            let _ = out.flush();
        }
        self.last = now;
        self.bytes_at_last = bytes;
        self.frames = 0;
    }
}

/// The FLV source, read as tags with their headers kept for a new connection.
struct Source {
    input: Box<dyn Read>,
    name: String,
    reader: FlvReader,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The last onMetaData, AVC/HEVC and AAC sequence headers (tag bodies),
    /// sent again on a new connection.
    metadata: Option<(u32, Vec<u8>)>,
    video_config: Option<(u32, Vec<u8>)>,
    audio_config: Option<(u32, Vec<u8>)>,
}

/// What a tag is, for resuming after a reconnect.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TagRole {
    Metadata,
    VideoConfig,
    AudioConfig,
    Keyframe,
    Other,
}

fn role(kind: TagType, data: &[u8]) -> TagRole {
    match kind {
        TagType::Script if data.starts_with(b"\x02\x00\x0aonMetaData") => TagRole::Metadata,
        TagType::Video => match data {
            // Enhanced RTMP: IsExHeader, frame type, packet type 0 = SequenceStart.
            [b, ..] if b & 0x80 != 0 && b & 0x0f == 0 => TagRole::VideoConfig,
            [b, ..] if b & 0x80 != 0 && (b >> 4) & 7 == 1 => TagRole::Keyframe,
            [b, 0, ..] if b & 0x0f == 7 || b & 0x0f == 12 => TagRole::VideoConfig,
            [b, ..] if b >> 4 == 1 => TagRole::Keyframe,
            _ => TagRole::Other,
        },
        TagType::Audio => match data {
            [b, 0, ..] if b >> 4 == 10 => TagRole::AudioConfig,
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

fn send_tag(push: &mut RtmpPush<'_>, kind: TagType, ts: u32, data: &[u8]) -> Result<(), RtmpError> {
    match kind {
        TagType::Script if data.starts_with(b"\x02\x00\x0aonMetaData") => push.send(18, ts, &[SET_DATA_FRAME, data]),
        TagType::Other(_) => Ok(()),
        kind => push.send(kind.to_byte(), ts, &[data]),
    }
}

impl Source {
    /// Sends tags until the source ends or the link fails. When `resume`,
    /// first the kept metadata and sequence headers, then from the next
    /// keyframe on (tags before it are skipped and counted), with the pacing
    /// clock restarted there.
    fn pump(
        &mut self,
        push: &mut RtmpPush<'_>,
        fast: bool,
        resume: bool,
        status: &mut Status,
    ) -> Result<Pumped, String> {
        let mut clock: Option<(Instant, u32)> = None;
        let mut waiting_for_keyframe = resume;
        if resume {
            let kept = [&self.metadata, &self.audio_config, &self.video_config];
            for (kind, tag) in [TagType::Script, TagType::Audio, TagType::Video].into_iter().zip(kept) {
                if let Some((ts, data)) = tag {
                    if let Err(e) = send_tag(push, kind, *ts, data) {
                        return Ok(Pumped::Link(e));
                    }
                }
            }
        }
        loop {
            let (n, item) =
                self.reader.read(&self.buf[self.start..self.end]).map_err(|e| format!("{}: {e}", self.name))?;
            match item {
                FlvItem::Header(_) => self.start += n,
                FlvItem::Tag(tag) => {
                    let r = role(tag.kind, tag.data);
                    match r {
                        TagRole::Metadata => self.metadata = Some((tag.timestamp, tag.data.to_vec())),
                        TagRole::VideoConfig => self.video_config = Some((tag.timestamp, tag.data.to_vec())),
                        TagRole::AudioConfig => self.audio_config = Some((tag.timestamp, tag.data.to_vec())),
                        _ => {}
                    }
                    if waiting_for_keyframe && r == TagRole::Keyframe {
                        waiting_for_keyframe = false;
                    }
                    if waiting_for_keyframe {
                        // Headers are current already (sent above, or kept for later).
                        if r == TagRole::Other {
                            status.skipped += 1;
                        }
                        self.start += n;
                        continue;
                    }
                    if !fast {
                        let (base, t0) = *clock.get_or_insert((Instant::now(), tag.timestamp));
                        let due = base + Duration::from_millis(u64::from(tag.timestamp.saturating_sub(t0)));
                        if let Err(e) = push.idle_until(due) {
                            return Ok(Pumped::Link(e));
                        }
                    }
                    if let Err(e) = send_tag(push, tag.kind, tag.timestamp, tag.data) {
                        // This tag is lost with the link; resuming skips to a keyframe.
                        self.start += n;
                        return Ok(Pumped::Link(e));
                    }
                    status.tick(push.stats().bytes_sent, tag.kind == TagType::Video);
                    self.start += n;
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
                            eprintln!(
                                "rtmp-push: warning: {} ends inside a tag; its last {} bytes were not sent",
                                self.name, self.end
                            );
                        }
                        return Ok(Pumped::Done);
                    }
                    self.end += r;
                }
            }
        }
    }
}

fn core_now(epoch: Instant) -> CoreInstant {
    CoreInstant::from_micros(epoch.elapsed().as_micros() as u64)
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let input: Box<dyn Read> = if args.source == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(&args.source).map_err(|e| format!("{}: {e}", args.source))?)
    };
    let mut source = Source {
        input,
        name: args.source.clone(),
        reader: FlvReader::new(),
        buf: vec![0u8; 256 * 1024],
        start: 0,
        end: 0,
        metadata: None,
        video_config: None,
        audio_config: None,
    };
    let epoch = Instant::now();
    let mut status = Status {
        tty: !args.quiet && std::io::stderr().is_terminal(),
        json: args.stats_json,
        start: epoch,
        last: epoch,
        bytes_at_last: 0,
        frames: 0,
        state: "connecting",
        reconnects: 0,
        skipped: 0,
    };
    // --fast keeps failing fast; a paced push stays up.
    let max_retries = if args.fast { Some(0) } else { args.max_retries };
    let mut backoff = Backoff::new(BackoffConfig { max_retries, ..BackoffConfig::default() });
    let mut seed = (epoch.elapsed().as_nanos() as u64) ^ u64::from(std::process::id()) | 1;
    let mut connected_once = false;
    let mut total_bytes = 0u64;
    loop {
        let mut bufs = PushBuffers::new();
        let failed = match RtmpPush::connect(&args.url, &mut bufs, args.opts) {
            Ok(mut push) => {
                backoff.on_connected(core_now(epoch));
                if connected_once {
                    status.reconnects += 1;
                }
                status.state = "live";
                let resume = connected_once;
                connected_once = true;
                match source.pump(&mut push, args.fast, resume, &mut status)? {
                    Pumped::Done => {
                        let stats = push.close()?;
                        total_bytes += stats.bytes_sent;
                        if status.tty {
                            eprintln!(
                                "\rsent {total_bytes} bytes in {:.1} s, {} reconnects, {} tags skipped",
                                status.start.elapsed().as_secs_f64(),
                                status.reconnects,
                                status.skipped
                            );
                        }
                        return Ok(());
                    }
                    Pumped::Link(e) => {
                        total_bytes += push.stats().bytes_sent;
                        e
                    }
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
        if !args.quiet {
            eprintln!("\rrtmp-push: {failed}; reconnecting");
        }
        status.state = "reconnecting";
        let wait = Duration::from_micros(at.as_micros().saturating_sub(core_now(epoch).as_micros()));
        std::thread::sleep(wait);
    }
}
