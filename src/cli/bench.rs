//! `travdoc bench issue|verify --url URL --mission-token T --approver-token T --concurrency N
//! --count M`: a load tool against a running service. With the API tokens of a mission user and
//! an approver (`travdoc user token`), it prepares approved TTD requests (untimed), then times
//! the measured act and prints throughput and latency percentiles.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use clap::{Args, Subcommand};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Times `POST /v1/ttds/{id}/issue` (requests are created and approved first, untimed).
    Issue(BenchArgs),
    /// Times `POST /v1/verify` with the seal of a freshly issued TTD.
    Verify(BenchArgs),
    /// Times `GET PATH` of a page (the sign-in page, the public verification page) in the
    /// language asked for: what the console's and the public page's rendering cost.
    Page(PageArgs),
    /// Writes COUNT issued documents with their requests and applicants straight into the data
    /// dir's database (not signed, not on the ledger): a registry of a national size for the
    /// checks before issuance to search. For benchmark data dirs only.
    Seed {
        /// How many documents.
        #[arg(long)]
        documents: u64,
    },
}

/// `travdoc bench seed --documents N`.
pub fn seed(context: &super::Context, documents: u64) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let written = super::offline::with_service(context, async |service| {
        Ok(travdoc_store::seed::documents(service.records().db.store(), 0, documents).await?)
    })?;
    println!(
        "seeded {written} documents in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// Where and how hard to send the measured requests.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Base URL of the service, e.g. http://127.0.0.1:8080
    #[arg(long)]
    pub url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Number of measured requests.
    #[arg(long, default_value_t = 10_000)]
    pub count: usize,
    /// Requests run first at the same concurrency and left out of the measured figures (they
    /// are reported on a line of their own): the server's first ones open database
    /// connections, HSM sessions and prepared statements.
    #[arg(long, default_value_t = 0)]
    pub warmup: usize,
    /// For an `https://` URL: the PEM certificates of the authority to trust (only these).
    #[arg(long)]
    pub ca: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct PageArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// The page, e.g. `/console/login?lang=ta` or `/verify`.
    #[arg(long)]
    pub path: String,
    /// An `Accept-Language` header to send.
    #[arg(long)]
    pub accept_language: Option<String>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// An API token of a mission user (`travdoc user token NAME`): it requests the TTDs.
    #[arg(long, env = "TRAVDOC_MISSION_TOKEN")]
    pub mission_token: String,
    /// That mission user's mission code.
    #[arg(long, default_value = "BNCH")]
    pub mission: String,
    /// An API token of an approver whose grant is in force: it approves them.
    #[arg(long, env = "TRAVDOC_APPROVER_TOKEN")]
    pub approver_token: String,
}

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

struct Api {
    client: HttpClient,
    base: String,
}

impl Api {
    /// `GET path` of a page: its status and how many bytes it had.
    async fn page(&self, path: &str, language: Option<&str>) -> anyhow::Result<(u16, usize)> {
        let mut builder = hyper::Request::builder()
            .method("GET")
            .uri(format!("{}{path}", self.base));
        if let Some(language) = language {
            builder = builder.header("accept-language", language);
        }
        let response = self
            .client
            .request(builder.body(Full::new(Bytes::new()))?)
            .await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes.len()))
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<(u16, serde_json::Value)> {
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let payload = match body {
            Some(body) => {
                builder = builder.header("content-type", "application/json");
                Bytes::from(serde_json::to_vec(body)?)
            }
            None => Bytes::new(),
        };
        let response = self
            .client
            .request(builder.body(Full::new(payload))?)
            .await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        let value = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
        };
        Ok((status, value))
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * fraction).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Runs `count` jobs over `concurrency` workers; returns latencies of successes and the number
/// of failures.
async fn run_jobs<F, Fut>(
    concurrency: usize,
    count: usize,
    job: F,
) -> (Vec<Duration>, usize, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let job = job.clone();
        let next = next.clone();
        let failures = failures.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    break;
                }
                let begun = Instant::now();
                match job(index).await {
                    Ok(()) => latencies.push(begun.elapsed()),
                    Err(error) => {
                        if failures.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("bench: request {index} failed: {error:#}");
                        }
                    }
                }
            }
            latencies
        }));
    }
    let mut all = Vec::with_capacity(count);
    for worker in workers {
        if let Ok(latencies) = worker.await {
            all.extend(latencies);
        }
    }
    let elapsed = started.elapsed();
    all.sort();
    (all, failures.load(Ordering::Relaxed), elapsed)
}

/// The warm-up requests, then the measured ones, of one job at `load`'s concurrency; each
/// reported on its own line under its name.
async fn warm_then_measure<F, Fut>(load: &LoadArgs, names: [&str; 2], job: F)
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    for (name, count) in names.into_iter().zip([load.warmup, load.count]) {
        if count == 0 {
            continue;
        }
        let (latencies, failures, elapsed) = run_jobs(load.concurrency, count, job.clone()).await;
        report(name, load.concurrency, &latencies, failures, elapsed);
    }
}

fn report(
    name: &str,
    concurrency: usize,
    latencies: &[Duration],
    failures: usize,
    elapsed: Duration,
) {
    let ok = latencies.len();
    let throughput = ok as f64 / elapsed.as_secs_f64().max(1e-9);
    let p50 = percentile(latencies, 0.50);
    let p99 = percentile(latencies, 0.99);
    println!(
        "{name}: {ok} ok, {failures} failed in {:.2} s with {concurrency} clients: {throughput:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
        elapsed.as_secs_f64(),
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": name, "ok": ok, "failed": failures, "concurrency": concurrency,
            "seconds": elapsed.as_secs_f64(), "per_second": throughput,
            "p50_ms": p50.as_secs_f64() * 1000.0, "p99_ms": p99.as_secs_f64() * 1000.0,
        })
    );
}

fn ttd_body(mission: &str, index: usize) -> serde_json::Value {
    let today = time::OffsetDateTime::now_utc().date();
    let until = crate::issuance::input::add_months(today, 3);
    let (birth_date, nic) = bench_person(index);
    serde_json::json!({
        "surname": "Bench",
        "given_names": format!("Client {}", letters(index)),
        "nationality": "LKA",
        "birth_date": birth_date,
        "sex": "F",
        "mission": mission,
        "destination": "LKA",
        "route": ["DOH"],
        "valid_until": crate::issuance::input::date_text(until),
        "case_reference": format!("BENCH-{index}"),
        "nic": nic,
        // A previous passport, looked up in the lost/stolen lists (listed in none).
        "previous_document": format!("B{index:07}"),
    })
}

/// Client `index`'s birth date and NIC: every client of every run another person (the checks
/// before issuance hold a second TTD for one person, and the same name and birth date under
/// another NIC), so that runs on one data dir issue alike. The run picks a block of birth
/// dates; within it, 10,000 NIC serials per day.
fn bench_person(index: usize) -> (String, String) {
    static RUN: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let run = *RUN.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos() as u64)
            .unwrap_or(0)
    });
    let days = ((run / 1_000 + (index / 10_000) as u64) % 18_000) as i64;
    let birth = time::macros::date!(1950 - 01 - 01) + time::Duration::days(days);
    let day = travdoc_nic::day_number(travdoc_nic::BirthDate {
        year: birth.year() as u16,
        month: u8::from(birth.month()),
        day: birth.day(),
    })
    .unwrap_or(1);
    // A woman: the day number plus 500; a serial of her own and a check digit.
    let nic = format!("{:04}{:03}{:04}0", birth.year(), day + 500, index % 10_000);
    (crate::issuance::input::date_text(birth), nic)
}

/// A name part made of letters only (names may not hold digits).
fn letters(mut index: usize) -> String {
    let mut out = String::new();
    loop {
        out.push(char::from(b'A' + (index % 26) as u8));
        index /= 26;
        if index == 0 {
            return out;
        }
    }
}

/// Creates and approves `count` TTD requests with the mission's and the approver's tokens;
/// returns their ids and the mission's token.
async fn prepare(
    api: Arc<Api>,
    args: &BenchArgs,
    concurrency: usize,
    count: usize,
) -> anyhow::Result<(Vec<String>, String)> {
    let mission: Arc<str> = Arc::from(args.mission.as_str());
    let mission_token = args.mission_token.clone();
    let approver_token = args.approver_token.clone();
    let ids = Arc::new(std::sync::Mutex::new(vec![String::new(); count]));
    let (latencies, failures, elapsed) = {
        let api = api.clone();
        let ids = ids.clone();
        let mission_token = mission_token.clone();
        run_jobs(concurrency, count, move |index| {
            let api = api.clone();
            let ids = ids.clone();
            let mission_token = mission_token.clone();
            let approver_token = approver_token.clone();
            let mission = mission.clone();
            async move {
                let (status, body) = api
                    .call(
                        "POST",
                        "/v1/ttds",
                        Some(&mission_token),
                        Some(&ttd_body(&mission, index)),
                    )
                    .await?;
                if status != 201 {
                    bail!("request: HTTP {status}: {body}");
                }
                let id = body
                    .get("id")
                    .and_then(|id| id.as_str())
                    .context("no id")?
                    .to_owned();
                let (status, body) = api
                    .call(
                        "POST",
                        &format!("/v1/ttds/{id}/approve"),
                        Some(&approver_token),
                        None,
                    )
                    .await?;
                if status != 200 {
                    bail!("approve: HTTP {status}: {body}");
                }
                if let Ok(mut ids) = ids.lock() {
                    ids[index] = id;
                }
                Ok(())
            }
        })
        .await
    };
    report(
        "ttd request+approve (setup)",
        concurrency,
        &latencies,
        failures,
        elapsed,
    );
    let ids = ids.lock().map(|ids| ids.clone()).unwrap_or_default();
    Ok((
        ids.into_iter().filter(|id| !id.is_empty()).collect(),
        mission_token,
    ))
}

pub fn run(command: &BenchCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let args = match command {
            BenchCommand::Issue(args) | BenchCommand::Verify(args) => &args.load,
            BenchCommand::Page(args) => &args.load,
            BenchCommand::Seed { .. } => bail!("`bench seed` runs on a data dir"),
        };
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(false);
        let tls = match &args.ca {
            Some(ca) => crate::http::tls::client_config(ca)?,
            None if args.url.starts_with("https:") => {
                bail!("--url is https: give --ca with the certificate authority to trust")
            }
            // Plain HTTP: the TLS side is never used, but the connector needs a configuration.
            None => rustls::ClientConfig::builder_with_provider(Arc::new(
                #[allow(deprecated)]
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        };
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client: HttpClient = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(args.concurrency.max(1))
            .build(connector);
        let api = Arc::new(Api {
            client,
            base: args.url.trim_end_matches('/').to_owned(),
        });
        match command {
            BenchCommand::Issue(args) => {
                let (mut ids, mission_token) = prepare(
                    api.clone(),
                    args,
                    args.load.concurrency,
                    args.load.count + args.load.warmup,
                )
                .await?;
                let measured = ids.split_off(args.load.warmup.min(ids.len()));
                for (name, ids) in [("ttd issue (warm-up)", ids), ("ttd issue", measured)] {
                    if ids.is_empty() {
                        continue;
                    }
                    let ids = Arc::new(ids);
                    let count = ids.len();
                    let api = api.clone();
                    let token = mission_token.clone();
                    let (latencies, failures, elapsed) =
                        run_jobs(args.load.concurrency, count, move |index| {
                            let api = api.clone();
                            let ids = ids.clone();
                            let token = token.clone();
                            async move {
                                let (status, body) = api
                                    .call(
                                        "POST",
                                        &format!("/v1/ttds/{}/issue", ids[index]),
                                        Some(&token),
                                        None,
                                    )
                                    .await?;
                                if status != 200 {
                                    bail!("issue: HTTP {status}: {body}");
                                }
                                Ok(())
                            }
                        })
                        .await;
                    report(name, args.load.concurrency, &latencies, failures, elapsed);
                }
            }
            BenchCommand::Verify(args) => {
                let (ids, mission_token) = prepare(api.clone(), args, 1, 1).await?;
                let id = ids.first().context("no TTD prepared")?;
                let (status, body) = api
                    .call(
                        "POST",
                        &format!("/v1/ttds/{id}/issue"),
                        Some(&mission_token),
                        None,
                    )
                    .await?;
                if status != 200 {
                    bail!("issue: HTTP {status}: {body}");
                }
                let seal = body
                    .get("seal")
                    .and_then(|seal| seal.as_str())
                    .context("no seal")?
                    .to_owned();
                let request = Arc::new(serde_json::json!({"seal": seal}));
                let api = api.clone();
                warm_then_measure(
                    &args.load,
                    ["verify (seal, warm-up)", "verify (seal)"],
                    move |_| {
                        let api = api.clone();
                        let request = request.clone();
                        async move {
                            let (status, body) =
                                api.call("POST", "/v1/verify", None, Some(&request)).await?;
                            if status != 200
                                || body.get("status").and_then(|s| s.as_str()) != Some("VALID")
                            {
                                bail!("verify: HTTP {status}: {body}");
                            }
                            Ok(())
                        }
                    },
                )
                .await;
            }
            BenchCommand::Page(args) => {
                let path = Arc::new(args.path.clone());
                let language = Arc::new(args.accept_language.clone());
                let api = api.clone();
                warm_then_measure(
                    &args.load,
                    [
                        &format!("page (warm-up) {}", args.path),
                        &format!("page {}", args.path),
                    ],
                    move |_| {
                        let api = api.clone();
                        let path = path.clone();
                        let language = language.clone();
                        async move {
                            let (status, bytes) = api.page(&path, language.as_deref()).await?;
                            if status != 200 || bytes < 512 {
                                bail!("page {path}: HTTP {status}, {bytes} bytes");
                            }
                            Ok(())
                        }
                    },
                )
                .await;
            }
            // Refused before connecting.
            BenchCommand::Seed { .. } => {}
        }
        Ok(ExitCode::SUCCESS)
    })
}
