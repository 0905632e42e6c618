//! The HTTP server around the router, with the limits a public service needs before any
//! handler runs: a cap on open connections (one more is closed at once), a deadline for the
//! request head (a slowloris connection is dropped), a deadline for each request with its body,
//! and the client's address (from `X-Forwarded-For` only when the peer is a configured trusted
//! proxy). HTTP/1.1 with keep-alive; connections drain on shutdown.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse as _;
use hyper_util::rt::{TokioIo, TokioTimer};

use super::error::ApiError;

/// The server's limits (`[http]` in the configuration; see `Config::http`).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpLimits {
    /// Open connections at most (`TRAVDOC_MAX_CONNECTIONS`); one more is closed at once.
    /// Default 1024.
    pub max_connections: usize,
    /// Seconds a client has to send a request's head (`TRAVDOC_HEADER_TIMEOUT_SECS`). Default 10.
    pub header_timeout_secs: u64,
    /// Seconds a request may take, its body included (`TRAVDOC_REQUEST_TIMEOUT_SECS`).
    /// Default 60.
    pub request_timeout_secs: u64,
    /// Proxies whose `X-Forwarded-For` names the client (`TRAVDOC_TRUSTED_PROXIES`, addresses
    /// separated by commas). Default none: the peer is the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// When not empty, only these addresses may read `/metrics` (`TRAVDOC_METRICS_ALLOW`).
    pub metrics_allow: Vec<IpAddr>,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_connections: 1024,
            header_timeout_secs: 10,
            request_timeout_secs: 60,
            trusted_proxies: Vec::new(),
            metrics_allow: Vec::new(),
        }
    }
}

/// The client's address as the service sees it (see [`client_address`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client of a request from `peer`: the peer itself, or, when the peer is a trusted proxy,
/// the right-most address of `X-Forwarded-For` that is not a trusted proxy (the one the nearest
/// trusted proxy saw; what a client writes further left cannot be trusted).
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    header
        .rsplit(',')
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .find(|address| !trusted.contains(address))
        .unwrap_or(peer)
}

/// Serves `router` on `listener` within `limits` (over TLS with `tls`) until `shutdown`
/// completes; then lets open connections finish their requests for up to ten seconds.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: HttpLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let trusted: Arc<Vec<IpAddr>> = Arc::new(limits.trusted_proxies.clone());
    let request_timeout = Duration::from_secs(limits.request_timeout_secs.max(1));
    let header_timeout = Duration::from_secs(limits.header_timeout_secs.max(1));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection refused: the connection cap is reached");
            drop(stream);
            continue;
        };
        let connection = Connection {
            router: router.clone(),
            trusted: trusted.clone(),
            peer,
            request_timeout,
            header_timeout,
            graceful: graceful.watcher(),
            client_certificate: None,
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => connection.run(stream, false).await,
                Some(acceptor) => {
                    // The handshake has the same deadline as a request head.
                    match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            // A verified client certificate names the connection's user.
                            let client = stream
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|chain| chain.first())
                                .and_then(|leaf| super::tls::common_name(leaf.as_ref()));
                            connection.with_client(client).run(stream, true).await
                        }
                        Ok(Err(error)) => tracing::debug!(%error, %peer, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake too slow"),
                    }
                }
            }
            drop(permit);
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("connections still open after 10 s; closing");
        }
    }
    Ok(())
}

/// One accepted connection.
struct Connection {
    router: Router,
    trusted: Arc<Vec<IpAddr>>,
    peer: SocketAddr,
    request_timeout: Duration,
    header_timeout: Duration,
    graceful: hyper_util::server::graceful::Watcher,
    /// The user a verified TLS client certificate names.
    client_certificate: Option<String>,
}

impl Connection {
    fn with_client(mut self, name: Option<String>) -> Self {
        self.client_certificate = name;
        self
    }

    async fn run<IO>(self, io: IO, over_tls: bool)
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            router,
            trusted,
            peer,
            request_timeout,
            header_timeout,
            graceful,
            client_certificate,
        } = self;
        let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
            let mut request = request.map(axum::body::Body::new);
            let forwarded = request
                .headers()
                .get("x-forwarded-for")
                .and_then(|value| value.to_str().ok());
            let client = client_address(peer.ip(), forwarded, &trusted);
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo::<SocketAddr>(peer));
            request.extensions_mut().insert(ClientIp(client));
            request
                .extensions_mut()
                .insert(super::tls::OverTls(over_tls));
            if let Some(name) = &client_certificate {
                request
                    .extensions_mut()
                    .insert(super::tls::ClientCertificate(name.clone()));
            }
            let router = router.clone();
            async move {
                let answer = tokio::time::timeout(
                    request_timeout,
                    tower::ServiceExt::oneshot(router, request),
                )
                .await;
                Ok::<_, std::convert::Infallible>(match answer {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(_) => ApiError::new(
                        axum::http::StatusCode::REQUEST_TIMEOUT,
                        "request_timeout",
                        "the request took too long; nothing more is done for it",
                    )
                    .into_response(),
                })
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(io), service);
        let connection = graceful.watch(connection);
        if let Err(error) = connection.await {
            tracing::debug!(%error, %peer, "connection ended");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap_or_else(|_| unreachable!());
        let client: IpAddr = "203.0.113.7".parse().unwrap_or_else(|_| unreachable!());
        let spoofed = "198.51.100.1, 203.0.113.7";
        // Not a trusted peer: its header is ignored.
        assert_eq!(client_address(client, Some("1.2.3.4"), &[proxy]), client);
        // Behind the proxy: the right-most untrusted address, not what the client wrote.
        assert_eq!(client_address(proxy, Some(spoofed), &[proxy]), client);
        assert_eq!(client_address(proxy, Some("junk"), &[proxy]), proxy);
        assert_eq!(client_address(proxy, None, &[proxy]), proxy);
    }
}
