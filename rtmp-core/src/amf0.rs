//! AMF0 (Action Message Format 0), as used by RTMP command and data messages.
//!
//! Decoding borrows from the input: strings are `&str` into the message, and
//! objects, ECMA arrays and strict arrays are views that iterate their entries
//! lazily, in wire order. A value is validated completely when it is decoded
//! (so iterating a decoded object cannot fail), with nesting capped at
//! [`MAX_DEPTH`] so a hostile peer cannot exhaust the stack.
//!
//! Encoding writes into a caller's `&mut [u8]` through [`encode`]: the closure
//! is run once to measure and once to write, so a buffer that is too small is
//! left untouched and the error says how many bytes were needed.
//!
//! ```
//! use rtmp_core::amf0::{self, Value};
//! let mut buf = [0u8; 64];
//! let n = amf0::encode(&mut buf, |w| {
//!     w.string("connect").number(1.0).object_start();
//!     w.key("app").string("live");
//!     w.object_end();
//! })
//! .unwrap();
//! let mut values = amf0::Values::new(&buf[..n]);
//! assert_eq!(values.next(), Some(Ok(Value::String("connect"))));
//! assert_eq!(values.next(), Some(Ok(Value::Number(1.0))));
//! let Some(Ok(Value::Object(obj))) = values.next() else { panic!() };
//! assert_eq!(obj.get("app"), Some(Value::String("live")));
//! ```

use core::fmt;
use nom::number::complete::{be_f64, be_i16, be_u16, be_u32, be_u8};

/// Deepest nesting of objects and arrays accepted by the decoder.
pub const MAX_DEPTH: usize = 32;

/// AMF0 type markers (AMF0 specification, section 2.1).
pub mod marker {
    #![allow(missing_docs)]
    pub const NUMBER: u8 = 0x00;
    pub const BOOLEAN: u8 = 0x01;
    pub const STRING: u8 = 0x02;
    pub const OBJECT: u8 = 0x03;
    pub const MOVIE_CLIP: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const UNDEFINED: u8 = 0x06;
    pub const REFERENCE: u8 = 0x07;
    pub const ECMA_ARRAY: u8 = 0x08;
    pub const OBJECT_END: u8 = 0x09;
    pub const STRICT_ARRAY: u8 = 0x0A;
    pub const DATE: u8 = 0x0B;
    pub const LONG_STRING: u8 = 0x0C;
    pub const UNSUPPORTED: u8 = 0x0D;
    pub const RECORD_SET: u8 = 0x0E;
    pub const XML_DOCUMENT: u8 = 0x0F;
    pub const TYPED_OBJECT: u8 = 0x10;
    pub const AVMPLUS: u8 = 0x11;
}

/// Why AMF0 bytes could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Amf0Error {
    /// The input ends inside a value.
    Truncated,
    /// A type marker that AMF0 does not define.
    UnknownMarker(u8),
    /// MovieClip (0x04) or RecordSet (0x0E): reserved, never sent by real peers.
    ReservedMarker(u8),
    /// The AVM+ marker (0x11) switches to AMF3, which this crate does not speak.
    Amf3Unsupported,
    /// An object-end marker where a value was expected.
    UnexpectedObjectEnd,
    /// A string is not valid UTF-8.
    InvalidUtf8,
    /// Objects or arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for Amf0Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amf0Error::Truncated => f.write_str("AMF0 value truncated"),
            Amf0Error::UnknownMarker(m) => write!(f, "unknown AMF0 type marker 0x{m:02x}"),
            Amf0Error::ReservedMarker(m) => write!(f, "reserved AMF0 type marker 0x{m:02x}"),
            Amf0Error::Amf3Unsupported => f.write_str("AMF3 values are not supported"),
            Amf0Error::UnexpectedObjectEnd => f.write_str("AMF0 object-end marker outside an object"),
            Amf0Error::InvalidUtf8 => f.write_str("AMF0 string is not valid UTF-8"),
            Amf0Error::TooDeep => write!(f, "AMF0 nesting deeper than {MAX_DEPTH}"),
        }
    }
}

impl core::error::Error for Amf0Error {}

/// One decoded AMF0 value, borrowing from the input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// IEEE-754 double.
    Number(f64),
    /// Boolean.
    Boolean(bool),
    /// String of up to 65535 bytes.
    String(&'a str),
    /// String with a 32-bit length.
    LongString(&'a str),
    /// XML document (a long string with its own marker).
    XmlDocument(&'a str),
    /// Anonymous object.
    Object(Object<'a>),
    /// Object with a registered class name.
    TypedObject(&'a str, Object<'a>),
    /// Associative array: a count hint and properties.
    EcmaArray(EcmaArray<'a>),
    /// Dense array.
    StrictArray(StrictArray<'a>),
    /// Date: milliseconds since the Unix epoch, and a time zone (always 0 in practice).
    Date {
        /// Milliseconds since 1970-01-01 UTC.
        millis: f64,
        /// Time zone offset field, reserved.
        timezone: i16,
    },
    /// Null.
    Null,
    /// Undefined.
    Undefined,
    /// Reference to an earlier complex value by index.
    Reference(u16),
    /// The "unsupported" marker.
    Unsupported,
}

impl<'a> Value<'a> {
    /// The number, if this is a number.
    pub fn as_number(&self) -> Option<f64> {
        match *self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
    /// The text, if this is a string of either length form.
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::String(s) | Value::LongString(s) => Some(s),
            _ => None,
        }
    }
    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Boolean(b) => Some(b),
            _ => None,
        }
    }
    /// The properties, if this is an object, typed object or ECMA array.
    pub fn as_object(&self) -> Option<Object<'a>> {
        match *self {
            Value::Object(o) | Value::TypedObject(_, o) => Some(o),
            Value::EcmaArray(a) => Some(a.properties),
            _ => None,
        }
    }
}

/// The properties of an object (or ECMA array), validated, iterated lazily in
/// wire order. Duplicate keys are kept as sent.
#[derive(Clone, Copy, PartialEq)]
pub struct Object<'a> {
    /// Property bytes, without the closing `00 00 09`.
    body: &'a [u8],
    /// The same bytes as text, when all of them are valid UTF-8 (objects of
    /// strings: connect, status objects). Iteration then slices keys and
    /// string values out of it instead of validating each one again.
    text: Option<&'a str>,
}

impl<'a> Object<'a> {
    fn new(body: &'a [u8]) -> Self {
        Object { body, text: core::str::from_utf8(body).ok() }
    }
}

impl<'a> Object<'a> {
    /// An iterator over `(key, value)` pairs in wire order.
    pub fn iter(&self) -> Properties<'a> {
        Properties { rest: self.body, text: self.text }
    }
    /// The first property called `key`.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
    /// The first property called `key`, if it is a string.
    pub fn get_str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(|v| v.as_str())
    }
    /// The first property called `key`, if it is a number.
    pub fn get_number(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(|v| v.as_number())
    }
    /// Whether the object has no properties.
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }
}

impl<'a> IntoIterator for Object<'a> {
    type Item = (&'a str, Value<'a>);
    type IntoIter = Properties<'a>;
    fn into_iter(self) -> Properties<'a> {
        self.iter()
    }
}

impl fmt::Debug for Object<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Iterator over an [`Object`]'s properties.
#[derive(Clone)]
pub struct Properties<'a> {
    rest: &'a [u8],
    /// `rest` as text, while the object's body is all valid UTF-8.
    text: Option<&'a str>,
}

impl<'a> Properties<'a> {
    /// A string of `len` bytes at `at`, sliced from the text when there is one.
    #[inline]
    fn str_at(&self, at: usize, len: usize) -> Option<&'a str> {
        match self.text {
            Some(t) => t.get(at..at + len),
            None => core::str::from_utf8(self.rest.get(at..at + len)?).ok(),
        }
    }
}

impl<'a> Iterator for Properties<'a> {
    type Item = (&'a str, Value<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        // The body was validated when the object was decoded; any failure here
        // would be a bug, and ends the iteration rather than panicking.
        let [a, b, ..] = *self.rest else { return None };
        let key_len = usize::from(u16::from_be_bytes([a, b]));
        let key = self.str_at(2, key_len)?;
        let at = 2 + key_len;
        let (value, used) = match self.rest.get(at..)? {
            [marker::STRING, a, b, ..] => {
                let n = usize::from(u16::from_be_bytes([*a, *b]));
                (Value::String(self.str_at(at + 3, n)?), at + 3 + n)
            }
            [marker::NUMBER, ..] => {
                let b: [u8; 8] = self.rest.get(at + 1..at + 9)?.try_into().ok()?;
                (Value::Number(f64::from_be_bytes(b)), at + 9)
            }
            _ => {
                let (value, rest) = decode_at(&self.rest[at..], 1).ok()?;
                (value, self.rest.len() - rest.len())
            }
        };
        self.rest = &self.rest[used..];
        // A value ends where the next key's length begins; if that is not a
        // character boundary, carry on without the text.
        self.text = self.text.and_then(|t| t.get(used..));
        Some((key, value))
    }
}

/// An ECMA array: the count the sender announced (a hint, not checked) and the properties.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EcmaArray<'a> {
    /// The announced number of entries.
    pub count: u32,
    /// The entries.
    pub properties: Object<'a>,
}

/// A strict (dense) array, validated, iterated lazily.
#[derive(Clone, Copy, PartialEq)]
pub struct StrictArray<'a> {
    count: u32,
    body: &'a [u8],
}

impl<'a> StrictArray<'a> {
    /// Number of elements.
    pub fn len(&self) -> u32 {
        self.count
    }
    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// Iterator over the elements.
    pub fn iter(&self) -> StrictArrayIter<'a> {
        StrictArrayIter { rest: self.body, left: self.count }
    }
}

impl fmt::Debug for StrictArray<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over a [`StrictArray`].
#[derive(Clone)]
pub struct StrictArrayIter<'a> {
    rest: &'a [u8],
    left: u32,
}

impl<'a> Iterator for StrictArrayIter<'a> {
    type Item = Value<'a>;
    fn next(&mut self) -> Option<Value<'a>> {
        if self.left == 0 {
            return None;
        }
        let (v, rest) = decode_at(self.rest, 1).ok()?;
        self.left -= 1;
        self.rest = rest;
        Some(v)
    }
}

/// Decodes one value from the front of `input`, returning it and the rest.
pub fn decode(input: &[u8]) -> Result<(Value<'_>, &[u8]), Amf0Error> {
    decode_at(input, 0)
}

/// Iterator over the values of a sequence, such as a command message body.
/// Stops after the first error, which it yields.
#[derive(Clone)]
pub struct Values<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Values<'a> {
    /// Iterates the values of `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Values { rest: input, failed: false }
    }
    /// The bytes not yet decoded.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for Values<'a> {
    type Item = Result<Value<'a>, Amf0Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match decode(self.rest) {
            Ok((v, rest)) => {
                self.rest = rest;
                Some(Ok(v))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

fn truncated(_: nom::Err<()>) -> Amf0Error {
    Amf0Error::Truncated
}

fn utf8(b: &[u8]) -> Result<&str, Amf0Error> {
    core::str::from_utf8(b).map_err(|_| Amf0Error::InvalidUtf8)
}

/// Checks a string's bytes without building a `&str`: ASCII, the common
/// case, is checked word-wise; anything else gets full UTF-8 validation.
#[inline]
fn check_utf8(b: &[u8]) -> Result<(), Amf0Error> {
    if b.is_ascii() || core::str::from_utf8(b).is_ok() {
        Ok(())
    } else {
        Err(Amf0Error::InvalidUtf8)
    }
}

/// Splits a string with a 16-bit length off the front: (rest, bytes).
#[inline]
fn short_bytes(input: &[u8]) -> Result<(&[u8], &[u8]), Amf0Error> {
    let [a, b, rest @ ..] = input else { return Err(Amf0Error::Truncated) };
    let n = usize::from(u16::from_be_bytes([*a, *b]));
    if rest.len() < n {
        return Err(Amf0Error::Truncated);
    }
    let (s, rest) = rest.split_at(n);
    Ok((rest, s))
}

/// Splits a string with a 32-bit length off the front: (rest, bytes).
#[inline]
fn long_bytes(input: &[u8]) -> Result<(&[u8], &[u8]), Amf0Error> {
    let [a, b, c, d, rest @ ..] = input else { return Err(Amf0Error::Truncated) };
    let n = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
    if rest.len() < n {
        return Err(Amf0Error::Truncated);
    }
    let (s, rest) = rest.split_at(n);
    Ok((rest, s))
}

fn short_str(input: &[u8]) -> Result<(&[u8], &str), Amf0Error> {
    let (rest, s) = short_bytes(input)?;
    Ok((rest, utf8(s)?))
}

fn long_str(input: &[u8]) -> Result<(&[u8], &str), Amf0Error> {
    let (rest, s) = long_bytes(input)?;
    Ok((rest, utf8(s)?))
}

fn advance(input: &[u8], n: usize) -> Result<&[u8], Amf0Error> {
    input.get(n..).ok_or(Amf0Error::Truncated)
}

/// Validates one value completely without building it; returns the rest.
/// Objects are scanned with this, so decoding validates a whole tree once
/// and iterating it later cannot fail.
fn skip(input: &[u8], depth: usize) -> Result<&[u8], Amf0Error> {
    if depth > MAX_DEPTH {
        return Err(Amf0Error::TooDeep);
    }
    let (&m, rest) = input.split_first().ok_or(Amf0Error::Truncated)?;
    match m {
        marker::NUMBER => advance(rest, 8),
        marker::BOOLEAN => advance(rest, 1),
        marker::STRING => {
            let (rest, s) = short_bytes(rest)?;
            check_utf8(s)?;
            Ok(rest)
        }
        marker::LONG_STRING | marker::XML_DOCUMENT => {
            let (rest, s) = long_bytes(rest)?;
            check_utf8(s)?;
            Ok(rest)
        }
        marker::OBJECT => properties(rest, depth).map(|(_, rest)| rest),
        marker::TYPED_OBJECT => {
            let (rest, class) = short_bytes(rest)?;
            check_utf8(class)?;
            properties(rest, depth).map(|(_, rest)| rest)
        }
        marker::ECMA_ARRAY => properties(advance(rest, 4)?, depth).map(|(_, rest)| rest),
        marker::STRICT_ARRAY => strict_elements(rest, depth).map(|(_, _, rest)| rest),
        marker::DATE => advance(rest, 10),
        marker::NULL | marker::UNDEFINED | marker::UNSUPPORTED => Ok(rest),
        marker::REFERENCE => advance(rest, 2),
        marker::OBJECT_END => Err(Amf0Error::UnexpectedObjectEnd),
        marker::MOVIE_CLIP | marker::RECORD_SET => Err(Amf0Error::ReservedMarker(m)),
        marker::AVMPLUS => Err(Amf0Error::Amf3Unsupported),
        other => Err(Amf0Error::UnknownMarker(other)),
    }
}

/// Scans properties up to and including the object-end marker; returns the
/// body (without the end marker) and the rest.
fn properties(input: &[u8], depth: usize) -> Result<(&[u8], &[u8]), Amf0Error> {
    let mut rest = input;
    loop {
        let (after_key, key) = short_bytes(rest)?;
        if key.is_empty() {
            match after_key.split_first() {
                Some((&marker::OBJECT_END, after)) => {
                    let body_len = input.len() - rest.len();
                    return Ok((&input[..body_len], after));
                }
                None => return Err(Amf0Error::Truncated),
                Some(_) => {}
            }
        } else {
            check_utf8(key)?;
        }
        rest = skip(after_key, depth + 1)?;
    }
}

/// Scans a strict array's count and elements: (count, body, rest).
fn strict_elements(input: &[u8], depth: usize) -> Result<(u32, &[u8], &[u8]), Amf0Error> {
    let [a, b, c, d, start @ ..] = input else { return Err(Amf0Error::Truncated) };
    let count = u32::from_be_bytes([*a, *b, *c, *d]);
    let mut rest = start;
    for _ in 0..count {
        // Every element takes at least one byte, so a huge count ends with
        // `Truncated` after at most `input.len()` rounds.
        rest = skip(rest, depth + 1)?;
    }
    Ok((count, &start[..start.len() - rest.len()], rest))
}

fn decode_at(input: &[u8], depth: usize) -> Result<(Value<'_>, &[u8]), Amf0Error> {
    if depth > MAX_DEPTH {
        return Err(Amf0Error::TooDeep);
    }
    let num = |i| -> Result<(&[u8], f64), Amf0Error> { be_f64::<_, ()>(i).map_err(truncated) };
    let (&m, rest) = input.split_first().ok_or(Amf0Error::Truncated)?;
    Ok(match m {
        marker::NUMBER => {
            let (rest, n) = num(rest)?;
            (Value::Number(n), rest)
        }
        marker::BOOLEAN => {
            let (rest, b): (_, u8) = be_u8::<_, ()>(rest).map_err(truncated)?;
            (Value::Boolean(b != 0), rest)
        }
        marker::STRING => {
            let (rest, s) = short_str(rest)?;
            (Value::String(s), rest)
        }
        marker::LONG_STRING => {
            let (rest, s) = long_str(rest)?;
            (Value::LongString(s), rest)
        }
        marker::XML_DOCUMENT => {
            let (rest, s) = long_str(rest)?;
            (Value::XmlDocument(s), rest)
        }
        marker::OBJECT => {
            let (body, rest) = properties(rest, depth)?;
            (Value::Object(Object::new(body)), rest)
        }
        marker::TYPED_OBJECT => {
            let (rest, class) = short_str(rest)?;
            let (body, rest) = properties(rest, depth)?;
            (Value::TypedObject(class, Object::new(body)), rest)
        }
        marker::ECMA_ARRAY => {
            let (rest, count): (_, u32) = be_u32::<_, ()>(rest).map_err(truncated)?;
            let (body, rest) = properties(rest, depth)?;
            (Value::EcmaArray(EcmaArray { count, properties: Object::new(body) }), rest)
        }
        marker::STRICT_ARRAY => {
            let (count, body, rest) = strict_elements(rest, depth)?;
            (Value::StrictArray(StrictArray { count, body }), rest)
        }
        marker::DATE => {
            let (rest, millis) = num(rest)?;
            let (rest, timezone): (_, i16) = be_i16::<_, ()>(rest).map_err(truncated)?;
            (Value::Date { millis, timezone }, rest)
        }
        marker::NULL => (Value::Null, rest),
        marker::UNDEFINED => (Value::Undefined, rest),
        marker::UNSUPPORTED => (Value::Unsupported, rest),
        marker::REFERENCE => {
            let (rest, idx): (_, u16) = be_u16::<_, ()>(rest).map_err(truncated)?;
            (Value::Reference(idx), rest)
        }
        marker::OBJECT_END => return Err(Amf0Error::UnexpectedObjectEnd),
        marker::MOVIE_CLIP | marker::RECORD_SET => return Err(Amf0Error::ReservedMarker(m)),
        marker::AVMPLUS => return Err(Amf0Error::Amf3Unsupported),
        other => return Err(Amf0Error::UnknownMarker(other)),
    })
}

/// Why encoding failed. The output buffer is untouched in every case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The buffer is too small; `needed` bytes would have been written.
    BufferTooSmall {
        /// Bytes the encoding needs.
        needed: usize,
    },
    /// A property key is longer than 65535 bytes, or a string longer than 4 GiB.
    StringTooLong,
    /// Object and array starts and ends do not pair up.
    Unbalanced,
    /// The closure wrote different bytes on its measuring and writing runs.
    Nondeterministic,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { needed } => write!(f, "buffer too small: {needed} bytes needed"),
            EncodeError::StringTooLong => f.write_str("string too long for AMF0"),
            EncodeError::Unbalanced => f.write_str("unbalanced AMF0 object or array"),
            EncodeError::Nondeterministic => f.write_str("AMF0 encoder closure is not deterministic"),
        }
    }
}

impl core::error::Error for EncodeError {}

/// Writes AMF0 values; created by [`encode`].
pub struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
    measuring: bool,
    open: u32,
    error: Option<EncodeError>,
}

impl Writer<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> &mut Self {
        if !self.measuring {
            match self.buf.get_mut(self.pos..self.pos + bytes.len()) {
                Some(dst) => dst.copy_from_slice(bytes),
                None => {
                    self.error.get_or_insert(EncodeError::Nondeterministic);
                }
            }
        }
        self.pos += bytes.len();
        self
    }

    fn fail(&mut self, e: EncodeError) -> &mut Self {
        self.error.get_or_insert(e);
        self
    }

    /// Bytes written so far.
    pub fn position(&self) -> usize {
        self.pos
    }
    /// A number.
    #[inline]
    pub fn number(&mut self, v: f64) -> &mut Self {
        let [a, b, c, d, e, f, g, h] = v.to_be_bytes();
        self.put(&[marker::NUMBER, a, b, c, d, e, f, g, h])
    }
    /// A boolean.
    pub fn boolean(&mut self, v: bool) -> &mut Self {
        self.put(&[marker::BOOLEAN, v as u8])
    }
    /// A string: the short form up to 65535 bytes, the long form beyond.
    #[inline]
    pub fn string(&mut self, s: &str) -> &mut Self {
        match u16::try_from(s.len()) {
            Ok(n) => {
                let [a, b] = n.to_be_bytes();
                self.put(&[marker::STRING, a, b]).put(s.as_bytes())
            }
            Err(_) => self.long_string(s),
        }
    }
    /// A string written by `Display` (a tcUrl, say), without a heap copy.
    pub fn display(&mut self, v: &dyn fmt::Display) -> &mut Self {
        struct Count(usize);
        impl fmt::Write for Count {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0 += s.len();
                Ok(())
            }
        }
        struct Put<'w, 'b>(&'w mut Writer<'b>);
        impl fmt::Write for Put<'_, '_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0.put(s.as_bytes());
                Ok(())
            }
        }
        let mut count = Count(0);
        let _ = fmt::write(&mut count, format_args!("{v}"));
        let Ok(n) = u16::try_from(count.0) else { return self.fail(EncodeError::StringTooLong) };
        self.put(&[marker::STRING]).put(&n.to_be_bytes());
        let start = self.pos;
        let _ = fmt::write(&mut Put(self), format_args!("{v}"));
        if self.pos - start != count.0 {
            self.fail(EncodeError::Nondeterministic);
        }
        self
    }
    /// A string in the long form, whatever its length.
    pub fn long_string(&mut self, s: &str) -> &mut Self {
        self.long_marker_str(marker::LONG_STRING, s)
    }
    fn long_marker_str(&mut self, m: u8, s: &str) -> &mut Self {
        match u32::try_from(s.len()) {
            Ok(n) => self.put(&[m]).put(&n.to_be_bytes()).put(s.as_bytes()),
            Err(_) => self.fail(EncodeError::StringTooLong),
        }
    }
    /// Null.
    pub fn null(&mut self) -> &mut Self {
        self.put(&[marker::NULL])
    }
    /// Undefined.
    pub fn undefined(&mut self) -> &mut Self {
        self.put(&[marker::UNDEFINED])
    }
    /// A reference to an earlier complex value.
    pub fn reference(&mut self, index: u16) -> &mut Self {
        self.put(&[marker::REFERENCE]).put(&index.to_be_bytes())
    }
    /// A date.
    pub fn date(&mut self, millis: f64, timezone: i16) -> &mut Self {
        self.put(&[marker::DATE]).put(&millis.to_be_bytes()).put(&timezone.to_be_bytes())
    }
    /// Opens an anonymous object; follow with `key(..).value` pairs and [`Writer::object_end`].
    pub fn object_start(&mut self) -> &mut Self {
        self.open += 1;
        self.put(&[marker::OBJECT])
    }
    /// Opens a typed object.
    pub fn typed_object_start(&mut self, class: &str) -> &mut Self {
        self.open += 1;
        self.put(&[marker::TYPED_OBJECT]).raw_key(class)
    }
    /// Opens an ECMA array with a count hint; close it with [`Writer::object_end`].
    pub fn ecma_array_start(&mut self, count: u32) -> &mut Self {
        self.open += 1;
        self.put(&[marker::ECMA_ARRAY]).put(&count.to_be_bytes())
    }
    /// Opens a strict array of `count` elements: write exactly that many values next.
    pub fn strict_array_start(&mut self, count: u32) -> &mut Self {
        self.put(&[marker::STRICT_ARRAY]).put(&count.to_be_bytes())
    }
    /// A property key inside an object or ECMA array.
    #[inline]
    pub fn key(&mut self, k: &str) -> &mut Self {
        if k.is_empty() {
            return self.fail(EncodeError::StringTooLong);
        }
        self.raw_key(k)
    }
    #[inline]
    fn raw_key(&mut self, k: &str) -> &mut Self {
        match u16::try_from(k.len()) {
            Ok(n) => self.put(&n.to_be_bytes()).put(k.as_bytes()),
            Err(_) => self.fail(EncodeError::StringTooLong),
        }
    }
    /// Closes the innermost object, typed object or ECMA array.
    pub fn object_end(&mut self) -> &mut Self {
        if self.open == 0 {
            return self.fail(EncodeError::Unbalanced);
        }
        self.open -= 1;
        self.put(&[0, 0, marker::OBJECT_END])
    }
    /// Writes a decoded value back, byte for byte as AMF0 encodes it.
    pub fn value(&mut self, v: &Value<'_>) -> &mut Self {
        match *v {
            Value::Number(n) => self.number(n),
            Value::Boolean(b) => self.boolean(b),
            Value::String(s) => match u16::try_from(s.len()) {
                Ok(_) => self.string(s),
                Err(_) => self.fail(EncodeError::StringTooLong),
            },
            Value::LongString(s) => self.long_string(s),
            Value::XmlDocument(s) => self.long_marker_str(marker::XML_DOCUMENT, s),
            Value::Object(o) => self.put(&[marker::OBJECT]).put(o.body).put(&[0, 0, marker::OBJECT_END]),
            Value::TypedObject(class, o) => {
                self.put(&[marker::TYPED_OBJECT]).raw_key(class).put(o.body).put(&[0, 0, marker::OBJECT_END])
            }
            Value::EcmaArray(a) => self
                .put(&[marker::ECMA_ARRAY])
                .put(&a.count.to_be_bytes())
                .put(a.properties.body)
                .put(&[0, 0, marker::OBJECT_END]),
            Value::StrictArray(a) => self.put(&[marker::STRICT_ARRAY]).put(&a.count.to_be_bytes()).put(a.body),
            Value::Date { millis, timezone } => self.date(millis, timezone),
            Value::Null => self.null(),
            Value::Undefined => self.undefined(),
            Value::Reference(i) => self.reference(i),
            Value::Unsupported => self.put(&[marker::UNSUPPORTED]),
        }
    }
}

/// Runs `f` against a [`Writer`] into `buf` and returns the bytes written.
///
/// `f` runs twice (measure, then write), so it must write the same values both
/// times; builders are plain code, so this holds naturally.
pub fn encode<F>(buf: &mut [u8], mut f: F) -> Result<usize, EncodeError>
where
    F: FnMut(&mut Writer<'_>),
{
    let mut measure = Writer { buf: &mut [], pos: 0, measuring: true, open: 0, error: None };
    f(&mut measure);
    if let Some(e) = measure.error {
        return Err(e);
    }
    if measure.open != 0 {
        return Err(EncodeError::Unbalanced);
    }
    let needed = measure.pos;
    if needed > buf.len() {
        return Err(EncodeError::BufferTooSmall { needed });
    }
    let mut w = Writer { buf, pos: 0, measuring: false, open: 0, error: None };
    f(&mut w);
    match w.error {
        Some(e) => Err(e),
        None if w.pos != needed => Err(EncodeError::Nondeterministic),
        None => Ok(needed),
    }
}

/// Like [`encode`] for a caller that knows the size `f` writes (`needed`),
/// so `f` runs once: the buffer is left untouched when it is too small, and
/// a wrong `needed` is reported as [`EncodeError::Nondeterministic`].
pub(crate) fn encode_known_len<F>(buf: &mut [u8], needed: usize, mut f: F) -> Result<usize, EncodeError>
where
    F: FnMut(&mut Writer<'_>),
{
    let Some(buf) = buf.get_mut(..needed) else { return Err(EncodeError::BufferTooSmall { needed }) };
    let mut w = Writer { buf, pos: 0, measuring: false, open: 0, error: None };
    f(&mut w);
    match w.error {
        Some(e) => Err(e),
        None if w.pos != needed || w.open != 0 => Err(EncodeError::Nondeterministic),
        None => Ok(needed),
    }
}

/// How many bytes `f` writes; for sizing buffers.
pub fn encoded_len<F>(mut f: F) -> Result<usize, EncodeError>
where
    F: FnMut(&mut Writer<'_>),
{
    let mut measure = Writer { buf: &mut [], pos: 0, measuring: true, open: 0, error: None };
    f(&mut measure);
    match measure.error {
        Some(e) => Err(e),
        None => Ok(measure.pos),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // `_result` of a connect as nginx-rtmp sends it (hand-assembled from the spec).
    static RESULT: &[u8] = &[
        0x02, 0x00, 0x07, b'_', b'r', b'e', b's', b'u', b'l', b't', // "_result"
        0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, // 1.0
        0x03, 0x00, 0x06, b'f', b'm', b's', b'V', b'e', b'r', 0x02, 0x00, 0x03, b'F', b'M', b'S', //
        0x00, 0x0c, b'c', b'a', b'p', b'a', b'b', b'i', b'l', b'i', b't', b'i', b'e', b's', 0x00, 0x40, 0x3f, 0, 0, 0,
        0, 0, 0, // 31.0
        0x00, 0x00, 0x09, //
        0x03, 0x00, 0x04, b'c', b'o', b'd', b'e', 0x02, 0x00, 0x03, b'a', b'b', b'c', 0x00, 0x00, 0x09,
    ];

    #[test]
    fn decodes_in_wire_order_and_reencodes_identically() {
        let vals: heapless::Vec<Value<'_>, 8> = Values::new(RESULT).map(|v| v.unwrap()).collect();
        assert_eq!(vals[0], Value::String("_result"));
        assert_eq!(vals[1], Value::Number(1.0));
        let props = vals[2].as_object().unwrap();
        let keys: heapless::Vec<&str, 4> = props.iter().map(|(k, _)| k).collect();
        assert_eq!(&keys[..], &["fmsVer", "capabilities"]);
        assert_eq!(props.get_number("capabilities"), Some(31.0));
        assert_eq!(vals[3].as_object().unwrap().get_str("code"), Some("abc"));
        let mut out = [0u8; 128];
        let n = encode(&mut out, |w| {
            for v in &vals {
                w.value(v);
            }
        })
        .unwrap();
        assert_eq!(&out[..n], RESULT);
    }

    #[test]
    fn every_type_roundtrips() {
        let mut buf = [0u8; 256];
        let n = encode(&mut buf, |w| {
            w.number(-2.5).boolean(true).string("s").long_string("L").null().undefined().reference(7);
            w.date(1.0e12, 0);
            w.ecma_array_start(1).key("k").number(1.0).object_end();
            w.strict_array_start(2).number(1.0).string("two");
            w.typed_object_start("Cls").key("a").null().object_end();
            w.object_start().key("nested").object_start().key("x").boolean(false).object_end().object_end();
        })
        .unwrap();
        let vals: heapless::Vec<Value<'_>, 16> = Values::new(&buf[..n]).map(|v| v.unwrap()).collect();
        assert_eq!(vals.len(), 12);
        assert_eq!(vals[4], Value::Null);
        assert_eq!(vals[6], Value::Reference(7));
        assert_eq!(vals[7], Value::Date { millis: 1.0e12, timezone: 0 });
        let Value::StrictArray(a) = vals[9] else { panic!() };
        assert_eq!(a.iter().nth(1), Some(Value::String("two")));
        let Value::TypedObject(cls, _) = vals[10] else { panic!() };
        assert_eq!(cls, "Cls");
        let mut again = [0u8; 256];
        let m = encode(&mut again, |w| {
            for v in &vals {
                w.value(v);
            }
        })
        .unwrap();
        assert_eq!(&again[..m], &buf[..n]);
    }

    #[test]
    fn iteration_reaches_short_trailing_values() {
        // {"": true} with the boolean as the last two bytes of the body (found by fuzzing).
        let bytes = [0x03, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x09];
        let (v, rest) = decode(&bytes).unwrap();
        assert!(rest.is_empty());
        let props: heapless::Vec<(&str, Value<'_>), 2> = v.as_object().unwrap().iter().collect();
        assert_eq!(&props[..], &[("", Value::Boolean(true))]);
        // Text body, then a non-text body, both ending in a short value.
        let mut buf = [0u8; 64];
        let n = encode(&mut buf, |w| {
            w.object_start().key("a").string("x").key("b").null().object_end();
            w.object_start().key("n").number(640.0).key("z").boolean(false).object_end();
        })
        .unwrap();
        let all: heapless::Vec<Value<'_>, 2> = Values::new(&buf[..n]).map(|v| v.unwrap()).collect();
        assert_eq!(all[0].as_object().unwrap().iter().count(), 2);
        assert_eq!(all[1].as_object().unwrap().get("z"), Some(Value::Boolean(false)));
    }

    #[test]
    fn short_buffer_untouched_and_size_reported() {
        let mut buf = [0xAAu8; 4];
        assert_eq!(
            encode(&mut buf, |w| {
                w.string("hello");
            }),
            Err(EncodeError::BufferTooSmall { needed: 8 })
        );
        assert_eq!(buf, [0xAA; 4]);
        assert_eq!(
            encode(&mut buf, |w| {
                w.object_start();
            }),
            Err(EncodeError::Unbalanced)
        );
    }

    #[test]
    fn errors_are_typed() {
        assert_eq!(decode(&[]), Err(Amf0Error::Truncated));
        assert_eq!(decode(&[0x00, 1, 2]), Err(Amf0Error::Truncated));
        assert_eq!(decode(&[0x11, 1]), Err(Amf0Error::Amf3Unsupported));
        assert_eq!(decode(&[0x04]), Err(Amf0Error::ReservedMarker(4)));
        assert_eq!(decode(&[0x42]), Err(Amf0Error::UnknownMarker(0x42)));
        assert_eq!(decode(&[0x09]), Err(Amf0Error::UnexpectedObjectEnd));
        assert_eq!(decode(&[0x02, 0, 1, 0xff]), Err(Amf0Error::InvalidUtf8));
        assert_eq!(decode(&[0x03, 0, 0]), Err(Amf0Error::Truncated));
        assert_eq!(decode(&[0x0A, 0xff, 0xff, 0xff, 0xff, 0x05]), Err(Amf0Error::Truncated));
    }

    #[test]
    fn nesting_is_capped() {
        // Build `{a:{a:{a:...}}}` 40 levels deep, unterminated: depth error must win.
        let mut v = heapless::Vec::<u8, 256>::new();
        for _ in 0..40 {
            v.extend_from_slice(&[0x03, 0x00, 0x01, b'a']).unwrap();
        }
        v.push(0x05).unwrap();
        assert_eq!(decode(&v), Err(Amf0Error::TooDeep));
    }
}
