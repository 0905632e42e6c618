//! The applicants of TTD requests and passport applications (`svc_request_people`, migration
//! `0180_people.sql`): the forms the person checks compare and the search filters on, and the
//! two reads of them: everything known about one person, and a search.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::requests::{REQUEST_COLUMNS, RequestRow, request_row};
use crate::{Result, StoreError, Transaction};

/// One request's applicant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub request_id: String,
    /// `ttd` or `passport`.
    pub kind: String,
    pub mission: Option<String>,
    /// Canonical (12 digits), none when the applicant has none or it is unreadable.
    pub nic: Option<String>,
    /// The name in MRZ form: `PRIMARY<<SECONDARY`.
    pub name_key: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub sex: String,
    /// The readmission case of a TTD.
    pub case_id: Option<String>,
    pub created_at: String,
}

/// Records (or, for a corrected request, replaces) a request's applicant.
pub async fn upsert(tx: &mut Transaction, person: &PersonRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO svc_request_people (request_id, kind, mission, nic, name_key, birth_date, \
         sex, case_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (request_id) DO UPDATE SET nic = excluded.nic, \
         name_key = excluded.name_key, birth_date = excluded.birth_date, sex = excluded.sex, \
         case_id = excluded.case_id",
    )
    .bind(&person.request_id)
    .bind(&person.kind)
    .bind(&person.mission)
    .bind(&person.nic)
    .bind(&person.name_key)
    .bind(&person.birth_date)
    .bind(&person.sex)
    .bind(&person.case_id)
    .bind(&person.created_at)
    .execute(tx.conn())
    .await
    .map_err(StoreError::db("recording a request's applicant"))?;
    Ok(())
}

/// The requests that have no applicant row yet (made before migration `0180`), at most
/// `limit` of them, for the start-up backfill.
pub async fn missing(pool: &sqlx::AnyPool, limit: i64) -> Result<Vec<RequestRow>> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM svc_requests r WHERE r.kind IN ('ttd', 'passport') \
         AND NOT EXISTS (SELECT 1 FROM svc_request_people p WHERE p.request_id = r.id) \
         ORDER BY r.created_at LIMIT $1"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(StoreError::db("reading requests without an applicant row"))?;
    rows.iter()
        .map(request_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(StoreError::db("reading requests without an applicant row"))
}

/// Another request of (possibly) the same person, with its document if one was issued and
/// that document's listing on an imported lost/stolen list, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedRow {
    pub person: PersonRow,
    /// The request's state.
    pub request_state: String,
    pub document_number: Option<String>,
    pub document_kind: Option<String>,
    pub document_state: Option<String>,
    pub document_valid_until: Option<String>,
    /// `status reported_on import line` of a listing of the document (one row per listing).
    pub listed: Option<Listing>,
}

/// A document's listing on an imported list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub status: String,
    pub reported_on: String,
    pub import_id: String,
    pub line: i64,
}

/// What to look a person up by.
#[derive(Debug, Clone, Copy)]
pub struct Probe<'a> {
    /// The request being checked (left out of the answer).
    pub request_id: &'a str,
    pub nic: Option<&'a str>,
    pub name_key: &'a str,
    pub birth_date: &'a str,
    pub sex: &'a str,
    /// The state code the documents were issued by (ours), for their listings.
    pub issuing_state: &'a str,
}

/// At most this many related rows are read for one person: the checks need a few, and a
/// pathological name shared by thousands must not make a check read them all.
pub const RELATED_LIMIT: i64 = 200;

/// The other requests that share the probe's NIC, or its name, birth date and sex; rejected
/// requests are left out.
pub async fn related(pool: &sqlx::AnyPool, probe: &Probe<'_>) -> Result<Vec<RelatedRow>> {
    let rows = sqlx::query(
        "SELECT p.request_id, p.kind, p.mission, p.nic, p.name_key, p.birth_date, p.sex, \
         p.case_id, p.created_at, r.state AS request_state, d.number, d.kind AS document_kind, \
         d.state AS document_state, d.valid_until, s.status AS listed_status, \
         s.reported_on AS listed_on, s.import_id AS listed_import, s.line AS listed_line \
         FROM svc_request_people p \
         JOIN svc_requests r ON r.id = p.request_id \
         LEFT JOIN svc_documents d ON d.request_id = p.request_id \
         LEFT JOIN svc_sltd_entries s ON s.document_number = d.number AND s.issuing_state = $6 \
         WHERE (p.nic = $2 OR (p.name_key = $3 AND p.birth_date = $4 AND p.sex = $5)) \
         AND p.request_id <> $1 AND r.state <> 'rejected' \
         ORDER BY p.created_at DESC LIMIT $7",
    )
    .bind(probe.request_id)
    .bind(probe.nic)
    .bind(probe.name_key)
    .bind(probe.birth_date)
    .bind(probe.sex)
    .bind(probe.issuing_state)
    .bind(RELATED_LIMIT)
    .fetch_all(pool)
    .await
    .map_err(StoreError::db("looking an applicant up"))?;
    rows.iter()
        .map(related_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(StoreError::db("looking an applicant up"))
}

fn related_row(row: &AnyRow) -> std::result::Result<RelatedRow, sqlx::Error> {
    let listed_status: Option<String> = row.try_get("listed_status")?;
    Ok(RelatedRow {
        person: PersonRow {
            request_id: row.try_get("request_id")?,
            kind: row.try_get("kind")?,
            mission: row.try_get("mission")?,
            nic: row.try_get("nic")?,
            name_key: row.try_get("name_key")?,
            birth_date: row.try_get("birth_date")?,
            sex: row.try_get("sex")?,
            case_id: row.try_get("case_id")?,
            created_at: row.try_get("created_at")?,
        },
        request_state: row.try_get("request_state")?,
        document_number: row.try_get("number")?,
        document_kind: row.try_get("document_kind")?,
        document_state: row.try_get("document_state")?,
        document_valid_until: row.try_get("valid_until")?,
        listed: match listed_status {
            Some(status) => Some(Listing {
                status,
                reported_on: row.try_get("listed_on")?,
                import_id: row.try_get("listed_import")?,
                line: row.try_get("listed_line")?,
            }),
            None => None,
        },
    })
}

/// The person filters of a search; each one given narrows it.
#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    /// Canonical NIC.
    pub nic: Option<String>,
    /// Name components in MRZ form (`GARCIA`, `JOSE`): each must be a component of the name.
    pub name_components: Vec<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// The readmission case.
    pub case_id: Option<String>,
}

impl PersonFilter {
    pub fn is_empty(&self) -> bool {
        self.nic.is_none()
            && self.name_components.is_empty()
            && self.birth_date.is_none()
            && self.case_id.is_none()
    }

    /// The `WHERE` conditions on `p` from parameter `$first` on, and their values in order.
    fn conditions(&self, first: usize) -> (String, Vec<String>) {
        // (column expression, value); every condition is `expression = $n` or `LIKE $n`.
        let mut terms: Vec<(&str, &str, String)> = Vec::new();
        if let Some(nic) = &self.nic {
            terms.push(("p.nic", "=", nic.clone()));
        }
        if let Some(date) = &self.birth_date {
            terms.push(("p.birth_date", "=", date.clone()));
        }
        if let Some(case_id) = &self.case_id {
            terms.push(("p.case_id", "=", case_id.clone()));
        }
        for component in &self.name_components {
            // `<` separates components in the key; a component matches whole.
            terms.push((
                "('<' || p.name_key || '<')",
                "LIKE",
                format!("%<{component}<%"),
            ));
        }
        let mut sql = String::new();
        let mut values = Vec::new();
        for (index, (expression, operator, value)) in terms.into_iter().enumerate() {
            sql.push_str(&format!(" AND {expression} {operator} ${}", first + index));
            values.push(value);
        }
        (sql, values)
    }
}

/// The newest `limit` requests (TTD and passport) matching `filter`, optionally of one kind,
/// state and mission.
pub async fn search_requests(
    pool: &sqlx::AnyPool,
    filter: &PersonFilter,
    kind: Option<&str>,
    state: Option<&str>,
    mission: Option<&str>,
    limit: i64,
) -> Result<Vec<RequestRow>> {
    let (conditions, values) = filter.conditions(5);
    let columns = REQUEST_COLUMNS
        .split(", ")
        .map(|column| format!("r.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns} FROM svc_requests r JOIN svc_request_people p ON p.request_id = r.id \
         WHERE ($1 IS NULL OR r.kind = $1) AND ($2 IS NULL OR r.state = $2) \
         AND ($3 IS NULL OR r.mission = $3){conditions} \
         ORDER BY r.created_at DESC, r.id DESC LIMIT $4"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(kind.map(str::to_owned))
        .bind(state.map(str::to_owned))
        .bind(mission.map(str::to_owned))
        .bind(limit);
    for value in values {
        query = query.bind(value);
    }
    let rows = query
        .fetch_all(pool)
        .await
        .map_err(StoreError::db("searching requests"))?;
    rows.iter()
        .map(request_row)
        .collect::<std::result::Result<_, _>>()
        .map_err(StoreError::db("searching requests"))
}

/// The `JOIN` and conditions that narrow a document listing (`svc_documents d`) to `filter`'s
/// person, from parameter `$first` on.
pub(crate) fn document_conditions(filter: &PersonFilter, first: usize) -> (String, Vec<String>) {
    if filter.is_empty() {
        return (String::new(), Vec::new());
    }
    let (conditions, values) = filter.conditions(first);
    (
        format!(
            " AND EXISTS (SELECT 1 FROM svc_request_people p \
             WHERE p.request_id = svc_documents.request_id{conditions})"
        ),
        values,
    )
}

/// The holder of our document `number` (the applicant of the request it was issued from), with
/// the document's kind; none for a number we did not issue or a request made before `0180`.
pub async fn holder(pool: &sqlx::AnyPool, number: &str) -> Result<Option<(PersonRow, String)>> {
    let row = sqlx::query(
        "SELECT p.request_id, p.kind, p.mission, p.nic, p.name_key, p.birth_date, p.sex, \
         p.case_id, p.created_at, d.kind AS document_kind \
         FROM svc_documents d JOIN svc_request_people p ON p.request_id = d.request_id \
         WHERE d.number = $1",
    )
    .bind(number)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::db("reading a document's holder"))?;
    row.map(|row| {
        Ok((
            PersonRow {
                request_id: row.try_get("request_id")?,
                kind: row.try_get("kind")?,
                mission: row.try_get("mission")?,
                nic: row.try_get("nic")?,
                name_key: row.try_get("name_key")?,
                birth_date: row.try_get("birth_date")?,
                sex: row.try_get("sex")?,
                case_id: row.try_get("case_id")?,
                created_at: row.try_get("created_at")?,
            },
            row.try_get("document_kind")?,
        ))
    })
    .transpose()
    .map_err(StoreError::db("reading a document's holder"))
}
