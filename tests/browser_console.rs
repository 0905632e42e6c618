//! Browser tests of the staff console and the public verification page, in headless Chromium
//! driven over WebDriver (chromedriver started by the test on a free port), against a real
//! `travdoc serve` on a temporary data dir with users made by `travdoc user add`.
//!
//! These tests FAIL when chromium or chromedriver is missing (install them with
//! `scripts/install-system-deps.sh --with-test-tools`). With `TRAVDOC_SCREENSHOTS=1` they write
//! the screenshots under `docs/screenshots/` (desktop 1280 wide, phone 390 wide).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use common::{Server, TestResult};

type BoxError = Box<dyn std::error::Error>;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process on a free port.
struct Driver {
    child: Child,
    url: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, BoxError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl Driver {
    async fn start() -> Result<Self, BoxError> {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            if !Path::new(path).exists() {
                return Err(format!(
                    "{path} is missing: install `{package}` (scripts/install-system-deps.sh --with-test-tools)"
                )
                .into());
            }
        }
        let port = free_port()?;
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
        };
        let started = Instant::now();
        loop {
            let ready = driver
                .call("GET", "/status", None)
                .await
                .map(|status| status["ready"] == true);
            if matches!(ready, Ok(true)) {
                return Ok(driver);
            }
            if started.elapsed() > Duration::from_secs(20) {
                return Err("chromedriver did not become ready within 20 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// One WebDriver call; returns `value`, or the WebDriver error as an error.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, BoxError> {
        let payload = match &body {
            Some(body) => Bytes::from(serde_json::to_vec(body)?),
            None => Bytes::new(),
        };
        let request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(Full::new(payload))?;
        let response = self.client.request(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let value: Value = serde_json::from_slice(&bytes)?;
        if !status.is_success() {
            return Err(format!("WebDriver {method} {path}: {status} {}", value["value"]).into());
        }
        Ok(value["value"].clone())
    }

    async fn session(&self) -> Result<Browser<'_>, BoxError> {
        let profile = tempfile::tempdir()?;
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            "--window-size=1280,1000".to_owned(),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let value = self.call("POST", "/session", Some(capabilities)).await?;
        let id = value["sessionId"]
            .as_str()
            .ok_or("no session id")?
            .to_owned();
        Ok(Browser {
            driver: self,
            id,
            _profile: profile,
        })
    }
}

/// One browser session.
struct Browser<'a> {
    driver: &'a Driver,
    id: String,
    _profile: tempfile::TempDir,
}

impl Browser<'_> {
    async fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, BoxError> {
        self.driver
            .call(method, &format!("/session/{}{path}", self.id), body)
            .await
    }

    async fn close(self) -> Result<(), BoxError> {
        self.cmd("DELETE", "", None).await.map(|_| ())
    }

    async fn goto(&self, url: &str) -> Result<(), BoxError> {
        self.cmd("POST", "/url", Some(json!({"url": url})))
            .await
            .map(|_| ())
    }

    async fn current_url(&self) -> Result<String, BoxError> {
        Ok(self
            .cmd("GET", "/url", None)
            .await?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    async fn find(&self, css: &str) -> Result<String, BoxError> {
        let value = self
            .cmd(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await
            .map_err(|error| format!("element `{css}` not found: {error}"))?;
        Ok(value[ELEMENT_KEY]
            .as_str()
            .ok_or("no element id")?
            .to_owned())
    }

    async fn exists(&self, css: &str) -> Result<bool, BoxError> {
        let value = self
            .cmd(
                "POST",
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        Ok(value.as_array().is_some_and(|list| !list.is_empty()))
    }

    async fn type_into(&self, css: &str, text: &str) -> Result<(), BoxError> {
        let element = self.find(css).await?;
        self.cmd(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await?;
        self.cmd(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await
        .map(|_| ())
    }

    /// Sets a form control's value by script (date inputs take keyboard input in locale order).
    async fn set_value(&self, css: &str, value: &str) -> Result<(), BoxError> {
        let element = self.find(css).await?;
        self.script(
            "arguments[0].value = arguments[1];",
            json!([{ELEMENT_KEY: element}, value]),
        )
        .await
        .map(|_| ())
    }

    /// Clicks an element that leads to another page (a link, a form's button, a script that
    /// navigates when done) and waits until that page has replaced this one: an element looked
    /// for next is then never found on the page being left.
    async fn click(&self, css: &str) -> Result<(), BoxError> {
        let page = self.find("html").await?;
        self.click_in_page(css).await?;
        self.wait_replaced(&page, css).await
    }

    /// Clicks an element that changes the page in place (no navigation follows).
    async fn click_in_page(&self, css: &str) -> Result<(), BoxError> {
        let element = self.find(css).await?;
        self.cmd(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await
        .map(|_| ())
    }

    /// Waits until the document whose root element is `page` is gone (its reference stale).
    async fn wait_replaced(&self, page: &str, after: &str) -> Result<(), BoxError> {
        let started = Instant::now();
        loop {
            if self
                .cmd("GET", &format!("/element/{page}/name"), None)
                .await
                .is_err()
            {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(30) {
                let url = self.current_url().await.unwrap_or_default();
                return Err(format!("no new page after `{after}` (still on {url})").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn text(&self, css: &str) -> Result<String, BoxError> {
        let element = self.find(css).await?;
        Ok(self
            .cmd("GET", &format!("/element/{element}/text"), None)
            .await?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    async fn attribute(&self, css: &str, name: &str) -> Result<String, BoxError> {
        let element = self.find(css).await?;
        Ok(self
            .cmd("GET", &format!("/element/{element}/attribute/{name}"), None)
            .await?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    async fn script(&self, script: &str, args: Value) -> Result<Value, BoxError> {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    async fn select(&self, css: &str, value: &str) -> Result<(), BoxError> {
        self.set_value(css, value).await
    }

    /// Presses Tab `count` times on the focused element (real key events).
    async fn tab(&self, count: usize) -> Result<(), BoxError> {
        let mut actions = Vec::new();
        for _ in 0..count {
            actions.push(json!({"type": "keyDown", "value": "\u{E004}"}));
            actions.push(json!({"type": "keyUp", "value": "\u{E004}"}));
        }
        self.cmd(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        )
        .await
        .map(|_| ())
    }

    /// Presses Enter in a form, which sends it: waits for the page that answers.
    async fn press_enter(&self) -> Result<(), BoxError> {
        let page = self.find("html").await?;
        let actions = [
            json!({"type": "keyDown", "value": "\u{E007}"}),
            json!({"type": "keyUp", "value": "\u{E007}"}),
        ];
        self.cmd(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        )
        .await?;
        self.wait_replaced(&page, "Enter").await
    }

    /// Sets the viewport (phone: mobile emulation at 390 CSS pixels).
    async fn viewport(&self, width: u32, height: u32, mobile: bool) -> Result<(), BoxError> {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(
                json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                    "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
                }}),
            ),
        )
        .await
        .map(|_| ())
    }

    /// A full-page PNG at `width` (written only with `TRAVDOC_SCREENSHOTS=1`).
    async fn screenshot(&self, name: &str, width: u32) -> Result<(), BoxError> {
        if std::env::var("TRAVDOC_SCREENSHOTS").as_deref() != Ok("1") {
            return Ok(());
        }
        let mobile = width < 600;
        self.viewport(width, 800, mobile).await?;
        let height = self
            .script(
                "return Math.ceil(document.documentElement.scrollHeight);",
                json!([]),
            )
            .await?
            .as_u64()
            .unwrap_or(800)
            .clamp(400, 4000);
        self.viewport(width, u32::try_from(height)?, mobile).await?;
        let png = self.cmd("GET", "/screenshot", None).await?;
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(png.as_str().ok_or("no png")?)?;
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/screenshots"));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{name}.png")), bytes)?;
        self.viewport(1280, 1000, false).await
    }

    /// Waits until `css` exists (pages load synchronously; this covers redirects).
    async fn wait_for(&self, css: &str) -> Result<(), BoxError> {
        let started = Instant::now();
        loop {
            // A probe that meets a page being replaced fails; the next one sees the new page.
            let last = match self.exists(css).await {
                Ok(true) => return Ok(()),
                Ok(false) => String::new(),
                Err(error) => error.to_string(),
            };
            if started.elapsed() > Duration::from_secs(30) {
                let url = self.current_url().await.unwrap_or_default();
                let body = self.text("body").await.unwrap_or_default();
                return Err(format!("`{css}` did not appear on {url} ({last}):\n{body}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element's text is `expected`. After a click the previous page may still
    /// be showing (with the old text, or a flash of its own), and an element found on it goes
    /// stale when the next page replaces it: such a probe is simply repeated.
    async fn wait_for_text(&self, css: &str, expected: &str) -> Result<(), BoxError> {
        let started = Instant::now();
        loop {
            let probe = async {
                Ok::<_, BoxError>(self.exists(css).await? && self.text(css).await? == expected)
            };
            let last = match probe.await {
                Ok(true) => return Ok(()),
                Ok(false) => String::new(),
                Err(error) => error.to_string(),
            };
            if started.elapsed() > Duration::from_secs(30) {
                let body = self.text("body").await.unwrap_or_default();
                return Err(format!("`{css}` never read `{expected}` ({last}):\n{body}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Enrols `name` with its one-time code as the person would: password, then the
    /// authenticator (the test reads the key off the page and computes the code), then the
    /// recovery codes page.
    async fn enrol(&self, base: &str, name: &str, code: &str) -> Result<Person, BoxError> {
        let password = "tea leaves drift past the harbour wall".to_owned();
        self.goto(&format!("{base}/console/enrol")).await?;
        self.type_into("#enrolment_code", code).await?;
        self.type_into("#password", &password).await?;
        self.type_into("#password_again", &password).await?;
        self.click("#enrol-password").await?;
        self.wait_for("#totp-secret").await?;
        assert_eq!(self.text("#enrol-user").await?, name);
        let person = Person {
            name: name.to_owned(),
            password,
            secret: self.text("#totp-secret").await?,
            last_step: std::cell::Cell::new(0),
        };
        self.type_into("#code", &person.next_code().await?).await?;
        self.click("#enrol-totp").await?;
        self.wait_for("#recovery-codes").await?;
        Ok(person)
    }

    async fn sign_in(&self, base: &str, person: &Person) -> Result<(), BoxError> {
        self.goto(&format!("{base}/console/login")).await?;
        self.type_into("#name", &person.name).await?;
        self.type_into("#password", &person.password).await?;
        self.click("#sign-in").await?;
        self.wait_for("#code").await?;
        self.type_into("#code", &person.next_code().await?).await?;
        self.click("#verify-code").await?;
        self.wait_for("#who").await
    }

    async fn sign_out(&self) -> Result<(), BoxError> {
        self.click("form[action='/console/logout'] button").await?;
        self.wait_for("#name").await
    }

    /// Every visible form control has a label (or an accessible name).
    async fn unlabelled_controls(&self) -> Result<Vec<String>, BoxError> {
        let value = self
            .script(
                "return Array.from(document.querySelectorAll('input, select, textarea, button'))
                   .filter(e => e.type !== 'hidden')
                   .filter(e => !((e.labels && e.labels.length > 0) || e.getAttribute('aria-label')
                       || (e.tagName === 'BUTTON' && e.textContent.trim().length > 0)))
                   .map(e => e.outerHTML);",
                json!([]),
            )
            .await?;
        Ok(serde_json::from_value(value)?)
    }

    /// The page is no wider than the viewport (no sideways scrolling on a phone).
    /// The page shown at a phone's width does not scroll sideways (then back to a desktop's).
    async fn fits_a_phone(&self, page: &str) -> Result<(), BoxError> {
        self.viewport(390, 844, true).await?;
        let overflows = self.overflows().await?;
        self.viewport(1280, 1000, false).await?;
        if overflows {
            return Err(format!("{page}: the page scrolls sideways on a phone").into());
        }
        Ok(())
    }

    async fn overflows(&self) -> Result<bool, BoxError> {
        Ok(self
            .script(
                "return document.documentElement.scrollWidth > window.innerWidth + 1;",
                json!([]),
            )
            .await?
            == true)
    }
}

/// A member of staff with the credentials they set at enrolment.
struct Person {
    name: String,
    password: String,
    /// The authenticator key (base32), as the enrolment page showed it.
    secret: String,
    /// The last TOTP time step used (a code is good once).
    last_step: std::cell::Cell<u64>,
}

impl Person {
    /// A code of a time step not used yet: the current one, or the next (within the one step
    /// of drift the service accepts), waiting for the clock when both were used.
    async fn next_code(&self) -> Result<String, BoxError> {
        loop {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs();
            let step = (now / 30).max(self.last_step.get() + 1);
            if step <= now / 30 + 1 {
                self.last_step.set(step);
                return Ok(travdoc::identity::totp_code(&self.secret, step * 30)?);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// `travdoc user add` against the server's data dir (a grant of approver confirmed by the
/// first admin); returns the one-time enrolment code.
fn add_user(
    server: &Server,
    name: &str,
    role: &str,
    mission: Option<&str>,
) -> Result<String, BoxError> {
    let mut args = vec!["user", "add", name, "--role", role];
    if let Some(mission) = mission {
        args.extend(["--mission", mission]);
    }
    let output = server.cli(&args)?;
    if !output.status.success() {
        return Err(format!(
            "travdoc user add {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let code = String::from_utf8(output.stdout)?.trim().to_owned();
    if matches!(role, "approver" | "admin") {
        let confirmed = server.cli_as_admin(&["user", "confirm", name])?;
        if !confirmed.status.success() {
            return Err(String::from_utf8_lossy(&confirmed.stderr)
                .into_owned()
                .into());
        }
    }
    Ok(code)
}

fn date_in_days(days: i64) -> String {
    let date = time::OffsetDateTime::now_utc().date() + time::Duration::days(days);
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// A PNG of the Data Matrix carrying `seal` (as a verifier would photograph it).
fn datamatrix_png(seal: &[u8], path: &Path) -> Result<(), BoxError> {
    let matrix = travdoc_render::barcode::encode_datamatrix(seal)?;
    let (luma, width, height) = matrix.to_luma(8, 4);
    let image = image::GrayImage::from_raw(u32::try_from(width)?, u32::try_from(height)?, luma)
        .ok_or("luma buffer size")?;
    image.save_with_format(path, image::ImageFormat::Png)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_csrf_accessibility_and_the_public_page_in_three_languages() -> TestResult {
    let server = Server::start()?;
    let code = add_user(&server, "auditor-web", "auditor", None)?;
    let driver = Driver::start().await?;
    let browser = driver.session().await?;
    let auditor = browser.enrol(&server.url, "auditor-web", &code).await?;
    assert!(browser.text("#recovery-codes").await?.lines().count() >= 10);

    // The console asks for a sign-in first.
    browser.goto(&format!("{}/console", server.url)).await?;
    browser.wait_for("#name").await?;
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser.screenshot("console-login-desktop", 1280).await?;
    browser.screenshot("console-login-phone", 390).await?;

    // A wrong password is refused with a message (and the same message as a wrong name).
    browser.type_into("#name", "auditor-web").await?;
    browser
        .type_into("#password", "not the password at all")
        .await?;
    browser.click("#sign-in").await?;
    browser.wait_for("#login-error").await?;
    let wrong_password = browser.text("#login-error").await?;
    assert!(wrong_password.contains("wrong"), "{wrong_password}");
    browser.type_into("#name", "nobody-here").await?;
    browser
        .type_into("#password", "not the password at all")
        .await?;
    browser.click("#sign-in").await?;
    browser.wait_for("#login-error").await?;
    assert_eq!(browser.text("#login-error").await?, wrong_password);

    // Keyboard only: Tab from the password field reaches the button, Enter goes on; the
    // authenticator code and Enter sign in.
    browser.type_into("#name", &auditor.name).await?;
    browser.type_into("#password", &auditor.password).await?;
    browser.tab(1).await?;
    let focused = browser
        .script(
            "return document.activeElement && document.activeElement.id;",
            json!([]),
        )
        .await?;
    assert_eq!(focused, "sign-in");
    let outline = browser
        .script(
            "return getComputedStyle(document.activeElement).outlineStyle;",
            json!([]),
        )
        .await?;
    assert_eq!(outline, "solid", "focus must be visible");
    browser.press_enter().await?;
    browser.wait_for("#code").await?;
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser
        .type_into("#code", &auditor.next_code().await?)
        .await?;
    browser.press_enter().await?;
    browser.wait_for("#who").await?;
    assert!(browser.text("#who").await?.contains("auditor"));
    // The auditor reads but may not act: no request link.
    assert!(!browser.exists("#new-ttd").await?);
    assert!(browser.unlabelled_controls().await?.is_empty());

    // The session cookie is HttpOnly: scripts cannot read it.
    let cookies = browser.script("return document.cookie;", json!([])).await?;
    assert!(
        !cookies.as_str().unwrap_or("").contains("td_session"),
        "{cookies}"
    );
    let all = browser.cmd("GET", "/cookie", None).await?;
    let session = all
        .as_array()
        .and_then(|list| list.iter().find(|c| c["name"] == "td_session"))
        .ok_or("no session cookie")?;
    assert_eq!(session["httpOnly"], true);
    assert_eq!(session["sameSite"], "Strict");

    // A state-changing form without the CSRF field is refused even with the cookie.
    let cookie = format!(
        "td_session={}",
        session["value"].as_str().ok_or("cookie value")?
    );
    let forged = server
        .raw(
            "POST",
            "/console/logout",
            None,
            Bytes::from_static(b"csrf=wrong"),
            Some("application/x-www-form-urlencoded"),
            &[("cookie", &cookie)],
        )
        .await?;
    assert_eq!(forged.status, 403, "{:?}", forged.body);
    browser.sign_out().await?;
    // Signed out: the console sends us back to sign in, and the old cookie is dead on the
    // server too (not only forgotten by the browser).
    browser.goto(&format!("{}/console", server.url)).await?;
    browser.wait_for("#name").await?;
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
    assert_eq!(replayed.status, 303, "a signed-out session still works");

    // The public page, in each language, on a phone and a desktop.
    for (lang, title) in [
        ("en", "Verify a travel document"),
        ("si", "ගමන් ලේඛනයක්"),
        ("ta", "பயண ஆவணம்"),
    ] {
        browser
            .goto(&format!("{}/verify?lang={lang}", server.url))
            .await?;
        browser.wait_for("#verify-form").await?;
        assert!(browser.text("h1").await?.contains(title), "{lang}");
        assert_eq!(browser.attribute("html", "lang").await?, lang);
        assert!(browser.unlabelled_controls().await?.is_empty(), "{lang}");
        browser.fits_a_phone(lang).await?;
    }
    browser
        .goto(&format!("{}/verify?lang=si", server.url))
        .await?;
    browser.screenshot("verify-form-si-phone", 390).await?;
    browser.goto(&format!("{}/verify", server.url)).await?;
    browser.screenshot("verify-form-desktop", 1280).await?;

    // Garbage is "not valid", explained in plain language (Tamil).
    browser
        .goto(&format!("{}/verify?lang=ta", server.url))
        .await?;
    browser.type_into("#text", "AAECAwQF").await?;
    browser.click("#verify-submit").await?;
    browser.wait_for("#verdict").await?;
    assert_eq!(
        browser.attribute("#verdict", "data-verdict").await?,
        "invalid"
    );
    assert!(browser.text("#reasons").await?.contains("முத்திரை"));
    let read = browser
        .attribute("[data-check='read']", "data-outcome")
        .await?;
    assert_eq!(read, "failed");

    // A QR link (`/v#<seal>`) is verified on opening: the script posts the fragment.
    browser
        .goto(&format!("{}/v?lang=en#AAECAwQF", server.url))
        .await?;
    browser.wait_for("#verdict").await?;
    assert!(
        browser
            .text("#reasons")
            .await?
            .contains("not a seal we can read")
    );

    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttd_from_request_to_print_then_verified_from_its_barcode_image_and_revoked() -> TestResult
{
    let server = Server::start()?;
    let codes = [
        add_user(&server, "mission-lon-web", "mission", Some("LON"))?,
        add_user(&server, "approver-web", "approver", None)?,
        add_user(&server, "mission-par-web", "mission", Some("PAR"))?,
    ];
    let driver = Driver::start().await?;
    let browser = driver.session().await?;
    let mission = browser
        .enrol(&server.url, "mission-lon-web", &codes[0])
        .await?;
    let approver = browser
        .enrol(&server.url, "approver-web", &codes[1])
        .await?;
    let other_mission = browser
        .enrol(&server.url, "mission-par-web", &codes[2])
        .await?;

    // The mission requests a TTD.
    browser.sign_in(&server.url, &mission).await?;
    browser.click("#new-ttd").await?;
    browser.wait_for("#submit-request").await?;
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser.type_into("#f-surname", "Perera").await?;
    browser.type_into("#f-given_names", "Nimal Kumar").await?;
    browser.type_into("#f-nationality", "LKA").await?;
    browser.set_value("#f-birth_date", "1985-03-14").await?;
    browser.select("#f-sex", "M").await?;
    browser.type_into("#f-nic", "850741234V").await?;
    browser
        .type_into("#f-previous_document", "N1234567")
        .await?;
    browser.type_into("#f-destination", "LKA").await?;
    browser.type_into("#f-route", "DOH, CMB").await?;
    browser
        .set_value("#f-valid_until", &date_in_days(60))
        .await?;
    browser
        .type_into("#f-case_reference", "RA-KWT-2026-0042")
        .await?;
    // A portrait for the sheet, previewed before it is sent.
    let portrait_dir = tempfile::tempdir()?;
    let portrait = portrait_dir.path().join("portrait.jpg");
    let image = image::GrayImage::from_fn(240, 320, |x, y| {
        image::Luma([((x * 5 + y * 2) % 256) as u8])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 60).encode_image(&image)?;
    std::fs::write(&portrait, jpeg)?;
    let input = browser.find("#f-photo").await?;
    browser
        .cmd(
            "POST",
            &format!("/element/{input}/value"),
            Some(json!({"text": portrait.display().to_string()})),
        )
        .await?;
    browser
        .wait_for("#photo-preview[src^='data:image/jpeg']")
        .await?;
    browser
        .screenshot("console-ttd-request-desktop", 1280)
        .await?;
    browser.screenshot("console-ttd-request-phone", 390).await?;
    browser.click("#submit-request").await?;
    browser.wait_for("#request-state").await?;
    assert_eq!(browser.text("#request-state").await?, "requested");
    let request_url = browser.current_url().await?;
    let request_url = request_url.split('?').next().unwrap_or("").to_owned();
    let request_id = browser.text("#request-id").await?;
    assert!(request_url.ends_with(&request_id), "{request_url}");
    // The requester cannot approve their own request.
    assert!(!browser.exists("#approve").await?);
    // The mission's list of requested TTDs shows it.
    browser
        .goto(&format!(
            "{}/console?requests=ttd&request_state=requested",
            server.url
        ))
        .await?;
    browser.wait_for("#requests").await?;
    let in_list = format!("#requests a[href='/console/requests/ttd/{request_id}']");
    assert!(browser.exists(&in_list).await?);
    browser.sign_out().await?;

    // A headquarters approver finds it among the requests waiting for approval (the default
    // list of an approver) and approves it.
    browser.sign_in(&server.url, &approver).await?;
    browser.wait_for("#requests").await?;
    assert!(browser.exists(&in_list).await?);
    browser
        .screenshot("console-dashboard-approver-desktop", 1280)
        .await?;
    browser
        .screenshot("console-dashboard-approver-phone", 390)
        .await?;
    assert!(!browser.overflows().await?, "the console scrolls sideways");
    browser.click(&in_list).await?;
    browser.wait_for("#approve").await?;
    assert_eq!(browser.current_url().await?, request_url);
    browser.wait_for("#approve").await?;
    browser.click("#approve").await?;
    browser.wait_for_text("#request-state", "approved").await?;
    assert!(browser.exists("#flash").await?);
    browser.sign_out().await?;

    // The mission issues and prints it on a printer it chooses.
    browser.sign_in(&server.url, &mission).await?;
    browser.goto(&request_url).await?;
    browser.wait_for("#issue").await?;
    browser.click("#issue").await?;
    browser.wait_for("#doc-number").await?;
    let number = browser.text("#doc-number").await?;
    assert!(browser.text("#doc-mrz").await?.contains(&number));
    assert_eq!(browser.text("#doc-state").await?, "issued");
    let printer = browser
        .script(
            "return document.querySelector('#printer option').value;",
            json!([]),
        )
        .await?;
    let printer = printer.as_str().ok_or("no printer offered")?.to_owned();
    browser.select("#printer", &printer).await?;
    browser.click("#print").await?;
    browser.wait_for_text("#doc-state", "printed").await?;
    assert!(browser.exists("#flash").await?);
    assert!(
        browser.exists("#ledger-proof").await?,
        "the document page shows its ledger proof"
    );
    let proof: Value = serde_json::from_str(
        browser
            .script(
                "return document.getElementById('ledger-proof').textContent;",
                json!([]),
            )
            .await?
            .as_str()
            .ok_or("no proof text")?,
    )?;
    assert!(proof["tree_size"].as_u64() > proof["index"].as_u64());
    assert!(proof["checkpoint"].as_str().is_some_and(|c| !c.is_empty()));
    // The history lists every act, oldest first, with the ledger entries of the ledgered ones.
    let actions = browser
        .script(
            "return Array.from(document.querySelectorAll('#history li'))
               .map(li => li.dataset.action);",
            json!([]),
        )
        .await?;
    assert_eq!(
        actions,
        json!([
            "ttd.requested",
            "ttd.approved",
            "ttd.issued",
            "document.printed"
        ])
    );
    let issued = browser
        .text("#history [data-action='ttd.issued'] .ledger-ref")
        .await?;
    assert!(
        issued.contains(&format!("#{}", proof["index"])),
        "{issued} / {proof}"
    );
    assert!(
        browser
            .exists("#history [data-action='document.printed'] .ledger-ref")
            .await?
    );
    assert!(
        !browser
            .exists("#history [data-action='ttd.requested'] .ledger-ref")
            .await?
    );
    browser.screenshot("console-document-desktop", 1280).await?;
    browser.screenshot("console-document-phone", 390).await?;
    // A reprint needs a reason, which the ledger records.
    assert_eq!(
        browser.attribute("#reprint-reason", "required").await?,
        "true"
    );
    browser.type_into("#reprint-reason", "paper jam").await?;
    browser.click("#print").await?;
    // The page before the click also shows a flash (the first print's): wait for the reprint.
    browser
        .wait_for("#history [data-action='document.reprinted']")
        .await?;
    assert!(
        browser
            .exists("#history [data-action='document.reprinted'] .ledger-ref")
            .await?
    );
    browser
        .goto(&format!("{}/console?type=ttd&state=printed", server.url))
        .await?;
    browser.wait_for("#documents").await?;
    assert!(browser.text("#documents").await?.contains(&number));
    browser
        .screenshot("console-dashboard-desktop", 1280)
        .await?;
    browser.screenshot("console-dashboard-phone", 390).await?;

    // The seal, as a Data Matrix photo, uploaded through the file input of the public page.
    browser
        .goto(&format!("{}/console/documents/{number}", server.url))
        .await?;
    let seal_text = browser
        .script(
            "return document.getElementById('seal-data').textContent;",
            json!([]),
        )
        .await?;
    let seal = base64::engine::general_purpose::STANDARD.decode(
        seal_text
            .as_str()
            .ok_or("no seal on the document page")?
            .trim(),
    )?;
    let dir = tempfile::tempdir()?;
    let png = dir.path().join("ttd-datamatrix.png");
    datamatrix_png(&seal, &png)?;
    browser.sign_out().await?;
    browser.goto(&format!("{}/verify", server.url)).await?;
    let input = browser.find("#image").await?;
    browser
        .cmd(
            "POST",
            &format!("/element/{input}/value"),
            Some(json!({"text": png.display().to_string()})),
        )
        .await?;
    browser.click("#verify-submit").await?;
    browser.wait_for("#verdict").await?;
    assert_eq!(
        browser.attribute("#verdict", "data-verdict").await?,
        "valid"
    );
    assert_eq!(browser.text("[data-field='surname']").await?, "PERERA");
    assert_eq!(browser.text("[data-field='number']").await?, number);
    assert_eq!(
        browser
            .attribute("[data-check='signature']", "data-outcome")
            .await?,
        "passed"
    );
    browser.screenshot("verify-valid-desktop", 1280).await?;
    browser.screenshot("verify-valid-phone", 390).await?;

    // Another mission cannot open this document.
    browser.sign_in(&server.url, &other_mission).await?;
    browser
        .goto(&format!("{}/console/documents/{number}", server.url))
        .await?;
    browser.wait_for("#error-message").await?;
    assert!(browser.text("h1").await?.contains("404"));
    assert!(!browser.exists("#doc-number").await?);
    browser
        .goto(&format!("{}/console?type=ttd", server.url))
        .await?;
    browser.wait_for("#who").await?;
    assert!(!browser.text("main").await?.contains(&number));
    browser.sign_out().await?;

    // The approver revokes it; the public page now says revoked (in Sinhala too).
    browser.sign_in(&server.url, &approver).await?;
    browser
        .goto(&format!("{}/console/documents/{number}", server.url))
        .await?;
    browser.wait_for("#revoke").await?;
    browser.select("#revoke-reason", "stolen").await?;
    browser.click("#revoke").await?;
    browser.wait_for_text("#doc-status", "revoked").await?;
    assert!(browser.exists("#flash").await?);
    // The approver's reports: the issuance drawn on the server (one bar of one TTD), the
    // London mission's row, the print job, and each table as CSV.
    browser.click("#nav-reports").await?;
    browser.wait_for("#issuance-chart svg").await?;
    assert!(browser.exists("#issuance-chart svg rect title").await?);
    let issued = browser.text("#table-issuances").await?;
    assert!(issued.contains("ttd") && issued.contains("LON"), "{issued}");
    assert!(
        browser
            .text("#table-print-jobs")
            .await?
            .contains("default-folder")
    );
    assert!(browser.exists("#csv-stock").await?);
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser.screenshot("console-reports-desktop", 1280).await?;
    browser.screenshot("console-reports-phone", 390).await?;
    browser.sign_out().await?;
    browser
        .goto(&format!("{}/verify?lang=si", server.url))
        .await?;
    let input = browser.find("#image").await?;
    browser
        .cmd(
            "POST",
            &format!("/element/{input}/value"),
            Some(json!({"text": png.display().to_string()})),
        )
        .await?;
    browser.click("#verify-submit").await?;
    browser.wait_for("#verdict").await?;
    assert_eq!(
        browser.attribute("#verdict", "data-verdict").await?,
        "revoked"
    );
    assert!(browser.text("#verdict-title").await?.contains("අවලංගු"));
    browser.screenshot("verify-revoked-si-phone", 390).await?;
    browser
        .screenshot("verify-revoked-si-desktop", 1280)
        .await?;

    browser.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_admin_enrols_adds_staff_disables_them_and_sessions_end_when_idle() -> TestResult {
    let dir = tempfile::tempdir()?;
    let server = Server::start_in(
        &dir.path().join("var"),
        &[("TRAVDOC_SESSION_IDLE_MINUTES", "1")],
        None,
    )?;
    let first_code = server
        .enrolment_code
        .clone()
        .ok_or("serve printed no enrolment code on first start")?;
    assert!(
        !server.data_dir.join("admin.token").exists(),
        "no permanent token on disk"
    );
    let driver = Driver::start().await?;
    let browser = driver.session().await?;

    // A common password is refused, with the reason; the enrolment code stays good.
    browser
        .goto(&format!("{}/console/enrol", server.url))
        .await?;
    browser.wait_for("#enrolment_code").await?;
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser.type_into("#enrolment_code", &first_code).await?;
    browser.type_into("#password", "password1234").await?;
    browser.type_into("#password_again", "password1234").await?;
    browser.click("#enrol-password").await?;
    browser.wait_for("#enrol-error").await?;
    assert!(browser.text("#enrol-error").await?.contains("common"));
    // The QR code and the key, a wrong code refused, then the right one.
    let admin = browser.enrol(&server.url, "admin", &first_code).await?;
    browser.screenshot("console-enrolled-desktop", 1280).await?;
    // The code is used up.
    browser
        .goto(&format!("{}/console/enrol", server.url))
        .await?;
    browser.type_into("#enrolment_code", &first_code).await?;
    browser.type_into("#password", &admin.password).await?;
    browser
        .type_into("#password_again", &admin.password)
        .await?;
    browser.click("#enrol-password").await?;
    browser.wait_for("#enrol-error").await?;
    assert!(browser.text("#enrol-error").await?.contains("not valid"));

    // A wrong password is refused without saying which half was wrong.
    browser
        .goto(&format!("{}/console/login", server.url))
        .await?;
    browser.type_into("#name", "admin").await?;
    browser
        .type_into("#password", "not the password at all")
        .await?;
    browser.click("#sign-in").await?;
    browser.wait_for("#login-error").await?;
    assert!(
        browser
            .text("#login-error")
            .await?
            .contains("name or the password is wrong")
    );

    // The admin adds a clerk from the users page and reads the clerk's enrolment code.
    browser.sign_in(&server.url, &admin).await?;
    browser.click("#nav-users").await?;
    browser.wait_for("#add-user").await?;
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser.type_into("#new-name", "clerk").await?;
    browser.click("#add-user").await?;
    browser.wait_for("#enrolment-code").await?;
    let shown = browser.text("#enrolment-code code").await?;
    browser.screenshot("console-users-desktop", 1280).await?;

    // The clerk enrols and signs in in a browser of their own.
    let clerk_browser = driver.session().await?;
    let clerk = clerk_browser.enrol(&server.url, "clerk", &shown).await?;
    clerk_browser.sign_in(&server.url, &clerk).await?;
    assert!(clerk_browser.text("#who").await?.contains("clerk"));

    // Disabled by the admin, the clerk's session ends on the next request.
    browser.click("#disable-clerk").await?;
    browser.wait_for("#users-notice").await?;
    clerk_browser
        .goto(&format!("{}/console", server.url))
        .await?;
    clerk_browser.wait_for("#name").await?;
    clerk_browser.close().await?;

    // The admin's session ends after a minute without a request (idle limit set to 1 min).
    tokio::time::sleep(Duration::from_secs(62)).await;
    browser.goto(&format!("{}/console", server.url)).await?;
    browser.wait_for("#name").await?;
    browser.close().await?;

    // Everything is on the ledger: enrolments, sign-ins and failures, the new account, the
    // disable.
    let exported = server.cli(&["ledger", "export"])?;
    let text = String::from_utf8_lossy(&exported.stdout);
    for kind in [
        "factor_enrolled",
        "signed_in",
        "sign_in_failed",
        "user_added",
        "enrolment_issued",
        "user_disabled",
    ] {
        assert!(
            text.contains(&format!("\"kind\":\"{kind}\"")),
            "no {kind} in the ledger"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_is_added_then_signs_in_alone_and_after_the_password() -> TestResult {
    let dir = tempfile::tempdir()?;
    let server = Server::start_in(&dir.path().join("var"), &[], None)?;
    let code = server
        .enrolment_code
        .clone()
        .ok_or("serve printed no enrolment code on first start")?;
    // Browsers allow WebAuthn over plain HTTP on `localhost` only (not on an IP address): the
    // service's default relying party on a loopback listener is http://localhost:PORT.
    let base = server.url.replace("127.0.0.1", "localhost");
    let driver = Driver::start().await?;
    let browser = driver.session().await?;
    // A platform authenticator that verifies the person (as a fingerprint reader would).
    browser
        .cmd(
            "POST",
            "/webauthn/authenticator",
            Some(json!({
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
                "hasUserVerification": true, "isUserConsenting": true, "isUserVerified": true,
            })),
        )
        .await?;
    let admin = browser.enrol(&base, "admin", &code).await?;
    browser.sign_in(&base, &admin).await?;

    // Added from the person's page, named.
    browser.click("#nav-passkeys").await?;
    browser.wait_for("#no-passkeys").await?;
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser.type_into("#passkey-label", "test laptop").await?;
    browser.wait_for("#add-passkey:not([hidden])").await?;
    browser.click("#add-passkey").await?;
    browser
        .wait_for_text(".passkey-label", "test laptop")
        .await?;
    browser.screenshot("console-passkeys-desktop", 1280).await?;

    // On its own: no name, no password, no code.
    browser.sign_out().await?;
    browser.wait_for("#passkey-sign-in:not([hidden])").await?;
    browser.click("#passkey-sign-in").await?;
    browser.wait_for("#who").await?;
    assert!(browser.text("#who").await?.contains("admin"));

    // After the password, in place of the code.
    browser.sign_out().await?;
    browser.type_into("#name", "admin").await?;
    browser.type_into("#password", &admin.password).await?;
    browser.click("#sign-in").await?;
    browser
        .wait_for("#passkey-second-factor:not([hidden])")
        .await?;
    browser.click("#passkey-second-factor").await?;
    browser.wait_for("#who").await?;

    // Removed, it signs in no more: the authenticator still offers it, the service refuses.
    browser.goto(&format!("{base}/console/passkeys")).await?;
    browser.click("#passkey-list button").await?;
    browser.wait_for("#no-passkeys").await?;
    browser.sign_out().await?;
    browser.wait_for("#passkey-sign-in:not([hidden])").await?;
    browser.click_in_page("#passkey-sign-in").await?;
    browser.wait_for("#passkey-error:not([hidden])").await?;
    assert!(
        browser
            .text("#passkey-error")
            .await?
            .contains("not accepted")
    );
    browser.close().await?;

    let exported = server.cli(&["ledger", "export"])?;
    let text = String::from_utf8_lossy(&exported.stdout);
    for needle in [
        "\"factor\":\"passkey\"",
        "\"factor\":\"passkey_removed\"",
        "\"method\":\"passkey\"",
        "\"method\":\"password+passkey\"",
        "\"reason\":\"passkey refused\"",
    ] {
        assert!(text.contains(needle), "no {needle} in the ledger");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_request_shows_its_checks_and_an_approver_clears_then_rejects() -> TestResult {
    let server = Server::start()?;
    let codes = [
        add_user(&server, "mission-hold", "mission", Some("LON"))?,
        add_user(&server, "approver-hold", "approver", None)?,
    ];
    let driver = Driver::start().await?;
    let browser = driver.session().await?;
    let mission = browser
        .enrol(&server.url, "mission-hold", &codes[0])
        .await?;
    let approver = browser
        .enrol(&server.url, "approver-hold", &codes[1])
        .await?;

    // The mission requests a TTD with a NIC of another birth date: held, the hit shown.
    let request = |nic: &'static str| {
        let browser = &browser;
        async move {
            browser.click("#new-ttd").await?;
            browser.wait_for("#submit-request").await?;
            browser.type_into("#f-surname", "Perera").await?;
            browser.type_into("#f-given_names", "Nimal").await?;
            browser.type_into("#f-nationality", "LKA").await?;
            browser.set_value("#f-birth_date", "1985-03-14").await?;
            browser.select("#f-sex", "M").await?;
            browser.type_into("#f-nic", nic).await?;
            browser.type_into("#f-destination", "LKA").await?;
            browser
                .set_value("#f-valid_until", &date_in_days(30))
                .await?;
            browser.click("#submit-request").await?;
            browser.wait_for("#request-state").await?;
            browser.text("#request-id").await
        }
    };
    browser.sign_in(&server.url, &mission).await?;
    let first = request("850751234V").await?;
    assert_eq!(browser.text("#request-state").await?, "on_hold");
    assert_eq!(browser.text("#checks .check-code").await?, "NIC_MISMATCH");
    // The requester is not offered the approver's decisions.
    assert!(!browser.exists(".clear-hold").await?);
    assert!(!browser.exists("#reject").await?);
    browser.goto(&format!("{}/console", server.url)).await?;
    let second = request("199906012345").await?;
    assert_eq!(browser.text("#checks .check-code").await?, "NIC_FORMAT");
    browser.sign_out().await?;

    // The approver's dashboard lists both held requests.
    browser.sign_in(&server.url, &approver).await?;
    browser.wait_for("#held").await?;
    let held = browser.text("#held").await?;
    assert!(
        held.contains("NIC_MISMATCH") && held.contains("NIC_FORMAT"),
        "{held}"
    );
    browser
        .goto(&format!("{}/console/requests/ttd/{first}", server.url))
        .await?;
    browser.wait_for(".clear-hold").await?;
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser
        .screenshot("console-request-held-desktop", 1280)
        .await?;
    browser
        .type_into(
            "#clear-reason-1",
            "DRP letter seen: the card's day is wrong",
        )
        .await?;
    browser.click(".clear-hold").await?;
    browser.wait_for_text("#request-state", "requested").await?;
    assert!(
        browser
            .text(".check-cleared")
            .await?
            .contains("DRP letter seen")
    );
    // The other is rejected, with a reason.
    browser
        .goto(&format!("{}/console/requests/ttd/{second}", server.url))
        .await?;
    browser.wait_for("#reject").await?;
    browser
        .type_into("#reject-reason", "no date of birth matches this NIC")
        .await?;
    browser.click("#reject").await?;
    browser.wait_for_text("#request-state", "rejected").await?;
    assert!(!browser.exists("#reject").await?);

    // The find box finds both by the name in another spelling; the approver returns the
    // first for its NIC.
    browser.goto(&format!("{}/console", server.url)).await?;
    browser.wait_for("#people-name").await?;
    browser.type_into("#people-name", "pérera NIMAL").await?;
    browser.click("#people-search button").await?;
    browser.wait_for("#found-requests").await?;
    let found = browser.text("#found-requests").await?;
    assert!(
        found.contains("rejected") && found.contains("requested"),
        "{found}"
    );
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser
        .goto(&format!("{}/console/requests/ttd/{first}", server.url))
        .await?;
    browser.wait_for("#return").await?;
    browser
        .type_into("#return-reason", "the NIC on the card is 850741234V")
        .await?;
    browser.click("#return").await?;
    browser.wait_for_text("#request-state", "returned").await?;
    browser.sign_out().await?;

    // The mission corrects it on the form it filled in: checked again, it is requested.
    browser.sign_in(&server.url, &mission).await?;
    browser
        .goto(&format!("{}/console/requests/ttd/{first}", server.url))
        .await?;
    browser.click("#correct").await?;
    browser.wait_for("#submit-request").await?;
    assert_eq!(browser.attribute("#f-surname", "value").await?, "Perera");
    browser.set_value("#f-nic", "850741234V").await?;
    browser.click("#submit-request").await?;
    browser.wait_for_text("#request-state", "requested").await?;
    browser.close().await?;
    Ok(())
}

/// The passport application form: an issuer fills it in with a photo file, sees the photo as
/// the data page crops it before sending, and the application goes through approval to a
/// personalized passport; a photo too small for DG2 is refused, naming the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passport_application_with_its_photo_goes_from_the_form_to_a_passport() -> TestResult {
    let server = Server::start()?;
    let codes = [
        add_user(&server, "issuer-web", "issuer", None)?,
        add_user(&server, "approver-pp", "approver", None)?,
        add_user(&server, "mission-kwi", "mission", Some("KWI"))?,
    ];
    let driver = Driver::start().await?;
    let browser = driver.session().await?;
    let issuer = browser.enrol(&server.url, "issuer-web", &codes[0]).await?;
    let approver = browser.enrol(&server.url, "approver-pp", &codes[1]).await?;
    let mission = browser.enrol(&server.url, "mission-kwi", &codes[2]).await?;
    let dir = tempfile::tempdir()?;
    let jpeg = |width: u32, height: u32| -> Result<std::path::PathBuf, BoxError> {
        let image = image::GrayImage::from_fn(width, height, |x, y| {
            image::Luma([((x * 7 + y * 3) % 256) as u8])
        });
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 60).encode_image(&image)?;
        let path = dir.path().join(format!("portrait-{width}x{height}.jpg"));
        std::fs::write(&path, bytes)?;
        Ok(path)
    };
    let fill = |photo: std::path::PathBuf| {
        let browser = &browser;
        async move {
            browser.click("#new-passport").await?;
            browser.wait_for("#submit-application").await?;
            browser.type_into("#f-surname", "Silva").await?;
            browser.type_into("#f-given_names", "Ama").await?;
            browser.type_into("#f-nationality", "LKA").await?;
            browser.set_value("#f-birth_date", "1990-02-01").await?;
            browser.select("#f-sex", "F").await?;
            browser.type_into("#f-nic", "199053201234").await?;
            let input = browser.find("#f-photo").await?;
            browser
                .cmd(
                    "POST",
                    &format!("/element/{input}/value"),
                    Some(json!({"text": photo.display().to_string()})),
                )
                .await?;
            Ok::<_, BoxError>(())
        }
    };

    browser.sign_in(&server.url, &issuer).await?;
    // Too small a photo: refused, naming it.
    fill(jpeg(120, 160)?).await?;
    browser.click("#submit-application").await?;
    browser.wait_for("#form-error").await?;
    assert!(browser.text("#form-error").await?.contains("photo"));
    browser.goto(&format!("{}/console", server.url)).await?;
    // A proper one: previewed in the data page's frame before it is sent.
    fill(jpeg(240, 320)?).await?;
    browser
        .wait_for("#photo-preview[src^='data:image/jpeg']")
        .await?;
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser
        .screenshot("console-passport-application-desktop", 1280)
        .await?;
    browser
        .screenshot("console-passport-application-phone", 390)
        .await?;
    browser.click("#submit-application").await?;
    browser.wait_for("#request-state").await?;
    assert_eq!(browser.text("#request-state").await?, "requested");
    let id = browser.text("#request-id").await?;
    browser.sign_out().await?;

    browser.sign_in(&server.url, &approver).await?;
    browser
        .goto(&format!("{}/console/requests/passport/{id}", server.url))
        .await?;
    browser.click("#approve").await?;
    browser.wait_for_text("#request-state", "approved").await?;
    browser.sign_out().await?;

    browser.sign_in(&server.url, &issuer).await?;
    browser
        .goto(&format!("{}/console/requests/passport/{id}", server.url))
        .await?;
    browser.click("#issue").await?;
    browser.wait_for("#doc-number").await?;
    assert!(browser.text("#doc-number").await?.starts_with('N'));

    // Blank stock: receive ten TTD blanks at headquarters, send five to Kuwait City, spoil one;
    // a move that takes in the spoiled blank moves nothing and says which blank.
    browser.click("#nav-stock").await?;
    browser.wait_for("#receive").await?;
    assert!(browser.exists("#no-stock").await?);
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser.type_into("#receive-from", "TTD-000001").await?;
    browser.type_into("#receive-to", "TTD-000010").await?;
    browser.click("#receive").await?;
    browser.wait_for("#stock-levels").await?;
    browser.type_into("#move-target", "KWI").await?;
    browser.type_into("#move-from", "TTD-000006").await?;
    browser.type_into("#move-to", "TTD-000010").await?;
    browser.click("#move").await?;
    // Each act answers with a new page and its own message (the previous page had one too).
    browser
        .wait_for_text("#flash", "The blanks were moved.")
        .await?;
    let spoil = |serial: &'static str, reason: &'static str| {
        let browser = &browser;
        async move {
            browser.type_into("#spoil-serial", serial).await?;
            browser.type_into("#spoil-reason", reason).await?;
            browser.click("#spoil").await
        }
    };
    let spoiled_then_counts = |lines: &'static [&'static str]| {
        let browser = &browser;
        async move {
            browser
                .wait_for_text("#flash", "The blank is spoiled.")
                .await?;
            let levels = browser.text("#stock-levels").await?;
            for line in lines {
                assert!(levels.contains(line), "{line} in {levels}");
            }
            Ok::<_, BoxError>(())
        }
    };
    spoil("TTD-000001", "torn in the printer tray").await?;
    spoiled_then_counts(&[
        "ttd HQ available 4",
        "ttd HQ spoiled 1",
        "ttd KWI available 5",
    ])
    .await?;
    browser.screenshot("console-stock-desktop", 1280).await?;
    browser.screenshot("console-stock-phone", 390).await?;
    browser.type_into("#move-target", "KWI").await?;
    browser.type_into("#move-from", "TTD-000001").await?;
    browser.type_into("#move-to", "TTD-000003").await?;
    browser.click("#move").await?;
    browser.wait_for("#error-message").await?;
    assert!(
        browser.text("main").await?.contains("TTD-000001"),
        "{}",
        browser.text("main").await?
    );

    // The mission keeps its own stock: it sees only its blanks, and spoils one of them (a
    // misfeed in its printer); it cannot receive or move blanks, nor spoil headquarters'.
    browser.goto(&format!("{}/console", server.url)).await?;
    browser.wait_for("#who").await?;
    browser.sign_out().await?;
    browser.sign_in(&server.url, &mission).await?;
    browser.click("#nav-stock").await?;
    browser.wait_for("#spoil").await?;
    assert!(!browser.exists("#receive").await?);
    assert!(!browser.exists("#move").await?);
    assert!(browser.text("h1").await?.contains("KWI"));
    let levels = browser.text("#stock-levels").await?;
    assert!(levels.contains("ttd KWI available 5"), "{levels}");
    assert!(
        !levels.contains("HQ"),
        "another location's stock shows: {levels}"
    );
    assert!(browser.unlabelled_controls().await?.is_empty());
    spoil("TTD-000002", "not ours").await?;
    browser.wait_for("#error-message").await?;
    assert!(
        browser
            .text("#error-message")
            .await?
            .contains("not an available blank at KWI"),
        "{}",
        browser.text("main").await?
    );
    browser
        .goto(&format!("{}/console/stock", server.url))
        .await?;
    browser.wait_for("#spoil").await?;
    spoil("TTD-000007", "misfed in the mission's printer").await?;
    spoiled_then_counts(&["ttd KWI available 4", "ttd KWI spoiled 1"]).await?;
    browser
        .screenshot("console-stock-mission-phone", 390)
        .await?;
    // Receiving and moving stay with headquarters, whatever the form says.
    let forged = browser
        .script(
            "const f = document.createElement('form'); f.method = 'post'; \
             f.action = '/console/stock/receive'; \
             for (const [k, v] of [['csrf', document.querySelector('input[name=csrf]').value], \
               ['doc_type', 'ttd'], ['location', 'KWI'], ['from', 'TTD-000100'], ['to', 'TTD-000101']]) { \
               const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; \
               f.appendChild(i); } \
             document.body.appendChild(f); f.submit(); return true;",
            json!([]),
        )
        .await?;
    assert_eq!(forged, true);
    browser.wait_for("#error-message").await?;
    assert!(browser.text("h1").await?.contains("403"));
    browser.close().await?;
    Ok(())
}

/// The legalization form: consular staff upload the public document and issue its certificate
/// (its verification with the document is covered by the API and verification tests); the
/// certificate's page opens with its number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legalization_is_issued_from_the_form_with_its_document() -> TestResult {
    let server = Server::start()?;
    let codes = [add_user(&server, "consular-web", "consular", None)?];
    let driver = Driver::start().await?;
    let browser = driver.session().await?;
    let consular = browser
        .enrol(&server.url, "consular-web", &codes[0])
        .await?;
    let dir = tempfile::tempdir()?;
    let document = dir.path().join("birth-certificate.pdf");
    std::fs::write(
        &document,
        b"%PDF-1.4 a birth certificate of Ama Silva\n%%EOF\n",
    )?;

    browser.sign_in(&server.url, &consular).await?;
    browser.click("#new-legalization").await?;
    browser.wait_for("#submit-legalization").await?;
    browser
        .type_into("#f-document_type", "Birth certificate")
        .await?;
    browser.type_into("#f-signatory", "K. Perera").await?;
    browser.type_into("#f-capacity", "Registrar").await?;
    browser
        .type_into("#f-authority", "Ministry of Foreign Affairs")
        .await?;
    browser.type_into("#f-country_of_use", "ita").await?;
    let input = browser.find("#f-document").await?;
    browser
        .cmd(
            "POST",
            &format!("/element/{input}/value"),
            Some(json!({"text": document.display().to_string()})),
        )
        .await?;
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser
        .screenshot("console-legalization-desktop", 1280)
        .await?;
    browser.click("#submit-legalization").await?;
    browser.wait_for("#doc-number").await?;
    let number = browser.text("#doc-number").await?;
    assert!(number.starts_with('L'), "{number}");
    assert!(browser.text("main").await?.contains("legalization"));
    browser.close().await?;
    Ok(())
}

/// The console catalogue's (Sinhala, Tamil) texts of `english` (`templates/web/console.tsv`).
fn translations(english: &str) -> Result<(String, String), BoxError> {
    let catalogue = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/web/console.tsv"
    ))?;
    catalogue
        .lines()
        .filter_map(|line| {
            let mut columns = line.split('\t');
            Some((columns.next()?, columns.next()?, columns.next()?))
        })
        .find(|(en, _, _)| *en == english)
        .map(|(_, si, ta)| (si.to_owned(), ta.to_owned()))
        .ok_or_else(|| format!("`{english}` is not in the catalogue").into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_person_reads_the_console_in_their_own_language() -> TestResult {
    let server = Server::start()?;
    let clerk_code = add_user(&server, "clerk-ta", "issuer", None)?;
    let auditor_code = add_user(&server, "auditor-en", "auditor", None)?;
    let driver = Driver::start().await?;
    let browser = driver.session().await?;
    let (stock_si, stock_ta) = translations("Stock")?;
    let (documents_si, documents_ta) = translations("Documents")?;
    let (sign_in_si, _) = translations("Sign in")?;

    // Before signing in, the visitor picks a language on the sign-in page; it stays for the
    // next page (a cookie), and the enrolment page speaks it too.
    browser
        .goto(&format!("{}/console/login?lang=si", server.url))
        .await?;
    browser.wait_for("#name").await?;
    assert_eq!(browser.attribute("html", "lang").await?, "si");
    assert!(browser.text("h1").await?.contains(&sign_in_si));
    assert!(browser.unlabelled_controls().await?.is_empty());
    browser.screenshot("console-login-si-phone", 390).await?;
    browser
        .goto(&format!("{}/console/enrol", server.url))
        .await?;
    browser.wait_for("#enrolment_code").await?;
    assert_eq!(browser.attribute("html", "lang").await?, "si");
    browser
        .goto(&format!("{}/console/login?lang=en", server.url))
        .await?;
    browser.wait_for("#name").await?;
    assert_eq!(browser.attribute("html", "lang").await?, "en");

    let clerk = browser.enrol(&server.url, "clerk-ta", &clerk_code).await?;
    let auditor = browser
        .enrol(&server.url, "auditor-en", &auditor_code)
        .await?;

    // Signed in, a person's own choice rules: English until they choose Tamil.
    browser.sign_in(&server.url, &clerk).await?;
    assert_eq!(browser.attribute("html", "lang").await?, "en");
    browser
        .goto(&format!("{}/console/stock", server.url))
        .await?;
    browser.wait_for("#language").await?;
    browser.select("#language", "ta").await?;
    browser.click("#set-language").await?;
    browser.wait_for("#receive").await?;
    assert!(
        browser.current_url().await?.ends_with("/console/stock"),
        "back on the page where the language was chosen"
    );
    assert_eq!(browser.attribute("html", "lang").await?, "ta");
    assert!(browser.text("nav").await?.contains(&stock_ta));
    assert!(!browser.text("main").await?.contains("Receive"));
    browser.screenshot("console-stock-ta-desktop", 1280).await?;

    // Every page of the clerk's console in Tamil, labelled, fitting a phone.
    for path in [
        "/console",
        "/console/stock",
        "/console/reports",
        "/console/passports/new",
        "/console/passkeys",
        "/console/people?name=Perera",
    ] {
        browser.goto(&format!("{}{path}", server.url)).await?;
        browser.wait_for("#who").await?;
        assert_eq!(browser.attribute("html", "lang").await?, "ta", "{path}");
        assert!(browser.text("nav").await?.contains(&documents_ta), "{path}");
        assert!(browser.unlabelled_controls().await?.is_empty(), "{path}");
        browser.fits_a_phone(path).await?;
    }
    browser
        .goto(&format!("{}/console/passports/new", server.url))
        .await?;
    browser
        .screenshot("console-passport-application-ta-phone", 390)
        .await?;

    // Stored with the account: a new session is still in Tamil; Sinhala is one change away.
    browser.sign_out().await?;
    browser.sign_in(&server.url, &clerk).await?;
    assert_eq!(browser.attribute("html", "lang").await?, "ta");
    browser.select("#language", "si").await?;
    browser.click("#set-language").await?;
    browser.wait_for("#who").await?;
    assert_eq!(browser.attribute("html", "lang").await?, "si");
    assert!(browser.text("nav").await?.contains(&stock_si));
    assert!(browser.text("nav").await?.contains(&documents_si));
    browser
        .screenshot("console-dashboard-si-desktop", 1280)
        .await?;

    // A language we do not have is refused, naming the field; nothing changes.
    browser
        .script(
            "const o = document.createElement('option'); o.value = 'fr'; o.text = 'fr'; \
             document.getElementById('language').add(o); \
             document.getElementById('language').value = 'fr';",
            json!([]),
        )
        .await?;
    browser.click("#set-language").await?;
    browser.wait_for("#error-message").await?;
    assert!(browser.text("#error-message").await?.contains("language"));
    // The error page itself is in the person's language.
    assert_eq!(browser.attribute("html", "lang").await?, "si");
    let (unprocessable_si, _) = translations("Unprocessable Entity")?;
    assert!(browser.text("h1").await?.contains(&unprocessable_si));
    browser.goto(&format!("{}/console", server.url)).await?;
    browser.wait_for("#who").await?;
    assert_eq!(browser.attribute("html", "lang").await?, "si");

    // Another person's console is unchanged.
    browser.sign_out().await?;
    browser.sign_in(&server.url, &auditor).await?;
    assert_eq!(browser.attribute("html", "lang").await?, "en");
    assert!(browser.text("nav").await?.contains("Documents"));
    Ok(())
}
