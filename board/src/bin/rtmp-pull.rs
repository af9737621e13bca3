//! `rtmp-pull`: play a live RTMP stream and write it to an FLV file.
//!
//! ```text
//! rtmp-pull [OPTIONS] <URL> -o <FILE.flv>
//! ```
//!
//! Exits 0 when the publisher stops or `--duration` has passed; otherwise
//! prints one line naming the server, the step and the reason, and exits 1.
//! The stream key is never printed.

use board::pull::{FrameKind, PullBuffers, PullOptions, RtmpPull};
use rtmp_core::flv::{self, TagType};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: rtmp-pull [OPTIONS] <URL> -o <FILE.flv>

Plays a live stream and writes what arrives as FLV (- for standard output).

  URL                 rtmp://host[:port]/app[/instance]/stream[?query], or rtmps://
                      (TLS, port 443 by default; roots: SSL_CERT_FILE, SSL_CERT_DIR)

Options:
  -o, --output FILE   where to write (required)
  --duration SECS     stop after this long (default: until the publisher stops)
  --timeout SECS      connect/play timeout, and longest silence (default 10)
  -q, --quiet         no summary line
  -h, --help          this text";

struct Args {
    url: String,
    output: String,
    duration: Option<Duration>,
    quiet: bool,
    opts: PullOptions,
}

fn seconds(v: Option<String>, name: &str) -> Result<Duration, String> {
    let v = v.ok_or(format!("{name} needs a value"))?;
    v.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && *s < 1e7)
        .map(Duration::from_secs_f64)
        .ok_or(format!("{name} must be a positive number of seconds"))
}

fn parse_args() -> Result<Args, String> {
    let (mut url, mut output, mut duration, mut quiet) = (None, None, None, false);
    let mut opts = PullOptions::default();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "-o" | "--output" => output = Some(it.next().ok_or("-o needs a file")?),
            "--duration" => duration = Some(seconds(it.next(), "--duration")?),
            "--timeout" => opts.timeout = seconds(it.next(), "--timeout")?,
            "-q" | "--quiet" => quiet = true,
            s if s.starts_with('-') && s != "-" => return Err(format!("unknown option {s}")),
            _ if url.is_none() => url = Some(a),
            _ => return Err(format!("unexpected argument {a}")),
        }
    }
    Ok(Args { url: url.ok_or("expected a URL")?, output: output.ok_or("expected -o FILE")?, duration, quiet, opts })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rtmp-pull: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let out: Box<dyn Write> = if args.output == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        match File::create(&args.output) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("rtmp-pull: cannot create {}: {e}", args.output);
                return ExitCode::FAILURE;
            }
        }
    };
    let mut out = BufWriter::with_capacity(256 * 1024, out);
    let mut bufs = PullBuffers::new();
    let mut pull = match RtmpPull::connect(&args.url, &mut bufs, args.opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rtmp-pull: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let (mut tags, mut bytes) = (0u64, 0u64);
    let write_err = |e: std::io::Error, output: &str| {
        eprintln!("rtmp-pull: writing {output}: {e}");
        ExitCode::FAILURE
    };
    if let Err(e) = out.write_all(&flv::file_header(true, true)) {
        return write_err(e, &args.output);
    }
    let result = loop {
        if args.duration.is_some_and(|d| started.elapsed() >= d) {
            break Ok(());
        }
        let frame = match pull.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        let kind = match frame.kind {
            FrameKind::Audio => TagType::Audio,
            FrameKind::Video => TagType::Video,
            FrameKind::Data => TagType::Script,
        };
        let body = frame.payload;
        let written = out
            .write_all(&flv::tag_header(kind, frame.timestamp, body.len()))
            .and_then(|()| out.write_all(body))
            .and_then(|()| out.write_all(&flv::previous_tag_size(body.len())));
        if let Err(e) = written {
            return write_err(e, &args.output);
        }
        tags += 1;
        bytes += body.len() as u64;
    };
    if let Err(e) = out.flush() {
        return write_err(e, &args.output);
    }
    match result {
        Ok(()) => {
            let _ = pull.close();
            if !args.quiet {
                eprintln!("rtmp-pull: wrote {tags} tags ({bytes} bytes) in {:.1} s", started.elapsed().as_secs_f64());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rtmp-pull: {e} (after {tags} tags, {bytes} bytes)");
            ExitCode::FAILURE
        }
    }
}
