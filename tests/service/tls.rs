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

/// GET `path` over rustls trusting `cert.pem`, without a client certificate.
async fn get_over_rustls(address: &str, cert: &Path, path: &str) -> Result<String, BoxError> {
    get_as(address, cert, None, path).await
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

fn openssl(args: &[&str], dir: &Path) -> Result<(), BoxError> {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(())
}

/// A client CA in `dir` (ca.pem, ca.key) and a client certificate for `user` signed by it
/// (`<user>.pem`, `<user>.key`).
fn client_certificates(dir: &Path, user: &str) -> Result<(), BoxError> {
    let p256 = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    if !dir.join("ca.pem").exists() {
        let mut args = vec!["req", "-x509"];
        args.extend(p256);
        args.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Test client CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ]);
        openssl(&args, dir)?;
        std::fs::write(
            dir.join("client.cnf"),
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
        )?;
    }
    let (key, csr, pem, subject) = (
        format!("{user}.key"),
        format!("{user}.csr"),
        format!("{user}.pem"),
        format!("/CN={user}"),
    );
    let mut args = vec!["req"];
    args.extend(p256);
    args.extend(["-keyout", &key, "-out", &csr, "-subj", &subject]);
    openssl(&args, dir)?;
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            "client.cnf",
        ],
        dir,
    )?;
    Ok(())
}

/// GET `path` over rustls with the client certificate `user` from `dir` (or none).
async fn get_as(
    address: &str,
    server_cert: &Path,
    client: Option<(&Path, &str)>,
    path: &str,
) -> Result<String, BoxError> {
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_pki_types::CertificateDer::pem_file_iter(server_cert)? {
        roots.add(certificate?)?;
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((dir, user)) => {
            let chain =
                rustls_pki_types::CertificateDer::pem_file_iter(dir.join(format!("{user}.pem")))?
                    .collect::<Result<Vec<_>, _>>()?;
            let key =
                rustls_pki_types::PrivateKeyDer::from_pem_file(dir.join(format!("{user}.key")))?;
            builder.with_client_auth_cert(chain, key)?
        }
    };
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
async fn a_client_certificate_names_its_user() -> TestResult {
    let dir = tempfile::tempdir()?;
    certificate(dir.path(), "server.test")?;
    let clients = dir.path().join("clients");
    std::fs::create_dir_all(&clients)?;
    client_certificates(&clients, "cert-officer")?;
    client_certificates(&clients, "nobody-here")?;
    let config = dir.path().join("travdoc.toml");
    std::fs::write(
        &config,
        format!(
            "[tls]\ncert = \"{}\"\nkey = \"{}\"\nclient_ca = \"{}\"\n",
            dir.path().join("cert.pem").display(),
            dir.path().join("key.pem").display(),
            clients.join("ca.pem").display()
        ),
    )?;
    let config_text = config.display().to_string();
    let data_dir = dir.path().join("var");
    let server = Server::start_in(&data_dir, &[("TRAVDOC_CONFIG", &config_text)], None)?;
    let address = server.url.trim_start_matches("https://").to_owned();
    let added = Command::new(env!("CARGO_BIN_EXE_travdoc"))
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["user", "add", "cert-officer", "--role", "issuer"])
        .env("TRAVDOC_CONFIG", &config_text)
        .env_remove("DATABASE_URL")
        .env_remove("SOFTHSM2_CONF")
        .output()?;
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let server_cert = dir.path().join("cert.pem");

    // The certificate of an enabled user: that user (an issuer may list documents).
    let answer = get_as(
        &address,
        &server_cert,
        Some((&clients, "cert-officer")),
        "/v1/documents",
    )
    .await?;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // No certificate and no token: 401. A certificate naming no user: 401.
    let answer = get_as(&address, &server_cert, None, "/v1/documents").await?;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let answer = get_as(
        &address,
        &server_cert,
        Some((&clients, "nobody-here")),
        "/v1/documents",
    )
    .await?;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // Public endpoints need none.
    let answer = get_as(&address, &server_cert, None, "/healthz").await?;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(server);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_load_tool_runs_over_tls_trusting_only_the_given_authority() -> TestResult {
    let dir = tempfile::tempdir()?;
    certificate(dir.path(), "load.test")?;
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
    let (mission, approver) = crate::load_tool::bench_tokens(&server).await?;
    let bench = |ca: Option<&Path>| -> Result<std::process::Output, BoxError> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_travdoc"));
        command
            .args(["bench", "verify", "--url", &server.url])
            .args(["--concurrency", "2", "--count", "6"])
            .env("TRAVDOC_MISSION_TOKEN", &mission)
            .env("TRAVDOC_APPROVER_TOKEN", &approver);
        if let Some(ca) = ca {
            command.arg("--ca").arg(ca);
        }
        Ok(command.output()?)
    };
    let over_tls = bench(Some(&dir.path().join("cert.pem")))?;
    let stdout = String::from_utf8_lossy(&over_tls.stdout);
    assert!(
        over_tls.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&over_tls.stderr)
    );
    assert!(stdout.contains("verify (seal): 6 ok, 0 failed"), "{stdout}");
    // Without the authority the tool refuses to guess; with another one the handshake fails.
    let unanchored = bench(None)?;
    assert!(!unanchored.status.success());
    assert!(String::from_utf8_lossy(&unanchored.stderr).contains("--ca"));
    let other = tempfile::tempdir()?;
    certificate(other.path(), "other.test")?;
    let untrusted = bench(Some(&other.path().join("cert.pem")))?;
    assert!(
        !untrusted.status.success(),
        "a certificate of another authority was accepted"
    );
    Ok(())
}
