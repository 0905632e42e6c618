//! Specimen data for the three documents (clearly marked SPECIMEN): used by the tests, the
//! benchmark, `examples/specimens.rs` and anyone who needs a sample page.

use crate::data::{LegalizationData, PassportDatapageData, TtdSheetData};

/// ICAO 9303-3 check digit (weights 7, 3, 1; `<` = 0, A = 10 ...).
fn check_digit(field: &str) -> char {
    let sum: u32 = field
        .chars()
        .zip([7u32, 3, 1].iter().cycle())
        .map(|(c, weight)| {
            let value = match c {
                '0'..='9' => c as u32 - '0' as u32,
                'A'..='Z' => c as u32 - 'A' as u32 + 10,
                _ => 0,
            };
            value * weight
        })
        .sum();
    char::from_digit(sum % 10, 10).unwrap_or('0')
}

fn pad(text: &str, width: usize) -> String {
    format!("{text:<<width$}")
}

/// A synthetic portrait (JPEG, 413 x 531 px): a grey background, a head and shoulders.
pub fn portrait_jpeg() -> Vec<u8> {
    let (width, height) = (413u32, 531u32);
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let head = ((fx - 0.5) / 0.23).powi(2) + ((fy - 0.4) / 0.27).powi(2) <= 1.0;
        let shoulders =
            fy > 0.75 && ((fx - 0.5) / 0.48).powi(2) + ((fy - 1.05) / 0.32).powi(2) <= 1.0;
        if head {
            image::Rgb([196, 150, 118])
        } else if shoulders {
            image::Rgb([40, 52, 86])
        } else {
            let shade = (228.0 - 20.0 * fy) as u8;
            image::Rgb([shade, shade, shade.saturating_add(6)])
        }
    });
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85);
    // Encoding an in-memory RGB buffer into a Vec cannot fail.
    let _ = image.write_with_encoder(encoder);
    bytes
}

/// TD2-size MRZ of the specimen TTD (document code `PU`).
pub fn ttd_mrz() -> [String; 2] {
    let number = "N0012345<";
    let birth = "850412";
    let expiry = "261227";
    let optional = pad("", 7);
    let line1 = pad("PULKAPERERA<<KAMAL<NUWAN", 36);
    let mut line2 = format!(
        "{number}{}LKA{birth}{}M{expiry}{}{optional}",
        check_digit(number),
        check_digit(birth),
        check_digit(expiry)
    );
    let composite = format!("{}{}{}", &line2[0..10], &line2[13..20], &line2[21..35]);
    line2.push(check_digit(&composite));
    [line1, line2]
}

/// TD3 MRZ of the specimen passport.
pub fn passport_mrz() -> [String; 2] {
    let number = "N8765432<";
    let birth = "900115";
    let expiry = "361126";
    let personal = pad("199001512345", 14);
    let line1 = pad("P<LKAWICKRAMASINGHE<<NIMALI<SHANIKA", 44);
    let mut line2 = format!(
        "{number}{}LKA{birth}{}F{expiry}{}{personal}{}",
        check_digit(number),
        check_digit(birth),
        check_digit(expiry),
        check_digit(&personal)
    );
    let composite = format!("{}{}{}", &line2[0..10], &line2[13..20], &line2[21..43]);
    line2.push(check_digit(&composite));
    [line1, line2]
}

/// Specimen seal bytes (a stand-in with the shape of an ETD seal: header, features, signature).
pub fn seal_bytes() -> Vec<u8> {
    let mut seal = vec![0xDC, 0x03, 0x6A, 0xBC];
    // Deterministic filler (an LCG) instead of a real signed message.
    let mut state = 0x2545_F491_u32;
    for _ in 0..180 {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        seal.push((state >> 24) as u8);
    }
    seal
}

/// Specimen TTD sheet data.
pub fn ttd() -> TtdSheetData {
    TtdSheetData {
        mrz_lines: ttd_mrz(),
        document_number: "N0012345".into(),
        issuing_state: "LKA".into(),
        surname: "PERERA / පෙරේරා / பெரேரா".into(),
        given_names: "KAMAL NUWAN".into(),
        nationality: "SRI LANKAN".into(),
        date_of_birth: "12 APR 1985".into(),
        sex: "M".into(),
        place_of_birth: "KANDY / මහනුවර / கண்டி".into(),
        destination: "COLOMBO (CMB), SRI LANKA".into(),
        route: vec![
            "MUSCAT (MCT)".into(),
            "DOHA (DOH)".into(),
            "COLOMBO (CMB)".into(),
        ],
        valid_until: "Valid until 27 DEC 2026 for the journey above".into(),
        date_of_issue: "27 NOV 2026".into(),
        issuing_authority: "EMBASSY OF SRI LANKA, MUSCAT".into(),
        serial: "ETD-A-0004711".into(),
        case_reference: "RA-OM-2026-0193".into(),
        seal_bytes: seal_bytes(),
        portrait_jpeg: Some(portrait_jpeg()),
    }
}

/// Specimen passport data page data.
pub fn passport() -> PassportDatapageData {
    PassportDatapageData {
        mrz_lines: passport_mrz(),
        document_type: "P".into(),
        issuing_state: "LKA".into(),
        document_number: "N8765432".into(),
        surname: "WICKRAMASINGHE / වික්\u{200D}රමසිංහ".into(),
        given_names: "NIMALI SHANIKA".into(),
        nationality: "SRI LANKAN".into(),
        date_of_birth: "15 JAN 1990".into(),
        sex: "F".into(),
        place_of_birth: "GALLE / காலி".into(),
        date_of_issue: "27 NOV 2026".into(),
        date_of_expiry: "26 NOV 2036".into(),
        authority: "DEPARTMENT OF IMMIGRATION AND EMIGRATION, COLOMBO".into(),
        personal_number: "199001512345".into(),
        portrait_jpeg: Some(portrait_jpeg()),
    }
}

/// Specimen legalization certificate data.
pub fn legalization() -> LegalizationData {
    LegalizationData {
        country: "SRI LANKA / ශ්\u{200D}රී ලංකාව / இலங்கை".into(),
        signed_by: "K. A. JAYAWARDENA".into(),
        capacity: "REGISTRAR OF BIRTHS, COLOMBO DISTRICT".into(),
        seal_of: "REGISTRAR GENERAL'S DEPARTMENT".into(),
        place: "COLOMBO".into(),
        date: "27 NOV 2026".into(),
        authority: "CONSULAR AFFAIRS DIVISION, MINISTRY OF FOREIGN AFFAIRS".into(),
        certificate_number: "LC-2026-7Q4X-000123".into(),
        document_title: "Birth certificate No. 4471 (Colombo)".into(),
        document_sha256: "9f2c1e0b7d4a3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60".into(),
        signatory: "S. M. FERNANDO, Consular Officer".into(),
        qr_payload:
            "https://verify.travdoc.example/l/LC-2026-7Q4X-000123?d=20261127#sig=MEUCIQDz3k".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specimen_mrz_lines_have_icao_lengths_and_check_digits() {
        let [l1, l2] = ttd_mrz();
        assert_eq!((l1.len(), l2.len()), (36, 36));
        let [p1, p2] = passport_mrz();
        assert_eq!((p1.len(), p2.len()), (44, 44));
        // The ICAO 9303-3 worked example: 520727 -> 3.
        assert_eq!(check_digit("520727"), '3');
        assert_eq!(check_digit("L898902C3"), '6');
    }
}
