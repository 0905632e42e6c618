//! The domain against a real SQLite database, in process: four-eyes, number allocation and
//! crash recovery (allocated numbers become void, never reused), nothing stored on bad input.

use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use time::macros::datetime;
use travdoc::auth::{Actor, MissionCode, Role};
use travdoc::issuance::numbering::{self, Kind};
use travdoc::issuance::ports::{NoPrinters, Signers};
use travdoc::issuance::{Clock, Db, IssuanceError, NumberingConfig, Service, Settings};
use travdoc::metrics::Metrics;
use travdoc::usecase::approve::approve;
use travdoc::usecase::request::request_ttd;

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct FixedClock(Mutex<OffsetDateTime>);

impl Clock for FixedClock {
    fn now(&self) -> std::time::SystemTime {
        self.0
            .lock()
            .map(|t| std::time::SystemTime::from(*t))
            .unwrap_or(std::time::UNIX_EPOCH)
    }
}

async fn service(
    dir: &tempfile::TempDir,
    clock: Arc<FixedClock>,
) -> Result<Service, Box<dyn std::error::Error>> {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let db = Db::open(&url, 8).await?;
    Ok(Service::new(
        db,
        clock,
        "LKA".to_owned(),
        NumberingConfig::default(),
        Settings::default(),
        Signers::default(),
        Arc::new(Metrics::new()),
        Arc::new(NoPrinters),
    ))
}

fn actor(id: &str, role: Role, mission: Option<&str>) -> Actor {
    Actor {
        id: id.to_owned(),
        name: id.to_owned(),
        role,
        mission: mission.and_then(|m| m.parse::<MissionCode>().ok()),
        granted: true,
    }
}

fn body() -> travdoc::issuance::input::TtdRequestBody {
    serde_json::from_value(serde_json::json!({
        "surname": "Perera", "given_names": "Nimal", "nationality": "LKA",
        "birth_date": "1985-03-14", "sex": "M", "mission": "LON", "destination": "LKA",
        "route": [], "valid_until": "2026-12-20", "case_reference": null,
        "previous_document": null, "photo": null, "nic": "198507401234"
    }))
    .unwrap_or_else(|error| panic!("fixture: {error}"))
}

#[tokio::test]
async fn the_requester_cannot_approve_and_issuing_needs_the_hsm() -> TestResult {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(FixedClock(Mutex::new(datetime!(2026-11-27 12:00 UTC))));
    let service = service(&dir, clock).await?;
    let mission = actor("u-1", Role::Mission, Some("LON"));
    let request = request_ttd(service.issuing(), &mission, &body(), None).await?;
    assert_eq!(request.state.as_str(), "requested");
    // The same person acting as approver is refused (four-eyes).
    let same = actor("u-1", Role::Approver, None);
    let refused = approve(service.records(), &same, Kind::Ttd, &request.id, None).await;
    assert!(
        matches!(refused, Err(IssuanceError::FourEyes)),
        "{refused:?}"
    );
    let approver = actor("u-2", Role::Approver, None);
    let approved = approve(service.records(), &approver, Kind::Ttd, &request.id, None).await?;
    assert_eq!(approved.state.as_str(), "approved");
    assert_eq!(approved.approved_by.as_deref(), Some("u-2"));
    // No HSM configured: nothing is allocated, nothing stored.
    let issued =
        travdoc::usecase::issue_ttd::issue_ttd(service.issuing(), &mission, &request.id, None)
            .await;
    assert!(
        matches!(issued, Err(IssuanceError::NotConfigured(_))),
        "{issued:?}"
    );
    let documents =
        travdoc::usecase::read::list_documents(service.records(), &approver, &Default::default())
            .await?;
    assert!(documents.is_empty());
    let row = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM svc_document_numbers")
        .fetch_one(service.db().reader())
        .await?;
    assert_eq!(row, 0);
    Ok(())
}

#[tokio::test]
async fn crashed_allocations_become_void_and_numbers_are_never_reused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let start = datetime!(2026-11-27 12:00 UTC);
    let clock = Arc::new(FixedClock(Mutex::new(start)));
    let service = service(&dir, clock.clone()).await?;
    let config = NumberingConfig::default();
    let first = numbering::allocate(service.db(), &config, Kind::Ttd, "r-1", start).await?;
    let second = numbering::allocate(service.db(), &config, Kind::Ttd, "r-2", start).await?;
    assert_eq!(first, "T0000001");
    assert_eq!(second, "T0000002");
    // A recovery pass within the grace period leaves them alone ...
    assert!(
        service
            .records()
            .recover_numbers(time::Duration::minutes(2))
            .await?
            .is_empty()
    );
    // ... and after it voids both (as after a crash), with a ledger event each.
    if let Ok(mut now) = clock.0.lock() {
        *now = start + time::Duration::minutes(5);
    }
    let voided = service
        .records()
        .recover_numbers(time::Duration::minutes(2))
        .await?;
    assert_eq!(voided, vec![first.clone(), second.clone()]);
    let states: Vec<(String, String)> =
        sqlx::query_as("SELECT number, state FROM svc_document_numbers ORDER BY number")
            .fetch_all(service.db().reader())
            .await?;
    assert_eq!(
        states,
        vec![(first, "void".into()), (second, "void".into())]
    );
    let events = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM svc_events WHERE action = 'number.void'",
    )
    .fetch_one(service.db().reader())
    .await?;
    assert_eq!(events, 2);
    // The series continues: a void number is never handed out again.
    let third = numbering::allocate(service.db(), &config, Kind::Ttd, "r-3", start).await?;
    assert_eq!(third, "T0000003");
    let legalization =
        numbering::allocate(service.db(), &config, Kind::Legalization, "r-4", start).await?;
    assert_eq!(legalization, "L2026000001");
    Ok(())
}

#[tokio::test]
async fn invalid_input_stores_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(FixedClock(Mutex::new(datetime!(2026-11-27 12:00 UTC))));
    let service = service(&dir, clock).await?;
    let mission = actor("u-1", Role::Mission, Some("LON"));
    let mut bad = body();
    bad.valid_until = "2028-01-01".to_owned();
    let refused = request_ttd(service.issuing(), &mission, &bad, None).await;
    assert!(
        matches!(&refused, Err(IssuanceError::InvalidField { field, .. }) if field == "valid_until"),
        "{refused:?}"
    );
    let count = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM svc_requests")
        .fetch_one(service.db().reader())
        .await?;
    assert_eq!(count, 0);
    Ok(())
}
