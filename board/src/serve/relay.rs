//! What the server does with sessions' requests and media: publishes
//! (names, the OSS ingest rules, recording and HLS), plays (configuration
//! and the cached GOP first), media (relayed to every player, a slow
//! player skipping to the next keyframe), and the end of a stream.

use super::*;

impl RtmpServer {
    pub(super) fn on_publish(&mut self, i: usize, sid: u32, name: String, full_name: &str) {
        let Some(c) = self.conns[i].as_mut() else { return };
        let (peer, mut app) = (c.peer, c.app.clone());
        if !safe_name(&app, true) || !safe_name(&name, false) {
            let _ = c.session.reject(sid, "NetStream.Publish.BadName", "Invalid stream name");
            self.stats.publishes_refused += 1;
            self.log(format_args!("{peer}: publish refused: invalid app or stream name"));
            return;
        }
        let mut hls_dir = PathBuf::from(&app).join(&name);
        let mut hls_playlist = None;
        if let Some(oss) = &self.opts.oss {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            match oss.authorize(&app, full_name, now) {
                Ok(ch) => {
                    // `BUCKET/live` (oss2's path-style URL) is the same channel.
                    app = String::from("live");
                    hls_dir = PathBuf::from(&ch.channel);
                    hls_playlist = ch.playlist;
                }
                Err(refusal) => {
                    let _ = c.session.reject(sid, refusal.status, &refusal.description);
                    self.stats.publishes_refused += 1;
                    self.log(format_args!("{peer}: publish {app}/{name} refused: {}", refusal.description));
                    return;
                }
            }
        }
        let key = format!("{app}/{name}");
        if self.streams.get(&key).is_some_and(|s| s.publisher.is_some()) {
            let _ = c.session.reject(sid, "NetStream.Publish.BadName", "Already publishing");
            self.stats.publishes_refused += 1;
            self.log(format_args!("{peer}: publish {key} refused: already publishing"));
            return;
        }
        let recorder = match &self.opts.record {
            Some(dir) => match Recorder::create(&dir.join(&app).join(format!("{name}.flv"))) {
                Ok(r) => Some(r),
                Err(e) => {
                    let _ = c.session.reject(sid, "NetStream.Record.NoAccess", "Cannot record");
                    self.log(format_args!("{peer}: publish {key} refused: cannot record: {e}"));
                    return;
                }
            },
            None => None,
        };
        if c.session.accept_publish(sid).is_err() {
            c.dead = Some("cannot queue Publish.Start".into());
            return;
        }
        c.streams.push((sid, key.clone(), Role::Publisher));
        self.stats.publishes += 1;
        let hls = match &self.opts.hls {
            // HLS is a by-product: a stream that cannot have it is still served.
            Some(opts) => {
                let opts = match hls_playlist {
                    Some(playlist) => Cow::Owned(HlsOptions { playlist, ..opts.clone() }),
                    None => Cow::Borrowed(opts),
                };
                HlsStream::create(&opts, &hls_dir)
                    .inspect_err(|e| self.log(format_args!("{peer}: HLS for {key} off: {e}")))
                    .ok()
            }
            None => None,
        };
        let s = self.streams.entry(key.clone()).or_default();
        s.publisher = Some((i, sid));
        s.recorder = recorder;
        s.hls = hls;
        s.oss = self.opts.oss.is_some();
        self.log(format_args!("{peer}: publishing {key}"));
    }

    pub(super) fn on_play(&mut self, i: usize, sid: u32, name: String) {
        let Some(c) = self.conns[i].as_mut() else { return };
        let key = format!("{}/{name}", c.app);
        if c.session.accept_play(sid).is_err() {
            c.dead = Some("cannot queue Play.Start".into());
            return;
        }
        c.streams.push((sid, key.clone(), Role::Player));
        let peer = c.peer;
        let s = self.streams.entry(key.clone()).or_default();
        s.players.push((i, sid));
        // Metadata and sequence headers first, then the cached GOP.
        let start_ts = s.gop.first().map(|f| f.timestamp);
        let mut first: Vec<Rc<Frame>> = Vec::new();
        for f in &s.configs {
            first.push(Rc::new(Frame { timestamp: start_ts.unwrap_or(f.timestamp), body: f.body.clone(), ..**f }));
        }
        first.extend(s.gop.iter().cloned());
        let live = s.publisher.is_some();
        for f in first {
            self.enqueue(i, sid, f);
        }
        self.log(format_args!("{peer}: playing {key}{}", if live { "" } else { " (waiting for a publisher)" }));
    }

    pub(super) fn on_media(&mut self, i: usize, sid: u32, mut frame: Frame) {
        let Some(c) = self.conns[i].as_mut() else { return };
        let Some(key) = c.streams.iter().find(|(s, _, r)| *s == sid && *r == Role::Publisher).map(|e| e.1.clone())
        else {
            return;
        };
        self.stats.messages_in += 1;
        if self.streams.get(&key).is_some_and(|s| s.oss) {
            // OSS LiveChannel: H.264 video only; audio other than AAC is discarded.
            match frame.type_id {
                type_id::AUDIO if !AudioTag::parse(&frame.body).is_ok_and(|t| t.codec == AudioCodec::Aac) => {
                    self.stats.filtered += 1;
                    return;
                }
                type_id::VIDEO => match VideoTag::parse(&frame.body).map(|t| t.codec) {
                    Ok(VideoCodec::Avc) => {}
                    other => {
                        let got = other.map_or_else(|_| String::from("an unreadable video tag"), |c| format!("{c:?}"));
                        if let Some(c) = self.conns[i].as_mut() {
                            c.dead = Some(format!("OSS LiveChannel takes H.264 video only, not {got}"));
                        }
                        return;
                    }
                },
                _ => {}
            }
        }
        if frame.type_id == type_id::DATA_AMF0 {
            // `@setDataFrame onMetaData {..}` is kept and sent on as `onMetaData {..}`.
            match frame.body.strip_prefix(SET_DATA_FRAME) {
                Some(rest) => {
                    frame.body = rest.into();
                    frame.config = true;
                }
                None => frame.config = frame.body.starts_with(b"\x02\x00\x0aonMetaData"),
            }
        }
        let frame = Rc::new(frame);
        let gop_limit = self.opts.gop_cache;
        let Some(s) = self.streams.get_mut(&key) else { return };
        if let Some(r) = &mut s.recorder {
            if let Err(e) = r.write(&frame) {
                let path = r.path.display().to_string();
                s.recorder = None;
                if let Some(c) = self.conns[i].as_mut() {
                    c.dead = Some(format!("recording to {path} failed: {e}"));
                }
                return;
            }
        }
        if let Some(h) = s.hls.as_mut().filter(|_| matches!(frame.type_id, type_id::AUDIO | type_id::VIDEO)) {
            if let Err(e) = h.frame(frame.type_id, frame.timestamp.0, &frame.body) {
                s.hls = None;
                self.log(format_args!("HLS for {key} off: {e}"));
            }
        }
        let Some(s) = self.streams.get_mut(&key) else { return };
        if frame.config {
            match s.configs.iter_mut().find(|f| f.type_id == frame.type_id) {
                Some(slot) => *slot = frame.clone(),
                None => s.configs.push(frame.clone()),
            }
        } else if frame.keyframe {
            s.gop.clear();
            s.gop.push(frame.clone());
            s.gop_bytes = frame.body.len();
        } else if !s.gop.is_empty() {
            s.gop_bytes += frame.body.len();
            s.gop.push(frame.clone());
            if s.gop_bytes > gop_limit {
                s.gop.clear();
                s.gop_bytes = 0;
            }
        }
        let players = s.players.clone();
        for (p, psid) in players {
            self.enqueue(p, psid, frame.clone());
            // Written after this read's messages are all queued: fewer, larger writes.
            if let Some(c) = self.conns[p].as_mut().filter(|c| !c.dirty) {
                c.dirty = true;
                self.dirty.push(p);
            }
        }
    }

    pub(super) fn enqueue(&mut self, p: usize, psid: u32, frame: Rc<Frame>) {
        let limit = self.opts.player_queue;
        let Some(c) = self.conns[p].as_mut() else { return };
        if c.skip_to_keyframe {
            if frame.keyframe {
                c.skip_to_keyframe = false;
            } else if !frame.config {
                self.stats.dropped += 1;
                return;
            }
        }
        if c.queued + frame.body.len() > limit && !frame.config {
            let dropped = c.out.len() as u64 + 1;
            c.out.retain(|(_, f)| f.config);
            c.recount();
            c.skip_to_keyframe = !frame.keyframe;
            self.stats.dropped += dropped;
            let peer = c.peer;
            self.log(format_args!("{peer}: player too slow, skipped {dropped} messages to the next keyframe"));
            let Some(c) = self.conns[p].as_mut() else { return };
            if frame.keyframe {
                c.queued += frame.body.len();
                c.out.push_back((psid, frame));
            }
            return;
        }
        c.queued += frame.body.len();
        c.out.push_back((psid, frame));
    }

    pub(super) fn on_stream_closed(&mut self, i: usize, sid: u32) {
        let Some(c) = self.conns[i].as_mut() else { return };
        let Some(at) = c.streams.iter().position(|(s, _, _)| *s == sid) else { return };
        let (_, key, role) = c.streams.swap_remove(at);
        let peer = c.peer;
        match role {
            Role::Player => {
                c.out.retain(|(s, _)| *s != sid);
                c.recount();
                if let Some(s) = self.streams.get_mut(&key) {
                    s.players.retain(|&(p, ps)| (p, ps) != (i, sid));
                }
            }
            Role::Publisher => {
                let Some(s) = self.streams.get_mut(&key) else { return };
                s.publisher = None;
                s.gop.clear();
                s.configs.clear();
                let recorder = s.recorder.take();
                let hls = s.hls.take();
                let players = std::mem::take(&mut s.players);
                if let Some(mut h) = hls {
                    match h.finish() {
                        Ok(()) => self.log(format_args!(
                            "{peer}: HLS {} complete ({} segments)",
                            h.playlist_path().display(),
                            h.stats().segments
                        )),
                        Err(e) => self.log(format_args!("{peer}: HLS for {key} failed: {e}")),
                    }
                }
                if let Some(mut r) = recorder {
                    match r.finish() {
                        Ok(()) => self.log(format_args!("{peer}: recorded {} ({} tags)", r.path.display(), r.tags)),
                        Err(e) => self.log(format_args!("{peer}: recording {} failed: {e}", r.path.display())),
                    }
                }
                let end = Rc::new(Frame {
                    type_id: END_OF_STREAM,
                    timestamp: RtmpTimestamp::ZERO,
                    body: Box::new([]),
                    keyframe: false,
                    config: true,
                });
                for (p, psid) in players {
                    let Some(pc) = self.conns[p].as_mut() else { continue };
                    // After what is queued for it: a player gets the whole stream.
                    pc.out.push_back((psid, end.clone()));
                    self.flush_conn(p);
                }
                self.log(format_args!("{peer}: stopped publishing {key}"));
            }
        }
        if self.streams.get(&key).is_some_and(|s| s.publisher.is_none() && s.players.is_empty()) {
            self.streams.remove(&key);
        }
    }
}

/// Names that are safe as path components: no separators (except `/`
/// between app components when `app` is set), no `..`, no control characters.
fn safe_name(name: &str, app: bool) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part.len() <= 200
            && part.chars().all(|c| !c.is_control() && c != '\\' && c != '/' && c != ':')
    };
    if app {
        name.split('/').all(ok)
    } else {
        ok(name)
    }
}
