//! `rtmp-oss sign`: prints an Aliyun OSS LiveChannel ingest URL signed with
//! an AccessKey, byte for byte what the oss2 SDK's
//! `Bucket(auth, endpoint, bucket).sign_rtmp_url(channel, playlist, expires)`
//! gives for the same inputs and the same `Expires`.

use board::oss::Secret;
use rtmp_core::oss::{self, AccessKey, Grant, SignError};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

const USAGE: &str = "usage: rtmp-oss sign --bucket B --endpoint E --channel C
                     (--expires UNIX_SECONDS | --expires-in SECS)
                     --key-id ID --key-secret-file FILE
                     [--playlist NAME.m3u8] [--security-token T | --security-token-file FILE]

Prints the signed push URL of an OSS LiveChannel:
  rtmp://B.E/live/C?[playlistName=..&][security-token=..&]OSSAccessKeyId=..&Expires=..&Signature=..
(rtmp://E/B/live/C?... when E is an IP address or localhost, as oss2 does).
The secret is read from a file so that it stays out of shell history and ps.
rtmp-push --oss-key-id ID --oss-key-secret-file FILE URL signs by itself, again
at every reconnect.";

struct Args {
    bucket: String,
    endpoint: String,
    channel: String,
    playlist: Option<String>,
    token: Option<Secret>,
    expires: u64,
    key_id: String,
    secret: Secret,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("sign") => {}
        Some("-h" | "--help") => {
            println!("{USAGE}");
            std::process::exit(0);
        }
        _ => return Err("expected the command: sign".into()),
    }
    let (mut bucket, mut endpoint, mut channel, mut playlist) = (None, None, None, None);
    let (mut token, mut expires, mut key_id, mut secret) = (None, None, None, None);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
        let secs = |v: String, name: &str| v.parse::<u64>().map_err(|_| format!("{name} must be whole seconds"));
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--bucket" => bucket = Some(value(a)?),
            "--endpoint" => endpoint = Some(value(a)?),
            "--channel" => channel = Some(value(a)?),
            "--playlist" => playlist = Some(value(a)?),
            "--security-token" => token = Some(Secret::new(value(a)?)),
            "--security-token-file" => {
                token = Some(Secret::from_file(value(a)?.as_ref()).map_err(|e| e.to_string())?);
            }
            "--expires" => expires = Some(secs(value(a)?, a)?),
            "--expires-in" => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                expires = Some(now + secs(value(a)?, a)?);
            }
            "--key-id" => key_id = Some(value(a)?),
            "--key-secret-file" => {
                secret = Some(Secret::from_file(value(a)?.as_ref()).map_err(|e| e.to_string())?);
            }
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    fn need<T>(v: Option<T>, name: &str) -> Result<T, String> {
        v.ok_or(format!("{name} is required"))
    }
    Ok(Args {
        bucket: need(bucket, "--bucket")?,
        endpoint: need(endpoint, "--endpoint")?,
        channel: need(channel, "--channel")?,
        playlist,
        token,
        expires: need(expires, "--expires or --expires-in")?,
        key_id: need(key_id, "--key-id")?,
        secret: need(secret, "--key-secret-file")?,
    })
}

fn main() -> ExitCode {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let a = match parse(&all) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rtmp-oss: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let token = match a.token.as_ref().map(|t| std::str::from_utf8(t.expose())) {
        Some(Err(_)) => {
            eprintln!("rtmp-oss: the security token is not text");
            return ExitCode::from(2);
        }
        t => t.and_then(Result::ok),
    };
    let grant = Grant {
        bucket: &a.bucket,
        channel: &a.channel,
        playlist: a.playlist.as_deref(),
        security_token: token,
        expires: a.expires,
    };
    let key = AccessKey::new(&a.key_id, a.secret.expose());
    let mut buf = vec![0u8; 1024];
    loop {
        match oss::write_url(&mut buf, &a.endpoint, &key, &grant) {
            Ok(url) => {
                println!("{url}");
                return ExitCode::SUCCESS;
            }
            Err(SignError::BufferTooSmall { needed }) => buf.resize(needed, 0),
            Err(e) => {
                eprintln!("rtmp-oss: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
}
