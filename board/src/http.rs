//! A small HTTP/1.1 file server for the HLS directory, so a browser (hls.js)
//! or a phone can play the camera: `GET` and `HEAD` of files under one
//! root, nothing outside it (no `..`, no symlinks leading out), at most a
//! bounded number of connections (each on its own thread, with timeouts),
//! the right `Content-Type` for playlists and segments, and
//! `Access-Control-Allow-Origin: *` so a page from elsewhere may fetch.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Longest request head read (request line and headers).
const MAX_HEAD: usize = 8 * 1024;
/// Read and write timeout of a connection.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Serves the files under a directory over HTTP.
#[derive(Debug)]
pub struct FileServer {
    listener: TcpListener,
    root: PathBuf,
    max_connections: usize,
}

impl FileServer {
    /// Binds `addr`, serving `root` (which must exist) to at most
    /// `max_connections` clients at once.
    pub fn bind(addr: SocketAddr, root: &Path, max_connections: usize) -> io::Result<FileServer> {
        let root = root.canonicalize()?;
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(FileServer { listener, root, max_connections: max_connections.max(1) })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `stop` is set (checked every 100 ms). A client beyond
    /// the limit gets `503` at once.
    pub fn run(&self, stop: &AtomicBool) -> io::Result<()> {
        let open = Arc::new(AtomicUsize::new(0));
        while !stop.load(Ordering::Relaxed) {
            let (sock, _) = match self.listener.accept() {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // Out of descriptors and the like: try again shortly.
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            let _ = sock.set_nonblocking(false);
            let _ = sock.set_read_timeout(Some(TIMEOUT));
            let _ = sock.set_write_timeout(Some(TIMEOUT));
            if open.load(Ordering::Acquire) >= self.max_connections {
                let mut sock = sock;
                let _ = respond(&mut sock, 503, "Service Unavailable", "text/plain", b"busy\n", false);
                continue;
            }
            open.fetch_add(1, Ordering::AcqRel);
            let (root, count) = (self.root.clone(), open.clone());
            let spawned = std::thread::Builder::new().name("http".into()).spawn(move || {
                let _ = handle(sock, &root);
                count.fetch_sub(1, Ordering::AcqRel);
            });
            if spawned.is_err() {
                open.fetch_sub(1, Ordering::AcqRel);
            }
        }
        Ok(())
    }
}

/// The content type of a file, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("m3u8") => "application/vnd.apple.mpegurl",
        Some("ts") => "video/mp2t",
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("flv") => "video/x-flv",
        _ => "application/octet-stream",
    }
}

/// The file a request path names under `root`, or `None` for anything that
/// could leave it: `..`, a percent-encoded byte that is not a plain
/// character, a NUL, a backslash, or a symlink pointing out.
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    let decoded = percent_decode(path)?;
    if decoded.contains(['\0', '\\']) {
        return None;
    }
    let mut out = root.to_path_buf();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    let real = out.canonicalize().ok()?;
    real.starts_with(root).then_some(real)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn handle(sock: TcpStream, root: &Path) -> io::Result<()> {
    let mut out = sock.try_clone()?;
    let mut reader = BufReader::new(sock.take(MAX_HEAD as u64));
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    // The rest of the head, up to the blank line (bounded by MAX_HEAD).
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            break;
        }
        if h == "\r\n" || h == "\n" {
            break;
        }
    }
    let head = method == "HEAD";
    if method != "GET" && !head {
        return respond(&mut out, 405, "Method Not Allowed", "text/plain", b"GET or HEAD\n", head);
    }
    let Some(path) = resolve(root, target).filter(|p| p.is_file()) else {
        return respond(&mut out, 404, "Not Found", "text/plain", b"not found\n", head);
    };
    // Streamed from the file (a segment is megabytes; memory stays flat
    // however many clients fetch at once). A segment is renamed into place
    // complete, so the length read here is the length sent.
    let Ok(mut file) = std::fs::File::open(&path) else {
        return respond(&mut out, 404, "Not Found", "text/plain", b"not found\n", head);
    };
    let len = file.metadata()?.len();
    write_head(&mut out, 200, "OK", content_type(&path), len)?;
    if !head {
        io::copy(&mut (&mut file).take(len), &mut out)?;
    }
    out.flush()
}

fn write_head(out: &mut TcpStream, code: u16, reason: &str, kind: &str, len: u64) -> io::Result<()> {
    let cache = if kind.contains("mpegurl") { "no-cache" } else { "max-age=60" };
    write!(
        out,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {len}\r\n\
         Access-Control-Allow-Origin: *\r\nCache-Control: {cache}\r\nConnection: close\r\n\r\n"
    )
}

fn respond(out: &mut TcpStream, code: u16, reason: &str, kind: &str, body: &[u8], head: bool) -> io::Result<()> {
    write_head(out, code, reason, kind, body.len() as u64)?;
    if !head {
        out.write_all(body)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_root() {
        let base = std::env::temp_dir().join(format!("http-resolve-{}", std::process::id()));
        let root = base.join("www");
        std::fs::create_dir_all(root.join("live/cam")).unwrap();
        std::fs::write(root.join("live/cam/playlist.m3u8"), "#EXTM3U\n").unwrap();
        std::fs::write(base.join("secret"), "no").unwrap();
        std::os::unix::fs::symlink(base.join("secret"), root.join("live/link")).unwrap();
        let root = root.canonicalize().unwrap();
        assert_eq!(resolve(&root, "/live/cam/playlist.m3u8?t=1"), Some(root.join("live/cam/playlist.m3u8")));
        assert_eq!(resolve(&root, "/live/%63am/playlist.m3u8"), Some(root.join("live/cam/playlist.m3u8")));
        for bad in [
            "/../secret",
            "/live/../../secret",
            "/%2e%2e/secret",
            "/live/%2E%2E/%2e%2e/secret",
            "/live/link",
            "/live/cam/%00",
            "/live\\..\\secret",
            "/%zz",
            "/%c3%28",
        ] {
            assert_eq!(resolve(&root, bad), None, "{bad}");
        }
        assert_eq!(content_type(Path::new("a.m3u8")), "application/vnd.apple.mpegurl");
        assert_eq!(content_type(Path::new("0.ts")), "video/mp2t");
        let _ = std::fs::remove_dir_all(&base);
    }
}
