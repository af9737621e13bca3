//! `rtmp-push camera`: stream the board's camera (and microphone); and
//! `rtmp-push raw`: the same pipeline fed with raw pictures from a pipe.

use board::audio::{AudioConfig, AudioIn};
use board::camera::{Camera, CameraConfig};
use board::hls::HlsOptions;
use board::picture::{Picture, PixelFormat};
use board::pipeline::{Codec, LinkOptions, Rtmp};
use board::serve::{RtmpServer, ServeOptions};
use board::sys::Sys;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::oss_args::OssArgs;

pub const USAGE: &str = "usage: rtmp-push camera [URL] [OPTIONS]

Streams the camera through the hardware encoder (H.264, or H.265 as Enhanced
RTMP with --codec h265), with --audio the microphone too (AAC). Without URL,
starts a local RTMP server on a free loopback port, publishes to it, records
./recordings/live/camera.flv (or, with --hls DIR, HLS segments and a playlist
in DIR/live/camera/, which a power cut can only cost the last segment of) and
prints that path.

Options:
  --size WxH          picture size (default 640x480)
  --fps N             frames per second (default 30)
  --bitrate BPS       video bits per second (default 1000000)
  --codec h264|h265   video codec (default h264; h265 needs a server that takes
                      Enhanced RTMP: YouTube, SRS 6, Node-Media-Server 4, ffmpeg 6.1+)
  --gop SECS          keyframe interval (default 1); for HLS and OSS LiveChannels
                      set it to the fragment duration (FragDuration)
  --audio             add the microphone (48 kHz mono AAC)
  --hls DIR           with no URL: record HLS into DIR instead of an FLV file
  --hls-fragment SECS HLS segment length (default 5)
  --duration SECS     stop after this long (default: until Ctrl-C)
  --max-retries N     reconnect tries after a failure (default: for ever; 0: never)
  --link-timeout SECS a link that stops moving this long is dead (default 10)
  --no-adaptive       keep the encoder's bitrate fixed when the link is slow
  --bitrate-floor BPS adaptive bitrate never goes below this (default 100000)
  --stats-json        one JSON line a second on standard output (state, bitrate,
                      fps, queue, encoder bitrate, drops by kind, reconnects, RTT)
  -q, --quiet         no status line
  --oss-*             sign the URL for an OSS LiveChannel (see rtmp-push --help)

On a terminal a status line is printed every second:
  00:01:23 live  942 kbit/s  29.9 fps  queue 12 ms  enc 1000 kbit/s  drops 0  reconnects 1  rtt 3 ms";

pub const RAW_USAGE: &str = "usage: rtmp-push raw --size WxH --fps N [OPTIONS] SOURCE [URL]

Encodes raw pictures with the hardware encoder and streams them, as
`rtmp-push camera` does the camera's (the same options, but --audio): SOURCE
is - (standard input) or a file of whole frames, back to back, as
`ffmpeg -f rawvideo -pix_fmt yuv420p` writes them. Frame N is stamped N/fps
seconds after the first and sent when that time comes, so a file streams in
real time and a live pipe at its own pace (frames the encoder cannot take in
time are dropped and counted). Ends at the end of SOURCE, --duration, or Ctrl-C.

  --pix-fmt i420|nv21 the pictures' layout (default i420, ffmpeg's yuv420p;
                      nv21 is the camera's)";

/// Where pictures come from.
enum Input {
    Camera,
    Raw { path: String, format: PixelFormat },
}

struct Options {
    input: Input,
    url: Option<String>,
    gop: Duration,
    hls: Option<HlsOptions>,
    oss: OssArgs,
    camera: CameraConfig,
    bitrate: u32,
    codec: Codec,
    audio: bool,
    duration: Option<Duration>,
    quiet: bool,
    stats_json: bool,
    link: LinkOptions,
}

fn parse(args: &[String], raw: bool) -> Result<Options, String> {
    let mut o = Options {
        input: Input::Camera,
        url: None,
        gop: Duration::from_secs(1),
        hls: None,
        oss: OssArgs::default(),
        camera: CameraConfig::default(),
        bitrate: 1_000_000,
        codec: Codec::H264,
        audio: false,
        duration: None,
        quiet: false,
        stats_json: false,
        link: LinkOptions::default(),
    };
    let mut it = args.iter();
    let mut fragment = None;
    let (mut source, mut format, mut size_given) = (None, PixelFormat::I420, false);
    while let Some(a) = it.next() {
        if o.oss.take(a, || it.next().cloned())? {
            continue;
        }
        let mut value = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "-h" | "--help" => {
                println!("{}", if raw { RAW_USAGE } else { USAGE });
                std::process::exit(0);
            }
            "--pix-fmt" if raw => {
                format = match value("--pix-fmt")?.to_ascii_lowercase().as_str() {
                    "i420" | "yuv420p" => PixelFormat::I420,
                    "nv21" => PixelFormat::Nv21,
                    other => return Err(format!("--pix-fmt: {other:?} is not i420 or nv21")),
                }
            }
            "--audio" if raw => return Err("--audio: raw pictures have no microphone".into()),
            "-" if raw && source.is_none() => source = Some(a.clone()),
            "--size" => {
                size_given = true;
                let v = value("--size")?;
                let (w, h) = v.split_once('x').ok_or(format!("--size: {v:?} is not WxH"))?;
                let dim = |s: &str| s.parse::<u32>().ok().filter(|n| (64..=4096).contains(n) && n % 2 == 0);
                o.camera.width = dim(w).ok_or("--size: width must be even, 64..4096")?;
                o.camera.height = dim(h).ok_or("--size: height must be even, 64..4096")?;
            }
            "--fps" => {
                o.camera.fps =
                    value("--fps")?.parse().ok().filter(|n| (1..=60).contains(n)).ok_or("--fps must be 1..60")?
            }
            "--bitrate" => {
                o.bitrate = value("--bitrate")?
                    .parse()
                    .ok()
                    .filter(|n| (10_000..=50_000_000).contains(n))
                    .ok_or("--bitrate must be 10000..50000000 bit/s")?
            }
            "--codec" => {
                o.codec = match value("--codec")?.to_ascii_lowercase().as_str() {
                    "h264" | "avc" => Codec::H264,
                    "h265" | "hevc" => Codec::H265,
                    other => return Err(format!("--codec: {other:?} is not h264 or h265")),
                }
            }
            "--audio" => o.audio = true,
            "--gop" => {
                let secs: f64 = value("--gop")?
                    .parse()
                    .ok()
                    .filter(|s| (0.1..=60.0).contains(s))
                    .ok_or("--gop must be 0.1..60 s")?;
                o.gop = Duration::from_secs_f64(secs);
            }
            "--hls" => o.hls = Some(HlsOptions { keep: true, ..HlsOptions::new(value("--hls")?) }),
            "--hls-fragment" => {
                let secs: f64 = value("--hls-fragment")?
                    .parse()
                    .ok()
                    .filter(|s| (0.5..=60.0).contains(s))
                    .ok_or("--hls-fragment must be 0.5..60 s")?;
                fragment = Some((secs * 1000.0) as u32);
            }
            "--stats-json" => o.stats_json = true,
            "--no-adaptive" => o.link.adaptive_bitrate = false,
            "--max-retries" => {
                let n: u32 = value("--max-retries")?.parse().map_err(|_| "--max-retries must be a count")?;
                o.link.backoff.max_retries = Some(n);
            }
            "--link-timeout" => {
                let v = value("--link-timeout")?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s >= 1.0 && *s <= 600.0)
                    .ok_or("--link-timeout must be 1..600 s")?;
                o.link.link_timeout = Duration::from_secs_f64(secs);
            }
            "--bitrate-floor" => {
                o.link.bitrate_floor = value("--bitrate-floor")?
                    .parse()
                    .ok()
                    .filter(|n| (10_000..=50_000_000).contains(n))
                    .ok_or("--bitrate-floor must be 10000..50000000 bit/s")?
            }
            "-q" | "--quiet" => o.quiet = true,
            "--duration" => {
                let v = value("--duration")?;
                let secs: f64 = v.parse().ok().filter(|s: &f64| *s > 0.0).ok_or("--duration must be seconds")?;
                o.duration = Some(Duration::from_secs_f64(secs));
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ if raw && source.is_none() => source = Some(a.clone()),
            _ if o.url.is_none() => o.url = Some(a.clone()),
            _ => return Err(format!("unexpected argument {a}")),
        }
    }
    match (&mut o.hls, fragment) {
        (Some(h), Some(ms)) => {
            h.config.target_ms = ms;
            h.config.max_ms = 3 * ms;
        }
        (None, Some(_)) => return Err("--hls-fragment needs --hls DIR".into()),
        _ => {}
    }
    if o.hls.is_some() && o.url.is_some() {
        return Err("--hls records locally: give no URL (rtmp-serve --hls makes HLS of a pushed stream)".into());
    }
    if raw {
        let path = source.ok_or("SOURCE: - for standard input, or a file of raw frames")?;
        if !size_given {
            return Err("--size WxH: the size of the raw pictures".into());
        }
        o.input = Input::Raw { path, format };
    }
    Ok(o)
}

/// The embedded server when no URL is given.
struct Local {
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
    recording: PathBuf,
}

fn start_local(hls: Option<HlsOptions>) -> Result<Local, String> {
    let dir = PathBuf::from("recordings");
    let recording = match &hls {
        Some(h) => h.dir.join("live").join("camera").join(&h.playlist),
        None => dir.join("live").join("camera.flv"),
    };
    let record = hls.is_none().then(|| dir.clone());
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::spawn(move || {
        let opts = ServeOptions {
            listen: "127.0.0.1:0".parse().expect("a socket address"),
            record,
            hls,
            log: false,
            ..ServeOptions::default()
        };
        let mut server = match RtmpServer::bind(opts) {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(Err(e.to_string()));
                return Ok(());
            }
        };
        let _ = tx.send(server.local_addr().map_err(|e| e.to_string()));
        server.run(&flag)
    });
    let addr = rx.recv().map_err(|_| "the local server did not start".to_string())??;
    Ok(Local { addr, stop, thread, recording })
}

pub fn run(args: &[String], raw: bool) -> Result<(), Box<dyn std::error::Error>> {
    let o = parse(args, raw).map_err(|e| format!("{e}\n\n{}", if raw { RAW_USAGE } else { USAGE }))?;
    let local = match &o.url {
        Some(_) => None,
        None => Some(start_local(o.hls.clone())?),
    };
    let url = match (&o.url, &local) {
        (Some(u), _) => u.clone(),
        (None, Some(l)) => format!("rtmp://{}/live/camera", l.addr),
        _ => unreachable!(),
    };
    let mut rtmp = Rtmp::from_url(&url)?;
    rtmp.set_bitrate(o.bitrate);
    rtmp.set_codec(o.codec)?;
    rtmp.set_gop(o.gop)?;
    if let Some(signer) = o.oss.signer()? {
        rtmp.set_oss_signer(signer)?;
    }
    rtmp.set_link_options(o.link)?;
    let cam = o.camera;
    let mut pictures = match &o.input {
        Input::Camera => {
            let sys = Sys::get()?;
            rtmp.bind_camera(Camera::open(&sys, cam)?)?;
            if o.audio {
                rtmp.bind_audio_recorder(AudioIn::open(&sys, AudioConfig::default())?)?;
            }
            None
        }
        Input::Raw { path, format } => {
            let input: Box<dyn Read> = if path == "-" {
                Box::new(std::io::stdin().lock())
            } else {
                Box::new(std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?)
            };
            rtmp.bind_frames(cam.width, cam.height, cam.fps)?;
            Some(RawFrames { input, format: *format, buf: vec![0; format.frame_len(cam.width, cam.height)], n: 0 })
        }
    };
    rtmp.start()?;
    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, interrupted.clone())?;
    }
    let started = Instant::now();
    let tty = !o.quiet && std::io::stderr().is_terminal();
    let mut next_status = started + Duration::from_secs(1);
    let mut ended = None;
    while o.duration.map_or(true, |d| started.elapsed() < d)
        && !interrupted.load(Ordering::Relaxed)
        && rtmp.is_running()
    {
        match &mut pictures {
            None => std::thread::sleep(Duration::from_millis(50)),
            Some(raw) => match raw.next(&rtmp, cam.width, cam.height, cam.fps, started) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    ended = Some(e);
                    break;
                }
            },
        }
        if Instant::now() < next_status {
            continue;
        }
        next_status += Duration::from_secs(1);
        let s = rtmp.stats();
        if tty {
            eprint!("\r{} ", s.status_line());
            let _ = std::io::stderr().flush();
        }
        if o.stats_json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", s.to_json());
            let _ = out.flush();
        }
    }
    let stats = rtmp.stop();
    if tty {
        eprintln!();
    }
    if let Some(e) = ended {
        return Err(e.into());
    }
    let stats = stats?;
    if !o.quiet {
        eprintln!(
            "rtmp-push: sent {} video and {} audio frames ({} bytes) in {:.1} s, {} reconnects, {} dropped ({})",
            stats.video_frames,
            stats.audio_frames,
            stats.bytes_sent,
            stats.seconds,
            stats.reconnects,
            stats.dropped_frames,
            stats.drops
        );
    }
    if let Some(l) = local {
        // The recording is complete once the server has seen the unpublish.
        l.stop.store(true, Ordering::Relaxed);
        l.thread.join().map_err(|_| "the local server panicked")??;
        println!("{}", l.recording.display());
    }
    Ok(())
}

/// Raw pictures from a pipe or file, sent at their frame rate.
struct RawFrames {
    input: Box<dyn Read>,
    format: PixelFormat,
    buf: Vec<u8>,
    n: u64,
}

impl RawFrames {
    /// Reads the next picture, waits until it is due and pushes it;
    /// `false` at the end of the input.
    fn next(&mut self, rtmp: &Rtmp, width: u32, height: u32, fps: u32, started: Instant) -> Result<bool, String> {
        let mut got = 0;
        while got < self.buf.len() {
            match self.input.read(&mut self.buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("reading the pictures: {e}")),
            }
        }
        if got < self.buf.len() {
            if got > 0 {
                eprintln!(
                    "rtmp-push: warning: the input ends inside a picture; its {got} bytes (of {}) were not sent",
                    self.buf.len()
                );
            }
            return Ok(false);
        }
        let offset = Duration::from_micros(self.n * 1_000_000 / u64::from(fps));
        let due = started + offset;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let pts = board::picture::clock_us_at(due);
        let picture = Picture::new(self.format, width, height, &self.buf).map_err(|e| e.to_string())?;
        rtmp.push_frame(&picture.with_pts_us(pts)).map_err(|e| e.to_string())?;
        self.n += 1;
        Ok(true)
    }
}
