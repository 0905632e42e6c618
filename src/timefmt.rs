//! Times as the service writes them: RFC 3339 in UTC (the API, the ledger, the PKI's dates).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// RFC 3339 text of a time (as stored in the database).
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// RFC 3339 text of a Unix time in seconds (the PKI's times).
pub fn rfc3339_unix(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok())
        .map(rfc3339)
        .unwrap_or_else(|| seconds.to_string())
}
