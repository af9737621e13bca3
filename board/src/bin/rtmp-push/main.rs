//! `rtmp-push`: publish an FLV file (or FLV on stdin), or the board's
//! camera, to an RTMP or RTMPS server.
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

use board::file_push::{push_flv, FilePushEvent, FilePushOptions};
use board::push::{PushOptions, PushTarget};
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: rtmp-push [OPTIONS] <SOURCE> <URL>
       rtmp-push camera [URL] [OPTIONS]   (see rtmp-push camera --help)
       rtmp-push raw --size WxH --fps N SOURCE [URL]   (raw pictures; rtmp-push raw --help)

Publishes an FLV or MP4 file to an RTMP server (nginx-rtmp, SRS, YouTube,
Bilibili, ...) without re-encoding. Enhanced RTMP FLVs (HEVC, AV1, VP9, Opus)
are sent unchanged; MP4/MOV files give their H.264 or H.265 and AAC tracks.

  SOURCE              an .flv or .mp4/.mov file, or - for FLV on standard input
  URL                 rtmp://host[:port]/app[/instance]/stream[?query]
                      rtmps://... for RTMP over TLS (port 443 by default); the
                      certificate is checked against the system's roots
                      (SSL_CERT_FILE, SSL_CERT_DIR) or Mozilla's

Options:
  --fast              send as fast as the connection takes (default: real time);
                      fails at once when the link fails
  --chunk-size N      outgoing chunk size in bytes (default 4096)
  --timeout SECS      connect and publish timeout (default 10)
  --link-timeout SECS a link that stops moving this long is dead (default 10)
  --max-retries N     paced pushes reconnect after a failure, resuming at the
                      next keyframe: N tries (default: for ever; 0: never)
  --loop              repeat an MP4 file for ever, timestamps continuing
                      (a test source where there is no camera)
  --stats-json        one JSON line a second on standard output
  -q, --quiet         no status line
  -h, --help          this text
";

struct Args {
    source: String,
    target: PushTarget,
    fast: bool,
    quiet: bool,
    stats_json: bool,
    looped: bool,
    max_retries: Option<u32>,
    opts: PushOptions,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut fast = false;
    let mut quiet = false;
    let mut stats_json = false;
    let mut looped = false;
    let mut max_retries = None;
    let mut opts = PushOptions::default();
    let mut oss = OssArgs::default();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if oss.take(&a, || it.next())? {
            continue;
        }
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}\n{}", oss_args::USAGE);
                std::process::exit(0);
            }
            "--fast" => fast = true,
            "-q" | "--quiet" => quiet = true,
            "--stats-json" => stats_json = true,
            "--loop" => looped = true,
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
    let target = match oss.signer()? {
        Some(signer) => PushTarget::oss(url, signer).map_err(|e| e.to_string())?,
        None => PushTarget::new(url),
    };
    Ok(Args { source, target, fast, quiet, stats_json, looped, max_retries, opts })
}

mod camera;
mod oss_args;
use oss_args::OssArgs;

fn main() -> ExitCode {
    let all: Vec<String> = std::env::args().skip(1).collect();
    if let Some(sub @ ("camera" | "raw")) = all.first().map(String::as_str) {
        return match camera::run(&all[1..], sub == "raw") {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rtmp-push {sub}: {e}");
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

/// The source: standard input (FLV), or a file, MP4 when its first bytes say so.
enum Source {
    Flv(Box<dyn Read>),
    Mp4(std::fs::File),
}

fn open_source(args: &Args) -> Result<Source, String> {
    if args.source == "-" {
        if args.looped {
            return Err("--loop needs an MP4 file, not standard input".into());
        }
        return Ok(Source::Flv(Box::new(std::io::stdin().lock())));
    }
    let named = |e: std::io::Error| format!("{}: {e}", args.source);
    let mut file = std::fs::File::open(&args.source).map_err(named)?;
    let mut head = [0u8; 8];
    let n = file.read(&mut head).map_err(named)?;
    std::io::Seek::rewind(&mut file).map_err(named)?;
    if board::mp4::looks_like_mp4(&head[..n]) {
        Ok(Source::Mp4(file))
    } else if args.looped {
        Err(format!("{}: --loop is for MP4 files", args.source))
    } else {
        Ok(Source::Flv(Box::new(file)))
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let source = open_source(args)?;
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
    let opts = FilePushOptions { push: args.opts, paced: !args.fast, max_retries: args.max_retries };
    // Bytes of earlier connections, for the status line's running total.
    let mut before = 0u64;
    let mut last_conn = 0u64;
    let on_event = |e: FilePushEvent<'_>| match e {
        FilePushEvent::Connected { reconnect } => {
            if reconnect {
                status.reconnects += 1;
                before += last_conn;
                last_conn = 0;
            }
            status.state = "live";
        }
        FilePushEvent::Sent { bytes_sent, video } => {
            last_conn = bytes_sent;
            status.tick(before + bytes_sent, video);
        }
        FilePushEvent::Skipped => status.skipped += 1,
        FilePushEvent::Reconnecting(err) => {
            status.state = "reconnecting";
            if !args.quiet {
                eprintln!("\rrtmp-push: {err}; reconnecting");
            }
        }
        FilePushEvent::Truncated { bytes } => {
            eprintln!("rtmp-push: warning: {} ends inside a tag; its last {bytes} bytes were not sent", args.source)
        }
    };
    let stats = match source {
        Source::Flv(mut input) => push_flv(&mut input, &args.source, &args.target, opts, on_event)?,
        // Unbuffered: each sample is one read into the sample buffer.
        Source::Mp4(file) => board::mp4::push_mp4(file, &args.source, &args.target, opts, args.looped, on_event)?,
    };
    if status.tty {
        eprintln!(
            "\rsent {} bytes in {:.1} s, {} reconnects, {} tags skipped",
            before + stats.bytes_sent,
            status.start.elapsed().as_secs_f64(),
            status.reconnects,
            status.skipped
        );
    }
    Ok(())
}
