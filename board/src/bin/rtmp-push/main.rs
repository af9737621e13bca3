//! `rtmp-push`: publish an FLV file (or FLV on stdin), or the board's
//! camera, to an RTMP server.
//!
//! ```text
//! rtmp-push [OPTIONS] <SOURCE> <URL>
//! rtmp-push camera [URL] [--size WxH] [--fps N] [--bitrate BPS] [--audio] [--duration SECS]
//! ```
//!
//! Paces to real time by the tags' timestamps (like `ffmpeg -re`) unless
//! `--fast`. Exits 0 after a clean close; on failure prints one line naming
//! the server, the step and the reason (for a refusal, the server's status
//! code and description) and exits 1. The stream key is never printed.

use board::push::{PushBuffers, PushOptions, RtmpPush};
use rtmp_core::flv::{FlvItem, FlvReader, TagType};
use rtmp_core::message::SET_DATA_FRAME;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: rtmp-push [OPTIONS] <SOURCE> <URL>
       rtmp-push camera [URL] [OPTIONS]   (see rtmp-push camera --help)

Publishes an FLV file to an RTMP server (nginx-rtmp, SRS, YouTube, Bilibili, ...).

  SOURCE              an .flv file, or - for FLV on standard input
  URL                 rtmp://host[:port]/app[/instance]/stream[?query]

Options:
  --fast              send as fast as the connection takes (default: real time)
  --chunk-size N      outgoing chunk size in bytes (default 4096)
  --timeout SECS      connect and publish timeout (default 10)
  -q, --quiet         no status line
  -h, --help          this text";

struct Args {
    source: String,
    url: String,
    fast: bool,
    quiet: bool,
    opts: PushOptions,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut fast = false;
    let mut quiet = false;
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
    Ok(Args { source, url, fast, quiet, opts })
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

/// Live status on a terminal: elapsed time, bitrate, frame rate.
struct Status {
    enabled: bool,
    start: Instant,
    last: Instant,
    bytes_at_last: u64,
    frames: u32,
}

impl Status {
    fn tick(&mut self, bytes: u64, video: bool) {
        if video {
            self.frames += 1;
        }
        let now = Instant::now();
        let dt = now - self.last;
        if !self.enabled || dt < Duration::from_millis(500) {
            return;
        }
        let secs = dt.as_secs_f64();
        let kbps = (bytes - self.bytes_at_last) as f64 * 8.0 / 1000.0 / secs;
        let fps = f64::from(self.frames) / secs;
        let el = (now - self.start).as_secs();
        eprint!("\r{:02}:{:02}:{:02}  {:8.0} kbit/s  {:5.1} fps ", el / 3600, el / 60 % 60, el % 60, kbps, fps);
        let _ = std::io::stderr().flush();
        self.last = now;
        self.bytes_at_last = bytes;
        self.frames = 0;
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut input: Box<dyn Read> = if args.source == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(&args.source).map_err(|e| format!("{}: {e}", args.source))?)
    };
    let mut bufs = PushBuffers::new();
    let mut push = RtmpPush::connect(&args.url, &mut bufs, args.opts)?;
    let mut status = Status {
        enabled: !args.quiet && std::io::stderr().is_terminal(),
        start: Instant::now(),
        last: Instant::now(),
        bytes_at_last: 0,
        frames: 0,
    };

    let mut reader = FlvReader::new();
    let mut buf = vec![0u8; 256 * 1024];
    let (mut start, mut end) = (0usize, 0usize);
    let mut clock: Option<(Instant, u32)> = None;
    loop {
        let (n, item) = reader.read(&buf[start..end]).map_err(|e| format!("{}: {e}", args.source))?;
        match item {
            FlvItem::Header(_) => start += n,
            FlvItem::Tag(tag) => {
                if !args.fast {
                    let (base, t0) = *clock.get_or_insert((Instant::now(), tag.timestamp));
                    let due = base + Duration::from_millis(u64::from(tag.timestamp.saturating_sub(t0)));
                    push.idle_until(due)?;
                }
                match tag.kind {
                    TagType::Script if tag.data.starts_with(b"\x02\x00\x0aonMetaData") => {
                        push.send(18, tag.timestamp, &[SET_DATA_FRAME, tag.data])?
                    }
                    TagType::Other(_) => {}
                    kind => push.send(kind.to_byte(), tag.timestamp, &[tag.data])?,
                }
                status.tick(push.stats().bytes_sent, tag.kind == TagType::Video);
                start += n;
            }
            FlvItem::NeedMore(want) => {
                start += n;
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
                if want > buf.len() {
                    buf.resize(want, 0);
                }
                let r = loop {
                    match input.read(&mut buf[end..]) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                }
                .map_err(|e| format!("{}: {e}", args.source))?;
                if r == 0 {
                    if end > 0 {
                        eprintln!(
                            "rtmp-push: warning: {} ends inside a tag; its last {end} bytes were not sent",
                            args.source
                        );
                    }
                    break;
                }
                end += r;
            }
        }
    }
    let stats = push.close()?;
    if status.enabled {
        eprintln!(
            "\rsent {} messages, {} bytes in {:.1} s",
            stats.messages_sent,
            stats.bytes_sent,
            status.start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
