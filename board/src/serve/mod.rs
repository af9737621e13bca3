//! An RTMP server for the board and for tests: one thread, one `poll` loop,
//! any number of publishers and players, optional recording to FLV.
//!
//! Each connection is a sans-IO [`Server`] session. A publisher's media
//! message is copied once, out of its connection's reassembly buffer into a
//! shared frame; every player then sends that frame with vectored writes
//! (chunk headers from its session, payload from the shared frame), without
//! further copies. Players of a name start at the latest keyframe, with the
//! metadata and sequence headers first.
//!
//! Everything a peer can grow is bounded: connections (`max_connections`),
//! message size (`max_message`, the reassembly buffer), a player's backlog
//! (`player_queue`; a player that falls behind skips to the next keyframe),
//! the keyframe cache (`gop_cache`), and time (setup and idle timeouts).
//! Logs never contain query strings, where stream keys and signatures live.

mod record;
mod relay;

use crate::hls::{HlsOptions, HlsStream};
use crate::net::{random_bytes, write_gathered};
use crate::oss::OssIngest;
use crate::tls::Transport;
use record::Recorder;
use rtmp_core::chunk::DetachedMessage;
use rtmp_core::flv::media::{AudioCodec, AudioTag, MediaRole, VideoCodec, VideoTag};
use rtmp_core::flv::{self, TagType};
use rtmp_core::message::type_id;
use rtmp_core::session::{CloseReason, Server, ServerConfig, ServerEvent};
use rtmp_core::time::{Instant as CoreInstant, RtmpTimestamp};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Messages chunked ahead for one player, written together.
const BATCH: usize = 8;
const READ_CHUNK: usize = 64 * 1024;
/// A queue entry (not an RTMP type) that ends a player's stream.
const END_OF_STREAM: u8 = 0;
const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";

/// Settings for [`RtmpServer`].
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Where to listen; port 0 picks a free port (see [`RtmpServer::local_addr`]).
    pub listen: SocketAddr,
    /// Record each publish to `DIR/<app>/<name>.flv`.
    pub record: Option<PathBuf>,
    /// Connections served at once; more are accepted and closed at once.
    pub max_connections: usize,
    /// Largest message a client may send (its reassembly buffer).
    pub max_message: usize,
    /// Bytes a player may fall behind before it skips to the next keyframe.
    pub player_queue: usize,
    /// Bytes cached from the latest keyframe for players that join.
    pub gop_cache: usize,
    /// How long a connection may take to connect, or stay without publishing or playing.
    pub idle_timeout: Duration,
    /// A publisher that sends nothing for this long is dropped, so that its
    /// name is free again: a camera whose old connection went into a black
    /// hole reconnects and is not refused `BadName` for ever (nginx-rtmp's
    /// `drop_idle_publisher`, SRS's publish timeout). Default 10 s.
    pub publisher_timeout: Duration,
    /// Print one line per connection event on stderr.
    pub log: bool,
    /// Also serve RTMPS here, with this certificate chain and key (PEM).
    pub tls: Option<TlsListen>,
    /// Also write every live stream as HLS (`dir/<app>/<name>/playlist.m3u8`).
    pub hls: Option<HlsOptions>,
    /// Behave as an Aliyun OSS LiveChannel ingest: publishes need a signed
    /// URL (`rtmp://host/live/CHANNEL?OSSAccessKeyId=..&Expires=..&Signature=..`),
    /// video must be H.264, other audio than AAC is dropped (counted in
    /// [`ServeStats::filtered`]), and HLS goes to `dir/<CHANNEL>/` under the
    /// playlist name the URL signs, if any.
    pub oss: Option<OssIngest>,
}

/// Where and with what certificate to serve RTMPS.
#[derive(Clone, Debug)]
pub struct TlsListen {
    /// The address; port 0 picks a free port (see [`RtmpServer::local_tls_addr`]).
    pub listen: SocketAddr,
    /// The certificate chain, PEM (the server's certificate first).
    pub cert: PathBuf,
    /// The private key, PEM.
    pub key: PathBuf,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 1935)),
            record: None,
            max_connections: 128,
            max_message: 4 << 20,
            player_queue: 8 << 20,
            gop_cache: 16 << 20,
            idle_timeout: Duration::from_secs(30),
            publisher_timeout: Duration::from_secs(10),
            log: true,
            tls: None,
            hls: None,
            oss: None,
        }
    }
}

/// Counters of a running server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServeStats {
    /// Connections accepted.
    pub connections: u64,
    /// Connections refused because `max_connections` were open.
    pub refused: u64,
    /// Connections closed for a protocol error, a timeout or an I/O error.
    pub failed: u64,
    /// Publishes accepted.
    pub publishes: u64,
    /// Media messages received from publishers.
    pub messages_in: u64,
    /// Media messages sent to players.
    pub messages_out: u64,
    /// Media messages a slow player skipped.
    pub dropped: u64,
    /// Media messages an ingest rule left out (OSS: audio other than AAC).
    pub filtered: u64,
    /// Publishes refused (bad name, already publishing, OSS signature).
    pub publishes_refused: u64,
}

/// A media message, shared by every player that sends it.
struct Frame {
    type_id: u8,
    timestamp: RtmpTimestamp,
    body: Box<[u8]>,
    /// A video keyframe (not a sequence header): players may start here.
    keyframe: bool,
    /// Metadata or a sequence header: never skipped.
    config: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Publisher,
    Player,
}

struct Conn {
    sock: Transport,
    peer: SocketAddr,
    session: Server<'static>,
    inbuf: Box<[u8]>,
    in_len: usize,
    app: String,
    /// Message stream id, stream key, role.
    streams: Vec<(u32, String, Role)>,
    out: VecDeque<(u32, Rc<Frame>)>,
    /// Messages chunked and being written, in order (several per `writev`).
    inflight: VecDeque<(DetachedMessage, Rc<Frame>)>,
    /// Listed in `RtmpServer::dirty`, to be flushed after the current input.
    dirty: bool,
    queued: usize,
    skip_to_keyframe: bool,
    last_active: Instant,
    dead: Option<String>,
}

#[derive(Default)]
struct Stream {
    publisher: Option<(usize, u32)>,
    players: Vec<(usize, u32)>,
    /// Metadata and sequence headers, one per message type, in the order
    /// the publisher sent them (players' demuxers number streams by it).
    configs: Vec<Rc<Frame>>,
    gop: Vec<Rc<Frame>>,
    gop_bytes: usize,
    recorder: Option<Recorder>,
    /// HLS out of this stream (with `ServeOptions::hls`).
    hls: Option<HlsStream>,
    /// Published through the OSS ingest: its codec rules apply.
    oss: bool,
}

/// What a session event asks the server to do (owned, so the session can be used again).
enum Action {
    Connected(String),
    /// Stream id, name without and with its query.
    Publish(u32, String, String),
    Play(u32, String),
    Media(u32, Frame),
    StreamClosed(u32),
    Closed(CloseReason),
}

/// The server. [`run`](Self::run) serves until the stop flag is set.
pub struct RtmpServer {
    listener: TcpListener,
    /// The RTMPS listener and its configuration.
    tls: Option<(TcpListener, Arc<rustls::ServerConfig>)>,
    opts: ServeOptions,
    conns: Vec<Option<Conn>>,
    streams: HashMap<String, Stream>,
    /// Reassembly buffers of closed connections, reused by new ones.
    pool: Vec<&'static mut [u8]>,
    /// Players with media queued since their last flush.
    dirty: Vec<usize>,
    epoch: Instant,
    stats: ServeStats,
}

impl RtmpServer {
    /// Binds the listening socket.
    pub fn bind(opts: ServeOptions) -> io::Result<Self> {
        let listener = TcpListener::bind(opts.listen)?;
        listener.set_nonblocking(true)?;
        let tls = match &opts.tls {
            Some(t) => {
                let config = crate::tls::server_config(&t.cert, &t.key)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
                let l = TcpListener::bind(t.listen)?;
                l.set_nonblocking(true)?;
                Some((l, config))
            }
            None => None,
        };
        if let Some(dir) = &opts.record {
            std::fs::create_dir_all(dir)?;
        }
        Ok(RtmpServer {
            listener,
            tls,
            opts,
            conns: Vec::new(),
            streams: HashMap::new(),
            pool: Vec::new(),
            dirty: Vec::new(),
            epoch: Instant::now(),
            stats: ServeStats::default(),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address RTMPS is served on, if it is.
    pub fn local_tls_addr(&self) -> Option<io::Result<SocketAddr>> {
        self.tls.as_ref().map(|(l, _)| l.local_addr())
    }

    /// Counters so far.
    pub fn stats(&self) -> ServeStats {
        self.stats
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.conns.iter().flatten().count()
    }

    /// Serves until `stop` is set (checked at least every 200 ms), then
    /// closes every connection and finishes every recording.
    pub fn run(&mut self, stop: &AtomicBool) -> io::Result<()> {
        while !stop.load(Ordering::Relaxed) {
            self.poll_once(Duration::from_millis(200))?;
        }
        for i in 0..self.conns.len() {
            if self.conns[i].is_some() {
                self.close_conn(i, "server stopping");
            }
        }
        Ok(())
    }

    /// Waits up to `max_wait` for activity and handles it.
    pub fn poll_once(&mut self, max_wait: Duration) -> io::Result<()> {
        // Decrypted input already in TLS buffers: the socket may not poll
        // readable for it, so those connections are read without waiting.
        let buffered: Vec<usize> = (0..self.conns.len())
            .filter(|&i| {
                self.conns[i].as_mut().is_some_and(|c| c.in_len < c.inbuf.len() && c.sock.has_buffered_input())
            })
            .collect();
        let ready = {
            let mut fds = vec![PollFd::new(&self.listener, PollFlags::IN)];
            if let Some((l, _)) = &self.tls {
                fds.push(PollFd::new(l, PollFlags::IN));
            }
            let listeners = fds.len();
            let mut index = Vec::new();
            for (i, c) in self.conns.iter().enumerate() {
                let Some(c) = c else { continue };
                let mut flags = PollFlags::empty();
                if c.in_len < c.inbuf.len() {
                    flags |= PollFlags::IN;
                }
                if c.wants_write() || c.sock.wants_write() {
                    flags |= PollFlags::OUT;
                }
                fds.push(PollFd::new(&c.sock, flags));
                index.push(i);
            }
            let mut wait =
                self.next_deadline().map_or(max_wait, |d| d.saturating_duration_since(Instant::now()).min(max_wait));
            if !buffered.is_empty() {
                wait = Duration::ZERO;
            }
            let ts = Timespec { tv_sec: wait.as_secs() as _, tv_nsec: wait.subsec_nanos() as _ };
            match poll(&mut fds, Some(&ts)) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
            let plain_ready = !fds[0].revents().is_empty();
            let tls_ready = listeners == 2 && !fds[1].revents().is_empty();
            let mut ready: Vec<(usize, PollFlags)> = fds[listeners..]
                .iter()
                .zip(index)
                .filter(|(f, i)| !f.revents().is_empty() || buffered.contains(i))
                .map(|(f, i)| (i, f.revents() | if buffered.contains(&i) { PollFlags::IN } else { PollFlags::empty() }))
                .collect();
            ready.sort_unstable_by_key(|r| r.0);
            (plain_ready, tls_ready, ready)
        };
        if ready.0 {
            self.accept_all(false);
        }
        if ready.1 {
            self.accept_all(true);
        }
        for (i, flags) in ready.2 {
            if flags.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
                self.read_conn(i);
            }
            if flags.contains(PollFlags::OUT) {
                self.flush_conn(i);
                // The session may have been waiting for its output before taking more input.
                if self.conns[i].as_ref().is_some_and(|c| c.in_len > 0) {
                    self.process_input(i);
                }
            }
        }
        self.flush_dirty();
        self.check_timeouts();
        for i in 0..self.conns.len() {
            if let Some(reason) = self.conns[i].as_mut().and_then(|c| c.dead.take()) {
                self.close_conn(i, &reason);
            }
        }
        Ok(())
    }

    fn now(&self) -> CoreInstant {
        CoreInstant::from_micros(self.epoch.elapsed().as_micros() as u64)
    }

    fn log(&self, line: std::fmt::Arguments<'_>) {
        if self.opts.log {
            eprintln!("rtmp-serve: {line}");
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.conns
            .iter()
            .flatten()
            .filter_map(|c| c.session.poll_timeout().map(|t| self.epoch + Duration::from_micros(t.as_micros())))
            .min()
    }

    fn accept_all(&mut self, tls: bool) {
        loop {
            let accepted = match (&self.tls, tls) {
                (Some((l, _)), true) => l.accept(),
                _ => self.listener.accept(),
            };
            let (sock, peer) = match accepted {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends: try again on the next round.
                    self.log(format_args!("accept: {e}"));
                    return;
                }
            };
            if self.connections() >= self.opts.max_connections {
                self.stats.refused += 1;
                self.log(format_args!("{peer}: refused, {} connections open", self.opts.max_connections));
                continue; // dropping the socket closes it
            }
            if sock.set_nonblocking(true).and_then(|()| sock.set_nodelay(true)).is_err() {
                continue;
            }
            // RTMPS: the handshake runs as the connection is read and
            // written, so one slow client never holds up the loop.
            let sock = match (&self.tls, tls) {
                (Some((_, config)), true) => match crate::tls::accept(sock, config.clone()) {
                    Ok(t) => t,
                    Err(e) => {
                        self.log(format_args!("{peer}: {e}"));
                        continue;
                    }
                },
                _ => Transport::Tcp(sock),
            };
            let buf = self.pool.pop().unwrap_or_else(|| Box::leak(vec![0u8; self.opts.max_message].into_boxed_slice()));
            let cfg = ServerConfig { connect_timeout: self.opts.idle_timeout, ..ServerConfig::default() };
            let session = Server::new(cfg, buf, self.now(), &random_bytes());
            let conn = Conn {
                sock,
                peer,
                session,
                inbuf: vec![0u8; READ_CHUNK].into_boxed_slice(),
                in_len: 0,
                app: String::new(),
                streams: Vec::new(),
                out: VecDeque::new(),
                inflight: VecDeque::new(),
                dirty: false,
                queued: 0,
                skip_to_keyframe: false,
                last_active: Instant::now(),
                dead: None,
            };
            self.stats.connections += 1;
            match self.conns.iter().position(Option::is_none) {
                Some(i) => self.conns[i] = Some(conn),
                None => self.conns.push(Some(conn)),
            }
        }
    }

    fn check_timeouts(&mut self) {
        let now = self.now();
        let idle = self.opts.idle_timeout;
        for i in 0..self.conns.len() {
            let Some(c) = self.conns[i].as_mut() else { continue };
            c.session.handle_timeout(now);
            if c.streams.is_empty() && c.last_active.elapsed() > idle && c.dead.is_none() {
                c.dead = Some(format!("idle for {} s without publishing or playing", idle.as_secs()));
            }
            let publishing = c.streams.iter().any(|s| s.2 == Role::Publisher);
            if publishing && c.last_active.elapsed() > self.opts.publisher_timeout && c.dead.is_none() {
                c.dead = Some(format!("publisher sent nothing for {:.1} s", self.opts.publisher_timeout.as_secs_f64()));
            }
            if c.session.is_closed() {
                // The closing event says why.
                self.handle_events(i);
            }
        }
    }

    fn read_conn(&mut self, i: usize) {
        // A bounded number of reads per round, so one busy peer cannot starve the rest.
        for _ in 0..16 {
            let Some(c) = self.conns[i].as_mut() else { return };
            if c.dead.is_some() {
                return;
            }
            let mut got = 0;
            let mut eof = false;
            if c.in_len < c.inbuf.len() {
                match c.sock.read(&mut c.inbuf[c.in_len..]) {
                    Ok(0) => eof = true,
                    Ok(n) => {
                        c.in_len += n;
                        got = n;
                        c.last_active = Instant::now();
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        c.dead = Some(format!("read: {e}"));
                        return;
                    }
                }
            }
            self.process_input(i);
            self.flush_dirty();
            if eof {
                if let Some(c) = self.conns[i].as_mut().filter(|c| c.dead.is_none()) {
                    c.session.handle_peer_closed();
                    self.handle_events(i);
                }
                return;
            }
            if got == 0 {
                return;
            }
        }
    }

    /// Feeds buffered input to the session, handling each event as it comes.
    fn process_input(&mut self, i: usize) {
        loop {
            let now = self.now();
            let Some(c) = self.conns[i].as_mut() else { return };
            if c.dead.is_some() || c.session.is_closed() {
                self.handle_events(i);
                return;
            }
            let n = c.session.handle_input(now, &c.inbuf[..c.in_len]).unwrap_or_default();
            c.inbuf.copy_within(n..c.in_len, 0);
            c.in_len -= n;
            let events = self.handle_events(i);
            self.flush_conn(i);
            if n == 0 && events == 0 {
                return;
            }
        }
    }

    /// Handles what the session reported; returns how many events there were.
    fn handle_events(&mut self, i: usize) -> usize {
        let mut count = 0;
        loop {
            let Some(c) = self.conns[i].as_mut() else { return count };
            let Some(action) = c.session.poll_event().map(|e| match e {
                ServerEvent::Connected { app } => Action::Connected(app.to_string()),
                ServerEvent::PublishRequest { stream_id, name, .. } => {
                    Action::Publish(stream_id, name.base_name().to_string(), name.as_str().to_string())
                }
                ServerEvent::PlayRequest { stream_id, name } => Action::Play(stream_id, name.base_name().to_string()),
                ServerEvent::Media { stream_id, type_id, timestamp, payload } => {
                    Action::Media(stream_id, Frame::new(type_id, timestamp, payload))
                }
                ServerEvent::StreamClosed { stream_id } => Action::StreamClosed(stream_id),
                ServerEvent::Closed(reason) => Action::Closed(reason),
                _ => Action::StreamClosed(u32::MAX),
            }) else {
                return count;
            };
            count += 1;
            match action {
                Action::Connected(app) => c.app = app,
                Action::Publish(sid, name, full) => self.on_publish(i, sid, name, &full),
                Action::Play(sid, name) => self.on_play(i, sid, name),
                Action::Media(sid, frame) => self.on_media(i, sid, frame),
                Action::StreamClosed(sid) => self.on_stream_closed(i, sid),
                Action::Closed(reason) => {
                    if !matches!(reason, CloseReason::PeerClosed | CloseReason::Local) {
                        self.stats.failed += 1;
                    }
                    if c.dead.is_none() {
                        c.dead = Some(match reason {
                            CloseReason::PeerClosed => "client closed the connection".into(),
                            CloseReason::Timeout(step) => {
                                format!("client did not complete {step} within {} s", self.opts.idle_timeout.as_secs())
                            }
                            r => r.to_string(),
                        });
                    }
                }
            }
        }
    }

    fn flush_dirty(&mut self) {
        for p in std::mem::take(&mut self.dirty) {
            if let Some(c) = self.conns[p].as_mut() {
                c.dirty = false;
            }
            self.flush_conn(p);
        }
    }

    /// Writes what a connection has to send until the socket is full.
    fn flush_conn(&mut self, i: usize) {
        let Some(c) = self.conns[i].as_mut() else { return };
        if let Err(e) = c.sock.flush_records() {
            c.dead = Some(format!("write: {e}"));
            return;
        }
        let sent = c.flush();
        self.stats.messages_out += sent;
    }

    fn close_conn(&mut self, i: usize, reason: &str) {
        let sids: Vec<u32> = match self.conns[i].as_ref() {
            Some(c) => c.streams.iter().map(|(s, _, _)| *s).collect(),
            None => return,
        };
        for sid in sids {
            self.on_stream_closed(i, sid);
        }
        let Some(mut c) = self.conns[i].take() else { return };
        c.sock.close_notify();
        let _ = c.sock.tcp().shutdown(std::net::Shutdown::Both);
        self.log(format_args!("{}: closed: {reason}", c.peer));
        self.pool.push(c.session.into_recv_buffer());
    }
}

impl Conn {
    /// Bytes queued for this player: the message being sent and those waiting.
    fn recount(&mut self) {
        let inflight: usize = self.inflight.iter().map(|(_, f)| f.body.len()).sum();
        self.queued = inflight + self.out.iter().map(|(_, f)| f.body.len()).sum::<usize>();
    }

    fn wants_write(&self) -> bool {
        !self.inflight.is_empty() || !self.out.is_empty() || self.session.poll_transmit().is_some()
    }

    /// Control bytes, then queued frames, until the socket would block.
    /// Several messages go out per `writev`; control bytes only between
    /// messages. Returns the media messages completed.
    fn flush(&mut self) -> u64 {
        let mut sent = 0;
        while self.dead.is_none() {
            if self.inflight.is_empty() {
                if let Some(bytes) = self.session.poll_transmit() {
                    match self.sock.write(bytes) {
                        Ok(n) => self.session.transmitted(n),
                        Err(e) => return self.write_failed(e, sent),
                    }
                    continue;
                }
            }
            // Chunk more messages while no control bytes wait.
            while self.inflight.len() < BATCH && self.session.poll_transmit().is_none() {
                let Some((sid, frame)) = self.out.pop_front() else { break };
                if frame.type_id == END_OF_STREAM {
                    // Stream EOF and UnpublishNotify go after the last message.
                    if !self.inflight.is_empty() {
                        self.out.push_front((sid, frame));
                        break;
                    }
                    let _ = self.session.end_play(sid);
                    self.streams.retain(|(s, _, _)| *s != sid);
                    continue;
                }
                let parts = [&frame.body[..]];
                // A player that stopped meanwhile (deleteStream) no longer takes media.
                if let Ok(m) = self.session.send_media(sid, frame.type_id, frame.timestamp, &parts) {
                    let d = m.detach();
                    self.inflight.push_back((d, frame));
                } else {
                    self.queued = self.queued.saturating_sub(frame.body.len());
                }
            }
            if self.inflight.is_empty() {
                if self.session.poll_transmit().is_some() {
                    continue;
                }
                return sent;
            }
            // One gather list over the messages in flight.
            let mut parts: [[&[u8]; 1]; BATCH] = [[&[]]; BATCH];
            for (slot, (_, f)) in parts.iter_mut().zip(&self.inflight) {
                *slot = [&f.body[..]];
            }
            let mut msgs: Vec<_> =
                self.inflight.iter().zip(&parts).filter_map(|((d, _), p)| d.attach(&p[..])).collect();
            let written = match write_gathered(&mut self.sock, &msgs) {
                Ok(w) => w,
                Err(e) => return self.write_failed(e, sent),
            };
            let mut left = written;
            let mut done = 0;
            for m in &mut msgs {
                let take = left.min(m.remaining());
                m.advance(take);
                left -= take;
                if m.is_done() {
                    done += 1;
                } else {
                    break;
                }
            }
            let progress: Vec<DetachedMessage> = msgs.iter().map(|m| m.detach()).collect();
            drop(msgs);
            for (slot, d) in self.inflight.iter_mut().zip(progress) {
                slot.0 = d;
            }
            for _ in 0..done {
                if let Some((_, f)) = self.inflight.pop_front() {
                    self.queued = self.queued.saturating_sub(f.body.len());
                    sent += 1;
                }
            }
            if written == 0 {
                return sent;
            }
        }
        sent
    }

    fn write_failed(&mut self, e: io::Error, sent: u64) -> u64 {
        if !matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) {
            self.dead = Some(format!("write: {e}"));
        }
        sent
    }
}

impl Frame {
    fn new(type_id: u8, timestamp: RtmpTimestamp, payload: &[u8]) -> Frame {
        // Any codec, legacy or Enhanced RTMP (HEVC, AV1, VP9, Opus ...).
        let role = MediaRole::of(type_id, payload);
        let (keyframe, config) = (role == MediaRole::Keyframe, role == MediaRole::Config);
        Frame { type_id, timestamp, body: payload.into(), keyframe, config }
    }
}
