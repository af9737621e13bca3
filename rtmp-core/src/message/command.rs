//! Command messages (types 20 and 17): typed views and encoders for the
//! commands a publisher, player and server exchange (RTMP spec 7.2,
//! plus the FMLE commands every live server expects).

use super::{type_id, MessageError};
use crate::amf0::{self, Object, Value, Values};
use core::fmt;

/// A command split into the parts all commands share: name, transaction id
/// and command object, with the remaining arguments left undecoded.
/// `Debug` shows the arguments' length only: they may hold a stream key.
#[derive(Clone, Copy, PartialEq)]
pub struct CommandMessage<'a> {
    /// The command name (`connect`, `_result`, `onStatus` ...).
    pub name: &'a str,
    /// Transaction id; 0 for notifications such as `onStatus`.
    pub transaction_id: f64,
    /// The command object, usually an object (`connect`, `_result`) or null.
    /// `Undefined` when the sender stopped after the transaction id.
    pub command_object: Value<'a>,
    args: &'a [u8],
}

impl fmt::Debug for CommandMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandMessage")
            .field("name", &self.name)
            .field("transaction_id", &self.transaction_id)
            .field("command_object", &self.command_object)
            .field("args", &crate::url::Redacted(self.args.len()))
            .finish()
    }
}

impl<'a> CommandMessage<'a> {
    /// Splits a type 20 (AMF0) or type 17 (AMF3 container holding AMF0, as
    /// Flash sends it: one format byte, then AMF0 values) command payload.
    pub fn decode(type_id: u8, payload: &'a [u8]) -> Result<Self, MessageError> {
        let body = super::amf0_body(type_id, payload, type_id::COMMAND_AMF0, type_id::COMMAND_AMF3)?;
        let mut values = Values::new(body);
        let name = match values.next() {
            Some(Ok(v)) => v.as_str().ok_or(MessageError::MissingName)?,
            Some(Err(e)) => return Err(e.into()),
            None => return Err(MessageError::MissingName),
        };
        let transaction_id = match values.next() {
            Some(Ok(Value::Number(n))) => n,
            Some(Err(e)) => return Err(e.into()),
            _ => return Err(MessageError::MissingTransactionId),
        };
        let command_object = match values.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(e.into()),
            None => Value::Undefined,
        };
        Ok(CommandMessage { name, transaction_id, command_object, args: values.remaining() })
    }

    /// The arguments after the command object.
    pub fn args(&self) -> Values<'a> {
        Values::new(self.args)
    }

    fn arg(&self, i: usize) -> Result<Option<Value<'a>>, MessageError> {
        match self.args().nth(i) {
            Some(Ok(v)) => Ok(Some(v)),
            Some(Err(e)) => Err(e.into()),
            None => Ok(None),
        }
    }

    fn str_arg(&self, i: usize, what: &'static str) -> Result<&'a str, MessageError> {
        self.arg(i)?.and_then(|v| v.as_str()).ok_or(MessageError::MissingArgument(what))
    }

    fn name_arg(&self) -> Result<StreamName<'a>, MessageError> {
        self.str_arg(0, "stream name").map(StreamName)
    }

    /// The typed view of this command.
    pub fn command(&self) -> Result<Command<'a>, MessageError> {
        let tid = self.transaction_id;
        Ok(match self.name {
            "connect" => Command::Connect(Connect {
                transaction_id: tid,
                properties: self.command_object.as_object().ok_or(MessageError::MissingArgument("command object"))?,
            }),
            "_result" => Command::Result {
                transaction_id: tid,
                properties: self.command_object,
                info: self.arg(0)?.unwrap_or(Value::Undefined),
            },
            "_error" => Command::Error {
                transaction_id: tid,
                properties: self.command_object,
                info: self.arg(0)?.unwrap_or(Value::Undefined),
            },
            "onStatus" => {
                let info =
                    self.arg(0)?.and_then(|v| v.as_object()).ok_or(MessageError::MissingArgument("info object"))?;
                Command::OnStatus(Status::from_object(info)?)
            }
            "releaseStream" => Command::ReleaseStream { transaction_id: tid, name: self.name_arg()? },
            "FCPublish" => Command::FcPublish { transaction_id: tid, name: self.name_arg()? },
            "FCUnpublish" => Command::FcUnpublish { transaction_id: tid, name: self.name_arg()? },
            "createStream" => Command::CreateStream { transaction_id: tid },
            "deleteStream" => Command::DeleteStream {
                transaction_id: tid,
                stream_id: self
                    .arg(0)?
                    .and_then(|v| v.as_number())
                    .ok_or(MessageError::MissingArgument("stream id"))?,
            },
            "closeStream" => Command::CloseStream,
            "publish" => Command::Publish {
                transaction_id: tid,
                name: self.name_arg()?,
                // Missing type means "live" (FMS and nginx-rtmp default).
                publish_type: self.arg(1)?.and_then(|v| v.as_str()).unwrap_or("live"),
            },
            "play" => Command::Play {
                transaction_id: tid,
                name: self.name_arg()?,
                start: self.arg(1)?.and_then(|v| v.as_number()).unwrap_or(-2.0),
                duration: self.arg(2)?.and_then(|v| v.as_number()).unwrap_or(-1.0),
                reset: self.arg(3)?.and_then(|v| v.as_bool()).unwrap_or(true),
            },
            "onBWDone" => Command::OnBwDone,
            _ => Command::Other(*self),
        })
    }
}

/// The commands this crate understands, as typed views.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Command<'a> {
    /// `connect`.
    Connect(Connect<'a>),
    /// `_result`: success answer to a transaction.
    Result {
        /// The transaction answered.
        transaction_id: f64,
        /// Properties (connect: fmsVer, capabilities), usually null otherwise.
        properties: Value<'a>,
        /// Information: a status object (connect) or the stream id (createStream).
        info: Value<'a>,
    },
    /// `_error`: failure answer to a transaction.
    Error {
        /// The transaction answered.
        transaction_id: f64,
        /// Usually null.
        properties: Value<'a>,
        /// Usually a status object with level `error`.
        info: Value<'a>,
    },
    /// `onStatus`: a NetStream or NetConnection status notification.
    OnStatus(Status<'a>),
    /// `releaseStream` (FMLE).
    ReleaseStream {
        /// Transaction id.
        transaction_id: f64,
        /// Stream name with its query string.
        name: StreamName<'a>,
    },
    /// `FCPublish` (FMLE).
    FcPublish {
        /// Transaction id.
        transaction_id: f64,
        /// Stream name with its query string.
        name: StreamName<'a>,
    },
    /// `FCUnpublish` (FMLE).
    FcUnpublish {
        /// Transaction id.
        transaction_id: f64,
        /// Stream name with its query string.
        name: StreamName<'a>,
    },
    /// `createStream`.
    CreateStream {
        /// Transaction id.
        transaction_id: f64,
    },
    /// `deleteStream`.
    DeleteStream {
        /// Transaction id.
        transaction_id: f64,
        /// The message stream to delete.
        stream_id: f64,
    },
    /// `closeStream`.
    CloseStream,
    /// `publish`.
    Publish {
        /// Transaction id.
        transaction_id: f64,
        /// Stream name with its query string.
        name: StreamName<'a>,
        /// `live`, `record` or `append`.
        publish_type: &'a str,
    },
    /// `play`.
    Play {
        /// Transaction id.
        transaction_id: f64,
        /// Stream name with its query string.
        name: StreamName<'a>,
        /// -2 live or recorded, -1 live only, >= 0 recorded from that second.
        start: f64,
        /// Playback duration, -1 for all.
        duration: f64,
        /// Whether to flush previous playlists.
        reset: bool,
    },
    /// `onBWDone`, a bandwidth-check leftover servers still send; ignorable.
    OnBwDone,
    /// Any other command, undecoded.
    Other(CommandMessage<'a>),
}

/// A stream name as a peer sent it, query string included. It is usually a
/// secret (YouTube's stream key is the name; Bilibili and Aliyun put keys and
/// signatures in its query), so its `Debug` output shows only its length.
/// Use [`StreamName::as_str`] where the real name is needed.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamName<'a>(pub &'a str);

impl<'a> StreamName<'a> {
    /// The name, query string included.
    pub fn as_str(&self) -> &'a str {
        self.0
    }
    /// The name without its query string (what servers record under).
    pub fn base_name(&self) -> &'a str {
        self.0.split_once('?').map_or(self.0, |(n, _)| n)
    }
}

impl fmt::Debug for StreamName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StreamName").field(&crate::url::Redacted(self.0.len())).finish()
    }
}

/// A `connect` command's properties.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Connect<'a> {
    /// Transaction id (1 by convention).
    pub transaction_id: f64,
    /// The command object, in wire order.
    pub properties: Object<'a>,
}

impl<'a> Connect<'a> {
    /// `app`.
    pub fn app(&self) -> Option<&'a str> {
        self.properties.get_str("app")
    }
    /// `tcUrl`.
    pub fn tc_url(&self) -> Option<&'a str> {
        self.properties.get_str("tcUrl")
    }
    /// `flashVer`.
    pub fn flash_ver(&self) -> Option<&'a str> {
        self.properties.get_str("flashVer")
    }
    /// `type` (`nonprivate` from FMLE-style publishers).
    pub fn kind(&self) -> Option<&'a str> {
        self.properties.get_str("type")
    }
    /// `objectEncoding` (0 for AMF0, 3 for AMF3).
    pub fn object_encoding(&self) -> Option<f64> {
        self.properties.get_number("objectEncoding")
    }
    /// `capsEx` (Enhanced RTMP v2 capability bits), if present.
    pub fn caps_ex(&self) -> Option<f64> {
        self.properties.get_number("capsEx")
    }
    /// The `videoFourCcInfoMap` mask (Enhanced RTMP v2) for `four_cc`, if present.
    pub fn video_four_cc_info(&self, four_cc: &str) -> Option<f64> {
        match self.properties.get("videoFourCcInfoMap") {
            Some(Value::Object(o)) => o.get_number(four_cc),
            _ => None,
        }
    }
    /// `fourCcList` (Enhanced RTMP), if present.
    pub fn four_cc_list(&self) -> Option<amf0::StrictArray<'a>> {
        match self.properties.get("fourCcList") {
            Some(Value::StrictArray(a)) => Some(a),
            _ => None,
        }
    }
}

/// Status level of an info object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusLevel<'a> {
    /// `status`.
    Status,
    /// `warning`.
    Warning,
    /// `error`.
    Error,
    /// Anything else, as sent.
    Other(&'a str),
}

impl<'a> StatusLevel<'a> {
    fn parse(s: &'a str) -> Self {
        match s {
            "status" => StatusLevel::Status,
            "warning" => StatusLevel::Warning,
            "error" => StatusLevel::Error,
            o => StatusLevel::Other(o),
        }
    }
    /// The level as sent on the wire.
    pub fn as_str(&self) -> &'a str {
        match *self {
            StatusLevel::Status => "status",
            StatusLevel::Warning => "warning",
            StatusLevel::Error => "error",
            StatusLevel::Other(s) => s,
        }
    }
}

/// A decoded status (info) object: `onStatus`, or the info of `_result`/`_error`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Status<'a> {
    /// `level`.
    pub level: StatusLevel<'a>,
    /// `code`, e.g. `NetStream.Publish.Start`.
    pub code: &'a str,
    /// `description`, empty if absent.
    pub description: &'a str,
    /// The whole info object (for `clientid`, `details` ...).
    pub info: Object<'a>,
}

impl<'a> Status<'a> {
    /// Reads level, code and description from an info object. A missing
    /// level counts as `status`; a missing code is an error.
    pub fn from_object(info: Object<'a>) -> Result<Self, MessageError> {
        Ok(Status {
            level: StatusLevel::parse(info.get_str("level").unwrap_or("status")),
            code: info.get_str("code").ok_or(MessageError::MissingArgument("status code"))?,
            description: info.get_str("description").unwrap_or(""),
            info,
        })
    }
}

/// A status to send (see [`encode::on_status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusInfo<'s> {
    /// `status`, `warning` or `error`.
    pub level: &'s str,
    /// e.g. `NetStream.Publish.BadName`.
    pub code: &'s str,
    /// Human-readable text.
    pub description: &'s str,
}

/// What a client puts in its `connect` command.
#[derive(Clone, Copy)]
pub struct ConnectParams<'s> {
    /// Transaction id, 1 by convention.
    pub transaction_id: f64,
    /// The application (from the URL).
    pub app: &'s str,
    /// `type`: `Some("nonprivate")` for publishers, as FMLE, ffmpeg and OBS send.
    pub kind: Option<&'s str>,
    /// `flashVer`, e.g. `FMLE/3.0 (compatible; rtmp-core)`.
    pub flash_ver: &'s str,
    /// `tcUrl` (see [`crate::url::RtmpUrl::write_tc_url`]).
    pub tc_url: &'s str,
    /// Adds the player properties (`fpad`, `capabilities`, `audioCodecs`,
    /// `videoCodecs`, `videoFunction`) that players send.
    pub player: bool,
    /// `fourCcList` (Enhanced RTMP), omitted when empty: e.g. `["hvc1", "avc1"]`.
    pub four_cc_list: &'s [&'s str],
    /// `capsEx` (Enhanced RTMP v2), omitted when 0: bit 0x01 says the
    /// client handles `NetConnection.Connect.ReconnectRequest`.
    pub caps_ex: u32,
    /// With a `four_cc_list`, also the Enhanced RTMP v2 `videoFourCcInfoMap`:
    /// each listed FourCC mapped to this mask ([`FOURCC_CAN_ENCODE`] for a
    /// publisher ...); omitted when 0.
    pub four_cc_info: u32,
}

/// `FourCcInfoMask` (Enhanced RTMP v2): the client decodes the codec.
pub const FOURCC_CAN_DECODE: u32 = 0x01;
/// `FourCcInfoMask`: the client encodes (publishes) the codec.
pub const FOURCC_CAN_ENCODE: u32 = 0x02;
/// `FourCcInfoMask`: the client forwards the codec untouched.
pub const FOURCC_CAN_FORWARD: u32 = 0x04;

impl fmt::Debug for ConnectParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectParams")
            .field("app", &self.app)
            .field("kind", &self.kind)
            .field("flash_ver", &self.flash_ver)
            .field("player", &self.player)
            .finish_non_exhaustive()
    }
}

/// Encoders for command messages (type 20 payloads).
pub mod encode {
    use super::{ConnectParams, StatusInfo};
    use crate::amf0::{encode as amf, EncodeError, Writer};

    /// `connect` with the properties of `p`.
    pub fn connect(buf: &mut [u8], p: &ConnectParams<'_>) -> Result<usize, EncodeError> {
        amf(buf, |w| {
            w.string("connect").number(p.transaction_id).object_start();
            w.key("app").string(p.app);
            if let Some(kind) = p.kind {
                w.key("type").string(kind);
            }
            w.key("flashVer").string(p.flash_ver);
            w.key("tcUrl").string(p.tc_url);
            if p.player {
                w.key("fpad").boolean(false);
                w.key("capabilities").number(15.0);
                w.key("audioCodecs").number(4071.0);
                w.key("videoCodecs").number(252.0);
                w.key("videoFunction").number(1.0);
            }
            if !p.four_cc_list.is_empty() {
                w.key("fourCcList").strict_array_start(p.four_cc_list.len() as u32);
                for cc in p.four_cc_list {
                    w.string(cc);
                }
                if p.four_cc_info != 0 {
                    w.key("videoFourCcInfoMap").object_start();
                    for cc in p.four_cc_list {
                        w.key(cc).number(f64::from(p.four_cc_info));
                    }
                    w.object_end();
                }
            }
            if p.caps_ex != 0 {
                w.key("capsEx").number(f64::from(p.caps_ex));
            }
            w.object_end();
        })
    }

    fn status_object(w: &mut Writer<'_>, s: &StatusInfo<'_>) {
        w.object_start();
        w.key("level").string(s.level);
        w.key("code").string(s.code);
        w.key("description").string(s.description);
        w.object_end();
    }

    /// The server's `_result` to `connect`.
    pub fn connect_result(
        buf: &mut [u8],
        transaction_id: f64,
        fms_ver: &str,
        capabilities: f64,
        status: &StatusInfo<'_>,
    ) -> Result<usize, EncodeError> {
        amf(buf, |w| {
            w.string("_result").number(transaction_id).object_start();
            w.key("fmsVer").string(fms_ver);
            w.key("capabilities").number(capabilities);
            w.object_end();
            w.object_start();
            w.key("level").string(status.level);
            w.key("code").string(status.code);
            w.key("description").string(status.description);
            w.key("objectEncoding").number(0.0);
            w.object_end();
        })
    }

    /// `_result` with a null command object and an optional number
    /// (createStream answers with the new stream id).
    pub fn result(buf: &mut [u8], transaction_id: f64, value: Option<f64>) -> Result<usize, EncodeError> {
        amf(buf, |w| {
            w.string("_result").number(transaction_id).null();
            if let Some(v) = value {
                w.number(v);
            }
        })
    }

    /// `_error` with a status object.
    pub fn error(buf: &mut [u8], transaction_id: f64, status: &StatusInfo<'_>) -> Result<usize, EncodeError> {
        amf(buf, |w| {
            w.string("_error").number(transaction_id).null();
            status_object(w, status);
        })
    }

    /// `onStatus` (transaction 0, null command object, status object).
    pub fn on_status(buf: &mut [u8], status: &StatusInfo<'_>) -> Result<usize, EncodeError> {
        amf(buf, |w| {
            w.string("onStatus").number(0.0).null();
            status_object(w, status);
        })
    }

    fn named(buf: &mut [u8], command: &str, transaction_id: f64, name: &str) -> Result<usize, EncodeError> {
        amf(buf, |w| {
            w.string(command).number(transaction_id).null().string(name);
        })
    }

    /// `releaseStream`.
    pub fn release_stream(buf: &mut [u8], transaction_id: f64, name: &str) -> Result<usize, EncodeError> {
        named(buf, "releaseStream", transaction_id, name)
    }
    /// `FCPublish`.
    pub fn fc_publish(buf: &mut [u8], transaction_id: f64, name: &str) -> Result<usize, EncodeError> {
        named(buf, "FCPublish", transaction_id, name)
    }
    /// `FCUnpublish`.
    pub fn fc_unpublish(buf: &mut [u8], transaction_id: f64, name: &str) -> Result<usize, EncodeError> {
        named(buf, "FCUnpublish", transaction_id, name)
    }

    /// `createStream`.
    pub fn create_stream(buf: &mut [u8], transaction_id: f64) -> Result<usize, EncodeError> {
        amf(buf, |w| {
            w.string("createStream").number(transaction_id).null();
        })
    }

    /// `deleteStream`.
    pub fn delete_stream(buf: &mut [u8], transaction_id: f64, stream_id: f64) -> Result<usize, EncodeError> {
        amf(buf, |w| {
            w.string("deleteStream").number(transaction_id).null().number(stream_id);
        })
    }

    /// `publish` (`publish_type` is `live`, `record` or `append`).
    pub fn publish(buf: &mut [u8], transaction_id: f64, name: &str, publish_type: &str) -> Result<usize, EncodeError> {
        amf(buf, |w| {
            w.string("publish").number(transaction_id).null().string(name).string(publish_type);
        })
    }

    /// `play` (`start` -2 for live or recorded, -1 for live only).
    pub fn play(buf: &mut [u8], transaction_id: f64, name: &str, start: f64) -> Result<usize, EncodeError> {
        amf(buf, |w| {
            w.string("play").number(transaction_id).null().string(name).number(start);
        })
    }

    /// `onBWDone`.
    pub fn on_bw_done(buf: &mut [u8]) -> Result<usize, EncodeError> {
        amf(buf, |w| {
            w.string("onBWDone").number(0.0).null();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(payload: &[u8]) -> Command<'_> {
        CommandMessage::decode(type_id::COMMAND_AMF0, payload).unwrap().command().unwrap()
    }

    #[test]
    fn encoders_decode_back() {
        let mut b = [0u8; 512];
        let tc = "rtmp://127.0.0.1:1935/live";
        let p = ConnectParams {
            transaction_id: 1.0,
            app: "live",
            kind: Some("nonprivate"),
            flash_ver: "FMLE/3.0 (compatible; rtmp-core)",
            tc_url: tc,
            player: false,
            four_cc_list: &["hvc1", "avc1"],
            four_cc_info: FOURCC_CAN_ENCODE,
            caps_ex: 1,
        };
        let n = encode::connect(&mut b, &p).unwrap();
        let Command::Connect(c) = decode(&b[..n]) else { panic!() };
        assert_eq!((c.app(), c.tc_url(), c.kind()), (Some("live"), Some(tc), Some("nonprivate")));
        assert_eq!(c.four_cc_list().unwrap().iter().nth(1), Some(Value::String("avc1")));
        assert_eq!(c.caps_ex(), Some(1.0));
        assert_eq!((c.video_four_cc_info("hvc1"), c.video_four_cc_info("av01")), (Some(2.0), None));

        let n = encode::publish(&mut b, 5.0, "cam?key=s", "live").unwrap();
        assert_eq!(
            decode(&b[..n]),
            Command::Publish { transaction_id: 5.0, name: StreamName("cam?key=s"), publish_type: "live" }
        );
        let n = encode::play(&mut b, 4.0, "cam", -2.0).unwrap();
        assert!(matches!(decode(&b[..n]), Command::Play { name: StreamName("cam"), start: -2.0, reset: true, .. }));
        let n = encode::create_stream(&mut b, 4.0).unwrap();
        assert_eq!(decode(&b[..n]), Command::CreateStream { transaction_id: 4.0 });
        let n = encode::delete_stream(&mut b, 6.0, 1.0).unwrap();
        assert_eq!(decode(&b[..n]), Command::DeleteStream { transaction_id: 6.0, stream_id: 1.0 });
        let n = encode::release_stream(&mut b, 2.0, "x").unwrap();
        assert_eq!(decode(&b[..n]), Command::ReleaseStream { transaction_id: 2.0, name: StreamName("x") });
        let n = encode::fc_publish(&mut b, 3.0, "x").unwrap();
        assert_eq!(decode(&b[..n]), Command::FcPublish { transaction_id: 3.0, name: StreamName("x") });
        let n = encode::fc_unpublish(&mut b, 7.0, "x").unwrap();
        assert_eq!(decode(&b[..n]), Command::FcUnpublish { transaction_id: 7.0, name: StreamName("x") });
        let n = encode::on_bw_done(&mut b).unwrap();
        assert_eq!(decode(&b[..n]), Command::OnBwDone);
        let n = encode::result(&mut b, 4.0, Some(1.0)).unwrap();
        assert_eq!(
            decode(&b[..n]),
            Command::Result { transaction_id: 4.0, properties: Value::Null, info: Value::Number(1.0) }
        );

        let bad = StatusInfo { level: "error", code: "NetStream.Publish.BadName", description: "Already publishing" };
        let n = encode::on_status(&mut b, &bad).unwrap();
        let Command::OnStatus(s) = decode(&b[..n]) else { panic!() };
        assert_eq!((s.level, s.code, s.description), (StatusLevel::Error, bad.code, bad.description));
        let n = encode::error(&mut b, 1.0, &bad).unwrap();
        let Command::Error { info, .. } = decode(&b[..n]) else { panic!() };
        assert_eq!(Status::from_object(info.as_object().unwrap()).unwrap().code, bad.code);
        let ok = StatusInfo { level: "status", code: "NetConnection.Connect.Success", description: "ok" };
        let n = encode::connect_result(&mut b, 1.0, "FMS/3,0,1,123", 31.0, &ok).unwrap();
        let Command::Result { properties, info, .. } = decode(&b[..n]) else { panic!() };
        assert_eq!(properties.as_object().unwrap().get_number("capabilities"), Some(31.0));
        assert_eq!(info.as_object().unwrap().get_str("code"), Some(ok.code));
    }

    #[test]
    fn stream_names_are_redacted_in_debug() {
        extern crate std;
        let mut b = [0u8; 128];
        let n = encode::publish(&mut b, 5.0, "live_123?key=SECRET", "live").unwrap();
        let cmd = decode(&b[..n]);
        let shown = std::format!("{cmd:?}");
        assert!(!shown.contains("SECRET") && !shown.contains("live_123"), "{shown}");
        let Command::Publish { name, .. } = cmd else { panic!() };
        assert_eq!((name.as_str(), name.base_name()), ("live_123?key=SECRET", "live_123"));
    }

    #[test]
    fn malformed_commands_are_typed_errors() {
        let d = |p: &[u8]| CommandMessage::decode(type_id::COMMAND_AMF0, p).and_then(|c| c.command().map(|_| ()));
        assert_eq!(d(&[]), Err(MessageError::MissingName));
        assert_eq!(d(&[0x05]), Err(MessageError::MissingName));
        assert_eq!(d(&[0x02, 0, 1, b'x']), Err(MessageError::MissingTransactionId));
        let mut b = [0u8; 64];
        let n = amf0::encode(&mut b, |w| {
            w.string("publish").number(1.0).null();
        })
        .unwrap();
        assert_eq!(d(&b[..n]), Err(MessageError::MissingArgument("stream name")));
        let n = amf0::encode(&mut b, |w| {
            w.string("onStatus").number(0.0).null().object_start().key("level").string("error").object_end();
        })
        .unwrap();
        assert_eq!(d(&b[..n]), Err(MessageError::MissingArgument("status code")));
        assert_eq!(CommandMessage::decode(17, &[]).unwrap_err(), MessageError::Truncated { type_id: 17 });
        assert_eq!(CommandMessage::decode(9, &[]).unwrap_err(), MessageError::WrongType(9));
    }

    #[test]
    fn amf3_command_container_is_read_as_amf0() {
        let mut b = [0u8; 64];
        b[0] = 0;
        let n = encode::create_stream(&mut b[1..], 2.0).unwrap();
        let c = CommandMessage::decode(type_id::COMMAND_AMF3, &b[..n + 1]).unwrap();
        assert_eq!(c.command().unwrap(), Command::CreateStream { transaction_id: 2.0 });
    }
}
