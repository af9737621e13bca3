//! A loopback TCP proxy that injects network faults between a publisher and
//! a server: throttle, blackhole (stop forwarding without closing), reset,
//! clean close, and refusing new connections for a while.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Faults {
    /// Bytes per second upstream (client to server); 0 = unlimited.
    rate: AtomicU64,
    /// Read and discard in both directions, on connections made before now.
    blackhole_existing: AtomicBool,
    /// New connections are blackholed too.
    blackhole_new: AtomicBool,
    /// Counts calls to blackhole(true): connections born before the latest are "existing".
    blackhole_gen: AtomicU64,
    /// Refuse (close at once) new connections.
    refuse: AtomicBool,
    /// Bumped to reset (RST) or close every live connection.
    reset_epoch: AtomicU64,
    close_epoch: AtomicU64,
    stop: AtomicBool,
    /// Bytes forwarded upstream.
    forwarded: AtomicU64,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    faults: Arc<Faults>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.faults.stop.store(true, Ordering::Relaxed);
        for c in self.conns.lock().unwrap().iter() {
            let _ = c.shutdown(Shutdown::Both);
        }
        let _ = TcpStream::connect(self.addr);
    }
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        // An Ethernet-sized MSS: loopback's 64 KiB MSS with the small receive
        // buffer below rounds the advertised window down to zero, and the
        // sender then waits on the persist timer for seconds.
        let mss: libc::c_int = 1400;
        // SAFETY: setsockopt reads one c_int from `&mss`; the descriptor is the listener's.
        let r = unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&listener),
                libc::IPPROTO_TCP,
                libc::TCP_MAXSEG,
                (&raw const mss).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(r, 0, "TCP_MAXSEG: {}", std::io::Error::last_os_error());
        let addr = listener.local_addr().unwrap();
        let faults = Arc::new(Faults::default());
        let conns = Arc::new(Mutex::new(Vec::new()));
        let (f, c) = (faults.clone(), conns.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if f.stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                if f.refuse.load(Ordering::Relaxed) {
                    let _ = rustix::net::sockopt::set_socket_linger(&client, Some(Duration::ZERO));
                    drop(client);
                    continue;
                }
                // A small receive buffer: the throttle, not the kernel, sets the pace.
                let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&client, 8 * 1024);
                let server = match TcpStream::connect(upstream) {
                    Ok(s) => s,
                    Err(_) => continue,
                };
                let born_blackholed = f.blackhole_new.load(Ordering::Relaxed);
                let gen = f.blackhole_gen.load(Ordering::Relaxed);
                c.lock().unwrap().push(client.try_clone().unwrap());
                c.lock().unwrap().push(server.try_clone().unwrap());
                let epochs = (f.reset_epoch.load(Ordering::Relaxed), f.close_epoch.load(Ordering::Relaxed));
                for (from, to, upstream_dir) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap(), true),
                    (server.try_clone().unwrap(), client.try_clone().unwrap(), false),
                ] {
                    let f = f.clone();
                    std::thread::spawn(move || pump(from, to, upstream_dir, &f, (born_blackholed, gen), epochs));
                }
            }
        });
        FaultProxy { addr, faults, conns }
    }

    pub fn url(&self, path: &str) -> String {
        format!("rtmp://{}/{path}", self.addr)
    }

    /// Upstream rate limit in bits per second (None: unlimited).
    pub fn throttle(&self, bits_per_second: Option<u64>) {
        self.faults.rate.store(bits_per_second.map_or(0, |b| (b / 8).max(1)), Ordering::Relaxed);
    }

    /// Stop forwarding in both directions without closing (bytes are read
    /// and discarded), on live connections and, with `new_too`, on new ones.
    pub fn blackhole(&self, on: bool, new_too: bool) {
        if on {
            self.faults.blackhole_gen.fetch_add(1, Ordering::Relaxed);
        }
        self.faults.blackhole_existing.store(on, Ordering::Relaxed);
        self.faults.blackhole_new.store(on && new_too, Ordering::Relaxed);
    }

    /// Heal new connections only: live ones stay blackholed (a server
    /// still holding a stale publisher).
    pub fn heal_new(&self) {
        self.faults.blackhole_new.store(false, Ordering::Relaxed);
    }

    /// Refuse new connections (accept and close at once).
    pub fn refuse(&self, on: bool) {
        self.faults.refuse.store(on, Ordering::Relaxed);
    }

    /// Reset every live connection (RST).
    pub fn reset_all(&self) {
        self.faults.reset_epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// Close every live connection cleanly (FIN).
    pub fn close_all(&self) {
        self.faults.close_epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// Bytes forwarded upstream so far.
    pub fn forwarded(&self) -> u64 {
        self.faults.forwarded.load(Ordering::Relaxed)
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, upstream: bool, f: &Faults, birth: (bool, u64), epochs: (u64, u64)) {
    let _ = from.set_read_timeout(Some(Duration::from_millis(20)));
    let mut buf = [0u8; 1024];
    // Token bucket for the throttle: at most 50 ms of burst.
    let mut tokens = 0f64;
    let mut last = Instant::now();
    loop {
        if f.stop.load(Ordering::Relaxed) {
            return;
        }
        if f.reset_epoch.load(Ordering::Relaxed) != epochs.0 {
            let _ = rustix::net::sockopt::set_socket_linger(&from, Some(Duration::ZERO));
            let _ = rustix::net::sockopt::set_socket_linger(&to, Some(Duration::ZERO));
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
            return;
        }
        if f.close_epoch.load(Ordering::Relaxed) != epochs.1 {
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
            return;
        }
        // Existing connections: born before the latest blackhole began.
        let existing = birth.1 < f.blackhole_gen.load(Ordering::Relaxed);
        let blackholed = f.blackhole_existing.load(Ordering::Relaxed) && existing
            || birth.0 && f.blackhole_new.load(Ordering::Relaxed);
        let rate = f.rate.load(Ordering::Relaxed) as f64;
        let mut want = buf.len();
        if upstream && rate > 0.0 && !blackholed {
            let now = Instant::now();
            tokens = (tokens + rate * (now - last).as_secs_f64()).min(rate * 0.05);
            last = now;
            if tokens < 1.0 {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            want = want.min(tokens as usize);
        } else {
            last = Instant::now();
            tokens = 0.0;
        }
        match from.read(&mut buf[..want]) {
            Ok(0) => {
                // A blackholed path carries no FIN either: the far side
                // keeps a stale connection, as behind a dead NAT or cell.
                if !blackholed {
                    let _ = to.shutdown(Shutdown::Write);
                }
                return;
            }
            Ok(n) => {
                if blackholed {
                    continue;
                }
                if upstream {
                    if rate > 0.0 {
                        tokens -= n as f64;
                    }
                    f.forwarded.fetch_add(n as u64, Ordering::Relaxed);
                }
                if to.write_all(&buf[..n]).is_err() {
                    let _ = from.shutdown(Shutdown::Both);
                    return;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(_) => {
                if !blackholed {
                    let _ = to.shutdown(Shutdown::Both);
                }
                return;
            }
        }
    }
}
