//! The console's texts in Sinhala and Tamil, keyed by their English text (gettext style).
//!
//! Templates write `{{ _("Approve") }}`, or `{{ _("Request {id}", id=request.id) }}` for a text
//! with a value in it; the language is the page's `lang` (the signed-in user's choice, or the
//! visitor's before sign-in). The catalogue is `templates/web/console.tsv`: one text per line,
//! English, Sinhala and Tamil separated by tabs. A text missing from it shows in English (a
//! unit test makes sure none is missing, and that no console template shows English outside
//! `_()`). Pages in a language are rendered with the same template, so a page's fields, ids and
//! behaviour do not change with its language.

use std::collections::HashMap;
use std::sync::OnceLock;

use minijinja::value::{Kwargs, Value};
use minijinja::{Error, ErrorKind, State};

use super::i18n::Lang;

const CATALOGUE: &str = include_str!("../../templates/web/console.tsv");

/// (Sinhala, Tamil) by English text.
fn catalogue() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static CATALOGUE_MAP: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> =
        OnceLock::new();
    CATALOGUE_MAP.get_or_init(|| {
        rows()
            .filter_map(|row| row.ok())
            .map(|(en, si, ta)| (en, (si, ta)))
            .collect()
    })
}

/// The catalogue's rows, or the number of each line that is not three texts.
fn rows() -> impl Iterator<Item = Result<(&'static str, &'static str, &'static str), usize>> {
    CATALOGUE
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(index, line)| {
            let mut columns = line.split('\t');
            match (
                columns.next(),
                columns.next(),
                columns.next(),
                columns.next(),
            ) {
                (Some(en), Some(si), Some(ta), None)
                    if !en.is_empty() && !si.is_empty() && !ta.is_empty() =>
                {
                    Ok((en, si, ta))
                }
                _ => Err(index + 1),
            }
        })
}

/// `english` in `lang` (English itself when the catalogue lacks it).
pub fn translate(lang: Lang, english: &str) -> &str {
    match (lang, catalogue().get(english)) {
        (Lang::Si, Some((si, _))) => si,
        (Lang::Ta, Some((_, ta))) => ta,
        _ => english,
    }
}

/// The templates' `_` function: the text in the page's language, with each `{name}` replaced
/// by the keyword argument `name` (escaped like any other value when the page is rendered).
pub fn template_function(state: &State, text: &str, values: Kwargs) -> Result<String, Error> {
    let lang = Lang::parse(state.lookup("lang").as_ref().and_then(Value::as_str));
    let translated = translate(lang, text);
    // One pass over the text: a value that itself reads `{name}` is not replaced again.
    let mut out = String::with_capacity(translated.len() + 32);
    let mut rest = translated;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let name_end = after
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(after.len());
        if name_end > 0 && after[name_end..].starts_with('}') {
            let value: Value = values.get(&after[..name_end])?;
            out.push_str(&value.to_string());
            rest = &after[name_end + 1..];
        } else {
            out.push('{');
            rest = after;
        }
    }
    out.push_str(rest);
    values.assert_all_used().map_err(|error| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`{text}` has no place for a value given: {error}"),
        )
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_is_three_texts_in_their_scripts_once() {
        let mut seen = std::collections::BTreeSet::new();
        for row in rows() {
            let (en, si, ta) = row.unwrap_or_else(|line| panic!("console.tsv line {line}"));
            assert!(seen.insert(en), "`{en}` twice");
            let letters = en.chars().any(|c| c.is_ascii_alphabetic());
            if letters {
                assert!(
                    si.chars().any(|c| ('\u{0D80}'..='\u{0DFF}').contains(&c)),
                    "`{en}`: the Sinhala text is not in Sinhala script"
                );
                assert!(
                    ta.chars().any(|c| ('\u{0B80}'..='\u{0BFF}').contains(&c)),
                    "`{en}`: the Tamil text is not in Tamil script"
                );
            }
            // A translation keeps the English text's placeholders.
            for placeholder in placeholders(en) {
                assert!(si.contains(placeholder), "`{en}`: si lacks {placeholder}");
                assert!(ta.contains(placeholder), "`{en}`: ta lacks {placeholder}");
            }
        }
    }

    fn placeholders(text: &str) -> Vec<&str> {
        let mut found = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find('{') {
            let Some(end) = rest[start..].find('}') else {
                break;
            };
            found.push(&rest[start..start + end + 1]);
            rest = &rest[start + end + 1..];
        }
        found
    }

    #[test]
    fn values_fill_their_places_once() {
        // Named `.html`, as the console's templates are: values are escaped.
        let render = |source: &str| {
            let mut environment = minijinja::Environment::new();
            environment.add_function("_", template_function);
            environment
                .add_template_owned("t.html", source.to_owned())
                .and_then(|()| {
                    environment
                        .get_template("t.html")?
                        .render(minijinja::context! { lang => "en" })
                })
                .map_err(|error| error.to_string())
        };
        assert_eq!(
            render(r#"{{ _("{a} and {b}", a="{b}", b="<x>") }}"#).as_deref(),
            Ok("{b} and &lt;x&gt;")
        );
        assert!(
            render(r#"{{ _("{a}") }}"#).is_err(),
            "a place without its value"
        );
        assert!(
            render(r#"{{ _("no place", a=1) }}"#).is_err(),
            "a value without its place"
        );
        assert_eq!(
            render(r#"{{ _("a {literal brace") }}"#).as_deref(),
            Ok("a {literal brace")
        );
    }

    #[test]
    fn missing_texts_stay_english() {
        assert_eq!(
            translate(Lang::Ta, "no such text here"),
            "no such text here"
        );
        assert_eq!(translate(Lang::En, "Sign out"), "Sign out");
        assert_ne!(translate(Lang::Si, "Sign out"), "Sign out");
    }
}
