//! A test certificate authority and server certificates, made with the
//! `openssl` command line tool in a scratch directory.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct TestCa {
    pub dir: PathBuf,
    /// The CA certificate (PEM): what `SSL_CERT_FILE` points at.
    pub ca: PathBuf,
    /// A server certificate for `localhost` and 127.0.0.1, signed by the CA.
    pub cert: PathBuf,
    /// Its key.
    pub key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl TestCa {
    /// A CA and a server certificate for `names` (DNS names; IP addresses
    /// are added as such).
    pub fn new(name: &str, names: &[&str]) -> TestCa {
        let dir = super::scratch(name);
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=rtmp-embedded test CA {name}"),
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        );
        let san: Vec<String> = names
            .iter()
            .map(|n| if n.parse::<std::net::IpAddr>().is_ok() { format!("IP:{n}") } else { format!("DNS:{n}") })
            .collect();
        std::fs::write(
            dir.join("server.ext"),
            format!("subjectAltName={}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n", san.join(",")),
        )
        .unwrap();
        openssl(
            &dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                &format!("/CN={}", names[0]),
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        );
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "server.ext",
                "-out",
                "server.pem",
            ],
        );
        // The chain a server presents: its certificate, then the CA's.
        let chain =
            [std::fs::read(dir.join("server.pem")).unwrap(), std::fs::read(dir.join("ca.pem")).unwrap()].concat();
        std::fs::write(dir.join("chain.pem"), chain).unwrap();
        TestCa { ca: dir.join("ca.pem"), cert: dir.join("chain.pem"), key: dir.join("server.key"), dir }
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
