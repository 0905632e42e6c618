//! Document numbers: one series per document type, allocated from a counter row that is
//! updated in place (`UPDATE … RETURNING`: a row lock on PostgreSQL, the single writer on
//! SQLite), so several nodes on one PostgreSQL never hand out the same number.
//!
//! A number is first recorded `allocated` in its own committed transaction; the issuing
//! transaction moves it to `issued`; if issuance fails it is marked `void` (with a ledger
//! entry). A crash leaves `allocated` rows, which [`recover`] voids at startup.

use serde::Deserialize;
use time::OffsetDateTime;

use super::ledger::{self, LedgerEvent};
use super::{Db, IssuanceError, rfc3339};

/// The document kinds that have a number series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Passport,
    Ttd,
    Legalization,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Passport => "passport",
            Kind::Ttd => "ttd",
            Kind::Legalization => "legalization",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "passport" => Some(Kind::Passport),
            "ttd" => Some(Kind::Ttd),
            "legalization" => Some(Kind::Legalization),
            _ => None,
        }
    }
}

/// Number formats per kind: literal characters A-Z/0-9, `{year}` (4 digits) and `{seq:N}`
/// (the counter, zero-padded to N digits). A format with `{year}` restarts its counter each year.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NumberingConfig {
    /// Default `N{seq:7}` (8 characters, fits the TD3 document-number field).
    pub passport: String,
    /// Default `T{seq:7}`.
    pub ttd: String,
    /// Default `L{year}{seq:6}`.
    pub legalization: String,
}

impl Default for NumberingConfig {
    fn default() -> Self {
        NumberingConfig {
            passport: "N{seq:7}".to_owned(),
            ttd: "T{seq:7}".to_owned(),
            legalization: "L{year}{seq:6}".to_owned(),
        }
    }
}

/// A parsed number format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberFormat {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Year,
    Seq(usize),
}

impl NumberFormat {
    pub fn parse(text: &str) -> Result<Self, IssuanceError> {
        let bad = || IssuanceError::NumberFormat(text.to_owned());
        let mut parts = Vec::new();
        let mut rest = text;
        let mut seq_seen = false;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let end = after.find('}').ok_or_else(bad)?;
                let token = &after[..end];
                if token == "year" {
                    parts.push(Part::Year);
                } else if let Some(width) = token.strip_prefix("seq:") {
                    let width: usize = width.parse().map_err(|_| bad())?;
                    if !(1..=12).contains(&width) || seq_seen {
                        return Err(bad());
                    }
                    seq_seen = true;
                    parts.push(Part::Seq(width));
                } else {
                    return Err(bad());
                }
                rest = &after[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let literal = &rest[..end];
                if !literal
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                {
                    return Err(bad());
                }
                parts.push(Part::Literal(literal.to_owned()));
                rest = &rest[end..];
            }
        }
        if !seq_seen {
            return Err(bad());
        }
        Ok(NumberFormat { parts })
    }

    fn has_year(&self) -> bool {
        self.parts.contains(&Part::Year)
    }

    fn width(&self) -> usize {
        self.parts
            .iter()
            .find_map(|part| match part {
                Part::Seq(width) => Some(*width),
                _ => None,
            })
            .unwrap_or(1)
    }

    /// The counter row for `kind` in `year`.
    pub fn series(&self, kind: Kind, year: i32) -> String {
        if self.has_year() {
            format!("{}-{year}", kind.as_str())
        } else {
            kind.as_str().to_owned()
        }
    }

    /// The number for counter value `seq` as its three pieces: the text before the counter,
    /// the counter's width and the text after it (for rendering in SQL).
    fn pieces(&self, year: i32) -> (String, usize, String) {
        let (mut before, mut after) = (String::new(), String::new());
        let mut seen = false;
        for part in &self.parts {
            let out = if seen { &mut after } else { &mut before };
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Year => out.push_str(&format!("{year:04}")),
                Part::Seq(_) => seen = true,
            }
        }
        (before, self.width(), after)
    }

    /// The number for counter value `seq`; `None` when `seq` does not fit the width.
    pub fn render(&self, year: i32, seq: i64) -> Option<String> {
        let width = self.width();
        let limit = 10i64.checked_pow(u32::try_from(width).ok()?)?;
        if seq < 1 || seq >= limit {
            return None;
        }
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Year => out.push_str(&format!("{year:04}")),
                Part::Seq(width) => out.push_str(&format!("{seq:0width$}")),
            }
        }
        Some(out)
    }
}

impl NumberingConfig {
    pub fn format(&self, kind: Kind) -> Result<NumberFormat, IssuanceError> {
        NumberFormat::parse(match kind {
            Kind::Passport => &self.passport,
            Kind::Ttd => &self.ttd,
            Kind::Legalization => &self.legalization,
        })
    }
}

/// Allocates the next number of `kind` for `request_id` and records it `allocated`
/// (committed before the issuing transaction begins). On PostgreSQL one statement (see
/// [`travdoc_store::numbers::allocate_one_postgres`]).
pub async fn allocate(
    db: &Db,
    config: &NumberingConfig,
    kind: Kind,
    request_id: &str,
    now: OffsetDateTime,
) -> Result<String, IssuanceError> {
    if db.backend() == travdoc_store::Backend::Postgres {
        let allocation = Allocation::new(config, kind, now)?;
        let rendered = travdoc_store::numbers::allocate_one_postgres(
            db.writer(),
            &allocation.pieces,
            request_id,
        )
        .await?;
        return allocation
            .number_of(rendered)?
            .ok_or_else(|| IssuanceError::Corrupt("no counter".into()));
    }
    let mut tx = db.begin().await?;
    let number = allocate_in(&mut tx, config, kind, request_id, now).await?;
    tx.commit().await?;
    Ok(number)
}

/// One series' allocation: the format and the pieces SQL renders its numbers from. Every
/// number SQL renders is checked against [`NumberFormat::render`].
struct Allocation {
    format: NumberFormat,
    year: i32,
    pieces: travdoc_store::numbers::SeriesPieces,
}

impl Allocation {
    fn new(
        config: &NumberingConfig,
        kind: Kind,
        now: OffsetDateTime,
    ) -> Result<Self, IssuanceError> {
        let format = config.format(kind)?;
        let year = now.year();
        let series = format.series(kind, year);
        let (before, width, after) = format.pieces(year);
        let limit = u32::try_from(width)
            .ok()
            .and_then(|width| 10i64.checked_pow(width))
            .ok_or_else(|| IssuanceError::NumberFormat(kind.as_str().into()))?;
        Ok(Allocation {
            format,
            year,
            pieces: travdoc_store::numbers::SeriesPieces {
                series,
                before,
                width: i64::try_from(width).unwrap_or(i64::MAX),
                after,
                limit,
                at: rfc3339(now),
            },
        })
    }

    /// The number SQL rendered for a counter value: `None` when nothing was allocated.
    fn number_of(
        &self,
        (seq, number): travdoc_store::numbers::Rendered,
    ) -> Result<Option<String>, IssuanceError> {
        let Some(seq) = seq else { return Ok(None) };
        let Some(number) = number else {
            return Err(IssuanceError::SeriesExhausted(self.pieces.series.clone()));
        };
        if self.format.render(self.year, seq).as_deref() != Some(number.as_str()) {
            // Never expected: the SQL and Rust renderings disagree. The row stays `allocated`
            // and the recovery pass voids it.
            return Err(IssuanceError::Build(format!(
                "number {number} does not render counter {seq} of series {}",
                self.pieces.series
            )));
        }
        Ok(Some(number))
    }
}

/// One request to read and allocate a number for (see [`AllocationStatement`]).
pub(crate) type AllocationItem = travdoc_store::numbers::AllocationAsk;

/// The request (none: no such request) and the number allocated for it: none when the request
/// may not be issued now (not of the kind, not approved, another mission's).
pub(crate) type Loaded = Option<(
    Result<super::requests::RequestRecord, IssuanceError>,
    Result<Option<String>, IssuanceError>,
)>;

/// Reads a batch of requests and, in the same statement (on SQLite: transaction), allocates the
/// next numbers of the statement's kind, in item order, for those that are of that kind,
/// approved and (when the item names one) that mission's: the counter moves once for the
/// batch, so its lock is taken and released (through the commit's log flush) once per batch,
/// not once per issuance. The caller checks the returned request as [`allocate`]'s callers do
/// and voids the number should its own checks refuse (they are the same, so they do not). One
/// trip to the database for reading and allocating.
pub(crate) struct AllocationStatement {
    pub(crate) db: Db,
    pub(crate) config: NumberingConfig,
    pub(crate) kind: Kind,
    pub(crate) clock: std::sync::Arc<dyn super::Clock>,
}

impl AllocationStatement {
    async fn load_and_allocate(
        &self,
        items: &[AllocationItem],
    ) -> Result<Vec<Loaded>, IssuanceError> {
        if self.db.backend() == travdoc_store::Backend::Sqlite {
            return self.load_and_allocate_sqlite(items).await;
        }
        let allocation =
            Allocation::new(&self.config, self.kind, super::now_utc(self.clock.as_ref()))?;
        let found = travdoc_store::numbers::allocate_batch_postgres(
            self.db.writer(),
            &allocation.pieces,
            self.kind.as_str(),
            items,
        )
        .await?;
        Ok(found
            .into_iter()
            .map(|found| {
                let (request, rendered) = found?;
                let record = request
                    .map_err(IssuanceError::Corrupt)
                    .and_then(super::requests::request_record);
                Some((record, allocation.number_of(rendered)))
            })
            .collect())
    }

    /// The same on SQLite, in one transaction of the group commit: the requests read with one
    /// statement, the counter moved once by the number of items allowed, their numbers inserted
    /// with one statement.
    async fn load_and_allocate_sqlite(
        &self,
        items: &[AllocationItem],
    ) -> Result<Vec<Loaded>, IssuanceError> {
        use travdoc_store::numbers;

        let now = super::now_utc(self.clock.as_ref());
        let allocation = Allocation::new(&self.config, self.kind, now)?;
        let mut tx = self.db.begin().await?;
        let ids: std::collections::BTreeSet<&str> =
            items.iter().map(|item| item.request_id.as_str()).collect();
        let ids: Vec<&str> = ids.into_iter().collect();
        let mut records = std::collections::HashMap::new();
        for row in numbers::requests_in(&mut tx, &ids).await? {
            match row {
                Ok(row) => {
                    records.insert(row.id.clone(), super::requests::request_record(row));
                }
                Err((id, error)) => {
                    records.insert(id, Err(IssuanceError::Corrupt(error)));
                }
            }
        }
        let allowed: Vec<bool> = items
            .iter()
            .map(|item| {
                records
                    .get(&item.request_id)
                    .and_then(|record| record.as_ref().ok())
                    .is_some_and(|record| {
                        record.kind == self.kind
                            && record.state == super::requests::RequestState::Approved
                            && item
                                .mission
                                .as_ref()
                                .is_none_or(|own| record.mission.as_ref() == Some(own))
                    })
            })
            .collect();
        let count = allowed.iter().filter(|allowed| **allowed).count();
        let mut numbers: Vec<Option<Result<String, IssuanceError>>> =
            (0..items.len()).map(|_| None).collect();
        if count > 0 {
            let series = &allocation.pieces.series;
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            let mut seq = numbers::advance(&mut tx, series, count).await? - count;
            let mut rendered = Vec::new();
            for (index, _) in allowed.iter().enumerate().filter(|(_, allowed)| **allowed) {
                seq += 1;
                numbers[index] = Some(match allocation.format.render(allocation.year, seq) {
                    Some(number) => {
                        rendered.push((number.clone(), items[index].request_id.clone()));
                        Ok(number)
                    }
                    None => Err(IssuanceError::SeriesExhausted(series.clone())),
                });
            }
            numbers::insert_allocated(&mut tx, series, &rendered, &allocation.pieces.at).await?;
        }
        tx.commit().await?;
        Ok(items
            .iter()
            .zip(numbers)
            .map(|(item, number)| {
                let record = records.get(&item.request_id)?;
                let record = match record {
                    Ok(record) => Ok(record.clone()),
                    Err(error) => Err(IssuanceError::Corrupt(error.to_string())),
                };
                Some((record, number.transpose()))
            })
            .collect())
    }
}

impl super::batch::BatchStatement for AllocationStatement {
    type Item = AllocationItem;
    type Outcome = Loaded;
    const NAME: &'static str = "allocate";

    fn run<'a>(&'a self, items: &'a [AllocationItem]) -> super::batch::StatementFuture<'a, Loaded> {
        Box::pin(self.load_and_allocate(items))
    }
}

/// [`allocate`] inside the caller's transaction (which must commit before issuing): the first
/// number of a series creates its counter row; later ones increment it under its row lock
/// (held until this short transaction commits).
pub async fn allocate_in(
    tx: &mut crate::db::Tx,
    config: &NumberingConfig,
    kind: Kind,
    request_id: &str,
    now: OffsetDateTime,
) -> Result<String, IssuanceError> {
    let format = config.format(kind)?;
    let series = format.series(kind, now.year());
    let seq = travdoc_store::numbers::advance(tx, &series, 1).await?;
    let number = format
        .render(now.year(), seq)
        .ok_or_else(|| IssuanceError::SeriesExhausted(series.clone()))?;
    travdoc_store::numbers::insert_allocated(
        tx,
        &series,
        &[(number.clone(), request_id.to_owned())],
        &rfc3339(now),
    )
    .await?;
    Ok(number)
}

/// Records a number given by the caller (a passport booklet's pre-printed number) as
/// `allocated` for `request_id`, in the series `given-<kind>`. A number used before, in any
/// series, is refused.
pub async fn claim(
    db: &Db,
    kind: Kind,
    number: &str,
    request_id: &str,
    now: OffsetDateTime,
) -> Result<String, IssuanceError> {
    let valid = (1..=9).contains(&number.len())
        && number
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !valid {
        return Err(IssuanceError::invalid(
            "document_number",
            "1 to 9 characters A-Z or 0-9",
        ));
    }
    let series = format!("given-{}", kind.as_str());
    if !travdoc_store::numbers::claim(db.store(), &series, number, request_id, &rfc3339(now))
        .await?
    {
        return Err(IssuanceError::invalid(
            "document_number",
            format!("{number} was already used"),
        ));
    }
    Ok(number.to_owned())
}

/// Marks an allocated number void (its issuance aborted), with a ledger entry.
pub async fn void(
    db: &Db,
    number: &str,
    reason: &str,
    actor_id: &str,
    now: OffsetDateTime,
) -> Result<bool, IssuanceError> {
    let mut tx = db.begin().await?;
    let at = rfc3339(now);
    if !travdoc_store::numbers::void(&mut tx, number, reason, &at).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    ledger::record(
        &mut tx,
        &LedgerEvent::new(
            "number.void",
            number,
            actor_id,
            &serde_json::json!({"number": number, "reason": reason}),
            &at,
        )
        .with_entry(travdoc_store::ledger::Event::NumberVoided {
            number_ref: number.to_owned(),
            reason: reason.to_owned(),
            operator_ref: actor_id.to_owned(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Voids every number left `allocated` before `older_than` (a crashed issuance). Returns the
/// numbers voided.
pub async fn recover(
    db: &Db,
    older_than: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Vec<String>, IssuanceError> {
    let stale = travdoc_store::numbers::allocated_before(db.writer(), &rfc3339(older_than)).await?;
    let mut voided = Vec::new();
    for number in stale {
        if void(
            db,
            &number,
            "recovered: issuance did not complete",
            "system",
            now,
        )
        .await?
        {
            voided.push(number);
        }
    }
    Ok(voided)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_render_and_reject() -> Result<(), IssuanceError> {
        let passport = NumberFormat::parse("N{seq:7}")?;
        assert_eq!(passport.render(2026, 42).as_deref(), Some("N0000042"));
        assert_eq!(passport.render(2026, 10_000_000), None);
        assert_eq!(passport.render(2026, 0), None);
        assert_eq!(passport.series(Kind::Passport, 2026), "passport");
        let legalization = NumberFormat::parse("L{year}{seq:6}")?;
        assert_eq!(legalization.render(2026, 7).as_deref(), Some("L2026000007"));
        assert_eq!(
            legalization.series(Kind::Legalization, 2026),
            "legalization-2026"
        );
        assert!(NumberFormat::parse("T{seq:x}").is_err());
        assert!(NumberFormat::parse("t{seq:7}").is_err());
        assert!(NumberFormat::parse("T1234").is_err());
        assert!(NumberFormat::parse("T{seq:3}{seq:3}").is_err());
        assert_eq!(
            legalization.pieces(2026),
            ("L2026".to_owned(), 6, String::new())
        );
        let framed = NumberFormat::parse("A{year}{seq:3}Z")?;
        assert_eq!(framed.pieces(2027), ("A2027".to_owned(), 3, "Z".to_owned()));
        Ok(())
    }
}
