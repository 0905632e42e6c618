//! An applicant in the forms the person checks and the search compare: the NIC canonical
//! (both layouts of one card meet), the name in its MRZ transliteration (accents and spellings
//! of the same letters meet: `José` and `JOSE`, `Müller` and `Mueller`), and the search
//! filters that staff type, read into those same forms.

use serde::Deserialize;

use super::IssuanceError;
use super::input::{Person, date_text, parse_date};
use super::numbering::Kind;
use travdoc_store::people::{PersonFilter, PersonRow};

/// The name in MRZ form, `PRIMARY<<SECONDARY`, by the transliteration the MRZ uses. A stored
/// person's name always transliterates (checked when the request was made); should one not,
/// its upper case stands in, so that a check still compares something.
pub fn name_key(surname: &str, given_names: &str) -> String {
    match travdoc_mrz::Name::new(
        surname,
        given_names,
        &travdoc_mrz::Transliteration::default(),
    ) {
        Ok(name) => format!("{}<<{}", name.primary(), name.secondary()),
        Err(_) => format!(
            "{}<<{}",
            surname.to_uppercase().replace(' ', "<"),
            given_names.to_uppercase().replace(' ', "<")
        ),
    }
}

/// The NIC's canonical form, when it is one.
pub fn canonical_nic(text: &str) -> Option<String> {
    travdoc_nic::Nic::parse(text)
        .ok()
        .map(|nic| nic.canonical().to_owned())
}

/// The applicant row of request `request_id`.
pub fn person_row(
    request_id: &str,
    kind: Kind,
    mission: Option<&str>,
    person: &Person,
    (case_id, previous_document): (Option<&str>, Option<&str>),
    now: &str,
) -> PersonRow {
    PersonRow {
        request_id: request_id.to_owned(),
        kind: kind.as_str().to_owned(),
        mission: mission.map(str::to_owned),
        nic: person.nic().and_then(canonical_nic),
        name_key: name_key(person.surname(), person.given_names()),
        birth_date: person.birth_date().to_owned(),
        sex: person.sex().to_owned(),
        case_id: case_id.map(str::to_owned),
        previous_document: previous_document.map(str::to_owned),
        created_at: now.to_owned(),
    }
}

/// The person filters of `GET /v1/requests`, `GET /v1/documents` and the console's find box.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonQuery {
    /// A NIC in either layout (the other layout of the same card matches too).
    pub nic: Option<String>,
    /// Name words in any spelling the MRZ transliterates alike (`José García` finds `JOSE
    /// GARCIA`); each word must be one of the name's, in any order.
    pub name: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// A readmission case (TTD requests).
    pub case_id: Option<String>,
}

/// At most this many name words in a search.
const MAX_NAME_WORDS: usize = 6;

impl PersonQuery {
    /// The filter in stored forms; an unreadable value is refused naming its field.
    pub fn filter(&self) -> Result<PersonFilter, IssuanceError> {
        // A NIC in either layout is read into its canonical form; anything else of its shape
        // is looked for as typed (and finds nothing: the index holds canonical NICs).
        let nic = match self.nic.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text)
                if text.len() <= 16 && text.bytes().all(|byte| byte.is_ascii_alphanumeric()) =>
            {
                Some(canonical_nic(text).unwrap_or_else(|| text.to_ascii_uppercase()))
            }
            Some(_) => {
                return Err(IssuanceError::invalid(
                    "nic",
                    "at most 16 letters and digits, as the card shows them",
                ));
            }
        };
        let name_components = match self.name.as_deref().map(str::trim) {
            None | Some("") => Vec::new(),
            Some(text) => {
                if text.chars().count() > 64 || text.chars().any(char::is_control) {
                    return Err(IssuanceError::invalid(
                        "name",
                        "at most 64 characters, no control characters",
                    ));
                }
                let name =
                    travdoc_mrz::Name::new(text, "", &travdoc_mrz::Transliteration::default())
                        .map_err(|error| IssuanceError::invalid("name", error.to_string()))?;
                let mut words: Vec<String> = name
                    .primary()
                    .split('<')
                    .filter(|word| !word.is_empty())
                    .map(str::to_owned)
                    .collect();
                words.dedup();
                if words.len() > MAX_NAME_WORDS {
                    return Err(IssuanceError::invalid(
                        "name",
                        format!("at most {MAX_NAME_WORDS} words"),
                    ));
                }
                words
            }
        };
        let birth_date = match self.birth_date.as_deref() {
            None | Some("") => None,
            Some(text) => Some(date_text(parse_date("birth_date", text)?)),
        };
        let case_id = match self.case_id.as_deref() {
            None | Some("") => None,
            Some(text) => {
                super::input::optional_free_text("case_id", Some(text), 64)?.map(|id| id.to_owned())
            }
        };
        Ok(PersonFilter {
            nic,
            name_components,
            birth_date,
            case_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_meet_across_accents_and_spellings() {
        assert_eq!(name_key("García", "José"), name_key("GARCIA", "JOSE"));
        assert_eq!(name_key("Müller", "Anna"), name_key("Mueller", "ANNA"));
        assert_ne!(name_key("Muller", "Anna"), name_key("Mueller", "Anna"));
        assert_eq!(name_key("Perera", ""), "PERERA<<");
    }

    #[test]
    fn a_search_reads_both_nic_layouts_as_one() {
        let old = PersonQuery {
            nic: Some("853400937V".into()),
            ..PersonQuery::default()
        };
        let new = PersonQuery {
            nic: Some("198534000937".into()),
            ..PersonQuery::default()
        };
        assert_eq!(old.filter().unwrap().nic, new.filter().unwrap().nic);
        let typed = PersonQuery {
            nic: Some("12345x".into()),
            ..PersonQuery::default()
        };
        assert_eq!(typed.filter().unwrap().nic.as_deref(), Some("12345X"));
        let bad = PersonQuery {
            nic: Some("1234 5".into()),
            ..PersonQuery::default()
        };
        assert!(matches!(
            bad.filter(),
            Err(IssuanceError::InvalidField { field, .. }) if field == "nic"
        ));
    }

    #[test]
    fn search_words_are_transliterated() {
        let query = PersonQuery {
            name: Some("José  García".into()),
            ..PersonQuery::default()
        };
        assert_eq!(query.filter().unwrap().name_components, ["JOSE", "GARCIA"]);
    }
}
