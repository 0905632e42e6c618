//! The language of the pages a visitor sees before signing in: `?lang=`, then the one asked for
//! last (a cookie on the console's sign-in pages), then the browser's `Accept-Language` by
//! weight, then English. The signed-in console follows each person's stored choice (browser
//! test `each_person_reads_the_console_in_their_own_language`).

use bytes::Bytes;

use crate::common::{Server, TestResult};

fn lang_of(html: &[u8]) -> String {
    let html = String::from_utf8_lossy(html);
    html.split("<html lang=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_before_sign_in_speak_the_language_asked_remembered_or_preferred() -> TestResult {
    let server = Server::start()?;
    let get = |path: &'static str, headers: Vec<(&'static str, &'static str)>| {
        let server = &server;
        async move {
            server
                .raw("GET", path, None, Bytes::new(), None, &headers)
                .await
        }
    };

    // The public page: the browser's first choice among ours; a cache keeps one per language.
    let page = get(
        "/verify",
        vec![("accept-language", "fr;q=1, ta;q=0.9, en;q=0.5")],
    )
    .await?;
    assert_eq!(page.status, 200);
    assert_eq!(lang_of(&page.bytes), "ta");
    assert_eq!(
        page.headers.get("vary").and_then(|v| v.to_str().ok()),
        Some("Accept-Language")
    );
    let asked = get("/verify?lang=si", vec![("accept-language", "ta")]).await?;
    assert_eq!(lang_of(&asked.bytes), "si");
    let garbage = get(
        "/verify",
        vec![("accept-language", ";;;q=zz,,si;q=-1,ta;q=0")],
    )
    .await?;
    assert_eq!(garbage.status, 200);
    assert_eq!(lang_of(&garbage.bytes), "en");
    assert_eq!(lang_of(&get("/verify", vec![]).await?.bytes), "en");

    // The sign-in page: asked for, it is remembered in a cookie for the next pages.
    let login = get("/console/login?lang=si", vec![]).await?;
    assert_eq!(login.status, 200);
    assert_eq!(lang_of(&login.bytes), "si");
    let remembered = login
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("td_lang="))
        .ok_or("no td_lang cookie")?
        .to_owned();
    assert!(remembered.starts_with("td_lang=si;"), "{remembered}");
    assert!(remembered.contains("SameSite=Strict"), "{remembered}");
    let next = get(
        "/console/enrol",
        vec![("cookie", "td_lang=si"), ("accept-language", "ta")],
    )
    .await?;
    assert_eq!(lang_of(&next.bytes), "si");
    let preferred = get("/console/login", vec![("accept-language", "ta-LK")]).await?;
    assert_eq!(lang_of(&preferred.bytes), "ta");
    // A language we do not have is English, and not remembered.
    let unknown = get("/console/login?lang=fr", vec![]).await?;
    assert_eq!(lang_of(&unknown.bytes), "en");
    assert!(
        !unknown
            .headers
            .get_all("set-cookie")
            .iter()
            .any(|value| value.to_str().is_ok_and(|v| v.starts_with("td_lang="))),
        "an unknown language is not remembered"
    );
    Ok(())
}
