//! Shared by the tests that run nginx-rtmp and ffmpeg on 127.0.0.1.
#![allow(dead_code)]

pub mod fault_proxy;
pub mod hls;
pub mod nms;
pub mod tls;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Nginx {
    pub dir: PathBuf,
    pub port: u16,
    child: Child,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtmp-push-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn start_nginx(name: &str) -> Nginx {
    let dir = scratch(name);
    let port = free_port();
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/nginx-rtmp.conf.in")).unwrap();
    let conf = template.replace("@DIR@", dir.to_str().unwrap()).replace("@PORT@", &port.to_string());
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    std::fs::create_dir_all(dir.join("rec")).unwrap();
    let child = spawn_nginx(&dir, port);
    Nginx { dir, port, child }
}

/// nginx-rtmp as [`start_nginx`], plus nginx's stream module terminating
/// TLS on a port of its own (returned) with `cert` and `key`, proxying to
/// the RTMP port: RTMPS in front of nginx-rtmp.
pub fn start_nginx_tls(name: &str, cert: &Path, key: &Path) -> (Nginx, u16) {
    let dir = scratch(name);
    let (port, tls_port) = (free_port(), free_port());
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/nginx-rtmp.conf.in")).unwrap();
    let conf = template.replace("@DIR@", dir.to_str().unwrap()).replace("@PORT@", &port.to_string());
    let conf = format!(
        "load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n{conf}\nstream {{\n    server {{\n        \
         listen 127.0.0.1:{tls_port} ssl;\n        ssl_certificate {};\n        ssl_certificate_key {};\n        \
         proxy_pass 127.0.0.1:{port};\n    }}\n}}\n",
        cert.display(),
        key.display()
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    std::fs::create_dir_all(dir.join("rec")).unwrap();
    let child = spawn_nginx(&dir, port);
    (Nginx { dir, port, child }, tls_port)
}

fn spawn_nginx(dir: &Path, port: u16) -> Child {
    let child = Command::new("nginx")
        .args(["-p", dir.to_str().unwrap(), "-c", dir.join("nginx.conf").to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx with libnginx-mod-rtmp is installed (scripts/test.sh installs it)");
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nginx did not start on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

impl Nginx {
    /// Kills nginx at once (its connections are reset).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
    /// Starts nginx again on the same port and directory; returns once it listens.
    pub fn restart(&mut self) {
        self.child = spawn_nginx(&self.dir, self.port);
    }
    pub fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }
    pub fn url(&self, path: &str) -> String {
        format!("rtmp://127.0.0.1:{}/{path}", self.port)
    }
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
    /// Waits until nginx has finished the recording `rec/<name>.flv`.
    pub fn recording(&self, name: &str) -> PathBuf {
        let path = self.dir.join("rec").join(format!("{name}.flv"));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // nginx logs the disconnect after closing the record file.
            let log = self.log();
            let published = log.lines().any(|l| l.contains(&format!("publish: name='{name}'")));
            if published && path.exists() && log.lines().filter(|l| l.contains("disconnect")).count() > 0 {
                std::thread::sleep(Duration::from_millis(200));
                return path;
            }
            assert!(Instant::now() < deadline, "no recording {}\n{log}", path.display());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    out
}

pub fn ffmpeg(args: &[&str]) {
    let out = run(Command::new("ffmpeg").args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]).args(args));
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A current ffmpeg (9.x: Enhanced RTMP, libx265, RTMPS): `FFMPEG9`, or the
/// static binary in the `imageio-ffmpeg` wheel (scripts/test.sh installs it
/// into target/peers/py).
pub fn ffmpeg9() -> PathBuf {
    if let Some(p) = std::env::var_os("FFMPEG9") {
        return PathBuf::from(p);
    }
    let py = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/peers/py");
    let out = run(Command::new("python3")
        .env("PYTHONPATH", py)
        .args(["-c", "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())"]));
    assert!(
        out.status.success(),
        "ffmpeg 9 from imageio-ffmpeg (pip install imageio-ffmpeg; scripts/test.sh does): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Runs ffmpeg 9 with `args` (quiet, overwriting), asserting success.
pub fn ffmpeg9_run(args: &[&str]) {
    let out = run(Command::new(ffmpeg9()).args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]).args(args));
    assert!(out.status.success(), "ffmpeg 9 {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// An HEVC (libx265, Main) + AAC FLV file made by ffmpeg 9: Enhanced RTMP tags.
pub fn make_hevc_source(dir: &Path, name: &str, secs: u32) -> PathBuf {
    let path = dir.join(format!("{name}.flv"));
    let t = secs.to_string();
    ffmpeg9_run(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-t",
        &t,
        "-c:v",
        "libx265",
        "-pix_fmt",
        "yuv420p",
        "-x265-params",
        "log-level=error:keyint=25:bframes=2",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        path.to_str().unwrap(),
    ]);
    path
}

/// `framemd5` of the video and audio streams, as ffmpeg 9 reads the file
/// (it knows Enhanced RTMP): one line per packet. (Node-Media-Server's
/// recordings carry the metadata as a data stream too, which is left out.)
pub fn framemd5_9(path: &Path) -> Vec<String> {
    let out = run(Command::new(ffmpeg9())
        .args(["-nostdin", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "framemd5", "-"]));
    assert!(out.status.success(), "framemd5 {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().filter(|l| !l.starts_with('#')).map(str::to_string).collect()
}

/// What ffmpeg 9 says of a file: its stream lines (`Video: hevc (Main) ...`)
/// and the md5 of each decoded video frame; asserts no decoding errors.
pub fn probe9(path: &Path) -> (Vec<String>, Vec<String>) {
    let out = run(Command::new(ffmpeg9())
        .args(["-nostdin", "-hide_banner", "-i"])
        .arg(path)
        .args(["-map", "0:v", "-f", "framemd5", "-"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    let input = err.split("Stream mapping").next().unwrap_or_default();
    let streams: Vec<String> =
        input.lines().filter(|l| l.contains("Stream #0:")).map(|l| l.trim().to_string()).collect();
    let noisy: Vec<&str> = err.lines().filter(|l| l.contains("rror") || l.contains("corrupt")).collect();
    assert!(noisy.is_empty(), "decoding errors in {}: {noisy:?}", path.display());
    let frames = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit(',').next().unwrap().trim().to_string())
        .collect();
    (streams, frames)
}

/// Starts `rtmp-pull URL -o OUT --duration 20` (trusting `ca` for
/// `rtmps://`) and gives it a moment to connect before the publisher comes.
pub fn start_pull(url: &str, out: &Path, ca: Option<&Path>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rtmp-pull"));
    if let Some(ca) = ca {
        cmd.env("SSL_CERT_FILE", ca);
    }
    let child = cmd.arg(url).arg("-o").arg(out).args(["--duration", "20"]).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    child
}

/// A test source: `profile` high (with B-frames) or baseline; audio or not.
pub fn make_source(dir: &Path, name: &str, profile: &str, audio: bool, secs: u32) -> PathBuf {
    let path = dir.join(format!("{name}.flv"));
    let t = secs.to_string();
    let mut args = vec!["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"];
    if audio {
        args.extend([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100",
            "-ac",
            "2",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
        ]);
    }
    let bf = if profile == "high" { "2" } else { "0" };
    args.extend(["-t", &t, "-c:v", "libx264", "-profile:v", profile, "-bf", bf, "-g", "25", "-pix_fmt", "yuv420p"]);
    args.push(path.to_str().unwrap());
    ffmpeg(&args);
    path
}

/// `ffmpeg -f framemd5` of a file: one line per packet.
pub fn framemd5(path: &Path) -> Vec<String> {
    let out = run(Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-map", "0", "-c", "copy", "-f", "framemd5", "-"]));
    assert!(out.status.success(), "framemd5 {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().filter(|l| !l.starts_with('#')).map(str::to_string).collect()
}

/// stream, dts, pts, duration, size, md5 of each packet (side data dropped:
/// nginx's recorder repeats the AAC sequence header, which ffmpeg reports as
/// side data on the next packet whoever pushed).
pub fn packets(lines: &[String]) -> Vec<String> {
    lines.iter().map(|l| l.split(',').take(6).map(str::trim).collect::<Vec<_>>().join(",")).collect()
}

/// A running `rtmp-serve` on 127.0.0.1, on a free port it reports.
pub struct Serve {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `rtmp-serve --listen 127.0.0.1:0 --record <scratch>/rec` plus `extra`.
pub fn start_serve(name: &str, extra: &[&str]) -> Serve {
    use std::io::{BufRead, BufReader, Read};
    let dir = scratch(name);
    let mut child = Command::new(env!("CARGO_BIN_EXE_rtmp-serve"))
        .args(["--listen", "127.0.0.1:0", "--record"])
        .arg(dir.join("rec"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line
        .trim()
        .strip_prefix("rtmp-serve: listening on rtmp://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (sink, mut err) = (stderr.clone(), child.stderr.take().unwrap());
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    Serve { port, dir, child, stderr }
}

impl Serve {
    pub fn url(&self, path: &str) -> String {
        format!("rtmp://127.0.0.1:{}/{path}", self.port)
    }
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
    /// Waits until the recording of `app/name` is finished (the server logs it).
    pub fn recording(&self, app: &str, name: &str) -> PathBuf {
        let path = self.dir.join("rec").join(app).join(format!("{name}.flv"));
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.log().contains(&format!("recorded {}", path.display())) {
            assert!(Instant::now() < deadline, "no recording {}\n{}", path.display(), self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        path
    }
}

/// A framemd5 line's fields: stream, dts, pts, duration, size, md5.
fn fields(line: &str) -> (u32, i64, String) {
    let f: Vec<&str> = line.split(',').map(str::trim).collect();
    (f[0].parse().unwrap(), f[1].parse().unwrap(), format!("{},{},{}", f[3], f[4], f[5]))
}

/// Checks that each stream of `got` is a contiguous run of one stream of
/// `source` (same duration, size and md5 packet after packet, dts shifted
/// by one constant), and returns (packets matched, whether every run
/// reaches the end of its source stream).
pub fn contiguous_run(got: &[String], source: &[String]) -> Result<(usize, bool), String> {
    use std::collections::BTreeMap;
    let split = |lines: &[String]| {
        let mut m: BTreeMap<u32, Vec<(i64, String)>> = BTreeMap::new();
        for l in lines {
            let (s, dts, rest) = fields(l);
            m.entry(s).or_default().push((dts, rest));
        }
        m
    };
    let (got, source) = (split(got), split(source));
    let (mut matched, mut to_end) = (0, true);
    for (s, packets) in &got {
        let first = &packets[0].1;
        let (src, at) = source
            .values()
            .find_map(|v| v.iter().position(|p| &p.1 == first).map(|i| (v, i)))
            .ok_or(format!("stream {s}: first packet {first} is not in the source"))?;
        let shift = packets[0].0 - src[at].0;
        for (k, p) in packets.iter().enumerate() {
            let want = src.get(at + k).ok_or(format!("stream {s}: packet {k} is past the source's end"))?;
            if p.1 != want.1 || p.0 - want.0 != shift {
                return Err(format!("stream {s}: packet {k} {p:?} differs from source packet {} {want:?}", at + k));
            }
        }
        matched += packets.len();
        to_end &= at + packets.len() == src.len();
    }
    Ok((matched, to_end))
}

/// Decodes the whole file; returns the md5 of each decoded video frame
/// (ffmpeg prints decoding errors on stderr, which must stay empty).
pub fn decoded_frames(path: &Path) -> Vec<String> {
    decoded_md5s(Path::new("ffmpeg"), path.as_os_str(), "v")
}

/// The md5 of each frame of stream `stream` ("v" or "a") as `ffmpeg`
/// decodes `input` (a file or a URL); decoding errors fail the test.
pub fn decoded_md5s(ffmpeg: &Path, input: &std::ffi::OsStr, stream: &str) -> Vec<String> {
    decoded_md5s_with(ffmpeg, input, stream, &[])
}

/// [`decoded_md5s`] with more output options (`-pix_fmt`, `-fps_mode` ...).
pub fn decoded_md5s_with(ffmpeg: &Path, input: &std::ffi::OsStr, stream: &str, options: &[&str]) -> Vec<String> {
    let map = format!("0:{stream}");
    let out = run(Command::new(ffmpeg)
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(input)
        .args(["-map", &map])
        .args(options)
        .args(["-f", "framemd5", "-"]));
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && errors.trim().is_empty(), "decoding {input:?}: {errors}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit(',').next().unwrap().trim().to_string())
        .collect()
}

/// Accepts one publisher on `listener` and answers it, from its C0+C1 to
/// `NetStream.Publish.Start`, with nginx-rtmp's recorded replies to ffmpeg
/// (rtmp-core/tests/data/ffmpeg-publish-s2c.bin: the same transaction ids
/// as ours). Returns the connection, publishing.
pub fn accept_recorded_publish(listener: &std::net::TcpListener) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let answers =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../rtmp-core/tests/data/ffmpeg-publish-s2c.bin")).unwrap();
    let (mut s, _) = listener.accept().unwrap();
    let mut c0c1 = [0u8; 1537];
    s.read_exact(&mut c0c1).unwrap();
    s.write_all(&answers).unwrap();
    s
}

/// Plays `url` (retrying the connection until `connect_for` has passed) and
/// hands each frame to `on_frame` until it returns false or the stream or
/// connection ends. `timeout` is the player's own (connect, silence).
pub fn play_with_retry(
    url: &str,
    connect_for: Duration,
    timeout: Duration,
    mut on_frame: impl FnMut(&board::pull::Frame<'_>) -> bool,
) {
    use board::pull::{PullBuffers, PullOptions, RtmpPull};
    let deadline = Instant::now() + connect_for;
    loop {
        let mut bufs = PullBuffers::new();
        match RtmpPull::connect(url, &mut bufs, PullOptions { timeout, ..PullOptions::default() }) {
            Ok(mut p) => {
                while let Ok(Some(f)) = p.next_frame() {
                    if !on_frame(&f) {
                        return;
                    }
                }
                return;
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("player {url}: {e}"),
        }
    }
}

/// Draws frame number `n` into a luma plane `w` pixels wide, as
/// `ffi/examples/venc.c` does: 16 squares of 32x32 along the top (rows
/// 8..40, 38 pixels apart from x = 8), white for 1 and black for 0, most
/// significant first. The picture must be at least 616 pixels wide.
pub fn draw_counter(luma: &mut [u8], w: usize, n: u32) {
    for bit in 0..16 {
        let v = if (n >> (15 - bit)) & 1 == 1 { 235 } else { 16 };
        for row in 8..40 {
            let at = row * w + 8 + bit * 38;
            luma[at..at + 32].fill(v);
        }
    }
}

/// The frame numbers [`draw_counter`] drew, read back from each frame of
/// `rec` (`w` x `h`) as `ffmpeg` decodes it; decoding errors fail the test.
pub fn drawn_counters(ffmpeg: &Path, rec: &Path, w: usize, h: usize) -> Vec<u32> {
    let out = run(Command::new(ffmpeg)
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(rec)
        .args(["-map", "0:v", "-f", "rawvideo", "-pix_fmt", "gray", "-"]));
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && errors.trim().is_empty(), "decoding {}: {errors}", rec.display());
    out.stdout
        .chunks_exact(w * h)
        .map(|y| (0..16).fold(0, |n, bit| n << 1 | u32::from(y[24 * w + 8 + bit * 38 + 16] > 128)))
        .collect()
}
