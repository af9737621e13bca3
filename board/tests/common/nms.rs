//! Node-Media-Server 4 (npm `node-media-server@4`, installed by
//! scripts/test.sh into target/peers), on 127.0.0.1 ports of its own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Nms {
    child: std::process::Child,
    pub port: u16,
    /// The RTMPS port (with the certificate of [`NmsOptions::tls`], or
    /// Node-Media-Server's own self-signed one).
    pub rtmps_port: u16,
    pub dir: PathBuf,
    app: PathBuf,
}

#[derive(Default)]
pub struct NmsOptions {
    /// Record every published stream to `dir/record/<app>/<name>/<time>.flv`.
    pub record: bool,
    /// Certificate chain and key (PEM) for the RTMPS port.
    pub tls: Option<(PathBuf, PathBuf)>,
}

impl Nms {
    fn app() -> PathBuf {
        std::env::var_os("NMS_APP").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/peers/node_modules/node-media-server/bin/app.js"
            ))
        })
    }

    pub fn start(name: &str, opts: NmsOptions) -> Nms {
        let app = Nms::app();
        assert!(app.exists(), "{} missing: npm install node-media-server@4 (scripts/test.sh does)", app.display());
        let dir = super::scratch(name);
        let (port, rtmps_port) = (super::free_port(), super::free_port());
        let bin = app.parent().unwrap();
        let (cert, key) = opts.tls.unwrap_or_else(|| (bin.join("cert.pem"), bin.join("key.pem")));
        let config = format!(
            r#"{{"bind":"127.0.0.1","notify":{{"url":""}},"store":{{"path":"{d}/data","maxHistory":100}},
            "auth":{{"play":false,"publish":false,"secret":"test","jwt":{{"secret":"test","expiresIn":"1h","refreshExpiresIn":"1h","algorithm":"HS256","users":[{{"username":"admin","password":"x","role":"admin"}}]}}}},
            "rtmp":{{"port":{port}}},"rtmps":{{"port":{rtmps_port},"key":"{key}","cert":"{cert}"}},
            "http":{{"port":{p3}}},"https":{{"port":{p4},"key":"{key}","cert":"{cert}"}},
            "webadmin":{{"enable":false}},"record":{{"auto":{record},"path":"{d}/record"}}}}"#,
            d = dir.display(),
            key = key.display(),
            cert = cert.display(),
            record = opts.record,
            p3 = super::free_port(),
            p4 = super::free_port(),
        );
        std::fs::write(dir.join("config.json"), config).unwrap();
        let mut n = Nms { child: Nms::spawn(&app, &dir, port), port, rtmps_port, dir, app };
        n.wait_listening();
        n
    }

    fn spawn(app: &Path, dir: &Path, port: u16) -> std::process::Child {
        Command::new("node")
            .arg(app)
            .args(["-c", dir.join("config.json").to_str().unwrap(), "--no-admin", "--rtmp-port", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("nms.log")).unwrap())
            .spawn()
            .expect("node (Node.js) is installed")
    }

    pub fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "Node-Media-Server did not start: {}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("nms.log")).unwrap_or_default()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn restart(&mut self) {
        self.child = Nms::spawn(&self.app, &self.dir, self.port);
        self.wait_listening();
    }

    pub fn url(&self, path: &str) -> String {
        format!("rtmp://127.0.0.1:{}/{path}", self.port)
    }

    /// The recording of `app/name` once Node-Media-Server has closed it
    /// (the publisher left and the file stopped growing).
    pub fn recording(&self, path: &str) -> PathBuf {
        let dir = self.dir.join("record").join(path);
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut last = None;
        loop {
            let file = std::fs::read_dir(&dir).ok().and_then(|d| {
                d.filter_map(Result::ok).map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "flv"))
            });
            if let Some(f) = file {
                let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
                if last == Some(len) && len > 0 {
                    return f;
                }
                last = Some(len);
            }
            assert!(Instant::now() < deadline, "no recording in {}: {}", dir.display(), self.log());
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Nms {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
