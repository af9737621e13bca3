//! The five lines a MaixPy user knows, in Rust: stream the camera to an
//! RTMP server for ten seconds.
//!
//! ```sh
//! cargo run -p board --example camera_rtmp -- 127.0.0.1 1935 live stream
//! ```

use board::camera::Camera;
use board::pipeline::Rtmp;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, port, app, stream] =
        <[String; 4]>::try_from(args).map_err(|_| "usage: camera_rtmp HOST PORT APP STREAM")?;

    let cam = Camera::new(640, 480, 30)?;
    let mut rtmp = Rtmp::new(&host, port.parse()?, &app, &stream, 1_000_000)?;
    rtmp.bind_camera(cam)?;
    rtmp.start()?;

    std::thread::sleep(Duration::from_secs(10));
    let stats = rtmp.stop()?;
    println!("{} frames, {:.0} kbit/s, {} dropped", stats.video_frames, stats.bitrate / 1000.0, stats.dropped_frames);
    Ok(())
}
