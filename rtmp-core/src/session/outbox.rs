//! The control-message queue a session owns: small messages (commands,
//! protocol and user control) are chunked and copied here; media never is.

use super::SendError;
use crate::chunk::{ChunkWriter, MessageHeader, MAX_HEADER_LEN};
use crate::handshake::{ClientHandshake, HandshakeError, ServerHandshake};
use crate::time::RtmpTimestamp;

/// Chunked control bytes waiting to be sent.
pub(crate) struct ControlQueue<const N: usize> {
    buf: [u8; N],
    len: usize,
    sent: usize,
}

impl<const N: usize> ControlQueue<N> {
    pub(crate) const fn new() -> Self {
        ControlQueue { buf: [0; N], len: 0, sent: 0 }
    }

    /// Bytes waiting to be sent.
    pub(crate) fn pending(&self) -> Option<&[u8]> {
        let p = &self.buf[self.sent..self.len];
        (!p.is_empty()).then_some(p)
    }

    /// Records that `n` bytes of [`pending`](Self::pending) went out.
    pub(crate) fn advance(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.len);
        if self.sent == self.len {
            self.sent = 0;
            self.len = 0;
        }
    }

    /// Chunks a control message with `writer` and appends it. Fails without
    /// touching the writer's state when the queue cannot take the worst case.
    pub(crate) fn push<const W: usize>(
        &mut self,
        writer: &mut ChunkWriter<W>,
        csid: u32,
        type_id: u8,
        stream_id: u32,
        payload: &[u8],
    ) -> Result<(), SendError> {
        // Worst case on the wire: a full header, then a continuation header per chunk.
        let chunks = payload.len() / writer.chunk_size().max(1) as usize + 1;
        let bound = MAX_HEADER_LEN + payload.len() + chunks * 7;
        if self.sent > 0 && self.len + bound > N {
            self.buf.copy_within(self.sent..self.len, 0);
            self.len -= self.sent;
            self.sent = 0;
        }
        if self.len + bound > N {
            return Err(SendError::ControlBufferFull { needed: bound });
        }
        let parts = [payload];
        let h = MessageHeader { csid, timestamp: RtmpTimestamp::ZERO, type_id, stream_id };
        let msg = writer.write(h, &parts)?;
        for s in msg.slices() {
            self.buf[self.len..self.len + s.len()].copy_from_slice(s);
            self.len += s.len();
        }
        Ok(())
    }
}

/// Counts received bytes against the peer's acknowledgement window (RTMP
/// spec 5.4.3): says when to send an Acknowledgement, with the running total
/// of bytes received, wrapping at 2^32.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AckCounter {
    received: u32,
    acked: u32,
    window: u32,
}

impl AckCounter {
    /// The peer's Window Acknowledgement Size.
    pub(crate) fn set_window(&mut self, window: u32) {
        self.window = window;
    }

    /// Counts `n` more bytes; returns the sequence number to acknowledge
    /// when a window's worth has arrived since the last acknowledgement.
    pub(crate) fn received(&mut self, n: usize) -> Option<u32> {
        self.received = self.received.wrapping_add(n as u32);
        if self.window > 0 && self.received.wrapping_sub(self.acked) >= self.window {
            self.acked = self.received;
            return Some(self.received);
        }
        None
    }
}

/// What a session needs of its handshake side.
pub(crate) trait HandshakeSide {
    fn handle_input(&mut self, input: &[u8]) -> Result<usize, HandshakeError>;
    fn poll_transmit(&self) -> Option<&[u8]>;
    fn transmitted(&mut self, n: usize);
    fn is_complete(&self) -> bool;
}

macro_rules! handshake_side {
    ($t:ty) => {
        impl HandshakeSide for $t {
            fn handle_input(&mut self, input: &[u8]) -> Result<usize, HandshakeError> {
                <$t>::handle_input(self, input)
            }
            fn poll_transmit(&self) -> Option<&[u8]> {
                <$t>::poll_transmit(self)
            }
            fn transmitted(&mut self, n: usize) {
                <$t>::transmitted(self, n)
            }
            fn is_complete(&self) -> bool {
                <$t>::is_complete(self)
            }
        }
    };
}
handshake_side!(ClientHandshake);
handshake_side!(ServerHandshake);

/// A session's output: the handshake's buffer until the handshake is done
/// and its last bytes are sent, then the control queue. Never both, which
/// keeps sessions small.
#[allow(clippy::large_enum_variant)] // one of the two is always in use
pub(crate) enum Link<H, const N: usize> {
    Handshake(H),
    Open(ControlQueue<N>),
}

impl<H: HandshakeSide, const N: usize> Link<H, N> {
    pub(crate) fn is_open(&self) -> bool {
        matches!(self, Link::Open(_))
    }

    /// Bytes to send.
    pub(crate) fn pending(&self) -> Option<&[u8]> {
        match self {
            Link::Handshake(hs) => hs.poll_transmit(),
            Link::Open(q) => q.pending(),
        }
    }

    /// Records that `n` bytes went out; true when this opened the link.
    pub(crate) fn transmitted(&mut self, n: usize) -> bool {
        match self {
            Link::Handshake(hs) => {
                hs.transmitted(n);
                self.open_if_done()
            }
            Link::Open(q) => {
                q.advance(n);
                false
            }
        }
    }

    /// Feeds handshake input as far as it goes (several packets may arrive
    /// together); returns the bytes consumed.
    pub(crate) fn handshake(&mut self, input: &[u8]) -> Result<usize, HandshakeError> {
        let Link::Handshake(hs) = self else { return Ok(0) };
        let mut consumed = 0;
        loop {
            let n = hs.handle_input(&input[consumed..])?;
            consumed += n;
            if n == 0 || hs.is_complete() {
                return Ok(consumed);
            }
        }
    }

    /// Switches to the control queue once the handshake is complete and its
    /// last bytes are sent; true when it switched now.
    pub(crate) fn open_if_done(&mut self) -> bool {
        match self {
            Link::Handshake(hs) if hs.is_complete() && hs.poll_transmit().is_none() => {
                *self = Link::Open(ControlQueue::new());
                true
            }
            _ => false,
        }
    }

    /// Queues a control message (see [`ControlQueue::push`]); refused while handshaking.
    pub(crate) fn push<const W: usize>(
        &mut self,
        writer: &mut ChunkWriter<W>,
        csid: u32,
        type_id: u8,
        stream_id: u32,
        payload: &[u8],
    ) -> Result<(), SendError> {
        match self {
            Link::Open(q) => q.push(writer, csid, type_id, stream_id, payload),
            Link::Handshake(_) => Err(SendError::NotPublishing),
        }
    }
}

/// Largest command payload a session encodes (a connect with a long signed URL).
pub(crate) const COMMAND_SCRATCH: usize = 1024;
/// The chunk stream for protocol and user control messages.
pub(crate) const CSID_CONTROL: u32 = 2;

/// What every session does with its peer besides its own state machine:
/// the output link, the chunk writer, acknowledgements, pings, and the
/// protocol control messages (RTMP spec 5.4, 6.2).
pub(crate) struct Channel<H, const N: usize> {
    pub(crate) link: Link<H, N>,
    pub(crate) writer: ChunkWriter<8>,
    acks: AckCounter,
}

impl<H: HandshakeSide, const N: usize> Channel<H, N> {
    pub(crate) fn new(handshake: H) -> Self {
        Channel { link: Link::Handshake(handshake), writer: ChunkWriter::new(), acks: AckCounter::default() }
    }

    /// Feeds handshake input (counted for acknowledgements) and opens the
    /// link once the handshake is done and sent. Returns the bytes consumed
    /// and whether the link opened now.
    pub(crate) fn handshake(&mut self, input: &[u8]) -> Result<(usize, bool), HandshakeError> {
        let n = self.link.handshake(input)?;
        self.count_in(n);
        Ok((n, self.link.open_if_done()))
    }

    /// Chunks a small control message into the transmit queue.
    pub(crate) fn push(&mut self, csid: u32, type_id: u8, stream_id: u32, payload: &[u8]) -> Result<(), SendError> {
        self.link.push(&mut self.writer, csid, type_id, stream_id, payload)
    }

    /// Encodes a command with `f` and queues it.
    pub(crate) fn command(
        &mut self,
        csid: u32,
        stream_id: u32,
        f: impl FnOnce(&mut [u8]) -> Result<usize, crate::amf0::EncodeError>,
    ) -> Result<(), SendError> {
        let mut scratch = [0u8; COMMAND_SCRATCH];
        let n = f(&mut scratch).map_err(|_| SendError::ControlBufferFull { needed: COMMAND_SCRATCH + 1 })?;
        self.push(csid, crate::message::type_id::COMMAND_AMF0, stream_id, &scratch[..n])
    }

    /// Queues a user control event.
    pub(crate) fn user_control(&mut self, u: crate::message::UserControl) -> Result<(), SendError> {
        let mut b = [0u8; 10];
        let n = u.encode(&mut b).map_err(|_| SendError::ControlBufferFull { needed: 10 })?;
        self.push(CSID_CONTROL, crate::message::type_id::USER_CONTROL, 0, &b[..n])
    }

    /// Queues a protocol control message.
    pub(crate) fn protocol_control(&mut self, p: crate::message::ProtocolControl) -> Result<(), SendError> {
        let mut b = [0u8; 5];
        let n = p.encode(&mut b).map_err(|_| SendError::ControlBufferFull { needed: 5 })?;
        self.push(CSID_CONTROL, p.type_id(), 0, &b[..n])
    }

    /// Counts received bytes; queues an Acknowledgement when a window is full.
    pub(crate) fn count_in(&mut self, n: usize) {
        if let Some(total) = self.acks.received(n) {
            // A full queue means the peer is not reading; the next window acks again.
            let _ = self.push(CSID_CONTROL, crate::message::type_id::ACKNOWLEDGEMENT, 0, &total.to_be_bytes());
        }
    }

    /// Handles a protocol control (types 1 to 6) message: validates it,
    /// takes the peer's window, answers pings. (The chunk reader has
    /// already applied Set Chunk Size and Abort.) Returns user control
    /// events other than pings for the session to act on.
    pub(crate) fn on_control(
        &mut self,
        type_id: u8,
        payload: &[u8],
    ) -> Result<Option<crate::message::UserControl>, crate::message::MessageError> {
        use crate::message::{ProtocolControl, UserControl};
        if type_id == crate::message::type_id::USER_CONTROL {
            return match UserControl::decode(payload)? {
                UserControl::PingRequest(t) => {
                    // Unanswered if the queue is full; the peer pings again.
                    let _ = self.user_control(UserControl::PingResponse(t));
                    Ok(None)
                }
                other => Ok(Some(other)),
            };
        }
        if let ProtocolControl::WindowAckSize(w) = ProtocolControl::decode(type_id, payload)? {
            self.acks.set_window(w);
        }
        Ok(None)
    }
}
