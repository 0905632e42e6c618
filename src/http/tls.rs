//! TLS on the service (rustls, TLS 1.2 and 1.3 only, ring): the certificate chain and key are
//! read from PEM files at start and read again on SIGHUP, so a renewed certificate is served
//! without a restart; a file that does not read keeps the one in force.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// `[tls]`: where the certificate chain and its key are.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM certificate chain, leaf first (`serve --tls-cert`).
    pub cert: Option<PathBuf>,
    /// PEM private key (`serve --tls-key`): PKCS#8, PKCS#1 or SEC1.
    pub key: Option<PathBuf>,
    /// PEM certificates of the authority whose client certificates name staff and mission
    /// clients (`serve --tls-client-ca`): a client presenting one is the enabled user whose
    /// name is the certificate's common name. Optional for clients; without it, none is asked.
    pub client_ca: Option<PathBuf>,
}

/// The common name of the client certificate a connection presented (verified against the
/// configured client CA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate(pub String);

/// The subject common name of a certificate.
pub fn common_name(der: &[u8]) -> Option<String> {
    let certificate = <x509_cert::Certificate as der::Decode>::from_der(der).ok()?;
    let name = certificate
        .tbs_certificate()
        .subject()
        .common_name()
        .ok()??;
    Some(String::from(name))
}

/// The certificate in force, replaced by [`Reloading::reload`].
#[derive(Debug)]
pub struct Reloading {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

fn load(cert: &Path, key: &Path) -> anyhow::Result<CertifiedKey> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|error| anyhow::anyhow!("--tls-cert {}: {error}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|error| anyhow::anyhow!("--tls-cert {}: {error}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("--tls-cert {}: no certificate", cert.display());
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|error| anyhow::anyhow!("--tls-key {}: {error}", key.display()))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&private)
        .map_err(|error| anyhow::anyhow!("--tls-key {}: {error}", key.display()))?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .map_err(|error| anyhow::anyhow!("the TLS key does not match the certificate: {error}"))?;
    Ok(certified)
}

impl Reloading {
    pub fn open(cert: &Path, key: &Path) -> anyhow::Result<Arc<Self>> {
        let certified = load(cert, key)?;
        Ok(Arc::new(Reloading {
            cert: cert.to_owned(),
            key: key.to_owned(),
            current: RwLock::new(Arc::new(certified)),
        }))
    }

    /// Reads the files again; on failure the certificate in force stays.
    pub fn reload(&self) -> anyhow::Result<()> {
        let certified = load(&self.cert, &self.key)?;
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(certified);
        Ok(())
    }
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone(),
        )
    }
}

/// The certificates of a PEM file as trust anchors (`option` names the file in errors).
pub fn roots(option: &str, path: &Path) -> anyhow::Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(path)
        .map_err(|error| anyhow::anyhow!("{option} {}: {error}", path.display()))?
    {
        roots.add(
            certificate.map_err(|error| anyhow::anyhow!("{option} {}: {error}", path.display()))?,
        )?;
    }
    Ok(roots)
}

/// A client configuration trusting only the certificates in `ca` (the load tool's), with the
/// same provider and protocol versions as the server.
pub fn client_config(ca: &Path) -> anyhow::Result<rustls::ClientConfig> {
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_root_certificates(roots("--ca", ca)?)
        .with_no_client_auth())
}

/// The acceptor over `certificate`: TLS 1.3 and 1.2 only, HTTP/1.1; with `client_ca`, client
/// certificates from that authority are asked for and verified (a client without one is served
/// as before, by its bearer token).
pub fn acceptor(
    certificate: Arc<Reloading>,
    client_ca: Option<&Path>,
) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    // ring rather than aws-lc-rs: no C toolchain beyond what ring needs. Its provider has no
    // post-quantum key exchange yet, which rustls marks as deprecated.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots("--tls-client-ca", path)?),
                provider,
            )
            .allow_unauthenticated()
            .build()?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(certificate);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Reloads `certificate` on every SIGHUP, for as long as the process runs.
pub fn reload_on_hangup(certificate: Arc<Reloading>) {
    tokio::spawn(async move {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("SIGHUP cannot be watched: the TLS certificate is not reloaded");
            return;
        };
        while hangups.recv().await.is_some() {
            match certificate.reload() {
                Ok(()) => tracing::info!("TLS certificate reloaded"),
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "TLS certificate not reloaded; the one in force stays")
                }
            }
        }
    });
}

/// Whether the connection of a request is TLS (for `Secure` cookies on any host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverTls(pub bool);
