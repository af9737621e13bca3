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

#[test]
fn avc_and_aac_packaging_point_into_the_encoders_buffer() {
    // x264's SPS and PPS for 160x120 (ffmpeg's publish capture), an IDR slice.
    let sps: &[u8] = &[
        0x67, 0x64, 0x00, 0x0a, 0xac, 0xd9, 0x42, 0x84, 0x7e, 0x5c, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00,
        0x00, 0x05, 0x03, 0xc4, 0x89, 0x65, 0x80,
    ];
    let pps: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];
    let idr: Vec<u8> = [0x65u8].into_iter().chain((0..3000u32).map(|i| (i % 251) as u8 | 1)).collect();
    let mut au = Vec::new();
    for nal in [sps, pps, &idr[..]] {
        au.extend_from_slice(&[0, 0, 0, 1]);
        au.extend_from_slice(nal);
    }
    let mut pk = MaybeUninit::<rtmp_avc_packager>::uninit();
    let mut frame = MaybeUninit::<rtmp_video_frame>::uninit();
    let mut config = rtmp_slice { ptr: ptr::null(), len: 0 };
    let (pkp, fp) = (pk.as_mut_ptr(), frame.as_mut_ptr());
    // SAFETY: storage and buffers as the header requires; one raw pointer each.
    unsafe {
        assert_eq!(rtmp_avc_packager_init(pkp), RTMP_OK);
        let p_frame = au[au.len() - idr.len()..].as_ptr();
        // A P-frame before any parameter sets is refused.
        let p_only = [0u8, 0, 0, 1, 0x41, 0x9a];
        assert_eq!(
            rtmp_avc_package(pkp, p_only.as_ptr(), p_only.len(), 0, fp, &mut config),
            RTMP_ERR_NO_PARAMETER_SETS
        );
        let n = rtmp_avc_package(pkp, au.as_ptr(), au.len(), 0, fp, &mut config);
        assert_eq!(n, 3, "header, length, IDR");
        assert_eq!(rtmp_video_frame_is_keyframe(fp), 1);
        assert!(config.len > 10 && *config.ptr == 0x17, "an AVC sequence header comes first");
        let mut parts = [rtmp_slice { ptr: ptr::null(), len: 0 }; RTMP_VIDEO_PARTS];
        assert_eq!(rtmp_video_frame_parts(fp, parts.as_mut_ptr(), parts.len()), 3);
        assert_eq!((parts[2].ptr, parts[2].len), (p_frame, idr.len()), "the IDR is a slice of the input");
        let len_bytes = std::slice::from_raw_parts(parts[1].ptr, 4);
        assert_eq!(len_bytes, (idr.len() as u32).to_be_bytes());
        assert_eq!(rtmp_video_frame_parts(fp, parts.as_mut_ptr(), 2), 0, "too few slots");
        // Same parameter sets again: no sequence header.
        rtmp_avc_package(pkp, au.as_ptr(), au.len(), 0, fp, &mut config);
        assert!(config.ptr.is_null() && config.len == 0);
    }

    // Two ADTS frames (AAC-LC, 44.1 kHz, stereo) back to back.
    let raw = [0x21u8, 0x10, 0x05, 0x00];
    let frame_len = 7 + raw.len();
    let adts = |out: &mut Vec<u8>| {
        out.extend_from_slice(&[
            0xFF,
            0xF1,
            0x50,
            0x80 | (frame_len >> 11) as u8,
            (frame_len >> 3) as u8,
            ((frame_len & 7) << 5) as u8 | 0x1F,
            0xFC,
        ]);
        out.extend_from_slice(&raw);
    };
    let mut stream = Vec::new();
    adts(&mut stream);
    adts(&mut stream);
    let mut aac = MaybeUninit::<rtmp_aac_packager>::uninit();
    let ap = aac.as_mut_ptr();
    let mut parts = [rtmp_slice { ptr: ptr::null(), len: 0 }; 2];
    let (mut cfg, mut has) = ([0u8; 4], 0);
    // SAFETY: as above.
    unsafe {
        assert_eq!(rtmp_aac_packager_init(ap), RTMP_OK);
        let used =
            rtmp_aac_package_adts(ap, stream.as_ptr(), stream.len(), parts.as_mut_ptr(), cfg.as_mut_ptr(), &mut has);
        assert_eq!(used, frame_len as isize);
        assert_eq!((has, cfg), (1, [0xAF, 0, 0x12, 0x10]), "sequence header: AAC-LC, 44.1 kHz, stereo");
        assert_eq!(std::slice::from_raw_parts(parts[0].ptr, 2), [0xAF, 1]);
        assert_eq!((parts[1].ptr, parts[1].len), (stream[7..].as_ptr(), raw.len()));
        let used = rtmp_aac_package_adts(
            ap,
            stream[frame_len..].as_ptr(),
            frame_len,
            parts.as_mut_ptr(),
            cfg.as_mut_ptr(),
            &mut has,
        );
        assert_eq!((used, has), (frame_len as isize, 0));
        assert_eq!(
            rtmp_aac_package_adts(ap, raw.as_ptr(), raw.len(), parts.as_mut_ptr(), cfg.as_mut_ptr(), &mut has),
            RTMP_ERR_BAD_MEDIA as isize
        );
    }
}

#[test]
fn hevc_packaging_makes_ffmpegs_sequence_start() {
    // x265's parameter sets (176x144 Main) and the Enhanced RTMP
    // SequenceStart ffmpeg 9 wrote for them (rtmp-core's HEVC vectors).
    let vps: &[u8] = &[
        0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
        0x03, 0x00, 0x1e, 0x95, 0x98, 0x09,
    ];
    let sps: &[u8] = &[
        0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x1e,
        0xa0, 0x16, 0x20, 0x24, 0x59, 0x65, 0x66, 0x92, 0x4c, 0xaf, 0x01, 0x68, 0x08, 0x00, 0x00, 0x03, 0x00, 0x08,
        0x00, 0x00, 0x03, 0x00, 0x50, 0x40,
    ];
    let pps: &[u8] = &[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40];
    let ffmpeg: &[u8] = &[
        0x90, 0x68, 0x76, 0x63, 0x31, 0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e,
        0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03, 0x20, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c,
        0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x1e,
        0x95, 0x98, 0x09, 0x21, 0x00, 0x01, 0x00, 0x2a, 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90,
        0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x1e, 0xa0, 0x16, 0x20, 0x24, 0x59, 0x65, 0x66, 0x92, 0x4c, 0xaf,
        0x01, 0x68, 0x08, 0x00, 0x00, 0x03, 0x00, 0x08, 0x00, 0x00, 0x03, 0x00, 0x50, 0x40, 0x22, 0x00, 0x01, 0x00,
        0x07, 0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40,
    ];
    // An IDR_W_RADL slice (type 19) after the parameter sets.
    let idr: Vec<u8> = [0x26u8, 0x01].into_iter().chain((0..2000u32).map(|i| (i % 251) as u8 | 1)).collect();
    let mut au = Vec::new();
    for nal in [vps, sps, pps, &idr[..]] {
        au.extend_from_slice(&[0, 0, 0, 1]);
        au.extend_from_slice(nal);
    }
    let mut pk = MaybeUninit::<rtmp_hevc_packager>::uninit();
    let mut frame = MaybeUninit::<rtmp_video_frame>::uninit();
    let mut config = rtmp_slice { ptr: ptr::null(), len: 0 };
    let (pkp, fp) = (pk.as_mut_ptr(), frame.as_mut_ptr());
    // SAFETY: storage and buffers as the header requires; one raw pointer each.
    unsafe {
        assert_eq!(rtmp_hevc_packager_init(pkp), RTMP_OK);
        assert_eq!(rtmp_hevc_package(pkp, au.as_ptr(), au.len(), 0, fp, &mut config), 3);
        assert_eq!(std::slice::from_raw_parts(config.ptr, config.len), ffmpeg, "ffmpeg 9's SequenceStart");
        assert_eq!(rtmp_video_frame_is_keyframe(fp), 1);
        let mut parts = [rtmp_slice { ptr: ptr::null(), len: 0 }; RTMP_VIDEO_PARTS];
        assert_eq!(rtmp_video_frame_parts(fp, parts.as_mut_ptr(), parts.len()), 3);
        assert_eq!((parts[2].ptr, parts[2].len), (au[au.len() - idr.len()..].as_ptr(), idr.len()));
        // Enhanced RTMP: an IsExHeader keyframe tag, FourCC hvc1.
        let head = std::slice::from_raw_parts(parts[0].ptr, parts[0].len);
        assert_eq!(&head[1..5], b"hvc1");
        rtmp_hevc_packager_resend_config(pkp);
        rtmp_hevc_package(pkp, au.as_ptr(), au.len(), 0, fp, &mut config);
        assert_eq!(config.len, ffmpeg.len(), "sent again after resend_config");
    }
}
