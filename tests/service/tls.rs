//! TLS on the service (issue 18): rustls and openssl clients complete TLS 1.3 and 1.2
//! handshakes and are served; TLS 1.1 and 1.0 are refused; SIGHUP puts a renewed certificate in
//! force without a restart.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::{Server, TestResult};

type BoxError = Box<dyn std::error::Error>;

/// A self-signed P-256 certificate for 127.0.0.1 with common name `name`.
fn certificate(dir: &Path, name: &str) -> Result<(), BoxError> {
    let output = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .args(["-days", "2", "-subj", &format!("/CN={name}")])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .output()?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned().into());
    }
    Ok(())
}

/// `openssl s_client` with `protocol` (`-tls1_3`, ...): whether the handshake completed, and
/// its output.
fn s_client(address: &str, protocol: &str) -> Result<(bool, String), BoxError> {
    let output = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            address,
            protocol,
            "-servername",
            "localhost",
        ])
        .stdin(std::process::Stdio::null())
        .output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let completed =
        output.status.success() && text.contains("Cipher is") && !text.contains("Cipher is (NONE)");
    Ok((completed, text))
}

/// GET `path` over rustls trusting `cert.pem`; the response head and body.
async fn get_over_rustls(address: &str, cert: &Path, path: &str) -> Result<String, BoxError> {
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_pki_types::CertificateDer::pem_file_iter(cert)? {
        roots.add(certificate?)?;
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = tokio::net::TcpStream::connect(address).await?;
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1")?.to_owned();
    let mut stream = connector.connect(name, stream).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_versions_clients_and_reload() -> TestResult {
    let dir = tempfile::tempdir()?;
    certificate(dir.path(), "first.test")?;
    let config = dir.path().join("travdoc.toml");
    std::fs::write(
        &config,
        format!(
            "[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
            dir.path().join("cert.pem").display(),
            dir.path().join("key.pem").display()
        ),
    )?;
    let config_text = config.display().to_string();
    let server = Server::start_in(
        &dir.path().join("var"),
        &[("TRAVDOC_CONFIG", &config_text)],
        None,
    )?;
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let address = server.url.trim_start_matches("https://").to_owned();

    // rustls: served over TLS.
    let health = get_over_rustls(&address, &dir.path().join("cert.pem"), "/healthz").await?;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // openssl: TLS 1.3 and 1.2 complete; 1.1 and 1.0 are refused.
    for (protocol, accepted) in [
        ("-tls1_3", true),
        ("-tls1_2", true),
        ("-tls1_1", false),
        ("-tls1", false),
    ] {
        let (completed, text) = s_client(&address, protocol)?;
        assert_eq!(completed, accepted, "{protocol}: {text}");
    }
    let (_, text) = s_client(&address, "-tls1_3")?;
    assert!(text.contains("first.test"), "{text}");

    // A renewed certificate and SIGHUP: the next handshake presents it, no restart.
    certificate(dir.path(), "second.test")?;
    let hangup = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()?;
    assert!(hangup.success());
    let mut renewed = false;
    for _ in 0..50 {
        let (_, text) = s_client(&address, "-tls1_3")?;
        if text.contains("second.test") {
            renewed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(renewed, "the renewed certificate is not served");
    let health = get_over_rustls(&address, &dir.path().join("cert.pem"), "/healthz").await?;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    Ok(())
}
