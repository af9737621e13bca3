//! Shared by the tests that run nginx-rtmp and ffmpeg on 127.0.0.1.
#![allow(dead_code)]

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
    Nginx { dir, port, child }
}

impl Nginx {
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
