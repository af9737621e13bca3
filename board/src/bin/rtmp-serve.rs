//! `rtmp-serve`: a small RTMP server: publishers in, players out, optional
//! recording of each publish to FLV.
//!
//! ```text
//! rtmp-serve [--listen ADDR:PORT] [--record DIR]
//!            [--tls-listen ADDR:PORT --tls-cert PEM --tls-key PEM]
//! ```
//!
//! Prints `rtmp-serve: listening on rtmp://ADDR:PORT` on standard output
//! once it accepts connections (then `... on rtmps://ADDR:PORT` with TLS), then one line per connection event on
//! standard error (never a query string: keys and signatures live there).
//! SIGINT or SIGTERM stop it cleanly: recordings are finished first.

use board::hls::HlsOptions;
use board::http::FileServer;
use board::oss::{OssIngest, Secret};
use board::serve::{RtmpServer, ServeOptions, TlsListen};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "usage: rtmp-serve [OPTIONS]

Serves RTMP: clients publish to rtmp://ADDR:PORT/app/name, players play the
same URL. One publisher per name; a second is refused with
NetStream.Publish.BadName.

Options:
  --listen ADDR:PORT     address to listen on (default 127.0.0.1:1935; port 0 picks one)
  --record DIR           write each publish to DIR/<app>/<name>.flv
  --hls DIR              also write every live stream as HLS:
                         DIR/<app>/<name>/playlist.m3u8 and numbered .ts segments
  --hls-fragment SECS    segment length: cut at the first keyframe after it (default 5)
  --hls-window N         segments listed in the playlist (default 3)
  --http ADDR:PORT       serve the HLS directory over HTTP (GET, CORS allowed), so a
                         browser plays http://ADDR:PORT/<app>/<name>/playlist.m3u8
  --hls-playlist NAME    the playlist's file name (default playlist.m3u8)
  --oss-bucket BUCKET    behave as an Aliyun OSS LiveChannel ingest (needs --hls DIR):
                         publishes to rtmp://ADDR:PORT/live/CHANNEL need a URL signed
                         for /BUCKET/CHANNEL (as oss2's sign_rtmp_url or rtmp-oss sign
                         make it), checked with:
  --oss-key-id ID        the AccessKey id, and
  --oss-key-secret-file FILE  the file holding its secret.
                         Video must be H.264; audio other than AAC is dropped and
                         counted; HLS goes to DIR/CHANNEL/ (FragDuration =
                         --hls-fragment, FragCount = --hls-window, PlaylistName =
                         --hls-playlist, unless the URL signs a playlistName)
  --tls-listen ADDR:PORT also serve RTMPS there (port 0 picks one), with:
  --tls-cert PEM         the certificate chain (server certificate first)
  --tls-key PEM          its private key
  --max-connections N    connections served at once (default 128)
  --max-message BYTES    largest message a client may send (default 4194304)
  --idle-timeout SECS    time allowed to connect and start publishing or playing (default 30)
  --publisher-timeout SECS  a publisher silent this long is dropped, freeing its name (default 10)
  -q, --quiet            no per-connection log lines
  -h, --help             this text";

/// The server's options, and where to serve the HLS directory over HTTP.
fn parse_args() -> Result<(ServeOptions, Option<SocketAddr>), String> {
    let mut opts = ServeOptions::default();
    let (mut tls_listen, mut tls_cert, mut tls_key) = (None, None, None);
    let (mut hls, mut fragment, mut window): (Option<HlsOptions>, Option<u32>, Option<usize>) = (None, None, None);
    let mut http: Option<SocketAddr> = None;
    let (mut playlist, mut oss_bucket, mut oss_key_id, mut oss_secret) = (None, None, None, None);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "-q" | "--quiet" => opts.log = false,
            "--listen" => {
                let v = value("--listen")?;
                opts.listen =
                    v.parse().map_err(|_| format!("--listen: {v:?} is not ADDR:PORT (e.g. 127.0.0.1:1935)"))?;
            }
            "--record" => opts.record = Some(value("--record")?.into()),
            "--tls-listen" => {
                let v = value("--tls-listen")?;
                tls_listen =
                    Some(v.parse().map_err(|_| format!("--tls-listen: {v:?} is not ADDR:PORT (e.g. 0.0.0.0:443)"))?);
            }
            "--tls-cert" => tls_cert = Some(value("--tls-cert")?.into()),
            "--hls" => hls = Some(HlsOptions::new(value("--hls")?)),
            "--hls-playlist" => playlist = Some(value("--hls-playlist")?),
            "--oss-bucket" => oss_bucket = Some(value("--oss-bucket")?),
            "--oss-key-id" => oss_key_id = Some(value("--oss-key-id")?),
            "--oss-key-secret-file" => oss_secret = Some(PathBuf::from(value("--oss-key-secret-file")?)),
            "--http" => {
                let v = value("--http")?;
                http = Some(v.parse().map_err(|_| format!("--http: {v:?} is not ADDR:PORT (e.g. 127.0.0.1:8080)"))?);
            }
            "--hls-fragment" => {
                let secs: f64 = value("--hls-fragment")?
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s >= 0.5 && *s <= 60.0)
                    .ok_or("--hls-fragment must be 0.5..60 seconds")?;
                fragment = Some((secs * 1000.0) as u32);
            }
            "--hls-window" => {
                window = Some(
                    value("--hls-window")?
                        .parse()
                        .ok()
                        .filter(|n: &usize| (1..=15).contains(n))
                        .ok_or("--hls-window must be 1..15")?,
                );
            }
            "--tls-key" => tls_key = Some(value("--tls-key")?.into()),
            "--max-connections" => {
                opts.max_connections = value("--max-connections")?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("--max-connections must be > 0")?;
            }
            "--max-message" => {
                opts.max_message = value("--max-message")?
                    .parse()
                    .ok()
                    .filter(|n| (4096..=16 << 20).contains(n))
                    .ok_or("--max-message must be 4096..16777216")?;
            }
            "--publisher-timeout" => {
                let secs: f64 = value("--publisher-timeout")?
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0 && *s < 86400.0)
                    .ok_or("--publisher-timeout must be seconds")?;
                opts.publisher_timeout = Duration::from_secs_f64(secs);
            }
            "--idle-timeout" => {
                let secs: f64 = value("--idle-timeout")?
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0 && *s < 86400.0)
                    .ok_or("--idle-timeout must be seconds")?;
                opts.idle_timeout = Duration::from_secs_f64(secs);
            }
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    if let Some(h) = &mut hls {
        if let Some(ms) = fragment {
            h.config.target_ms = ms;
            h.config.max_ms = 3 * ms;
        }
        if let Some(n) = window {
            h.config.window = n;
        }
        if let Some(p) = playlist {
            if !p.ends_with(".m3u8") || p.contains(['/', '\\']) || p.starts_with('.') {
                return Err("--hls-playlist must be a file name ending in .m3u8".into());
            }
            h.playlist = p;
        }
    } else if fragment.is_some() || window.is_some() || http.is_some() || playlist.is_some() {
        return Err("--hls-fragment, --hls-window, --hls-playlist and --http need --hls DIR".into());
    }
    opts.oss = match (oss_bucket, oss_key_id, oss_secret) {
        (None, None, None) => None,
        (Some(bucket), Some(key_id), Some(file)) if hls.is_some() => {
            let secret = Secret::from_file(&file).map_err(|e| e.to_string())?;
            Some(OssIngest { bucket, key_id, secret })
        }
        (Some(_), Some(_), Some(_)) => return Err("--oss-bucket dumps HLS: it needs --hls DIR".into()),
        _ => return Err("--oss-bucket, --oss-key-id and --oss-key-secret-file go together".into()),
    };
    opts.hls = hls;
    opts.tls = match (tls_listen, tls_cert, tls_key) {
        (Some(listen), Some(cert), Some(key)) => Some(TlsListen { listen, cert, key }),
        (None, None, None) => None,
        _ => return Err("--tls-listen, --tls-cert and --tls-key go together".into()),
    };
    Ok((opts, http))
}

fn main() -> ExitCode {
    let (opts, http) = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("rtmp-serve: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listen = opts.listen;
    let hls_dir = opts.hls.as_ref().map(|h| h.dir.clone());
    let mut server = match RtmpServer::bind(opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rtmp-serve: cannot serve on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&stop)) {
            eprintln!("rtmp-serve: cannot handle signals: {e}");
            return ExitCode::FAILURE;
        }
    }
    match server.local_addr() {
        Ok(a) => println!("rtmp-serve: listening on rtmp://{a}"),
        Err(e) => {
            eprintln!("rtmp-serve: {e}");
            return ExitCode::FAILURE;
        }
    }
    match server.local_tls_addr() {
        Some(Ok(a)) => println!("rtmp-serve: listening on rtmps://{a}"),
        Some(Err(e)) => {
            eprintln!("rtmp-serve: {e}");
            return ExitCode::FAILURE;
        }
        None => {}
    }
    let mut http_thread = None;
    if let (Some(addr), Some(dir)) = (http, hls_dir) {
        let files = match std::fs::create_dir_all(&dir).and_then(|()| FileServer::bind(addr, &dir, 64)) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("rtmp-serve: cannot serve HTTP on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        match files.local_addr() {
            Ok(a) => println!("rtmp-serve: serving HLS on http://{a}"),
            Err(e) => {
                eprintln!("rtmp-serve: {e}");
                return ExitCode::FAILURE;
            }
        }
        let flag = Arc::clone(&stop);
        http_thread = Some(std::thread::spawn(move || files.run(&flag)));
    }
    let _ = std::io::stdout().flush();
    let result = server.run(&stop);
    let s = server.stats();
    eprintln!(
        "rtmp-serve: {} connections ({} refused, {} failed), {} publishes ({} refused), {} messages in, {} out, {} skipped by slow players, {} filtered",
        s.connections, s.refused, s.failed, s.publishes, s.publishes_refused, s.messages_in, s.messages_out, s.dropped, s.filtered
    );
    // The HTTP thread stops with the same flag (set by a signal; set here
    // when the RTMP server ended for another reason).
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = http_thread {
        let _ = t.join();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rtmp-serve: {e}");
            ExitCode::FAILURE
        }
    }
}
