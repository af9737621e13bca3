//! Draw on the camera's picture before it is streamed (what a MaixPy user
//! does with detection boxes): each camera frame is copied out, a box that
//! moves across it is drawn, and the picture goes to the encoder with
//! `Rtmp::push_frame`, keeping the camera's timestamp.
//!
//! ```sh
//! cargo run -p board --example overlay -- rtmp://127.0.0.1/live/boxes [SECONDS]
//! ```

use board::camera::Camera;
use board::picture::{Picture, PixelFormat};
use board::pipeline::Rtmp;
use std::time::{Duration, Instant};

const W: u32 = 640;
const H: u32 = 480;

/// A `size` x `size` box outline at (`x`, `y`), in white, on an NV21 picture.
fn draw_box(nv21: &mut [u8], x: u32, y: u32, size: u32) {
    let (w, x1, y1) = (W as usize, (x + size).min(W) as usize, (y + size).min(H) as usize);
    let (x, y) = (x as usize, y as usize);
    for row in y..y1 {
        for col in x..x1 {
            let edge = row < y + 4 || row + 4 >= y1 || col < x + 4 || col + 4 >= x1;
            if edge {
                nv21[row * w + col] = 235;
            }
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: overlay rtmp://host/app/stream [SECONDS]")?;
    let seconds: f64 = args.next().map_or(Ok(10.0), |s| s.parse())?;

    let camera = Camera::new(W, H, 30)?;
    let mut rtmp = Rtmp::from_url(&url)?;
    rtmp.bind_frames(W, H, 30)?;
    rtmp.start()?;

    let started = Instant::now();
    let mut nv21 = Vec::new();
    let mut n = 0u32;
    while started.elapsed() < Duration::from_secs_f64(seconds) {
        let Some(frame) = camera.frame(Some(Duration::from_millis(200)))? else { continue };
        frame.copy_nv21(&mut nv21)?;
        let pts = frame.pts_us();
        drop(frame); // back to the camera at once
        draw_box(&mut nv21, (n * 6) % (W - 96), 192, 96);
        rtmp.push_frame(&Picture::new(PixelFormat::Nv21, W, H, &nv21)?.with_pts_us(pts))?;
        n += 1;
    }
    let stats = rtmp.stop()?;
    println!("{} pictures drawn, {} frames sent, {} dropped", n, stats.video_frames, stats.dropped_frames);
    Ok(())
}
