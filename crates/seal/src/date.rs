//! Seal dates: a calendar date written as the decimal number MMDDYYYY in three big-endian bytes
//! (ICAO 9303-13 §2.3.1; 25 March 1957 -> 3251957 -> `31 9E F5`).

use std::fmt;

use crate::error::SealError;

/// A calendar date as carried in a seal header or a date feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SealDate {
    year: u16,
    month: u8,
    day: u8,
}

use travdoc_mrz::days_in_month;

impl SealDate {
    /// A date from year (0–9999), month (1–12) and day.
    pub fn from_ymd(year: u16, month: u8, day: u8) -> Result<Self, SealError> {
        Self::checked(year, month, day, "date")
    }

    fn checked(year: u16, month: u8, day: u8, field: &'static str) -> Result<Self, SealError> {
        if year > 9999 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month)
        {
            return Err(SealError::Date {
                field,
                reason: format!("{year:04}-{month:02}-{day:02} is not a calendar date"),
            });
        }
        Ok(Self { year, month, day })
    }

    pub const fn year(&self) -> u16 {
        self.year
    }
    pub const fn month(&self) -> u8 {
        self.month
    }
    pub const fn day(&self) -> u8 {
        self.day
    }

    /// The three-byte encoding.
    pub fn to_bytes(&self) -> [u8; 3] {
        let number =
            u32::from(self.month) * 1_000_000 + u32::from(self.day) * 10_000 + u32::from(self.year);
        let [_, high, middle, low] = number.to_be_bytes();
        [high, middle, low]
    }

    /// Parses the three-byte encoding; `field` names the field in errors.
    pub fn from_bytes(bytes: [u8; 3], field: &'static str) -> Result<Self, SealError> {
        let number = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]);
        let month = number / 1_000_000;
        let day = (number / 10_000) % 100;
        let year = number % 10_000;
        let (Ok(month), Ok(day), Ok(year)) =
            (u8::try_from(month), u8::try_from(day), u16::try_from(year))
        else {
            return Err(SealError::Date {
                field,
                reason: format!("{number} is not MMDDYYYY"),
            });
        };
        Self::checked(year, month, day, field)
    }

    /// Days since 1970-01-01 (negative before), for comparing with a verification time.
    pub fn days_since_unix_epoch(&self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from(self.month);
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5
            + i64::from(self.day)
            - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }
}

impl fmt::Display for SealDate {
    /// ISO 8601 `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl std::str::FromStr for SealDate {
    type Err = SealError;
    /// Parses ISO 8601 `YYYY-MM-DD`.
    fn from_str(text: &str) -> Result<Self, SealError> {
        let invalid = || SealError::Date {
            field: "date",
            reason: format!("{text:?} is not YYYY-MM-DD"),
        };
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(invalid());
        }
        let year = text[0..4].parse::<u16>().map_err(|_| invalid())?;
        let month = text[5..7].parse::<u8>().map_err(|_| invalid())?;
        let day = text[8..10].parse::<u8>().map_err(|_| invalid())?;
        Self::from_ymd(year, month, day)
    }
}

impl serde::Serialize for SealDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SealDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part13_example_date() {
        let date = SealDate::from_ymd(1957, 3, 25).unwrap();
        assert_eq!(date.to_bytes(), [0x31, 0x9E, 0xF5]);
        assert_eq!(
            SealDate::from_bytes([0x31, 0x9E, 0xF5], "date").unwrap(),
            date
        );
    }

    #[test]
    fn rejects_impossible_dates() {
        assert!(SealDate::from_ymd(2023, 2, 29).is_err());
        assert!(SealDate::from_ymd(2024, 2, 29).is_ok());
        assert!(SealDate::from_bytes([0xFF, 0xFF, 0xFF], "date").is_err());
        assert!(SealDate::from_bytes([0, 0, 0], "date").is_err());
    }

    #[test]
    fn epoch_days() {
        assert_eq!(
            SealDate::from_ymd(1970, 1, 1)
                .unwrap()
                .days_since_unix_epoch(),
            0
        );
        assert_eq!(
            SealDate::from_ymd(2000, 3, 1)
                .unwrap()
                .days_since_unix_epoch(),
            11_017
        );
        assert_eq!(
            SealDate::from_ymd(1969, 12, 31)
                .unwrap()
                .days_since_unix_epoch(),
            -1
        );
    }

    #[test]
    fn text_form() {
        let date: SealDate = "2026-06-13".parse().unwrap();
        assert_eq!(date, SealDate::from_ymd(2026, 6, 13).unwrap());
        assert_eq!(date.to_string(), "2026-06-13");
        assert!("2026-6-13".parse::<SealDate>().is_err());
    }
}
