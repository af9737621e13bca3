//! The C API through its `extern "C"` functions, as C calls them: a
//! publisher in caller memory talks to rtmp-core's server session in
//! memory (no sockets), publishes, sends a video message as a gather list
//! whose payload slices point into the caller's buffers, and closes; plus
//! the URL parser, the FLV reader and null/short-buffer handling. Small
//! enough for Miri (`cargo miri test -p rtmp-ffi`), which checks the
//! unsafe code's aliasing and bounds.

use rtmp_core::session::{Server, ServerConfig, ServerEvent};
use rtmp_core::time::Instant;
use rtmp_ffi::*;
use std::ffi::{c_char, CStr};
use std::mem::MaybeUninit;
use std::ptr;

fn text(p: *const c_char) -> String {
    // SAFETY: the API hands out NUL-terminated strings.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

/// Memory for a publisher, aligned for it.
fn publisher_memory(recv: usize) -> Vec<u64> {
    assert!(rtmp_publisher_align() <= 8);
    vec![0u64; rtmp_publisher_size(recv).div_ceil(8)]
}

/// Moves bytes from the publisher to the server and back until neither has any.
fn exchange(p: *mut rtmp_publisher, server: &mut Server<'_>, now: u64) {
    for _ in 0..50 {
        let mut moved = false;
        let mut data = ptr::null();
        // SAFETY: `p` is a live publisher; `data` is writable.
        let n = unsafe { rtmp_publisher_poll_transmit(p, &mut data) };
        if n > 0 {
            // SAFETY: the publisher's bytes are valid until its next call.
            let bytes = unsafe { std::slice::from_raw_parts(data, n) }.to_vec();
            unsafe { rtmp_publisher_transmitted(p, n) };
            let mut at = 0;
            while at < bytes.len() {
                at += server.handle_input(Instant::from_micros(now), &bytes[at..]).unwrap();
            }
            moved = true;
        }
        while let Some(out) = server.poll_transmit() {
            let out = out.to_vec();
            server.transmitted(out.len());
            let mut at = 0;
            while at < out.len() {
                // SAFETY: `p` is live; `out` is readable for its length.
                let used = unsafe { rtmp_publisher_recv(p, out[at..].as_ptr(), out.len() - at, now) };
                assert!(used > 0, "recv: {}", text(rtmp_strerror(used as i32)));
                at += used as usize;
            }
            moved = true;
        }
        while let Some(e) = server.poll_event() {
            if let ServerEvent::PublishRequest { stream_id, .. } = e {
                server.accept_publish(stream_id).unwrap();
            }
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

#[test]
fn publishes_to_a_server_session_and_sends_zero_copy() {
    let mut mem = publisher_memory(16384);
    let len = rtmp_publisher_size(16384);
    let random = [7u8; RTMP_RANDOM_LEN];
    let mut p: *mut rtmp_publisher = ptr::null_mut();
    // SAFETY: memory, strings and outputs as the header requires.
    let rc = unsafe {
        rtmp_publisher_init(
            mem.as_mut_ptr().cast(),
            len,
            c"live".as_ptr(),
            c"cam?key=s3cret".as_ptr(),
            c"rtmp://127.0.0.1:1935/live".as_ptr(),
            0,
            random.as_ptr(),
            &mut p,
        )
    };
    assert_eq!(rc, RTMP_OK);
    let mut recv = vec![0u8; 65536];
    let mut server = Server::new(ServerConfig::default(), &mut recv, Instant::ZERO, &[3u8; RTMP_RANDOM_LEN]);
    exchange(p, &mut server, 1000);

    let mut kinds = Vec::new();
    let mut ev = MaybeUninit::<rtmp_event>::uninit();
    // SAFETY: `p` is live; `ev` is writable.
    while unsafe { rtmp_publisher_poll_event(p, ev.as_mut_ptr()) } == 1 {
        // SAFETY: filled by the call that returned 1.
        kinds.push(unsafe { ev.assume_init_read() }.kind);
    }
    assert_eq!(kinds, [RTMP_EVENT_CONNECTED, RTMP_EVENT_PUBLISH_STARTED]);

    // A video message in two parts, sent as a gather list.
    let head = [0x17u8, 1, 0, 0, 0];
    let frame: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
    let parts =
        [rtmp_slice { ptr: head.as_ptr(), len: head.len() }, rtmp_slice { ptr: frame.as_ptr(), len: frame.len() }];
    let mut msg = MaybeUninit::<rtmp_message>::uninit();
    // One raw pointer, used for every call, as C would use `&msg`: a new
    // `&mut` to the storage would assert exclusive access to it, which the
    // message's borrow of its own parts array forbids.
    let mp = msg.as_mut_ptr();
    // SAFETY: the parts outlive the message, which is not moved.
    let rc = unsafe { rtmp_publisher_send(p, RTMP_VIDEO, 40, parts.as_ptr(), 2, mp) };
    assert_eq!(rc, RTMP_OK);
    let mut wire = Vec::new();
    let mut borrowed = 0;
    let frame_range = frame.as_ptr_range();
    // SAFETY: `msg` was filled by `rtmp_publisher_send`.
    while unsafe { rtmp_message_remaining(mp) } > 0 {
        let mut iov = [rtmp_slice { ptr: ptr::null(), len: 0 }; 3];
        let n = unsafe { rtmp_message_iov(mp, iov.as_mut_ptr(), iov.len()) };
        assert!(n > 0);
        // Write only part of what was offered, as a socket may; then say
        // how much (the slices are valid until that call).
        let mut budget = 3000;
        let mut taken = 0;
        for s in &iov[..n] {
            if frame_range.contains(&s.ptr) {
                borrowed += s.len.min(budget);
            }
            // SAFETY: the slices point to live memory for their lengths.
            let bytes = unsafe { std::slice::from_raw_parts(s.ptr, s.len) };
            let take = bytes.len().min(budget);
            wire.extend_from_slice(&bytes[..take]);
            budget -= take;
            taken += take;
            if budget == 0 {
                break;
            }
        }
        unsafe { rtmp_message_advance(mp, taken) };
    }
    assert!(borrowed >= frame.len(), "the frame went out as slices of the caller's buffer ({borrowed} bytes)");
    let mut at = 0;
    let mut got = None;
    while at < wire.len() {
        at += server.handle_input(Instant::from_micros(2000), &wire[at..]).unwrap();
        while let Some(e) = server.poll_event() {
            if let ServerEvent::Media { type_id, timestamp, payload, .. } = e {
                got = Some((type_id, timestamp.value(), payload.to_vec()));
            }
        }
    }
    let (kind, ts, payload) = got.expect("the server received the message");
    assert_eq!((kind, ts), (9, 40));
    assert_eq!(&payload[..5], &head);
    assert_eq!(&payload[5..], &frame[..]);

    // Close: reported once as a local close.
    unsafe { rtmp_publisher_close(p) };
    assert_eq!(unsafe { rtmp_publisher_poll_event(p, ev.as_mut_ptr()) }, 1);
    let ev = unsafe { ev.assume_init_read() };
    assert_eq!((ev.kind, ev.close_reason), (RTMP_EVENT_CLOSED, RTMP_CLOSE_LOCAL));
    let mut msg = MaybeUninit::<rtmp_message>::uninit();
    assert_eq!(unsafe { rtmp_publisher_send(p, RTMP_VIDEO, 80, parts.as_ptr(), 2, msg.as_mut_ptr()) }, RTMP_ERR_CLOSED);
}

#[test]
fn bad_arguments_are_refused_not_crashed_on() {
    let random = [0u8; RTMP_RANDOM_LEN];
    let mut p: *mut rtmp_publisher = ptr::null_mut();
    let mut small = publisher_memory(0);
    // SAFETY: every pointer is valid or null, as each case says.
    unsafe {
        let too_small = rtmp_publisher_size(0) - 1;
        let init = |mem: *mut u64, len, app: *const c_char, p: *mut *mut rtmp_publisher| {
            rtmp_publisher_init(mem.cast(), len, app, c"s".as_ptr(), c"rtmp://h/a".as_ptr(), 0, random.as_ptr(), p)
        };
        assert_eq!(init(small.as_mut_ptr(), too_small, c"a".as_ptr(), &mut p), RTMP_ERR_BUFFER_TOO_SMALL);
        assert_eq!(init(ptr::null_mut(), 100, c"a".as_ptr(), &mut p), RTMP_ERR_INVALID_ARGUMENT);
        assert_eq!(init(small.as_mut_ptr(), rtmp_publisher_size(0), ptr::null(), &mut p), RTMP_ERR_INVALID_ARGUMENT);
        // Misaligned memory.
        let odd = small.as_mut_ptr().cast::<u8>().add(1).cast::<u64>();
        assert_eq!(init(odd, rtmp_publisher_size(0) - 8, c"a".as_ptr(), &mut p), RTMP_ERR_BUFFER_TOO_SMALL);
        assert_eq!(rtmp_publisher_recv(ptr::null_mut(), ptr::null(), 0, 0), RTMP_ERR_INVALID_ARGUMENT as isize);
        let mut data = ptr::null();
        assert_eq!(rtmp_publisher_poll_transmit(ptr::null_mut(), &mut data), 0);
        rtmp_publisher_close(ptr::null_mut());
        assert_eq!(rtmp_message_remaining(ptr::null_mut()), 0);
    }
    assert_eq!(text(rtmp_strerror(RTMP_ERR_NOT_PUBLISHING)), "not publishing yet");
    assert_eq!(text(rtmp_strerror(-1000)), "unknown error");
}

#[test]
fn url_parse_fills_strings_and_redacts_the_key() {
    let mut buf = [0 as c_char; 512];
    let mut url = MaybeUninit::<rtmp_url>::uninit();
    // SAFETY: buffers as the header requires.
    let rc = unsafe {
        rtmp_url_parse(
            c"rtmps://live.example.com/app/inst/key?sig=s3cret".as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
            url.as_mut_ptr(),
        )
    };
    assert_eq!(rc, RTMP_OK);
    let url = unsafe { url.assume_init_read() };
    assert_eq!((url.tls, url.port), (1, 443));
    assert_eq!(text(url.host), "live.example.com");
    assert_eq!(text(url.app), "app/inst");
    assert_eq!(text(url.stream), "key?sig=s3cret");
    assert_eq!(text(url.tc_url), "rtmps://live.example.com:443/app/inst");
    assert_eq!(text(url.redacted), "rtmps://live.example.com/app/inst/<redacted>");
    let mut small = [0 as c_char; 20];
    let mut out = MaybeUninit::<rtmp_url>::uninit();
    let rc = unsafe { rtmp_url_parse(c"rtmp://h/app/key".as_ptr(), small.as_mut_ptr(), 20, out.as_mut_ptr()) };
    assert_eq!(rc, RTMP_ERR_BUFFER_TOO_SMALL);
    let rc = unsafe { rtmp_url_parse(c"http://h/app/key".as_ptr(), buf.as_mut_ptr(), buf.len(), out.as_mut_ptr()) };
    assert_eq!(rc, RTMP_ERR_URL);
}

#[test]
fn flv_reader_reads_header_and_tags_in_pieces() {
    let mut file = rtmp_core::flv::file_header(true, true).to_vec();
    let body = [0xAFu8, 1, 0x21, 0x10];
    file.extend_from_slice(&rtmp_core::flv::tag_header(rtmp_core::flv::TagType::Audio, 1234, body.len()));
    file.extend_from_slice(&body);
    file.extend_from_slice(&rtmp_core::flv::previous_tag_size(body.len()));
    let mut r = MaybeUninit::<rtmp_flv_reader>::uninit();
    assert_eq!(unsafe { rtmp_flv_reader_init(r.as_mut_ptr()) }, RTMP_OK);
    let mut item = MaybeUninit::<rtmp_flv_item>::uninit();
    let (mut at, mut seen) = (0usize, Vec::new());
    // Fed as a stream that grows a byte at a time.
    let mut avail = 1;
    while at < file.len() {
        let used = unsafe { rtmp_flv_read(r.as_mut_ptr(), file[at..avail].as_ptr(), avail - at, item.as_mut_ptr()) };
        assert!(used >= 0);
        let it = unsafe { item.assume_init_read() };
        at += used as usize;
        match it.kind {
            RTMP_FLV_NEED_MORE => avail = (avail + 1).min(file.len()),
            RTMP_FLV_TAG => {
                let data = unsafe { std::slice::from_raw_parts(it.data, it.len) };
                seen.push((it.tag_type, it.timestamp, data.to_vec()));
            }
            kind => seen.push((kind as u8, 0, Vec::new())),
        }
    }
    assert_eq!(seen, [(RTMP_FLV_HEADER as u8, 0, vec![]), (8, 1234, body.to_vec())]);
    let mut r = MaybeUninit::<rtmp_flv_reader>::uninit();
    unsafe { rtmp_flv_reader_init(r.as_mut_ptr()) };
    let used = unsafe { rtmp_flv_read(r.as_mut_ptr(), b"GIF89a...".as_ptr(), 9, item.as_mut_ptr()) };
    assert_eq!(used, RTMP_ERR_FLV as isize);
}
