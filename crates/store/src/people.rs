//! The applicants of TTD requests and passport applications (`svc_request_people`, migration
//! `0180_people.sql`): the forms the person checks compare and the search filters on, and the
//! two reads of them: everything known about one person, and a search.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::requests::{REQUEST_COLUMNS, RequestRow, request_row};
use crate::{Backend, Result, StoreError, Transaction};

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
    /// The previous passport the request names.
    pub previous_document: Option<String>,
    pub created_at: String,
}

/// Records (or, for a corrected request, replaces) a request's applicant.
pub async fn upsert(tx: &mut Transaction, person: &PersonRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO svc_request_people (request_id, kind, mission, nic, name_key, birth_date, \
         sex, case_id, previous_document, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (request_id) DO UPDATE SET nic = excluded.nic, \
         name_key = excluded.name_key, birth_date = excluded.birth_date, sex = excluded.sex, \
         case_id = excluded.case_id, previous_document = excluded.previous_document",
    )
    .bind(&person.request_id)
    .bind(&person.kind)
    .bind(&person.mission)
    .bind(&person.nic)
    .bind(&person.name_key)
    .bind(&person.birth_date)
    .bind(&person.sex)
    .bind(&person.case_id)
    .bind(&person.previous_document)
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

/// At most this many related rows are read for one person: the checks need a few, and a
/// pathological name shared by thousands must not make a check read them all.
pub const RELATED_LIMIT: i64 = 200;

/// What the checks of one applicant read, in one statement (a check runs when a request is
/// made and again at its issuance: one round trip, not four).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    /// The other requests that share the probe's NIC, or its name, birth date and sex
    /// (rejected requests left out), newest first, with their documents and listings.
    pub related: Vec<RelatedRow>,
    /// The listings of the previous document the request names (any issuing state).
    pub listings: Vec<crate::sltd::SltdRow>,
    /// Our document under that number: kind, state, revocation reason, and its holder.
    pub own: Option<OwnDocument>,
}

/// One of our documents, as a check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnDocument {
    pub kind: String,
    pub state: String,
    pub reason: Option<String>,
    /// The applicant it was issued to (none for a request made before migration `0180`).
    pub holder: Option<PersonRow>,
}

const PERSON_COLUMNS: &str = "p.request_id, p.kind, p.mission, p.nic, p.name_key, p.birth_date, \
     p.sex, p.case_id, p.previous_document, p.created_at";

/// What one applicant is looked up by (an item of a batch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRow {
    /// The request being checked (left out of the answer).
    pub request_id: String,
    /// The state code our documents are issued by, for their listings.
    pub issuing_state: String,
    /// The applicant's keys; none to take them from the request's applicant row (a request
    /// being issued: its lookup then runs while the request itself is being loaded).
    pub keys: Option<ProbeKeys>,
}

/// An applicant's keys, as [`PersonRow`] holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeKeys {
    pub nic: Option<String>,
    pub name_key: String,
    pub birth_date: String,
    pub sex: String,
    /// The document the request names as its previous one.
    pub previous: Option<String>,
}

/// Everything the checks of several applicants read (see [`Lookup`]), in one statement, one
/// [`Lookup`] per probe in order:
/// under load the issuances of a node re-check together, and the statement's own cost is
/// most of a check's.
pub async fn lookup_batch(
    pool: &sqlx::AnyPool,
    backend: Backend,
    probes: &[ProbeRow],
) -> Result<Vec<Lookup>> {
    if probes.is_empty() {
        return Ok(Vec::new());
    }
    // Three parts, told apart by `part`, each row naming its probe by `ord`; the columns a part
    // has no value for are NULL. A probe without a previous document (NULL) finds none.
    let sql = format!(
        "WITH probe(ord, request_id, keyed, nic, name_key, birth_date, sex, previous, \
         issuing_state) AS (VALUES {values}), \
         me AS (SELECT probe.ord AS ord, probe.request_id AS request_id, \
           probe.issuing_state AS issuing_state, \
           CASE WHEN probe.keyed = 1 THEN probe.nic ELSE p0.nic END AS nic, \
           CASE WHEN probe.keyed = 1 THEN probe.name_key ELSE p0.name_key END AS name_key, \
           CASE WHEN probe.keyed = 1 THEN probe.birth_date ELSE p0.birth_date END \
             AS birth_date, \
           CASE WHEN probe.keyed = 1 THEN probe.sex ELSE p0.sex END AS sex, \
           CASE WHEN probe.keyed = 1 THEN probe.previous ELSE p0.previous_document END \
             AS previous \
           FROM probe LEFT JOIN svc_request_people p0 ON p0.request_id = probe.request_id) \
         SELECT ord, part, request_id, kind, mission, nic, name_key, birth_date, sex, case_id, \
         previous_document, created_at, request_state, number, document_kind, document_state, valid_until, \
         state_reason, listed_status, listed_on, listed_import, listed_line, listed_state, \
         listed_type, listed_source FROM (\
         SELECT me.ord AS ord, 'related' AS part, {PERSON_COLUMNS}, \
         r.state AS request_state, d.number AS number, d.kind AS document_kind, \
         d.state AS document_state, d.valid_until AS valid_until, \
         d.state_reason AS state_reason, s.status AS listed_status, \
         s.reported_on AS listed_on, s.import_id AS listed_import, s.line AS listed_line, \
         s.issuing_state AS listed_state, s.document_type AS listed_type, \
         s.source AS listed_source, \
         ROW_NUMBER() OVER (PARTITION BY me.ord ORDER BY p.created_at DESC) AS rank \
         FROM me JOIN svc_request_people p ON (p.nic = me.nic \
           OR (p.name_key = me.name_key AND p.birth_date = me.birth_date \
               AND p.sex = me.sex)) \
         JOIN svc_requests r ON r.id = p.request_id \
         LEFT JOIN svc_documents d ON d.request_id = p.request_id \
         LEFT JOIN svc_sltd_entries s ON s.document_number = d.number \
           AND s.issuing_state = me.issuing_state \
         WHERE p.request_id <> me.request_id AND r.state <> 'rejected') AS related \
         WHERE rank <= {RELATED_LIMIT} \
         UNION ALL \
         SELECT me.ord, 'listed', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
         NULL, NULL, s.document_number, NULL, NULL, NULL, NULL, s.status, s.reported_on, \
         s.import_id, s.line, s.issuing_state, s.document_type, s.source \
         FROM me JOIN svc_sltd_entries s ON s.document_number = me.previous \
         UNION ALL \
         SELECT me.ord, 'own', {PERSON_COLUMNS}, NULL, d.number, d.kind, d.state, \
         d.valid_until, d.state_reason, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
         FROM me JOIN svc_documents d ON d.number = me.previous \
         LEFT JOIN svc_request_people p ON p.request_id = d.request_id",
        values = crate::ledger::placeholders(backend, probes.len(), 9),
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (ord, probe) in probes.iter().enumerate() {
        let keys = probe.keys.as_ref();
        query = query
            .bind(ord as i64)
            .bind(probe.request_id.clone())
            .bind(i64::from(keys.is_some()))
            .bind(keys.and_then(|keys| keys.nic.clone()))
            .bind(keys.map(|keys| keys.name_key.clone()))
            .bind(keys.map(|keys| keys.birth_date.clone()))
            .bind(keys.map(|keys| keys.sex.clone()))
            .bind(keys.and_then(|keys| keys.previous.clone()))
            .bind(probe.issuing_state.clone());
    }
    let rows = query
        .fetch_all(pool)
        .await
        .map_err(StoreError::db("looking applicants up"))?;
    let mut found = vec![Lookup::default(); probes.len()];
    let read = |row: &AnyRow, found: &mut [Lookup]| -> std::result::Result<(), sqlx::Error> {
        let ord: i64 = row.try_get("ord")?;
        let Some(lookup) = usize::try_from(ord).ok().and_then(|ord| found.get_mut(ord)) else {
            return Ok(());
        };
        let part: String = row.try_get("part")?;
        match part.as_str() {
            "related" => lookup.related.push(related_row(row)?),
            "listed" => lookup.listings.push(crate::sltd::SltdRow {
                issuing_state: row.try_get("listed_state")?,
                document_type: row.try_get("listed_type")?,
                document_number: row.try_get("number")?,
                status: row.try_get("listed_status")?,
                reported_on: row.try_get("listed_on")?,
                source: row.try_get("listed_source")?,
                import_id: row.try_get("listed_import")?,
                line: row.try_get("listed_line")?,
            }),
            _ => {
                let request_id: Option<String> = row.try_get("request_id")?;
                lookup.own = Some(OwnDocument {
                    kind: row.try_get("document_kind")?,
                    state: row.try_get("document_state")?,
                    reason: row.try_get("state_reason")?,
                    holder: match request_id {
                        Some(_) => Some(person_row(row)?),
                        None => None,
                    },
                });
            }
        }
        Ok(())
    };
    for row in &rows {
        read(row, &mut found).map_err(StoreError::db("looking applicants up"))?;
    }
    for lookup in &mut found {
        // Newest first (the statement's order is per part, not kept across the union).
        lookup
            .related
            .sort_by(|a, b| b.person.created_at.cmp(&a.person.created_at));
        lookup.listings.sort_by(|a, b| {
            (&a.reported_on, &a.issuing_state).cmp(&(&b.reported_on, &b.issuing_state))
        });
    }
    Ok(found)
}

fn person_row(row: &AnyRow) -> std::result::Result<PersonRow, sqlx::Error> {
    Ok(PersonRow {
        request_id: row.try_get("request_id")?,
        kind: row.try_get("kind")?,
        mission: row.try_get("mission")?,
        nic: row.try_get("nic")?,
        name_key: row.try_get("name_key")?,
        birth_date: row.try_get("birth_date")?,
        sex: row.try_get("sex")?,
        case_id: row.try_get("case_id")?,
        previous_document: row.try_get("previous_document")?,
        created_at: row.try_get("created_at")?,
    })
}

fn related_row(row: &AnyRow) -> std::result::Result<RelatedRow, sqlx::Error> {
    let listed_status: Option<String> = row.try_get("listed_status")?;
    Ok(RelatedRow {
        person: person_row(row)?,
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
         p.case_id, p.previous_document, p.created_at, d.kind AS document_kind \
         FROM svc_documents d JOIN svc_request_people p ON p.request_id = d.request_id \
         WHERE d.number = $1",
    )
    .bind(number)
    .fetch_optional(pool)
    .await
    .map_err(StoreError::db("reading a document's holder"))?;
    row.map(|row| Ok((person_row(&row)?, row.try_get("document_kind")?)))
        .transpose()
        .map_err(StoreError::db("reading a document's holder"))
}
