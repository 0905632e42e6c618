//! Shared helpers for the service tests: a real `travdoc serve` process on a free port with its
//! own data dir (SoftHSM2 token, PKI, SQLite or PostgreSQL), and a small HTTP client.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A running service.
pub struct Server {
    pub url: String,
    /// An API token of the first admin (`travdoc user token admin`, made by the harness).
    pub admin_token: String,
    /// The first admin's one-time enrolment code, as `serve` printed it on first start.
    pub enrolment_code: Option<String>,
    pub data_dir: PathBuf,
    /// The environment `serve` was started with (the database among it), for the CLI.
    pub env: Vec<(String, String)>,
    child: Child,
    _dir: Option<tempfile::TempDir>,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: hyper::HeaderMap,
    /// The raw body.
    pub bytes: Bytes,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or("")
    }
    /// The raw body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

impl Server {
    /// Starts `travdoc serve` on a fresh temporary data dir (SQLite).
    pub fn start() -> Result<Self, Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let data_dir = dir.path().join("var");
        Self::start_in(&data_dir, &[], Some(dir))
    }

    /// Starts `travdoc serve` on `data_dir` with extra environment variables.
    pub fn start_in(
        data_dir: &Path,
        env: &[(&str, &str)],
        dir: Option<tempfile::TempDir>,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        // `TRAVDOC_VERIFY_RATE` among `env` sets the verification rate limit (default: none).
        let rate = env
            .iter()
            .find(|(key, _)| *key == "TRAVDOC_VERIFY_RATE")
            .map_or("0", |(_, value)| *value);
        let mut command = Command::new(env!("CARGO_BIN_EXE_travdoc"));
        command
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--listen", "127.0.0.1:0", "--verify-rate", rate])
            .env_remove("DATABASE_URL")
            .env_remove("SOFTHSM2_CONF")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn()?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (sender, receiver) = mpsc::channel();
        let (code_sender, code_receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("travdoc: listening on ") {
                    let _ = sender.send(Ok(url.trim().to_owned()));
                } else if line.starts_with("error:") {
                    let _ = sender.send(Err(line.clone()));
                } else if let Some(rest) = line.split("with the one-time code ").nth(1) {
                    let code = rest.split_whitespace().next().unwrap_or("").to_owned();
                    let _ = code_sender.send(code);
                }
                eprintln!("[serve] {line}");
            }
        });
        let url = match receiver.recv_timeout(Duration::from_secs(120)) {
            Ok(Ok(url)) => url,
            Ok(Err(line)) => {
                let _ = child.kill();
                return Err(format!("travdoc serve failed: {line}").into());
            }
            Err(_) => {
                let _ = child.kill();
                return Err("travdoc serve did not start within 120 s".into());
            }
        };
        let enrolment_code = code_receiver.try_recv().ok();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        let admin_token = cli_token(data_dir, &env, "admin")?;
        let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        Ok(Server {
            url,
            admin_token,
            enrolment_code,
            data_dir: data_dir.to_owned(),
            env,
            child,
            _dir: dir,
            client,
        })
    }

    /// Runs `travdoc ARGS` on this server's data dir and database, as the host operator.
    pub fn cli(&self, args: &[&str]) -> Result<std::process::Output, Box<dyn std::error::Error>> {
        cli(&self.data_dir, &self.env, args)
    }

    /// Runs `travdoc ARGS` as the first admin (`TRAVDOC_OPERATOR_TOKEN`).
    pub fn cli_as_admin(
        &self,
        args: &[&str],
    ) -> Result<std::process::Output, Box<dyn std::error::Error>> {
        let mut env = self.env.clone();
        env.push((
            "TRAVDOC_OPERATOR_TOKEN".to_owned(),
            self.admin_token.clone(),
        ));
        cli(&self.data_dir, &env, args)
    }

    /// Sends a request; `body` as JSON when given.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer, Box<dyn std::error::Error>> {
        self.call_with(method, path, token, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, Box<dyn std::error::Error>> {
        let payload = match body {
            Some(body) => Bytes::from(serde_json::to_vec(body)?),
            None => Bytes::new(),
        };
        let content_type = body.map(|_| "application/json");
        self.raw(method, path, token, payload, content_type, headers)
            .await
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        payload: Bytes,
        content_type: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, Box<dyn std::error::Error>> {
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url));
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let response = self
            .client
            .request(builder.body(Full::new(payload))?)
            .await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await?.to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok(Answer {
            status,
            body,
            headers,
            bytes,
        })
    }

    /// Creates a user through the API (as the first admin) and returns an API token of it. A
    /// grant of approver or admin is confirmed by the host operator (`travdoc user confirm`:
    /// the service has one admin, so the host is the second party).
    pub async fn user(
        &self,
        name: &str,
        role: &str,
        mission: Option<&str>,
    ) -> Result<String, Box<dyn std::error::Error>> {
        let answer = self
            .call(
                "POST",
                "/v1/users",
                Some(&self.admin_token),
                Some(&json!({"name": name, "role": role, "mission": mission})),
            )
            .await?;
        if answer.status != 201 {
            return Err(format!("creating {name}: {} {}", answer.status, answer.body).into());
        }
        if matches!(role, "approver" | "admin") {
            let confirmed = self.cli(&["user", "confirm", name])?;
            if !confirmed.status.success() {
                return Err(format!(
                    "confirming {name}: {}",
                    String::from_utf8_lossy(&confirmed.stderr)
                )
                .into());
            }
        }
        let token = self
            .call(
                "POST",
                &format!("/v1/users/{name}/tokens"),
                Some(&self.admin_token),
                Some(&json!({"label": "tests"})),
            )
            .await?;
        if token.status != 201 {
            return Err(format!("token of {name}: {} {}", token.status, token.body).into());
        }
        Ok(token.body["token"].as_str().ok_or("no token")?.to_owned())
    }
}

/// Runs `travdoc --data-dir DIR ARGS` with `env` (the server's database), as the host operator.
pub fn cli(
    data_dir: &Path,
    env: &[(String, String)],
    args: &[&str],
) -> Result<std::process::Output, Box<dyn std::error::Error>> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_travdoc"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SOFTHSM2_CONF")
        .env_remove("TRAVDOC_OPERATOR_TOKEN")
        .env("RUST_LOG", "warn");
    for (key, value) in env {
        command.env(key, value);
    }
    Ok(command.output()?)
}

/// A further API token of `name` on `server`, made offline.
pub fn cli_token_of(server: &Server, name: &str) -> Result<String, Box<dyn std::error::Error>> {
    cli_token(&server.data_dir, &server.env, name)
}

/// An API token of `name`, made offline (`travdoc user token NAME`).
pub fn cli_token(
    data_dir: &Path,
    env: &[(String, String)],
    name: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let output = cli(data_dir, env, &["user", "token", name, "--label", "tests"])?;
    let token = String::from_utf8(output.stdout)?.trim().to_owned();
    if !output.status.success() || !token.starts_with("tdk_") {
        return Err(format!(
            "travdoc user token {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(token)
}

/// A valid TTD request body for `mission`.
pub fn ttd_body(mission: &str) -> Value {
    // Each body is another person (the checks before issuance hold a second TTD for one
    // person): the first is Nimal Kumar Perera, NIC 198507401234, the next ones his namesakes
    // with their own given name and NIC serial.
    static PEOPLE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = PEOPLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    person_ttd_body(mission, n)
}

/// The TTD request of person `n` (see [`ttd_body`]).
pub fn person_ttd_body(mission: &str, n: u32) -> Value {
    let today = time::OffsetDateTime::now_utc().date();
    let until = today + time::Duration::days(60);
    let given_names = if n == 0 {
        "Nimal Kumar".to_owned()
    } else {
        let mut word = String::from("K");
        let mut rest = n;
        while rest > 0 {
            word.push(char::from(b'a' + (rest % 26) as u8));
            rest /= 26;
        }
        format!("Nimal {word}")
    };
    json!({
        "surname": "Perera",
        "given_names": given_names,
        "nationality": "LKA",
        "birth_date": "1985-03-14",
        "sex": "M",
        "mission": mission,
        "destination": "LKA",
        "route": ["DOH", "CMB"],
        "valid_until": format!("{:04}-{:02}-{:02}", until.year(), u8::from(until.month()), until.day()),
        "case_reference": "RA-KWT-2026-0042",
        "previous_document": "N1234567",
        "nic": format!("1985074{:05}", (1234 + n) % 100_000),
    })
}

/// The roles with one user each (the mission user is bound to `LON`).
pub struct Staff {
    pub issuer: String,
    pub approver: String,
    pub mission: String,
    pub other_mission: String,
    pub consular: String,
    pub immigration: String,
    pub auditor: String,
    pub admin: String,
}

impl Staff {
    pub async fn create(server: &Server) -> Result<Self, Box<dyn std::error::Error>> {
        Ok(Staff {
            issuer: server.user("issuer1", "issuer", None).await?,
            approver: server.user("approver1", "approver", None).await?,
            mission: server.user("mission-lon", "mission", Some("LON")).await?,
            other_mission: server.user("mission-par", "mission", Some("PAR")).await?,
            consular: server.user("consular1", "consular", None).await?,
            immigration: server.user("immigration1", "immigration", None).await?,
            auditor: server.user("auditor1", "auditor", None).await?,
            admin: server.admin_token.clone(),
        })
    }
}

/// Requests and approves a TTD for mission LON; returns the request id.
pub async fn approved_ttd(
    server: &Server,
    staff: &Staff,
) -> Result<String, Box<dyn std::error::Error>> {
    approved_ttd_with(server, staff, &ttd_body("LON")).await
}

/// Requests (with `body`) and approves a TTD for mission LON; returns the request id.
pub async fn approved_ttd_with(
    server: &Server,
    staff: &Staff,
    body: &Value,
) -> Result<String, Box<dyn std::error::Error>> {
    let created = server
        .call("POST", "/v1/ttds", Some(&staff.mission), Some(body))
        .await?;
    if created.status != 201 {
        return Err(format!("request: {} {}", created.status, created.body).into());
    }
    let id = created.body["id"].as_str().ok_or("no id")?.to_owned();
    let approved = server
        .call(
            "POST",
            &format!("/v1/ttds/{id}/approve"),
            Some(&staff.approver),
            None,
        )
        .await?;
    if approved.status != 200 {
        return Err(format!("approve: {} {}", approved.status, approved.body).into());
    }
    Ok(id)
}

/// Verifies the seal of an issue answer through the public endpoint and checks it is VALID;
/// returns the verification answer body.
pub async fn verify_issued_seal(
    server: &Server,
    issued: &Value,
) -> Result<Value, Box<dyn std::error::Error>> {
    let request = serde_json::json!({"seal": issued["seal"].clone()});
    let verified = server
        .call("POST", "/v1/verify", None, Some(&request))
        .await?;
    if verified.body["status"] != "VALID" {
        return Err(format!("verify: {} {}", verified.status, verified.body).into());
    }
    Ok(verified.body)
}

/// Requests, approves and issues a TTD for mission LON; returns the issue answer body.
pub async fn issue_ttd(
    server: &Server,
    staff: &Staff,
) -> Result<Value, Box<dyn std::error::Error>> {
    issue_ttd_with(server, staff, &ttd_body("LON")).await
}

/// Requests, approves and issues the TTD of `body`; the issuance's answer.
pub async fn issue_ttd_with(
    server: &Server,
    staff: &Staff,
    body: &Value,
) -> Result<Value, Box<dyn std::error::Error>> {
    let id = approved_ttd_with(server, staff, body).await?;
    let issued = server
        .call(
            "POST",
            &format!("/v1/ttds/{id}/issue"),
            Some(&staff.mission),
            None,
        )
        .await?;
    if issued.status != 200 {
        return Err(format!("issue: {} {}", issued.status, issued.body).into());
    }
    Ok(issued.body)
}

impl Server {
    /// Kills the process without warning (SIGKILL), as a crash would.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server process's resident memory, in bytes (`VmRSS` of /proc).
    pub fn resident_bytes(&self) -> Result<u64, Box<dyn std::error::Error>> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kilobytes: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.split_whitespace().next())
            .ok_or("no VmRSS")?
            .parse()?;
        Ok(kilobytes * 1024)
    }
}

/// Awaits all futures concurrently on this task.
pub async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (index, future) in pinned.iter_mut().enumerate() {
            if outputs[index].is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(output) => outputs[index] = Some(output),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Checks that a `/v1/verify` answer for document `number` carries an inclusion proof of that
/// document's issuance entry: the proof's index is the document's, and the auditor's export
/// has, at that index, an issuance naming `number` with the proof's leaf hash.
pub async fn assert_issuance_proof(
    server: &Server,
    auditor: &str,
    verified: &Value,
    number: &str,
) -> TestResult {
    let proof = &verified["ledger_proof"];
    let index = proof["index"]
        .as_u64()
        .ok_or(format!("no ledger proof: {verified}"))?;
    let size = proof["tree_size"].as_u64().ok_or("tree_size")?;
    assert!(index < size, "{proof}");
    assert!(
        proof["checkpoint"]
            .as_str()
            .is_some_and(|note| !note.is_empty()),
        "{proof}"
    );
    let export = server
        .call("GET", "/v1/ledger/export", Some(auditor), None)
        .await?;
    assert_eq!(export.status, 200);
    let text = String::from_utf8(export.bytes.to_vec())?;
    let line = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["index"].as_u64() == Some(index))
        .ok_or(format!("index {index} is not in the export"))?;
    assert_eq!(line["leaf_hash"], proof["leaf_hash"], "{line}");
    assert!(
        line["entry"].to_string().contains(&format!("\"{number}\"")),
        "entry {index} does not name {number}: {line}"
    );
    Ok(())
}

/// Checks the numbering invariant on the database at `url`: every number is either `issued`
/// with exactly one document or `void` with none, never still `allocated` (call it when no
/// issuance is in flight). Returns the number of void numbers.
pub async fn assert_numbers_accounted(url: &str) -> Result<usize, Box<dyn std::error::Error>> {
    let store = travdoc_store::Store::connect(url).await?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT n.number, n.state, (SELECT COUNT(*) FROM svc_documents d \
         WHERE d.number = n.number) FROM svc_document_numbers n ORDER BY n.number",
    )
    .fetch_all(store.pool())
    .await?;
    let mut void = 0;
    for (number, state, documents) in &rows {
        match state.as_str() {
            "issued" => assert_eq!(*documents, 1, "{number} is issued without a document"),
            "void" => {
                assert_eq!(*documents, 0, "{number} is void but has a document");
                void += 1;
            }
            other => panic!("{number} is {other}"),
        }
    }
    Ok(void)
}
