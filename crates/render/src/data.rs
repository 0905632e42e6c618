//! Plain data handed to the renderer. No dependency on the MRZ, seal or LDS crates: the caller
//! builds the MRZ lines and the seal bytes and passes them in.

/// Where the page lands on the printer: resolution (for barcode modules) and offsets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Printer resolution, dots per inch (barcode modules are whole dots).
    pub dpi: u32,
    /// Shift of everything to the right, mm (negative: to the left).
    pub offset_x_mm: f32,
    /// Shift of everything downwards, mm (negative: upwards).
    pub offset_y_mm: f32,
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration {
            dpi: 300,
            offset_x_mm: 0.0,
            offset_y_mm: 0.0,
        }
    }
}

/// Text fields of the passport data page.
pub const PASSPORT_TEXT_FIELDS: &[&str] = &[
    "document_type",
    "issuing_state",
    "document_number",
    "surname",
    "given_names",
    "nationality",
    "date_of_birth",
    "sex",
    "place_of_birth",
    "date_of_issue",
    "date_of_expiry",
    "authority",
    "personal_number",
];

/// Text fields of the TTD sheet.
pub const TTD_TEXT_FIELDS: &[&str] = &[
    "document_number",
    "issuing_state",
    "surname",
    "given_names",
    "nationality",
    "date_of_birth",
    "sex",
    "place_of_birth",
    "destination",
    "route",
    "valid_until",
    "date_of_issue",
    "issuing_authority",
    "serial",
    "case_reference",
];

/// Text fields of the legalization certificate.
pub const LEGALIZATION_TEXT_FIELDS: &[&str] = &[
    "country",
    "signed_by",
    "capacity",
    "seal_of",
    "place",
    "date",
    "authority",
    "certificate_number",
    "document_title",
    "document_sha256",
    "signatory",
];

/// Passport data page (TD3, 125 x 88 mm).
#[derive(Debug, Clone, Default)]
pub struct PassportDatapageData {
    /// The two 44-character TD3 MRZ lines (built by `travdoc-mrz`).
    pub mrz_lines: [String; 2],
    /// Document type as printed in the VIZ, e.g. `P`.
    pub document_type: String,
    /// Issuing state code, e.g. `LKA`.
    pub issuing_state: String,
    /// Passport number.
    pub document_number: String,
    /// Primary identifier (VIZ spelling, may be non-Latin).
    pub surname: String,
    /// Secondary identifier.
    pub given_names: String,
    /// Nationality (VIZ).
    pub nationality: String,
    /// Date of birth as printed (e.g. `12 AUG 1974`).
    pub date_of_birth: String,
    /// `F`, `M` or `X`.
    pub sex: String,
    /// Place of birth.
    pub place_of_birth: String,
    /// Date of issue as printed.
    pub date_of_issue: String,
    /// Date of expiry as printed.
    pub date_of_expiry: String,
    /// Issuing authority.
    pub authority: String,
    /// Personal number (optional).
    pub personal_number: String,
    /// Portrait, JPEG or PNG bytes.
    pub portrait_jpeg: Option<Vec<u8>>,
}

/// Temporary travel document, single sheet (ICAO 9303 Part 8 ETD, A4).
#[derive(Debug, Clone, Default)]
pub struct TtdSheetData {
    /// The two 36-character TD2-size MRZ lines (document code `PU`).
    pub mrz_lines: [String; 2],
    /// Document number.
    pub document_number: String,
    /// Issuing state code.
    pub issuing_state: String,
    /// Primary identifier.
    pub surname: String,
    /// Secondary identifier.
    pub given_names: String,
    /// Nationality.
    pub nationality: String,
    /// Date of birth as printed.
    pub date_of_birth: String,
    /// Sex as printed.
    pub sex: String,
    /// Place of birth.
    pub place_of_birth: String,
    /// Final destination.
    pub destination: String,
    /// Fixed transit points in order (matching the ticketed route); printed joined by " – ",
    /// or as "—" for a direct journey.
    pub route: Vec<String>,
    /// Validity as printed (the renderer does not interpret it).
    pub valid_until: String,
    /// Date of issue as printed.
    pub date_of_issue: String,
    /// Issuing authority or mission.
    pub issuing_authority: String,
    /// Pre-printed blank serial number (blank-stock accounting).
    pub serial: String,
    /// Readmission case reference (optional).
    pub case_reference: String,
    /// The signed Visible Digital Seal bytes (Data Matrix, base256).
    pub seal_bytes: Vec<u8>,
    /// Portrait, JPEG or PNG bytes (optional on a sheet: a frame is printed for a stick-on photo).
    pub portrait_jpeg: Option<Vec<u8>>,
}

/// Legalization certificate (Apostille-like fields, A4).
#[derive(Debug, Clone, Default)]
pub struct LegalizationData {
    /// 1. Country.
    pub country: String,
    /// 2. Has been signed by.
    pub signed_by: String,
    /// 3. Acting in the capacity of.
    pub capacity: String,
    /// 4. Bears the seal/stamp of.
    pub seal_of: String,
    /// 5. At (place).
    pub place: String,
    /// 6. The (date).
    pub date: String,
    /// 7. By (competent authority).
    pub authority: String,
    /// 8. No (certificate number).
    pub certificate_number: String,
    /// Title of the legalized document.
    pub document_title: String,
    /// SHA-256 of the legalized document, hex.
    pub document_sha256: String,
    /// Name of the officer who signs the certificate.
    pub signatory: String,
    /// Text carried by the QR seal.
    pub qr_payload: String,
}

/// Field lookup used by the generic page builder.
pub(crate) trait FieldSource {
    fn text(&self, field: &str) -> Option<String>;
}

impl FieldSource for PassportDatapageData {
    fn text(&self, field: &str) -> Option<String> {
        let value = match field {
            "document_type" => &self.document_type,
            "issuing_state" => &self.issuing_state,
            "document_number" => &self.document_number,
            "surname" => &self.surname,
            "given_names" => &self.given_names,
            "nationality" => &self.nationality,
            "date_of_birth" => &self.date_of_birth,
            "sex" => &self.sex,
            "place_of_birth" => &self.place_of_birth,
            "date_of_issue" => &self.date_of_issue,
            "date_of_expiry" => &self.date_of_expiry,
            "authority" => &self.authority,
            "personal_number" => &self.personal_number,
            _ => return None,
        };
        Some(value.clone())
    }
}

impl FieldSource for TtdSheetData {
    fn text(&self, field: &str) -> Option<String> {
        let value = match field {
            "document_number" => &self.document_number,
            "issuing_state" => &self.issuing_state,
            "surname" => &self.surname,
            "given_names" => &self.given_names,
            "nationality" => &self.nationality,
            "date_of_birth" => &self.date_of_birth,
            "sex" => &self.sex,
            "place_of_birth" => &self.place_of_birth,
            "destination" => &self.destination,
            // A direct journey has no transit points: the line says so rather than staying
            // blank (a blank required field would stop the document from printing).
            "route" if self.route.is_empty() => return Some("\u{2014}".to_owned()),
            "route" => return Some(self.route.join(" \u{2013} ")),
            "valid_until" => &self.valid_until,
            "date_of_issue" => &self.date_of_issue,
            "issuing_authority" => &self.issuing_authority,
            "serial" => &self.serial,
            "case_reference" => &self.case_reference,
            _ => return None,
        };
        Some(value.clone())
    }
}

impl FieldSource for LegalizationData {
    fn text(&self, field: &str) -> Option<String> {
        let value = match field {
            "country" => &self.country,
            "signed_by" => &self.signed_by,
            "capacity" => &self.capacity,
            "seal_of" => &self.seal_of,
            "place" => &self.place,
            "date" => &self.date,
            "authority" => &self.authority,
            "certificate_number" => &self.certificate_number,
            "document_title" => &self.document_title,
            "document_sha256" => &self.document_sha256,
            "signatory" => &self.signatory,
            _ => return None,
        };
        Some(value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_field_is_served() {
        let passport = PassportDatapageData::default();
        for field in PASSPORT_TEXT_FIELDS {
            assert!(passport.text(field).is_some(), "{field}");
        }
        let ttd = TtdSheetData::default();
        for field in TTD_TEXT_FIELDS {
            assert!(ttd.text(field).is_some(), "{field}");
        }
        let legalization = LegalizationData::default();
        for field in LEGALIZATION_TEXT_FIELDS {
            assert!(legalization.text(field).is_some(), "{field}");
        }
        assert!(ttd.text("seal").is_none());
    }
}
