//! The `--oss-*` options of `rtmp-push` and `rtmp-push camera`.

use board::oss::{OssSigner, Secret};
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "OSS LiveChannel (Aliyun): the URL is the unsigned rtmp://BUCKET.ENDPOINT/live/CHANNEL
[?playlistName=NAME.m3u8]; it is signed again for every connection:
  --oss-key-id ID             AccessKey id
  --oss-key-secret-file FILE  file holding the AccessKey secret (never on the command line)
  --oss-expires-in SECS       each signature's lifetime (default 3600)
  --oss-bucket NAME           the bucket, when the host does not start with it
  --oss-security-token-file FILE  STS security token, for temporary AccessKeys";

#[derive(Default)]
pub struct OssArgs {
    key_id: Option<String>,
    secret_file: Option<PathBuf>,
    expires_in: Option<u64>,
    bucket: Option<String>,
    token_file: Option<PathBuf>,
}

impl OssArgs {
    /// Takes `arg` (and its value) if it is an `--oss-*` option.
    pub fn take(&mut self, arg: &str, mut value: impl FnMut() -> Option<String>) -> Result<bool, String> {
        if !arg.starts_with("--oss-") {
            return Ok(false);
        }
        let v = value().ok_or(format!("{arg} needs a value"))?;
        match arg {
            "--oss-key-id" => self.key_id = Some(v),
            "--oss-key-secret-file" => self.secret_file = Some(v.into()),
            "--oss-expires-in" => {
                let secs = v.parse().ok().filter(|s| (1..=10 * 365 * 86400).contains(s));
                self.expires_in = Some(secs.ok_or("--oss-expires-in must be seconds, at least 1")?);
            }
            "--oss-bucket" => self.bucket = Some(v),
            "--oss-security-token-file" => self.token_file = Some(v.into()),
            _ => return Err(format!("unknown option {arg}")),
        }
        Ok(true)
    }

    /// The signer, if any `--oss-*` option was given.
    pub fn signer(&self) -> Result<Option<OssSigner>, String> {
        let any = self.key_id.is_some()
            || self.secret_file.is_some()
            || self.expires_in.is_some()
            || self.bucket.is_some()
            || self.token_file.is_some();
        if !any {
            return Ok(None);
        }
        let (Some(id), Some(file)) = (&self.key_id, &self.secret_file) else {
            return Err("OSS signing needs --oss-key-id and --oss-key-secret-file".into());
        };
        let mut signer = OssSigner::new(id.clone(), Secret::from_file(file).map_err(|e| e.to_string())?);
        if let Some(t) = &self.token_file {
            let token = Secret::from_file(t).map_err(|e| e.to_string())?;
            signer = signer.with_security_token(token).map_err(|_| format!("{}: not text", t.display()))?;
        }
        if let Some(s) = self.expires_in {
            signer.expires_in = Duration::from_secs(s);
        }
        signer.bucket.clone_from(&self.bucket);
        Ok(Some(signer))
    }
}
