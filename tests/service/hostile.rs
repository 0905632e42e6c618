//! Hostile input on the public verification (issue 18): decompression bombs (PNG and JPEG,
//! real and declared sizes) are refused from their headers, and the server's memory stays within
//! 64 MB of its idle figure; more costly verifications than the service can work on at once are
//! answered 503 `busy` with `Retry-After` while `/healthz` keeps answering.

use base64::Engine as _;
use serde_json::json;

use crate::common::{Server, TestResult};

type BoxError = Box<dyn std::error::Error>;

const MB: u64 = 1024 * 1024;

fn png(image: &image::GrayImage) -> Result<Vec<u8>, BoxError> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

fn jpeg(image: &image::GrayImage) -> Result<Vec<u8>, BoxError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 50).encode_image(image)?;
    Ok(out)
}

/// CRC-32 (IEEE) of PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small PNG whose header declares `width` x `height` (IHDR rewritten, CRC fixed).
fn png_declaring(width: u32, height: u32) -> Result<Vec<u8>, BoxError> {
    let mut bytes = png(&image::GrayImage::new(8, 8))?;
    // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4), ...
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    Ok(bytes)
}

/// A small JPEG whose frame header declares `width` x `height`.
fn jpeg_declaring(width: u16, height: u16) -> Result<Vec<u8>, BoxError> {
    let mut bytes = jpeg(&image::GrayImage::new(8, 8))?;
    let sof = bytes
        .windows(2)
        .position(|pair| pair == [0xFF, 0xC0])
        .ok_or("no SOF0")?;
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    Ok(bytes)
}

#[tokio::test(flavor = "multi_thread")]
async fn decompression_bombs_are_refused_from_their_headers() -> TestResult {
    let server = Server::start()?;
    // Warm the verification path once, then take the idle figure.
    let warm = json!({"barcode_image": base64::engine::general_purpose::STANDARD
        .encode(png(&image::GrayImage::new(64, 64))?)});
    server.call("POST", "/v1/verify", None, Some(&warm)).await?;
    let idle = server.resident_bytes()?;
    let over_the_cap = image::GrayImage::new(4200, 3200);
    let bombs: Vec<(&str, Vec<u8>)> = vec![
        ("png 4200x3200", png(&over_the_cap)?),
        ("jpeg 4200x3200", jpeg(&over_the_cap)?),
        ("png declaring 20000x20000", png_declaring(20_000, 20_000)?),
        ("png declaring 9000x9000", png_declaring(9_000, 9_000)?),
        ("png declaring 100000x1", png_declaring(100_000, 1)?),
        (
            "jpeg declaring 30000x30000",
            jpeg_declaring(30_000, 30_000)?,
        ),
        ("jpeg declaring 9000x9000", jpeg_declaring(9_000, 9_000)?),
    ];
    let mut peak = idle;
    for round in 0..3 {
        for (name, bytes) in &bombs {
            let body =
                json!({"barcode_image": base64::engine::general_purpose::STANDARD.encode(bytes)});
            let answer = server.call("POST", "/v1/verify", None, Some(&body)).await?;
            assert_eq!(answer.status, 200, "{name}: {}", answer.body);
            assert_eq!(answer.body["status"], "INVALID", "{name}: {}", answer.body);
            let reasons = answer.body["reasons"].to_string();
            assert!(reasons.contains("READ_ERROR"), "{name}: {}", answer.body);
            if round == 0 {
                let message = answer.body["details"].to_string();
                assert!(
                    message.contains("pixels")
                        || message.contains("dimensions")
                        || message.contains("limit"),
                    "{name}: the answer says why: {message}"
                );
            }
            peak = peak.max(server.resident_bytes()?);
        }
    }
    eprintln!(
        "decompression bombs: idle {} MB, peak {} MB",
        idle / MB,
        peak / MB
    );
    assert!(
        peak < idle + 64 * MB,
        "memory grew from {} MB to {} MB",
        idle / MB,
        peak / MB
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn costly_verifications_beyond_capacity_are_busy_and_health_answers() -> TestResult {
    let server = Server::start()?;
    // A large image within the cap (banded, so that it stays small as PNG): decoding, scaling
    // and searching it for a barcode is the costly part, and it holds none.
    let noise = image::GrayImage::from_fn(4000, 3000, |x, y| {
        image::Luma([((x / 7 + y / 5) % 256) as u8])
    });
    let body =
        json!({"barcode_image": base64::engine::general_purpose::STANDARD.encode(png(&noise)?)});
    // More at once than any machine's workers and queue (one worker and four waiting per core).
    let cores = std::thread::available_parallelism().map_or(2, |cores| cores.get());
    let calls: Vec<_> = (0..(cores * 5 + 40))
        .map(|_| server.call("POST", "/v1/verify", None, Some(&body)))
        .collect();
    let health = async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        server.call("GET", "/healthz", None, None).await
    };
    let (answers, health) = tokio::join!(crate::common::join_all(calls), health);
    assert_eq!(health?.status, 200);
    let mut busy = 0;
    for answer in answers {
        let answer = answer?;
        match answer.status {
            200 => assert_eq!(answer.body["status"], "INVALID", "{}", answer.body),
            503 => {
                assert_eq!(answer.code(), "busy", "{}", answer.body);
                assert!(answer.headers.get("retry-after").is_some());
                busy += 1;
            }
            other => return Err(format!("verify: {other} {}", answer.body).into()),
        }
    }
    assert!(
        busy > 0,
        "forty costly verifications at once were all queued"
    );
    Ok(())
}

/// The `host:port` of a server URL.
fn address(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_do_not_stop_the_service() -> TestResult {
    use tokio::io::AsyncWriteExt as _;
    let dir = tempfile::tempdir()?;
    let server = Server::start_in(
        &dir.path().join("var"),
        &[("TRAVDOC_HEADER_TIMEOUT_SECS", "2")],
        None,
    )?;
    let idle = server.resident_bytes()?;
    // Three hundred connections that start a request and never finish its head.
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut stream = tokio::net::TcpStream::connect(address(&server)).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await?;
        slow.push(stream);
    }
    let started = std::time::Instant::now();
    let health = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        server.call("GET", "/healthz", None, None),
    )
    .await??;
    assert_eq!(health.status, 200);
    eprintln!(
        "healthz under 300 slow connections: {:?}",
        started.elapsed()
    );
    // The head deadline closes them: a read sees the end of the stream.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let mut closed = 0;
    for stream in &mut slow {
        let mut buffer = [0u8; 512];
        use tokio::io::AsyncReadExt as _;
        match tokio::time::timeout(
            std::time::Duration::from_millis(200),
            stream.read(&mut buffer),
        )
        .await
        {
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
            Err(_) => {}
        }
    }
    assert_eq!(
        closed, 300,
        "connections without a complete head are closed"
    );
    let after = server.resident_bytes()?;
    eprintln!(
        "slow clients: idle {} MB, after {} MB",
        idle / MB,
        after / MB
    );
    assert!(after < idle + 64 * MB);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rate_limit_answers_before_the_body_is_read() -> TestResult {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let dir = tempfile::tempdir()?;
    let server = Server::start_in(
        &dir.path().join("var"),
        &[
            ("TRAVDOC_VERIFY_RATE", "1"),
            ("TRAVDOC_METRICS_ALLOW", "192.0.2.1"),
        ],
        None,
    )?;
    // Five heads at once, each announcing 10 MB of body and sending none: only an answer
    // given before the body can come back.
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut stream = tokio::net::TcpStream::connect(address(&server)).await?;
        stream
            .write_all(
                b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                  Content-Length: 10000000\r\n\r\n",
            )
            .await?;
        streams.push(stream);
    }
    let mut limited = 0;
    for stream in &mut streams {
        let mut answer = vec![0u8; 4096];
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(2), stream.read(&mut answer)).await;
        if let Ok(Ok(count)) = read {
            let text = String::from_utf8_lossy(&answer[..count]);
            if text.starts_with("HTTP/1.1 429") {
                assert!(text.to_ascii_lowercase().contains("retry-after"), "{text}");
                limited += 1;
            }
        }
    }
    let limited = limited >= 3;
    assert!(limited, "no 429 before the body was sent");
    // /metrics only for the allowed address.
    let metrics = server.call("GET", "/metrics", None, None).await?;
    assert_eq!(metrics.status, 403, "{}", metrics.body);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_der_and_forged_seals_get_no_further_than_invalid() -> TestResult {
    let server = Server::start()?;
    let staff = crate::common::Staff::create(&server).await?;
    let idle = server.resident_bytes()?;
    // 50,000 nested SEQUENCEs as an EF.SOD.
    let depth = 50_000usize;
    let mut deep = Vec::with_capacity(depth * 6 + 2);
    for level in 0..depth {
        let inner = u32::try_from(6 * (depth - 1 - level) + 2)?;
        deep.extend([0x30, 0x84]);
        deep.extend(inner.to_be_bytes());
    }
    deep.extend([0x05, 0x00]);
    let mrz =
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    let dg1 = travdoc_lds::dg::Dg1::new(mrz)?.to_bytes();
    let engine = base64::engine::general_purpose::STANDARD;
    let body = json!({"sod": engine.encode(&deep), "data_groups": {"1": engine.encode(&dg1)}});
    let answer = server.call("POST", "/v1/verify", None, Some(&body)).await?;
    // Refused from one walk over its structure, before any decoding.
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["status"], "INVALID", "{}", answer.body);
    assert!(
        answer.body["reasons"].to_string().contains("WRONG_FORMAT"),
        "{}",
        answer.body
    );
    assert!(
        answer.body["details"].to_string().contains("nested"),
        "{}",
        answer.body
    );

    // A seal of an existing document re-signed by another key: INVALID, and nothing about the
    // document is told (no status, no proof).
    let issued = crate::common::issue_ttd(&server, &staff).await?;
    let seal = engine.decode(issued["seal"].as_str().ok_or("seal")?)?;
    let forged = crate::verify_callers::resigned_by_another_key(&seal)?;
    let answer = server
        .call(
            "POST",
            "/v1/verify",
            None,
            Some(&json!({"seal": engine.encode(&forged)})),
        )
        .await?;
    assert_eq!(answer.body["status"], "INVALID", "{}", answer.body);
    assert_eq!(
        answer.body["document_status"], "not_checked",
        "{}",
        answer.body
    );
    assert!(answer.body["ledger_proof"].is_null(), "{}", answer.body);
    let after = server.resident_bytes()?;
    eprintln!(
        "deep DER and forged seal: idle {} MB, after {} MB",
        idle / MB,
        after / MB
    );
    assert!(after < idle + 64 * MB);
    Ok(())
}
