//! Sri Lanka national identity card (NIC) numbers, as the Department for Registration of
//! Persons (DRP) lays them out (see `docs/checks.md` for the rules and their sources).
//!
//! - Old format (cards issued before 2016): `YY DDD SSS C` + `V` or `X` — two digits of a
//!   birth year in the 1900s, the day of the year (plus 500 for a woman), a three-digit serial,
//!   a check digit, and the voter letter.
//! - New format (from 2016): `YYYY DDD SSSS C` — the whole birth year, the day as above, a
//!   four-digit serial (an old serial with a leading `0` when an old number is converted) and
//!   the check digit.
//!
//! The day counts February as 29 days in every year (1 March is always day 61), so day 60 names
//! 29 February and no date at all in a year that has none; day 366 is always 31 December.
//!
//! An old number and its conversion are the same NIC: [`Nic::canonical`] is the 12-digit form of
//! both. The check digit is read but not recomputed: the DRP has published no algorithm, and a
//! guessed one would refuse real cards; the registry, not the format, says whether a NIC exists.
#![forbid(unsafe_code)]

use std::fmt;

/// Why a text is not a NIC.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NicError {
    #[error(
        "a NIC is 9 digits and V or X (old cards) or 12 digits (from 2016), without spaces; found {0} characters"
    )]
    Length(usize),
    #[error("a NIC holds only digits (and V or X after 9 of them in the old format)")]
    Characters,
    #[error("day {0} names no day of the year (001-366 for men, 501-866 for women)")]
    Day(u16),
    #[error("day 60 is 29 February, and {0} is not a leap year")]
    NoLeapDay(u16),
    #[error("birth year {0} is outside 1900-2099")]
    Year(u16),
}

/// The sex a NIC encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

/// Which layout a number was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// 9 digits + `V`/`X`.
    Old,
    /// 12 digits.
    New,
}

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BirthDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A parsed NIC.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nic {
    canonical: String,
    format: Format,
    birth_date: BirthDate,
    sex: Sex,
    /// `V` or `X` of an old number.
    voter_letter: Option<char>,
}

/// Days of each month with February at 29: the DRP's count in every year.
const MONTH_DAYS: [u16; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

pub fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// The date of day `day` (1-366, February counted as 29 days) of `year`.
fn date_of(year: u16, day: u16) -> Result<BirthDate, NicError> {
    if !(1..=366).contains(&day) {
        return Err(NicError::Day(day));
    }
    if day == 60 && !is_leap_year(year) {
        return Err(NicError::NoLeapDay(year));
    }
    let mut left = day;
    for (index, length) in MONTH_DAYS.iter().enumerate() {
        if left <= *length {
            return Ok(BirthDate {
                year,
                month: u8::try_from(index + 1).unwrap_or(12),
                day: u8::try_from(left).unwrap_or(31),
            });
        }
        left -= length;
    }
    Err(NicError::Day(day))
}

/// The day number (February at 29 days) of a date: the inverse of [`date_of`].
pub fn day_number(date: BirthDate) -> Option<u16> {
    let month = usize::from(date.month);
    if !(1..=12).contains(&month) || date.day == 0 {
        return None;
    }
    let length = MONTH_DAYS[month - 1];
    if u16::from(date.day) > length || (month == 2 && date.day == 29 && !is_leap_year(date.year)) {
        return None;
    }
    Some(MONTH_DAYS[..month - 1].iter().sum::<u16>() + u16::from(date.day))
}

fn digits(text: &str) -> Option<u64> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

impl Nic {
    /// Parses a NIC as written on the card (upper or lower case `v`/`x`; no spaces or dashes:
    /// staff type what the card shows, and anything else is refused rather than guessed).
    pub fn parse(text: &str) -> Result<Nic, NicError> {
        let length = text.chars().count();
        if !text.is_ascii() {
            return Err(if matches!(length, 10 | 12) {
                NicError::Characters
            } else {
                NicError::Length(length)
            });
        }
        let (format, year, day_field, canonical, voter_letter) = match length {
            10 => {
                let (number, letter) = text.split_at(9);
                let letter = letter.to_ascii_uppercase();
                if !matches!(letter.as_str(), "V" | "X") || digits(number).is_none() {
                    return Err(NicError::Characters);
                }
                let year = 1900 + digits(&number[0..2]).ok_or(NicError::Characters)?;
                let day = digits(&number[2..5]).ok_or(NicError::Characters)?;
                // 19 YY DDD 0 SSS C: the DRP's conversion.
                let canonical = format!("19{}0{}", &number[0..5], &number[5..9]);
                (Format::Old, year, day, canonical, letter.chars().next())
            }
            12 => {
                if digits(text).is_none() {
                    return Err(NicError::Characters);
                }
                let year = digits(&text[0..4]).ok_or(NicError::Characters)?;
                let day = digits(&text[4..7]).ok_or(NicError::Characters)?;
                (Format::New, year, day, text.to_owned(), None)
            }
            other => return Err(NicError::Length(other)),
        };
        let year = u16::try_from(year).map_err(|_| NicError::Characters)?;
        if !(1900..=2099).contains(&year) {
            return Err(NicError::Year(year));
        }
        let day_field = u16::try_from(day_field).map_err(|_| NicError::Characters)?;
        let (sex, day) = if day_field > 500 {
            (Sex::Female, day_field - 500)
        } else {
            (Sex::Male, day_field)
        };
        if day_field == 500 {
            return Err(NicError::Day(day_field));
        }
        let birth_date = date_of(year, day).map_err(|error| match error {
            NicError::Day(_) => NicError::Day(day_field),
            other => other,
        })?;
        Ok(Nic {
            canonical,
            format,
            birth_date,
            sex,
            voter_letter,
        })
    }

    /// The 12-digit form (an old number converted): equal for both forms of one person's NIC.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The old 10-character form, when the number has one (born in the 1900s, serial < 1000);
    /// the voter letter is `V` unless the number was written with `X`.
    pub fn old_form(&self) -> Option<String> {
        let digits = &self.canonical;
        if !digits.starts_with("19") || digits.as_bytes().get(7) != Some(&b'0') {
            return None;
        }
        Some(format!(
            "{}{}{}",
            &digits[2..7],
            &digits[8..12],
            self.voter_letter.unwrap_or('V')
        ))
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn birth_date(&self) -> BirthDate {
        self.birth_date
    }

    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// What disagrees between the NIC and an applicant's birth date and sex (`None` for a sex
    /// the NIC cannot encode, such as ICAO's `X`, which is then not compared). Empty: they agree.
    pub fn mismatches(&self, birth_date: BirthDate, sex: Option<Sex>) -> Vec<Mismatch> {
        let mut found = Vec::new();
        if birth_date != self.birth_date {
            found.push(Mismatch::BirthDate {
                nic: self.birth_date,
                applicant: birth_date,
            });
        }
        if let Some(sex) = sex
            && sex != self.sex
        {
            found.push(Mismatch::Sex {
                nic: self.sex,
                applicant: sex,
            });
        }
        found
    }
}

impl fmt::Display for Nic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

/// A disagreement between a NIC and an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    BirthDate {
        nic: BirthDate,
        applicant: BirthDate,
    },
    Sex {
        nic: Sex,
        applicant: Sex,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::BirthDate { nic, applicant } => write!(
                f,
                "the NIC gives the birth date {nic}, the application {applicant}"
            ),
            Mismatch::Sex { nic, applicant } => write!(
                f,
                "the NIC gives the sex {}, the application {}",
                letter(*nic),
                letter(*applicant)
            ),
        }
    }
}

fn letter(sex: Sex) -> char {
    match sex {
        Sex::Male => 'M',
        Sex::Female => 'F',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: u16, month: u8, day: u8) -> BirthDate {
        BirthDate { year, month, day }
    }

    #[test]
    fn an_old_number_of_a_man_and_its_conversion_are_one_nic() {
        let old = Nic::parse("820149894V").unwrap();
        assert_eq!(old.format(), Format::Old);
        assert_eq!(old.birth_date(), date(1982, 1, 14));
        assert_eq!(old.sex(), Sex::Male);
        assert_eq!(old.canonical(), "198201409894");
        let new = Nic::parse("198201409894").unwrap();
        assert_eq!(new.format(), Format::New);
        assert_eq!(new.canonical(), old.canonical());
        assert_eq!(new.birth_date(), old.birth_date());
        assert_eq!(new.old_form().as_deref(), Some("820149894V"));
        // Lower-case letters as typed; the X letter kept on the way back.
        let x = Nic::parse("820149894x").unwrap();
        assert_eq!(x.canonical(), "198201409894");
        assert_eq!(x.old_form().as_deref(), Some("820149894X"));
    }

    #[test]
    fn a_woman_is_the_day_plus_500() {
        // Day 292 + 500: 18 October (February at 29 days: 31+29+31+30+31+30+31+31+30 = 274).
        let nic = Nic::parse("197479202757").unwrap();
        assert_eq!(nic.sex(), Sex::Female);
        assert_eq!(nic.birth_date(), date(1974, 10, 18));
        let old = Nic::parse("747922757V").unwrap();
        assert_eq!(old.sex(), Sex::Female);
        assert_eq!(old.canonical(), "197479202757");
        // A new number born after 2000 has no old form.
        let young = Nic::parse("200353612345").unwrap();
        assert_eq!(young.sex(), Sex::Female);
        assert_eq!(young.birth_date(), date(2003, 2, 5));
        assert_eq!(young.old_form(), None);
        // A serial past 999 has no old form either.
        assert_eq!(Nic::parse("198201419894").unwrap().old_form(), None);
    }

    #[test]
    fn february_is_29_days_in_every_year() {
        // 29 February in a leap year: day 60 (and 560 for a woman).
        assert_eq!(
            Nic::parse("200006012345").unwrap().birth_date(),
            date(2000, 2, 29)
        );
        assert_eq!(
            Nic::parse("885601234V").unwrap().birth_date(),
            date(1988, 2, 29)
        );
        // Day 60 in a year without 29 February names no date.
        assert_eq!(Nic::parse("199906012345"), Err(NicError::NoLeapDay(1999)));
        assert_eq!(Nic::parse("900601234V"), Err(NicError::NoLeapDay(1990)));
        assert_eq!(Nic::parse("190056012345"), Err(NicError::NoLeapDay(1900)));
        // 1 March is day 61 in every year, leap or not.
        assert_eq!(
            Nic::parse("199906112345").unwrap().birth_date(),
            date(1999, 3, 1)
        );
        assert_eq!(
            Nic::parse("200006112345").unwrap().birth_date(),
            date(2000, 3, 1)
        );
        // Day 366 is 31 December, in any year; 866 for a woman.
        assert_eq!(
            Nic::parse("199936612345").unwrap().birth_date(),
            date(1999, 12, 31)
        );
        assert_eq!(
            Nic::parse("908661234V").unwrap().birth_date(),
            date(1990, 12, 31)
        );
        assert_eq!(Nic::parse("908661234V").unwrap().sex(), Sex::Female);
    }

    #[test]
    fn days_that_name_nothing_are_refused() {
        assert_eq!(Nic::parse("199900012345"), Err(NicError::Day(0)));
        assert_eq!(Nic::parse("199936712345"), Err(NicError::Day(367)));
        assert_eq!(Nic::parse("199950012345"), Err(NicError::Day(500)));
        assert_eq!(Nic::parse("905001234V"), Err(NicError::Day(500)));
        assert_eq!(Nic::parse("199986712345"), Err(NicError::Day(867)));
        assert_eq!(Nic::parse("908671234V"), Err(NicError::Day(867)));
        assert_eq!(Nic::parse("199999912345"), Err(NicError::Day(999)));
        // 501 is a woman's 1 January.
        assert_eq!(
            Nic::parse("199950112345").unwrap().birth_date(),
            date(1999, 1, 1)
        );
    }

    #[test]
    fn malformed_numbers_say_why() {
        assert_eq!(Nic::parse(""), Err(NicError::Length(0)));
        assert_eq!(Nic::parse("82014989V"), Err(NicError::Length(9)));
        assert_eq!(Nic::parse("820149894 V"), Err(NicError::Length(11)));
        assert_eq!(Nic::parse("820149894Z"), Err(NicError::Characters));
        assert_eq!(Nic::parse("8201498941"), Err(NicError::Characters));
        assert_eq!(Nic::parse("19820140989A"), Err(NicError::Characters));
        assert_eq!(Nic::parse("+98201409894"), Err(NicError::Characters));
        assert_eq!(Nic::parse("١٩٨٢٠١٤٠٩٨٩٤"), Err(NicError::Characters));
        assert_eq!(Nic::parse("180001412345"), Err(NicError::Year(1800)));
        assert_eq!(Nic::parse("210001412345"), Err(NicError::Year(2100)));
    }

    #[test]
    fn an_application_is_compared_on_birth_date_and_sex() {
        let nic = Nic::parse("747922757V").unwrap();
        assert!(
            nic.mismatches(date(1974, 10, 18), Some(Sex::Female))
                .is_empty()
        );
        assert!(nic.mismatches(date(1974, 10, 18), None).is_empty());
        let wrong = nic.mismatches(date(1974, 10, 19), Some(Sex::Male));
        assert_eq!(wrong.len(), 2);
        assert_eq!(
            wrong[0].to_string(),
            "the NIC gives the birth date 1974-10-18, the application 1974-10-19"
        );
        assert_eq!(
            wrong[1].to_string(),
            "the NIC gives the sex F, the application M"
        );
    }

    #[test]
    fn day_numbers_and_dates_are_inverse() {
        assert_eq!(day_number(date(1999, 3, 1)), Some(61));
        assert_eq!(day_number(date(2000, 2, 29)), Some(60));
        assert_eq!(day_number(date(1999, 2, 29)), None);
        assert_eq!(day_number(date(1999, 12, 31)), Some(366));
        assert_eq!(day_number(date(1999, 4, 31)), None);
        assert_eq!(day_number(date(1999, 13, 1)), None);
    }

    proptest::proptest! {
        #[test]
        fn every_date_round_trips_through_both_formats(
            year in 1900u16..=1999, day in 1u16..=366, female: bool, serial in 0u16..1000, check in 0u8..10,
        ) {
            let field = if female { day + 500 } else { day };
            let old = format!("{:02}{field:03}{serial:03}{check}V", year % 100);
            match Nic::parse(&old) {
                Ok(nic) => {
                    proptest::prop_assert_eq!(day_number(nic.birth_date()), Some(day));
                    proptest::prop_assert_eq!(nic.sex() == Sex::Female, female);
                    let new = Nic::parse(nic.canonical()).unwrap();
                    proptest::prop_assert_eq!(new.birth_date(), nic.birth_date());
                    proptest::prop_assert_eq!(new.old_form(), Some(old.clone()));
                }
                Err(error) => {
                    proptest::prop_assert_eq!(day, 60);
                    proptest::prop_assert!(!is_leap_year(year));
                    proptest::prop_assert_eq!(error, NicError::NoLeapDay(year));
                }
            }
        }

        #[test]
        fn any_text_is_parsed_or_refused_without_panic(text in "\\PC{0,16}") {
            let _ = Nic::parse(&text);
        }
    }
}
