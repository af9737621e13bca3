//! The control-message queue a session owns: small messages (commands,
//! protocol and user control) are chunked and copied here; media never is.

use super::SendError;
use crate::chunk::{ChunkWriter, MessageHeader, MAX_HEADER_LEN};
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
