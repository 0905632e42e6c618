//! Staff identity over HTTP, against a real `travdoc serve`: API tokens that expire, are revoked
//! and die with a disabled account; grants that do nothing until a second party confirms them;
//! console sessions that end when the account is disabled; throttling and locks after failed
//! sign-ins; and every one of those acts read back from `travdoc ledger export`.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::common::{Answer, Server, Staff, TestResult, ttd_body};

type BoxError = Box<dyn std::error::Error>;

/// A console client without a browser: the cookies it was given and the form value of the
/// double-submit check.
struct Console<'a> {
    server: &'a Server,
    cookies: BTreeMap<String, String>,
    last_step: u64,
}

impl<'a> Console<'a> {
    fn new(server: &'a Server) -> Self {
        Console {
            server,
            cookies: BTreeMap::new(),
            last_step: 0,
        }
    }

    fn keep_cookies(&mut self, answer: &Answer) {
        for value in answer.headers.get_all("set-cookie") {
            let Ok(value) = value.to_str() else { continue };
            let pair = value.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || value.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path: &str) -> Result<Answer, BoxError> {
        let cookie = self.cookie_header();
        let answer = self
            .server
            .raw(
                "GET",
                path,
                None,
                Bytes::new(),
                None,
                &[("cookie", &cookie)],
            )
            .await?;
        self.keep_cookies(&answer);
        Ok(answer)
    }

    /// Posts a form; the double-submit value is added from the `td_form` cookie.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Result<Answer, BoxError> {
        let form = self
            .cookies
            .get("td_form")
            .cloned()
            .ok_or("no td_form cookie: GET a page first")?;
        let mut body = url_encode(&[("form", form.as_str())]);
        for (name, value) in fields {
            body.push('&');
            body.push_str(&url_encode(&[(name, value)]));
        }
        let cookie = self.cookie_header();
        let answer = self
            .server
            .raw(
                "POST",
                path,
                None,
                Bytes::from(body),
                Some("application/x-www-form-urlencoded"),
                &[("cookie", &cookie)],
            )
            .await?;
        self.keep_cookies(&answer);
        Ok(answer)
    }

    /// The next unused TOTP code of `secret` (the server refuses a step twice, and accepts one
    /// step ahead for clock skew): waits for the next step when both are used.
    async fn next_code(&mut self, secret: &str) -> Result<String, BoxError> {
        loop {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs();
            let step = (now / 30).max(self.last_step + 1);
            if step <= now / 30 + 1 {
                self.last_step = step;
                return Ok(travdoc::identity::totp_code(secret, step * 30)?);
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }

    /// Enrols with the one-time code: password, then the authenticator; returns the secret.
    async fn enrol(&mut self, code: &str, password: &str) -> Result<String, BoxError> {
        self.get("/console/enrol").await?;
        let page = self
            .post(
                "/console/enrol",
                &[
                    ("enrolment_code", code),
                    ("password", password),
                    ("password_again", password),
                ],
            )
            .await?;
        assert_eq!(page.status, 200, "{}", page.body);
        let html = page.body.as_str().unwrap_or_default().to_owned();
        let secret = regex::Regex::new(r#"id="totp-secret"[^>]*>\s*([A-Z2-7]+)\s*<"#)?
            .captures(&html)
            .ok_or("no TOTP secret on the enrolment page")?[1]
            .to_owned();
        let totp = self.next_code(&secret).await?;
        let done = self
            .post(
                "/console/enrol/totp",
                &[("enrolment_code", code), ("code", &totp)],
            )
            .await?;
        assert_eq!(done.status, 200, "{}", done.body);
        assert!(
            done.body
                .as_str()
                .unwrap_or_default()
                .contains("recovery-codes")
        );
        Ok(secret)
    }

    /// The password step alone.
    async fn password(&mut self, name: &str, password: &str) -> Result<Answer, BoxError> {
        self.get("/console/login").await?;
        self.post("/console/login", &[("name", name), ("password", password)])
            .await
    }

    /// Both steps; the answer of the code step.
    async fn sign_in(
        &mut self,
        name: &str,
        password: &str,
        secret: &str,
    ) -> Result<Answer, BoxError> {
        let first = self.password(name, password).await?;
        if first.status != 303 {
            return Ok(first);
        }
        let code = self.next_code(secret).await?;
        self.post("/console/login/code", &[("code", &code)]).await
    }
}

fn url_encode(pairs: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    char::from(byte).to_string()
                }
                b' ' => "+".to_owned(),
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn location(answer: &Answer) -> &str {
    answer
        .headers
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

async fn add(
    server: &Server,
    name: &str,
    role: &str,
    mission: Option<&str>,
) -> Result<Value, BoxError> {
    let answer = server
        .call(
            "POST",
            "/v1/users",
            Some(&server.admin_token),
            Some(&json!({"name": name, "role": role, "mission": mission})),
        )
        .await?;
    assert_eq!(answer.status, 201, "{}", answer.body);
    Ok(answer.body)
}

async fn token(server: &Server, by: &str, name: &str, body: &Value) -> Result<Answer, BoxError> {
    server
        .call(
            "POST",
            &format!("/v1/users/{name}/tokens"),
            Some(by),
            Some(body),
        )
        .await
}

async fn act(server: &Server, by: &str, name: &str, what: &str) -> Result<Answer, BoxError> {
    server
        .call("POST", &format!("/v1/users/{name}/{what}"), Some(by), None)
        .await
}

fn ledger_kinds(server: &Server) -> Result<String, BoxError> {
    let exported = server.cli(&["ledger", "export"])?;
    assert!(exported.status.success());
    Ok(String::from_utf8(exported.stdout)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_are_revoked_and_die_with_a_disabled_account() -> TestResult {
    let server = Server::start()?;
    add(&server, "clerk", "issuer", None).await?;
    let made = token(
        &server,
        &server.admin_token,
        "clerk",
        &json!({"label": "scanner", "expires_days": 7}),
    )
    .await?;
    assert_eq!(made.status, 201, "{}", made.body);
    let clerk = made.body["token"].as_str().ok_or("no token")?.to_owned();
    assert!(clerk.starts_with("tdk_"));
    let list = |token: String| {
        let server = &server;
        async move {
            server
                .call("GET", "/v1/documents", Some(&token), None)
                .await
        }
    };
    assert_eq!(list(clerk.clone()).await?.status, 200);

    // A token that never expires is refused, naming the field.
    let forever = token(
        &server,
        &server.admin_token,
        "clerk",
        &json!({"expires_days": 0}),
    )
    .await?;
    assert_eq!(forever.status, 422, "{}", forever.body);
    assert_eq!(forever.field(), "expires_days");
    // The listing shows the token's life, never the token.
    let tokens = server
        .call(
            "GET",
            "/v1/users/clerk/tokens",
            Some(&server.admin_token),
            None,
        )
        .await?;
    assert_eq!(tokens.status, 200);
    assert!(!tokens.bytes.windows(4).any(|window| window == b"tdk_"));
    assert_eq!(tokens.body.as_array().map(Vec::len), Some(1));

    // Disabled: the very next request is refused; enabled again (not a grant), it works.
    assert_eq!(
        act(&server, &server.admin_token, "clerk", "disable")
            .await?
            .status,
        200
    );
    let refused = list(clerk.clone()).await?;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(
        act(&server, &server.admin_token, "clerk", "enable")
            .await?
            .status,
        200
    );
    assert_eq!(list(clerk.clone()).await?.status, 200);

    // Revoked: refused at once; a second revocation is a clear 404.
    let id = made.body["id"].as_str().ok_or("no id")?.to_owned();
    let revoke = format!("/v1/tokens/{id}/revoke");
    let revoked = server
        .call("POST", &revoke, Some(&server.admin_token), None)
        .await?;
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    assert_eq!(list(clerk).await?.status, 401);
    let again = server
        .call("POST", &revoke, Some(&server.admin_token), None)
        .await?;
    assert_eq!(again.status, 404, "{}", again.body);

    // Expired: a token whose expiry has passed is refused (the clock moved by the database).
    let second = token(&server, &server.admin_token, "clerk", &json!({})).await?;
    assert_eq!(second.status, 201, "{}", second.body);
    let second_token = second.body["token"].as_str().ok_or("no token")?.to_owned();
    assert_eq!(list(second_token.clone()).await?.status, 200);
    let url = format!(
        "sqlite://{}?mode=rw",
        server.data_dir.join("travdoc.db").display()
    );
    let store = travdoc_store::Store::connect(&url).await?;
    let moved =
        sqlx::query("UPDATE svc_api_tokens SET expires_at = expires_at - 91 * 86400 WHERE id = $1")
            .bind(second.body["id"].as_str().ok_or("no id")?)
            .execute(store.pool())
            .await?;
    assert_eq!(moved.rows_affected(), 1);
    let expired = list(second_token).await?;
    assert_eq!(expired.status, 401, "{}", expired.body);

    let ledger = ledger_kinds(&server)?;
    for kind in [
        "user_added",
        "token_created",
        "token_revoked",
        "user_disabled",
        "user_enabled",
    ] {
        assert!(
            ledger.contains(&format!("\"kind\":\"{kind}\"")),
            "no {kind}"
        );
    }
    // No token, hashed or not, is in the ledger.
    assert!(!ledger.contains("tdk_"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_does_nothing_until_a_second_party_confirms_it() -> TestResult {
    let server = Server::start()?;
    let admin = server.admin_token.clone();
    let mission = server.user("mission-lon", "mission", Some("LON")).await?;

    // An approver added by the only admin: an account, a token, and no power yet.
    let added = add(&server, "approver2", "approver", None).await?;
    assert_eq!(added["account"]["granted"], false, "{added}");
    let approver = token(&server, &admin, "approver2", &json!({})).await?;
    let approver = approver.body["token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let created = server
        .call("POST", "/v1/ttds", Some(&mission), Some(&ttd_body("LON")))
        .await?;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().ok_or("no id")?.to_owned();
    let approve = format!("/v1/ttds/{id}/approve");
    let early = server.call("POST", &approve, Some(&approver), None).await?;
    assert_eq!(early.status, 403, "{}", early.body);

    // The admin who asked may not confirm; the host operator may (one admin only).
    let own = act(&server, &admin, "approver2", "confirm").await?;
    assert_eq!(own.status, 403, "{}", own.body);
    assert_eq!(own.code(), "four_eyes");
    let confirmed = server.cli(&["user", "confirm", "approver2"])?;
    assert!(
        confirmed.status.success(),
        "{}",
        String::from_utf8_lossy(&confirmed.stderr)
    );
    let approved = server.call("POST", &approve, Some(&approver), None).await?;
    assert_eq!(approved.status, 200, "{}", approved.body);

    // With a second admin, the host may no longer confirm, and neither may the asker; the
    // second admin may.
    add(&server, "admin2", "admin", None).await?;
    assert!(server.cli(&["user", "confirm", "admin2"])?.status.success());
    let admin2 = token(&server, &admin, "admin2", &json!({})).await?;
    let admin2 = admin2.body["token"].as_str().ok_or("no token")?.to_owned();
    add(&server, "clerk", "issuer", None).await?;
    let promote = server
        .call(
            "POST",
            "/v1/users/clerk/role",
            Some(&admin),
            Some(&json!({"role": "approver"})),
        )
        .await?;
    assert_eq!(promote.status, 200, "{}", promote.body);
    let clerk = server
        .call("GET", "/v1/users/clerk", Some(&admin), None)
        .await?;
    assert_eq!(clerk.body["granted"], false, "{}", clerk.body);
    assert_eq!(act(&server, &admin, "clerk", "confirm").await?.status, 403);
    let host = server.cli(&["user", "confirm", "clerk"])?;
    assert!(!host.status.success(), "the host confirmed past two admins");
    // Setting a role already held changes nothing (it would otherwise suspend it).
    let demote = server
        .call(
            "POST",
            "/v1/users/admin2/role",
            Some(&admin),
            Some(&json!({"role": "admin"})),
        )
        .await?;
    assert_eq!(demote.status, 409, "{}", demote.body);
    let confirmed = act(&server, &admin2, "clerk", "confirm").await?;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let clerk = server
        .call("GET", "/v1/users/clerk", Some(&admin), None)
        .await?;
    assert_eq!(clerk.body["granted"], true, "{}", clerk.body);
    assert_eq!(clerk.body["role"], "approver", "{}", clerk.body);

    // Back to a role without a grant: in force at once, on the record as a role change.
    let back = server
        .call(
            "POST",
            "/v1/users/clerk/role",
            Some(&admin),
            Some(&json!({"role": "issuer"})),
        )
        .await?;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["granted"], true, "{}", back.body);

    // The last enabled admin cannot be disabled.
    assert_eq!(act(&server, &admin2, "admin", "disable").await?.status, 200);
    let last = act(&server, &admin2, "admin2", "disable").await?;
    assert_eq!(last.status, 409, "{}", last.body);

    let ledger = ledger_kinds(&server)?;
    for kind in [
        "grant_requested",
        "grant_confirmed",
        "role_changed",
        "request_approved",
        "user_disabled",
    ] {
        assert!(
            ledger.contains(&format!("\"kind\":\"{kind}\"")),
            "no {kind}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_on_disable_and_logout_and_failures_lock_the_account() -> TestResult {
    let server = Server::start()?;
    let staff = Staff::create(&server).await?;
    let added = add(&server, "clerk", "issuer", None).await?;
    let code = added["enrolment_code"]
        .as_str()
        .ok_or("no code")?
        .to_owned();
    let password = "a quiet ferry crosses the lagoon";
    let mut console = Console::new(&server);
    let secret = console.enrol(&code, password).await?;

    // Signed in: the session cookie opens the console, and it is not the password or the id
    // of any API token.
    let signed_in = console.sign_in("clerk", password, &secret).await?;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert!(location(&signed_in).starts_with("/console?"));
    let session = console
        .cookies
        .get("td_session")
        .cloned()
        .ok_or("no session")?;
    let page = console.get("/console").await?;
    assert_eq!(page.status, 200);
    // Logged out: the same cookie, replayed, opens nothing.
    let page_html = page.body.as_str().unwrap_or_default().to_owned();
    let csrf = regex::Regex::new(r#"name="csrf" value="([^"]+)""#)?
        .captures(&page_html)
        .ok_or("no csrf value on the console")?[1]
        .to_owned();
    let cookie = format!("td_session={session}");
    let out = server
        .raw(
            "POST",
            "/console/logout",
            None,
            Bytes::from(format!("csrf={csrf}")),
            Some("application/x-www-form-urlencoded"),
            &[("cookie", &cookie)],
        )
        .await?;
    assert_eq!(out.status, 303, "{}", out.body);
    let replayed = server
        .raw(
            "GET",
            "/console",
            None,
            Bytes::new(),
            None,
            &[("cookie", &cookie)],
        )
        .await?;
    assert_eq!(replayed.status, 303);
    assert_eq!(location(&replayed), "/console/login");

    // Signed in again, then disabled: the next request is refused.
    console.cookies.remove("td_session");
    let again = console.sign_in("clerk", password, &secret).await?;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(console.get("/console").await?.status, 200);
    assert_eq!(
        act(&server, &staff.admin, "clerk", "disable").await?.status,
        200
    );
    let after = console.get("/console").await?;
    assert_eq!(after.status, 303);
    assert_eq!(location(&after), "/console/login");
    // A disabled account cannot sign in, and is told nothing more than a wrong password.
    let disabled = console.password("clerk", password).await?;
    assert_eq!(disabled.status, 401);
    assert_eq!(
        act(&server, &staff.admin, "clerk", "enable").await?.status,
        200
    );

    // Five failures lock the account (the disabled sign-in above was the first): the right
    // password is then refused too, with 429.
    for attempt in 0..4 {
        let wrong = console
            .password("clerk", &format!("wrong password number {attempt}"))
            .await?;
        assert_eq!(wrong.status, 401, "attempt {attempt}: {}", wrong.body);
    }
    let locked = console.password("clerk", password).await?;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(
        locked
            .body
            .as_str()
            .unwrap_or_default()
            .contains("too many failed sign-ins")
    );
    // An admin unlocks; the right password works again.
    let unlocked = act(&server, &staff.admin, "clerk", "unlock").await?;
    assert_eq!(unlocked.status, 204, "{}", unlocked.body);
    let back = console.sign_in("clerk", password, &secret).await?;
    assert_eq!(back.status, 303, "{}", back.body);
    assert!(location(&back).starts_with("/console?"));

    let ledger = ledger_kinds(&server)?;
    for kind in [
        "enrolment_issued",
        "factor_enrolled",
        "signed_in",
        "sign_in_failed",
        "sign_in_locked",
        "sign_in_unlocked",
        "user_disabled",
        "user_enabled",
    ] {
        assert!(
            ledger.contains(&format!("\"kind\":\"{kind}\"")),
            "no {kind}"
        );
    }
    // The failures name the client address, never the password tried.
    assert!(ledger.contains("127.0.0.1"));
    assert!(!ledger.contains("wrong password number"));
    assert!(!ledger.contains(password));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkey_ceremonies_refuse_garbage_replays_and_foreign_pages_with_clear_errors()
-> TestResult {
    let server = Server::start()?;
    let mut console = Console::new(&server);
    console.get("/console/login").await?;
    let form = console
        .cookies
        .get("td_form")
        .cloned()
        .ok_or("no td_form")?;
    let cookie = console.cookie_header();
    let post = |path: &'static str, body: Value| {
        let server = &server;
        let cookie = cookie.clone();
        async move {
            server
                .raw(
                    "POST",
                    path,
                    None,
                    Bytes::from(serde_json::to_vec(&body)?),
                    Some("application/json"),
                    &[("cookie", &cookie)],
                )
                .await
        }
    };
    // Options for a sign-in with no account named: a challenge and the ceremony id.
    let options = post("/console/login/passkey/options", json!({"form": form})).await?;
    assert_eq!(options.status, 200, "{}", options.body);
    let ceremony = options.body["ceremony"]
        .as_str()
        .ok_or("no ceremony")?
        .to_owned();
    assert!(options.body["options"]["publicKey"]["challenge"].is_string());
    assert_eq!(options.body["options"]["publicKey"]["rpId"], "localhost");

    // An answer that is not a credential: refused, naming the problem, never a 500.
    let garbage = post(
        "/console/login/passkey",
        json!({"form": form, "ceremony": ceremony, "credential": {"id": 7}}),
    )
    .await?;
    assert_eq!(garbage.status, 401, "{}", garbage.body);
    assert_eq!(garbage.code(), "passkey_refused");
    // A well-formed credential the service never registered, against a used-up ceremony.
    let options = post("/console/login/passkey/options", json!({"form": form})).await?;
    let ceremony = options.body["ceremony"]
        .as_str()
        .ok_or("no ceremony")?
        .to_owned();
    let forged = json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {"authenticatorData": "AAAA", "clientDataJSON": "e30",
                     "signature": "AAAA", "userHandle": "AAAAAAAAAAAAAAAAAAAAAA"},
        "extensions": {}
    });
    let refused = post(
        "/console/login/passkey",
        json!({"form": form, "ceremony": ceremony, "credential": forged}),
    )
    .await?;
    assert_eq!(refused.status, 401, "{}", refused.body);
    let replayed = post(
        "/console/login/passkey",
        json!({"form": form, "ceremony": ceremony, "credential": forged}),
    )
    .await?;
    assert_eq!(replayed.status, 401, "{}", replayed.body);
    assert!(
        replayed.body.to_string().contains("took too long"),
        "{}",
        replayed.body
    );

    // Another site's page (no double-submit value) gets nothing.
    let foreign = post(
        "/console/login/passkey/options",
        json!({"form": "x".repeat(32)}),
    )
    .await?;
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    // An oversized answer is refused before it is read.
    let huge = post(
        "/console/login/passkey",
        json!({"form": form, "ceremony": "x", "credential": {"id": "A".repeat(100_000)}}),
    )
    .await?;
    assert_eq!(huge.status, 413, "{}", huge.body);
    // Adding a passkey needs a session.
    let anonymous = post("/console/passkeys/options", json!({})).await?;
    assert!(
        matches!(anonymous.status, 303 | 401),
        "{}",
        anonymous.status
    );
    // Anonymous ceremonies are bounded: past 2,000 under way, 503 with Retry-After.
    let mut asked = 0;
    let busy = loop {
        let answer = post("/console/login/passkey/options", json!({"form": form})).await?;
        asked += 1;
        if answer.status != 200 || asked > 2100 {
            break answer;
        }
    };
    assert_eq!(busy.status, 503, "after {asked}: {}", busy.body);
    assert!(asked <= 2001, "{asked} ceremonies opened");
    assert!(busy.headers.contains_key("retry-after"));
    Ok(())
}
