//! Printer profiles: one TOML file per printer under `printer-profiles/`, validated at start.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{PrintError, Result};

/// The templates a printer may be allowed to print.
pub const KNOWN_TEMPLATES: [&str; 3] =
    ["passport-datapage", "ttd-sheet", "legalization-certificate"];

/// How jobs reach the printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// An IPP (Everywhere) printer or a CUPS queue, e.g. `ipp://host:631/ipp/print`.
    Ipp {
        /// Printer URI (`ipp://` or `http://`).
        uri: String,
    },
    /// A hot folder watched by the printer's own software.
    Folder {
        /// The folder (relative paths are relative to the service's working directory).
        folder: PathBuf,
    },
}

/// A validated printer profile.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterProfile {
    /// Unique printer name (used in jobs and the CLI).
    pub name: String,
    /// Driver and address.
    pub connection: Connection,
    /// Media keyword (PWG 5101.1 self-describing name, e.g. `iso_a4_210x297mm`).
    pub media: String,
    /// Resolution, dots per inch.
    pub dpi: u32,
    /// Horizontal calibration offset, mm (positive: right).
    pub offset_x_mm: f32,
    /// Vertical calibration offset, mm (positive: down).
    pub offset_y_mm: f32,
    /// Templates this printer prints.
    pub templates: Vec<String>,
    /// The missions whose officers may print on it (`*`: every mission). Empty: a
    /// headquarters printer, which no mission uses. Headquarters staff print on any printer.
    pub missions: Vec<String>,
    /// The file the profile came from (for messages).
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    driver: String,
    uri: Option<String>,
    folder: Option<String>,
    media: String,
    dpi: u32,
    #[serde(default)]
    offset_x_mm: f32,
    #[serde(default)]
    offset_y_mm: f32,
    templates: Vec<String>,
    #[serde(default)]
    missions: Vec<String>,
}

/// The embedded default printer profile (a hot folder under `var/spool/`).
pub const DEFAULT_PROFILE: &str = include_str!("../../../printer-profiles/default-folder.toml");

impl PrinterProfile {
    /// Parses and validates one profile; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<PrinterProfile> {
        let raw: RawProfile = toml::from_str(text).map_err(|error| PrintError::ProfileSyntax {
            file: file.to_string(),
            message: error.message().to_string(),
        })?;
        let field_error = |field: &'static str, message: String| PrintError::ProfileField {
            file: file.to_string(),
            field,
            message,
        };
        if raw.name.is_empty()
            || raw.name.len() > 64
            || !raw
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(field_error(
                "name",
                "1-64 characters of A-Z a-z 0-9 - _ expected".into(),
            ));
        }
        let connection = match raw.driver.as_str() {
            "ipp" => {
                if raw.folder.is_some() {
                    return Err(field_error("folder", "an ipp printer has no folder".into()));
                }
                let uri = raw
                    .uri
                    .ok_or_else(|| field_error("uri", "an ipp printer needs a uri".into()))?;
                let parsed: ipp::prelude::Uri = uri.parse().map_err(|error| {
                    field_error("uri", format!("{uri:?} is not a URI: {error}"))
                })?;
                match parsed.scheme_str() {
                    Some("ipp" | "http") if parsed.host().is_some() => {}
                    _ => {
                        return Err(field_error(
                            "uri",
                            format!(
                                "{uri:?} must be ipp:// or http:// with a host (TLS is not built in)"
                            ),
                        ));
                    }
                }
                Connection::Ipp { uri }
            }
            "folder" => {
                if raw.uri.is_some() {
                    return Err(field_error("uri", "a folder printer has no uri".into()));
                }
                let folder = raw.folder.ok_or_else(|| {
                    field_error("folder", "a folder printer needs a folder".into())
                })?;
                if folder.is_empty() {
                    return Err(field_error("folder", "empty path".into()));
                }
                Connection::Folder {
                    folder: PathBuf::from(folder),
                }
            }
            other => {
                return Err(field_error(
                    "driver",
                    format!("{other:?} is not ipp or folder"),
                ));
            }
        };
        if raw.media.is_empty()
            || !raw
                .media
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            return Err(field_error(
                "media",
                format!("{:?} is not a PWG media keyword", raw.media),
            ));
        }
        if !(150..=2400).contains(&raw.dpi) {
            return Err(field_error(
                "dpi",
                format!("{} is not in 150..=2400", raw.dpi),
            ));
        }
        for (field, value) in [
            ("offset_x_mm", raw.offset_x_mm),
            ("offset_y_mm", raw.offset_y_mm),
        ] {
            if !value.is_finite() || value.abs() > 20.0 {
                return Err(field_error(field, format!("{value} is not within ±20 mm")));
            }
        }
        if raw.templates.is_empty() {
            return Err(field_error("templates", "no template allowed".into()));
        }
        if let Some(unknown) = raw
            .templates
            .iter()
            .find(|t| !KNOWN_TEMPLATES.contains(&t.as_str()))
        {
            return Err(field_error(
                "templates",
                format!(
                    "unknown template {unknown:?} (known: {})",
                    KNOWN_TEMPLATES.join(", ")
                ),
            ));
        }
        if let Some(bad) = raw.missions.iter().find(|mission| {
            mission.as_str() != "*"
                && !((3..=8).contains(&mission.len())
                    && mission
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'))
        }) {
            return Err(field_error(
                "missions",
                format!("{bad:?} is not a mission code (3-8 of A-Z 0-9 -) or *"),
            ));
        }
        Ok(PrinterProfile {
            name: raw.name,
            connection,
            media: raw.media,
            dpi: raw.dpi,
            offset_x_mm: raw.offset_x_mm,
            offset_y_mm: raw.offset_y_mm,
            templates: raw.templates,
            missions: raw.missions,
            source: file.to_string(),
        })
    }

    /// Whether an officer of `mission` (`None`: headquarters) may print on this printer.
    pub fn serves(&self, mission: Option<&str>) -> bool {
        match mission {
            None => true,
            Some(mission) => self
                .missions
                .iter()
                .any(|listed| listed == "*" || listed == mission),
        }
    }

    /// Reads one profile file.
    pub fn from_file(path: &Path) -> Result<PrinterProfile> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| PrintError::ProfileSyntax {
            file: file.clone(),
            message: error.to_string(),
        })?;
        PrinterProfile::from_toml(&file, &text)
    }

    /// The embedded default: a hot-folder printer writing to `var/spool/default`.
    pub fn embedded_default() -> Result<PrinterProfile> {
        PrinterProfile::from_toml(
            "printer-profiles/default-folder.toml (embedded)",
            DEFAULT_PROFILE,
        )
    }

    /// Fails unless this printer is allowed to print `template`.
    pub fn check_template(&self, template: &str) -> Result<()> {
        if self.templates.iter().any(|allowed| allowed == template) {
            Ok(())
        } else {
            Err(PrintError::TemplateNotAllowed {
                printer: self.name.clone(),
                template: template.to_string(),
            })
        }
    }
}

/// Loads and validates every `*.toml` in `dir` (sorted by file name); names must be unique.
pub fn load_profiles(dir: &Path) -> Result<Vec<PrinterProfile>> {
    let entries = std::fs::read_dir(dir).map_err(|error| PrintError::ProfileSyntax {
        file: dir.display().to_string(),
        message: error.to_string(),
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| PrintError::ProfileSyntax {
            file: dir.display().to_string(),
            message: error.to_string(),
        })?;
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut profiles: Vec<PrinterProfile> = Vec::new();
    for path in paths {
        let profile = PrinterProfile::from_file(&path)?;
        if let Some(other) = profiles.iter().find(|p| p.name == profile.name) {
            return Err(PrintError::DuplicateProfile {
                file: profile.source.clone(),
                name: profile.name.clone(),
                other: other.source.clone(),
            });
        }
        profiles.push(profile);
    }
    Ok(profiles)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "mission-printer"
driver = "ipp"
uri = "ipp://printer.example:631/ipp/print"
media = "iso_a4_210x297mm"
dpi = 600
offset_x_mm = 0.4
offset_y_mm = -0.2
templates = ["ttd-sheet"]
"#;

    #[test]
    fn a_good_profile_parses() {
        let profile = PrinterProfile::from_toml("p.toml", GOOD).unwrap();
        assert_eq!(
            profile.connection,
            Connection::Ipp {
                uri: "ipp://printer.example:631/ipp/print".into()
            }
        );
        assert_eq!(
            (profile.dpi, profile.offset_x_mm, profile.offset_y_mm),
            (600, 0.4, -0.2)
        );
        assert!(profile.check_template("ttd-sheet").is_ok());
        assert!(matches!(
            profile.check_template("passport-datapage"),
            Err(PrintError::TemplateNotAllowed { .. })
        ));
    }

    fn field_of(text: &str) -> (String, &'static str) {
        match PrinterProfile::from_toml("bad.toml", text).unwrap_err() {
            PrintError::ProfileField { file, field, .. } => (file, field),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn errors_name_the_file_and_the_field() {
        assert_eq!(
            field_of(&GOOD.replace("dpi = 600", "dpi = 20")),
            ("bad.toml".to_string(), "dpi")
        );
        assert_eq!(
            field_of(&GOOD.replace("ipp://printer", "ftp://printer")).1,
            "uri"
        );
        assert_eq!(
            field_of(&GOOD.replace("\"ttd-sheet\"", "\"visa\"")).1,
            "templates"
        );
        assert_eq!(
            field_of(&GOOD.replace("offset_x_mm = 0.4", "offset_x_mm = 40.0")).1,
            "offset_x_mm"
        );
        assert_eq!(
            field_of(&GOOD.replace("driver = \"ipp\"", "driver = \"lpd\"")).1,
            "driver"
        );
        assert_eq!(
            field_of(&GOOD.replace("iso_a4_210x297mm", "A4 paper")).1,
            "media"
        );
        let error = PrinterProfile::from_toml("bad.toml", &GOOD.replace("dpi", "dpy")).unwrap_err();
        assert!(
            matches!(error, PrintError::ProfileSyntax { ref file, .. } if file == "bad.toml"),
            "{error}"
        );
    }

    #[test]
    fn a_printer_serves_the_missions_it_names() {
        let text = |missions: &str| {
            format!(
                "name = \"p\"\ndriver = \"folder\"\nfolder = \"x\"\nmedia = \"iso_a4_210x297mm\"\n\
                 dpi = 300\ntemplates = [\"ttd-sheet\"]\n{missions}\n"
            )
        };
        let kwi = PrinterProfile::from_toml("kwi.toml", &text("missions = [\"KWI\"]")).unwrap();
        assert!(kwi.serves(Some("KWI")) && kwi.serves(None) && !kwi.serves(Some("LON")));
        let hq = PrinterProfile::from_toml("hq.toml", &text("")).unwrap();
        assert!(hq.serves(None) && !hq.serves(Some("KWI")));
        let any = PrinterProfile::from_toml("any.toml", &text("missions = [\"*\"]")).unwrap();
        assert!(any.serves(Some("LON")));
        let bad = PrinterProfile::from_toml("bad.toml", &text("missions = [\"kwi\"]"));
        assert!(bad.unwrap_err().to_string().contains("missions"));
    }

    #[test]
    fn the_embedded_default_is_a_folder_printer_under_var_spool() {
        let profile = PrinterProfile::embedded_default().unwrap();
        match profile.connection {
            Connection::Folder { folder } => assert!(folder.starts_with("var/spool")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_repository_profiles_load_and_duplicates_are_refused() {
        let dir = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../printer-profiles"
        ));
        let profiles = load_profiles(dir).unwrap();
        assert!(profiles.len() >= 2);
        let scratch = tempfile::tempdir().unwrap();
        std::fs::write(scratch.path().join("a.toml"), GOOD).unwrap();
        std::fs::write(scratch.path().join("b.toml"), GOOD).unwrap();
        let error = load_profiles(scratch.path()).unwrap_err();
        assert!(
            matches!(error, PrintError::DuplicateProfile { .. }),
            "{error}"
        );
    }
}
