//! Read-only views for the console: requests listed by kind and state, and a document's history
//! (its recorded acts, each with its integrity-ledger index when the ledger records it).

use serde::Serialize;
use sqlx::Row as _;

use super::numbering::Kind;
use super::requests::{RequestView, request_from_row};
use super::{IssuanceError, Service};
use crate::auth::Actor;

/// One recorded act on a document (or on the request it was issued from).
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// RFC 3339 time of the act.
    pub at: String,
    /// e.g. `ttd.requested`, `ttd.approved`, `ttd.issued`, `document.printed`, `document.revoked`.
    pub action: String,
    /// The acting user's name (the id when the user is unknown).
    pub actor: String,
    /// The integrity-ledger index of the act, for acts the ledger records.
    pub ledger_index: Option<i64>,
}

impl Service {
    /// Requests of `kind` in `state` (`requested`, `approved`, `issued`; `None`: any), newest
    /// first; a mission sees only its own.
    pub async fn list_requests(
        &self,
        actor: &Actor,
        kind: Kind,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RequestView>, IssuanceError> {
        if let Some(state) = state
            && !matches!(state, "requested" | "approved" | "issued")
        {
            return Err(IssuanceError::invalid(
                "state",
                "must be requested, approved or issued",
            ));
        }
        if !(1..=1000).contains(&limit) {
            return Err(IssuanceError::invalid("limit", "must be 1 to 1000"));
        }
        let mission = match (actor.role, &actor.mission) {
            (crate::auth::Role::Mission, Some(own)) => Some(own.as_str().to_owned()),
            // A mission user without a mission sees nothing (as `can_see_mission`).
            (crate::auth::Role::Mission, None) => return Ok(Vec::new()),
            _ => None,
        };
        let rows = sqlx::query(
            "SELECT id, kind, state, mission, requested_by, approved_by, data, photo, \
             document_number, created_at, updated_at FROM svc_requests \
             WHERE kind = $1 AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR mission = $3) \
             ORDER BY created_at DESC, id DESC LIMIT $4",
        )
        .bind(kind.as_str())
        .bind(state.map(str::to_owned))
        .bind(mission)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|row| request_from_row(row).map(|record| record.view()))
            .collect()
    }

    /// The acts recorded on document `number` and on its request, oldest first (404 when
    /// `actor` may not see the document).
    pub async fn document_history(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<Vec<HistoryEntry>, IssuanceError> {
        let record = self.load_document(actor, number).await?;
        // Print jobs are recorded as `<number>:<job id>`.
        let jobs = format!("{number}:%");
        let rows = sqlx::query(
            "SELECT e.at, e.action, e.actor_id, u.name, l.idx FROM svc_events e \
             LEFT JOIN svc_users u ON u.id = e.actor_id \
             LEFT JOIN ledger_entry l ON l.idempotency_key = e.action || ':' || e.subject \
             WHERE e.subject = $1 OR e.subject = $2 OR e.subject LIKE $3 \
             ORDER BY e.at",
        )
        .bind(number)
        .bind(&record.request_id)
        .bind(jobs)
        .fetch_all(self.db.reader())
        .await?;
        let mut entries = rows
            .iter()
            .map(|row| {
                let actor_id: String = row.try_get("actor_id")?;
                let name: Option<String> = row.try_get("name")?;
                Ok(HistoryEntry {
                    at: row.try_get("at")?,
                    action: row.try_get("action")?,
                    actor: name.unwrap_or(actor_id),
                    ledger_index: row.try_get("idx")?,
                })
            })
            .collect::<Result<Vec<_>, IssuanceError>>()?;
        // RFC 3339 text with a variable number of fraction digits does not sort as text.
        let instant = |entry: &HistoryEntry| {
            time::OffsetDateTime::parse(&entry.at, &time::format_description::well_known::Rfc3339)
                .ok()
        };
        entries.sort_by(|a, b| {
            instant(a)
                .cmp(&instant(b))
                .then(a.ledger_index.cmp(&b.ledger_index))
        });
        Ok(entries)
    }
}
