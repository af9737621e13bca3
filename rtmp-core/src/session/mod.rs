//! Sessions: the protocol state machines, sans-IO: [`Publisher`] (a
//! publishing client), [`Player`] (a playing client) and [`Server`] (one
//! accepted connection).
//!
//! # The contract (quinn-proto, smoltcp, rustls)
//!
//! A session owns no socket, no clock and no randomness:
//!
//! * **inputs**: [`handle_input`](Publisher::handle_input)`(now, bytes)` returns
//!   how many bytes it consumed (keep the rest and offer them again, with
//!   more, and after every transmit: a session may wait for its own output to
//!   go out before it takes more input, as with `BufRead::consume`); [`handle_timeout`](Publisher::handle_timeout)`(now)`
//!   is harmless when early or repeated; [`handle_peer_closed`](Publisher::handle_peer_closed)
//!   reports end of stream.
//! * **commands**: `send_video`, `send_audio`, `send_data`, `send_metadata`, `close`.
//! * **outputs**, polled after every input or command, in this order: transmit
//!   ([`poll_transmit`](Publisher::poll_transmit) / [`transmitted`](Publisher::transmitted)),
//!   then [`poll_timeout`](Publisher::poll_timeout), then [`poll_event`](Publisher::poll_event).
//! * **media is never copied**: `send_video` returns a [`ChunkedMessage`](crate::chunk::ChunkedMessage)
//!   whose slices point into the caller's frame; write them with vectored I/O,
//!   resume after partial writes with `advance`, and finish it before taking
//!   more from `poll_transmit`. The frame stays borrowed until then.
//! * A fatal error closes the session and is reported once, as
//!   [`Event::Closed`] with its reason.

#[cfg(feature = "embedded-io")]
pub mod blocking;
mod event;
mod outbox;
mod player;
mod publisher;
mod server;

pub use event::{CloseReason, Event, InputError, SendError, StatusText};
pub use player::{MediaMessage, Player, PlayerConfig, PlayerEvent, PlayerState};
pub use publisher::{Publisher, PublisherConfig, PublisherState, CAPS_EX_RECONNECT, RECONNECT_TC_URL_MAX};
pub use server::{Server, ServerConfig, ServerEvent};
