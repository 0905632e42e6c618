//! Names in MRZ form and their truncation (ICAO 9303 Part 4 §4.2.3; Parts 5-7 alike).

use core::fmt;

use crate::error::{Field, MrzError};
use crate::translit::{NAME_CAPACITY, NameBuf, Transliteration, transliterate};

/// How a name too long for its field is shortened. Both strategies keep the ICAO invariants:
/// nothing is truncated when the name fits; a truncated name field ends in a letter (A-Z); the
/// primary identifier is kept whole when it fits together with `<<` and one letter of the
/// secondary identifier; every written component is a prefix of the real one, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Truncation {
    /// The default. Components are reduced to initials from the last one backwards until the
    /// identifier fits; then the room left goes to the leftmost reduced component (of the
    /// secondary identifier first; the primary is only expanded when the whole secondary
    /// identifier fits). If even initials do not fit, the identifier is cut ([`Truncation::Cut`]).
    /// This reproduces ICAO's "truncated to initials" examples, e.g. TD3
    /// `NILAVADHANANANDA<<CHAYAPA<DEJTHAMRONG<K`, TD2 `BENNELONG<WOOLOOMOOLOO<W<W<<D<P`.
    #[default]
    Initials,
    /// Components are kept whole from the left and the last one is cut at the end of the field
    /// (where the cut would leave a filler last, the previous component gives up a letter for the
    /// next one's initial), e.g. TD1 `VILARCHAO<FERNANDEZ<<JOSE<RAMO`.
    Cut,
}

impl Truncation {
    /// `initials` or `cut`.
    pub fn parse(value: &str) -> Result<Self, MrzError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "initials" => Ok(Truncation::Initials),
            "cut" => Ok(Truncation::Cut),
            _ => Err(MrzError::InvalidOption {
                option: "truncation".to_owned(),
                value: value.to_owned(),
                expected: "truncation is initials or cut",
            }),
        }
    }
}

/// A holder's name, transliterated into MRZ form: the primary identifier (surname, or the whole
/// name of a person with one name) and the secondary identifier (given names), each as `A-Z`
/// components. Fixed size, no allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Name {
    primary: NameBuf,
    secondary: NameBuf,
}

impl Name {
    /// Transliterates a name as people write it (`"Eriksson"`, `"Anna María"`). The primary
    /// identifier must have at least one letter; the secondary may be empty.
    pub fn new(
        primary: &str,
        secondary: &str,
        transliteration: &Transliteration,
    ) -> Result<Self, MrzError> {
        let mut name = Name::EMPTY;
        name.fill(primary, secondary, transliteration)?;
        Ok(name)
    }

    /// No name yet (placeholder for [`Name::fill`]).
    pub(crate) const EMPTY: Name = Name {
        primary: NameBuf::EMPTY,
        secondary: NameBuf::EMPTY,
    };

    /// [`Name::new`] in place, without moving the (fixed-size) buffers.
    pub(crate) fn fill(
        &mut self,
        primary: &str,
        secondary: &str,
        transliteration: &Transliteration,
    ) -> Result<(), MrzError> {
        transliterate(primary, Field::Surname, transliteration, &mut self.primary)?;
        if self.primary.as_bytes().is_empty() {
            return Err(MrzError::MissingField {
                field: Field::Surname,
            });
        }
        transliterate(
            secondary,
            Field::GivenNames,
            transliteration,
            &mut self.secondary,
        )
    }

    /// The primary identifier in MRZ form (`VAN<DER<MUELLEN`).
    pub fn primary(&self) -> &str {
        self.primary.as_str()
    }

    /// The secondary identifier in MRZ form (`ANNA<MARIA`), possibly empty.
    pub fn secondary(&self) -> &str {
        self.secondary.as_str()
    }

    /// Writes the name field into `field` (already filled with `<`); returns whether the name
    /// was truncated.
    pub(crate) fn write_field(
        &self,
        field: &mut [u8],
        strategy: Truncation,
    ) -> Result<bool, MrzError> {
        let width = field.len();
        let primary_bytes = self.primary.as_bytes();
        let secondary_bytes = self.secondary.as_bytes();
        // The common case: the name fits. Identifiers are already in MRZ form.
        if secondary_bytes.is_empty() && primary_bytes.len() <= width {
            field[..primary_bytes.len()].copy_from_slice(primary_bytes);
            return Ok(false);
        }
        if !secondary_bytes.is_empty() && primary_bytes.len() + 2 + secondary_bytes.len() <= width {
            field[..primary_bytes.len()].copy_from_slice(primary_bytes);
            let start = primary_bytes.len() + 2;
            field[start..start + secondary_bytes.len()].copy_from_slice(secondary_bytes);
            return Ok(false);
        }
        let primary = Components::of(self.primary.as_bytes());
        let secondary = Components::of(self.secondary.as_bytes());
        let primary_length = primary.full_length();
        let secondary_length = secondary.full_length();
        if secondary.count == 0 {
            if primary_length <= width {
                write_plan(field, self.primary.as_bytes(), &primary, &primary.whole());
                return Ok(false);
            }
            let plan = fit(&primary, width, strategy, true)
                .ok_or(MrzError::NameCannotBeTruncated { width })?;
            write_plan(field, self.primary.as_bytes(), &primary, &plan);
            return Ok(true);
        }
        if primary_length + 2 + secondary_length <= width {
            let used = write_plan(field, self.primary.as_bytes(), &primary, &primary.whole());
            write_plan(
                &mut field[used + 2..],
                self.secondary.as_bytes(),
                &secondary,
                &secondary.whole(),
            );
            return Ok(false);
        }
        if width < 3 {
            return Err(MrzError::NameCannotBeTruncated { width });
        }
        // Room for the primary identifier: whole if it fits with `<<` and one letter.
        let mut budget = if primary_length + 3 <= width {
            primary_length
        } else {
            match strategy {
                Truncation::Initials => initials_length(&primary, width - 3),
                Truncation::Cut => width - 3,
            }
        };
        while budget > 0 {
            let room = width - 2 - budget;
            let plans = if secondary_length <= room {
                // The whole secondary identifier fits: give the rest back to the primary.
                let grown = width - 2 - secondary_length;
                fit(&primary, grown, strategy, true).map(|plan| (plan, secondary.whole()))
            } else {
                let primary_plan = if budget == primary_length {
                    Some(primary.whole())
                } else {
                    fit(&primary, budget, strategy, false)
                };
                primary_plan.and_then(|primary_plan| {
                    fit(&secondary, room, strategy, true).map(|plan| (primary_plan, plan))
                })
            };
            if let Some((primary_plan, secondary_plan)) = plans {
                let used = write_plan(field, self.primary.as_bytes(), &primary, &primary_plan);
                write_plan(
                    &mut field[used + 2..],
                    self.secondary.as_bytes(),
                    &secondary,
                    &secondary_plan,
                );
                return Ok(true);
            }
            budget -= 1;
        }
        Err(MrzError::NameCannotBeTruncated { width })
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "Name({:?}, {:?})",
            self.primary.as_str(),
            self.secondary.as_str()
        )
    }
}

const MAX_COMPONENTS: usize = NAME_CAPACITY / 2 + 1;

/// Start and length of each component of an identifier.
struct Components {
    starts: [u8; MAX_COMPONENTS],
    lengths: [u8; MAX_COMPONENTS],
    count: usize,
}

/// How many letters of each component to write (0 = dropped, only at the end).
#[derive(Clone, Copy)]
struct Plan {
    lengths: [u8; MAX_COMPONENTS],
    count: usize,
}

impl Plan {
    fn total(&self) -> usize {
        let letters: usize = self.lengths[..self.count]
            .iter()
            .map(|&length| usize::from(length))
            .sum();
        letters + self.count.saturating_sub(1)
    }
}

impl Components {
    fn of(bytes: &[u8]) -> Self {
        let mut components = Components {
            starts: [0; MAX_COMPONENTS],
            lengths: [0; MAX_COMPONENTS],
            count: 0,
        };
        let mut start = 0usize;
        for (index, &byte) in bytes
            .iter()
            .enumerate()
            .chain(core::iter::once((bytes.len(), &b'<')))
        {
            if byte == b'<' {
                if index > start && components.count < MAX_COMPONENTS {
                    components.starts[components.count] = start as u8;
                    components.lengths[components.count] = (index - start) as u8;
                    components.count += 1;
                }
                start = index + 1;
            }
        }
        components
    }

    fn full_length(&self) -> usize {
        self.whole().total()
    }

    fn whole(&self) -> Plan {
        Plan {
            lengths: self.lengths,
            count: self.count,
        }
    }
}

/// Length of the identifier after reducing components to initials from the last backwards until
/// it is at most `limit` (without expanding); `limit` when even all initials exceed it.
fn initials_length(components: &Components, limit: usize) -> usize {
    let mut plan = components.whole();
    let mut total = plan.total();
    for index in (0..components.count).rev() {
        if total <= limit {
            return total;
        }
        total -= usize::from(plan.lengths[index]) - 1;
        plan.lengths[index] = 1;
    }
    if total <= limit { total } else { limit }
}

/// A plan writing exactly `target` characters, ending in a letter. With `expand` the initials
/// strategy gives spare room back to the leftmost reduced component; without it, the plan is the
/// plain reduction (used for a primary identifier whose spare room goes to the secondary).
fn fit(components: &Components, target: usize, strategy: Truncation, expand: bool) -> Option<Plan> {
    let full = components.full_length();
    if full == target {
        return Some(components.whole());
    }
    if full < target || target == 0 {
        return None;
    }
    if strategy == Truncation::Initials {
        let mut plan = components.whole();
        let mut total = full;
        for index in (0..components.count).rev() {
            total -= usize::from(plan.lengths[index]) - 1;
            plan.lengths[index] = 1;
            if total <= target {
                let need = target - total;
                if need > 0 && !expand {
                    break;
                }
                // need < the component's length: with it whole, the total exceeded the target.
                plan.lengths[index] += need as u8;
                return Some(plan);
            }
        }
    }
    cut(components, target)
}

/// Keeps components whole from the left and cuts the last one at `target`.
fn cut(components: &Components, target: usize) -> Option<Plan> {
    let mut plan = Plan {
        lengths: [0; MAX_COMPONENTS],
        count: 0,
    };
    let mut total = 0usize;
    for index in 0..components.count {
        let length = usize::from(components.lengths[index]);
        let separator = usize::from(index > 0);
        if total + separator + length <= target {
            plan.lengths[index] = length as u8;
            plan.count = index + 1;
            total += separator + length;
            if total == target {
                return Some(plan);
            }
            continue;
        }
        let room = target - total - separator;
        if room >= 1 {
            plan.lengths[index] = room as u8;
            plan.count = index + 1;
            return Some(plan);
        }
        // The separator would be the last character: an earlier component gives up a letter
        // so that this one's initial ends the field.
        let donor = (0..index)
            .rev()
            .find(|&earlier| plan.lengths[earlier] >= 2)?;
        plan.lengths[donor] -= 1;
        plan.lengths[index] = 1;
        plan.count = index + 1;
        return Some(plan);
    }
    None
}

/// Writes the planned components; returns the number of bytes written.
fn write_plan(field: &mut [u8], bytes: &[u8], components: &Components, plan: &Plan) -> usize {
    let mut position = 0usize;
    for index in 0..plan.count {
        let length = usize::from(plan.lengths[index]);
        if length == 0 {
            break;
        }
        if index > 0 {
            position += 1; // the `<` already in the field
        }
        let start = usize::from(components.starts[index]);
        if let (Some(target), Some(source)) = (
            field.get_mut(position..position + length),
            bytes.get(start..start + length),
        ) {
            target.copy_from_slice(source);
        }
        position += length;
    }
    position
}
