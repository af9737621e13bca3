//! `rtmp-pull`: play a live RTMP stream and write it to an FLV file, or
//! (`--decode`) decode it and write raw pictures, PCM and PNG snapshots.
//!
//! ```text
//! rtmp-pull [OPTIONS] <URL> -o <FILE.flv>
//! rtmp-pull --decode [OPTIONS] <URL> [-o FILE.yuv] [--pcm FILE] [--snapshot FILE.png --every SECS]
//! ```
//!
//! Exits 0 when the publisher stops or `--duration` has passed; otherwise
//! prints one line naming the server, the step and the reason, and exits 1.
//! The stream key is never printed.

use board::capture::{CaptureError, CaptureOptions, RtmpCapture};
use board::picture::PixelFormat;
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
  -o, --output FILE   where to write (required, except with --decode)
  --decode            decode instead (the media SDK's video decoder; AAC by
                      fdk-aac): -o gets raw pictures back to back, as
                      `ffmpeg -f rawvideo -pix_fmt yuv420p` writes them
  --pix-fmt i420|nv21 the raw pictures' layout (default i420; nv21 is the camera's)
  --pcm FILE          with --decode: the audio as 16-bit little-endian PCM,
                      channels interleaved
  --snapshot FILE.png with --decode: save the latest picture as PNG (replaced
                      atomically) every --every SECS (default 1)
  --every SECS        how often --snapshot saves
  --duration SECS     stop after this long (default: until the publisher stops)
  --timeout SECS      connect/play timeout, and longest silence (default 10)
  -q, --quiet         no summary line
  -h, --help          this text";

struct Args {
    url: String,
    output: Option<String>,
    decode: bool,
    format: PixelFormat,
    pcm: Option<String>,
    snapshot: Option<String>,
    every: Duration,
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
    let (mut decode, mut format, mut pcm, mut snapshot, mut every) =
        (false, PixelFormat::I420, None, None, Duration::from_secs(1));
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
            "--decode" => decode = true,
            "--pix-fmt" => {
                format = match it.next().ok_or("--pix-fmt needs a value")?.to_ascii_lowercase().as_str() {
                    "i420" | "yuv420p" => PixelFormat::I420,
                    "nv21" => PixelFormat::Nv21,
                    other => return Err(format!("--pix-fmt: {other:?} is not i420 or nv21")),
                }
            }
            "--pcm" => pcm = Some(it.next().ok_or("--pcm needs a file")?),
            "--snapshot" => snapshot = Some(it.next().ok_or("--snapshot needs a file")?),
            "--every" => every = seconds(it.next(), "--every")?,
            "-q" | "--quiet" => quiet = true,
            s if s.starts_with('-') && s != "-" => return Err(format!("unknown option {s}")),
            _ if url.is_none() => url = Some(a),
            _ => return Err(format!("unexpected argument {a}")),
        }
    }
    if !decode && (pcm.is_some() || snapshot.is_some()) {
        return Err("--pcm and --snapshot need --decode".into());
    }
    if !decode && output.is_none() {
        return Err("expected -o FILE".into());
    }
    if decode && output.is_none() && pcm.is_none() && snapshot.is_none() {
        return Err("--decode needs -o FILE.yuv, --pcm FILE or --snapshot FILE.png".into());
    }
    let url = url.ok_or("expected a URL")?;
    Ok(Args { url, output, decode, format, pcm, snapshot, every, duration, quiet, opts })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rtmp-pull: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.decode {
        return match decode(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rtmp-pull: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let output = args.output.clone().unwrap_or_default();
    let out = match create(&output) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("rtmp-pull: {e}");
            return ExitCode::FAILURE;
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
        return write_err(e, &output);
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
            return write_err(e, &output);
        }
        tags += 1;
        bytes += body.len() as u64;
    };
    if let Err(e) = out.flush() {
        return write_err(e, &output);
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

/// `-` for standard output, or a new file.
fn create(path: &str) -> Result<Box<dyn Write>, String> {
    if path == "-" {
        return Ok(Box::new(std::io::stdout().lock()));
    }
    File::create(path).map(|f| Box::new(f) as Box<dyn Write>).map_err(|e| format!("cannot create {path}: {e}"))
}

/// `--decode`: pictures to -o, PCM to --pcm, PNG snapshots.
fn decode(args: &Args) -> Result<(), String> {
    let mut video = args.output.as_deref().map(create).transpose()?.map(|w| BufWriter::with_capacity(1 << 20, w));
    let mut pcm = args.pcm.as_deref().map(create).transpose()?.map(|w| BufWriter::with_capacity(64 << 10, w));
    // Writing files, not showing live: nothing is dropped (the decoder
    // waits for the writer), with room for the bursts a server sends.
    let opts = CaptureOptions {
        pull: args.opts,
        audio: pcm.is_some(),
        pictures: 16,
        audio_frames: 256,
        lossless: true,
        ..CaptureOptions::default()
    };
    let capture = RtmpCapture::connect(&args.url, opts).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut next_snapshot = started;
    let (mut pictures, mut samples, mut buf, mut rgb) = (0u64, 0u64, Vec::new(), Vec::new());
    let werr = |what: &str, e: std::io::Error| format!("writing {what}: {e}");
    let ended = loop {
        if args.duration.is_some_and(|d| started.elapsed() >= d) {
            break Ok(());
        }
        match capture.picture(Duration::from_millis(20)) {
            Ok(Some(frame)) => {
                if let Some(out) = &mut video {
                    frame.copy_to(args.format, &mut buf).map_err(|e| e.to_string())?;
                    out.write_all(&buf).map_err(|e| werr("the pictures", e))?;
                }
                if let Some(path) = &args.snapshot {
                    if Instant::now() >= next_snapshot {
                        frame.to_rgb(&mut rgb).map_err(|e| e.to_string())?;
                        save_png(path, frame.size(), &rgb)?;
                        next_snapshot += args.every;
                    }
                }
                pictures += 1;
            }
            Ok(None) => {}
            Err(CaptureError::Ended) => break Ok(()),
            Err(e) => break Err(e.to_string()),
        }
        while let Some(out) = &mut pcm {
            match capture.audio(Duration::ZERO) {
                Ok(Some(a)) => {
                    samples += a.samples.len() as u64;
                    let bytes: Vec<u8> = a.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
                    out.write_all(&bytes).map_err(|e| werr("the PCM", e))?;
                }
                Ok(None) | Err(CaptureError::Ended) => break,
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    for (out, what) in [(&mut video, "the pictures"), (&mut pcm, "the PCM")] {
        if let Some(o) = out {
            o.flush().map_err(|e| werr(what, e))?;
        }
    }
    let s = capture.stats();
    drop(capture);
    if !args.quiet {
        eprintln!(
            "rtmp-pull: decoded {pictures} pictures and {samples} audio samples in {:.1} s; dropped {} pictures and {} audio frames, skipped {} video and {} audio frames",
            started.elapsed().as_secs_f64(),
            s.pictures_dropped,
            s.audio_dropped,
            s.video_skipped,
            s.audio_skipped
        );
    }
    ended
}

/// Writes an RGB picture as PNG to `path` (through a temporary file, so a
/// reader never sees half of one).
fn save_png(path: &str, (w, h): (u32, u32), rgb: &[u8]) -> Result<(), String> {
    let tmp = format!("{path}.tmp");
    let file = File::create(&tmp).map_err(|e| format!("cannot create {tmp}: {e}"))?;
    let mut enc = png::Encoder::new(BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| format!("{path}: {e}"))?;
    writer.write_image_data(rgb).map_err(|e| format!("{path}: {e}"))?;
    writer.finish().map_err(|e| format!("{path}: {e}"))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{path}: {e}"))
}
