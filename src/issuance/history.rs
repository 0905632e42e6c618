//! Read-only views for the console: requests listed by kind and state, and a document's history
//! (its recorded acts, each with its integrity-ledger index when the ledger records it).

use serde::Serialize;

use super::numbering::Kind;
use super::requests::{RequestView, request_record};
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
        travdoc_store::requests::list(
            self.db.reader(),
            kind.as_str(),
            state,
            mission.as_deref(),
            limit,
        )
        .await?
        .into_iter()
        .map(|row| request_record(row).map(|record| record.view()))
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
        let mut entries: Vec<HistoryEntry> =
            travdoc_store::events::document_events(self.db.reader(), number, &record.request_id)
                .await?
                .into_iter()
                .map(|event| HistoryEntry {
                    at: event.at,
                    action: event.action,
                    actor: event.actor_name.unwrap_or(event.actor_id),
                    ledger_index: event.ledger_index,
                })
                .collect();
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
