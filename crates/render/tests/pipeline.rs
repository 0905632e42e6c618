//! Rendered PDFs read back with independent tools: poppler (`pdftoppm`, `pdftotext`, `pdffonts`)
//! and the rxing decoder on the rasterised page.

use std::path::Path;
use std::process::Command;

use travdoc_render::template::Element;
use travdoc_render::{
    Calibration, RenderError, Template, decode_barcode_image, render_legalization,
    render_passport_datapage, render_ttd, specimen,
};

/// A scratch directory removed on drop (no tempfile dependency: it would change the features of
/// shared crates and force a rebuild of printpdf for the test profile).
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "travdoc-render-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// xorshift64* bytes, seeded from the clock; the seed is printed with any failure.
fn random_bytes(seed: &mut u64, length: usize) -> Vec<u8> {
    (0..length)
        .map(|_| {
            *seed ^= *seed >> 12;
            *seed ^= *seed << 25;
            *seed ^= *seed >> 27;
            (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

fn tool(program: &str, args: &[&str]) -> Vec<u8> {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program} cannot run (install poppler-utils): {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn write_pdf(dir: &Path, name: &str, pdf: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, pdf).unwrap();
    path.display().to_string()
}

/// Rasterises the square box of the template's barcode element at 300 dpi (with a margin) and
/// returns the PNG.
fn rasterise_barcode_area(pdf_path: &str, template: &Template, dir: &Path) -> Vec<u8> {
    let (x, y, size) = template
        .elements
        .iter()
        .find_map(|element| match element {
            Element::Barcode { x, y, size, .. } => Some((*x, *y, *size)),
            _ => None,
        })
        .unwrap();
    let px = |mm: f32| ((mm / 25.4) * 300.0).round() as i64;
    let margin = 3.0;
    let prefix = dir.join("crop").display().to_string();
    tool(
        "pdftoppm",
        &[
            "-r",
            "300",
            "-gray",
            "-png",
            "-singlefile",
            "-x",
            &px(x - margin).to_string(),
            "-y",
            &px(y - margin).to_string(),
            "-W",
            &px(size + 2.0 * margin).to_string(),
            "-H",
            &px(size + 2.0 * margin).to_string(),
            pdf_path,
            &prefix,
        ],
    );
    std::fs::read(format!("{prefix}.png")).unwrap()
}

fn text_lines(pdf_path: &str) -> Vec<String> {
    let text = tool("pdftotext", &["-layout", pdf_path, "-"]);
    String::from_utf8_lossy(&text)
        .lines()
        .map(|line| line.trim().to_string())
        .collect()
}

fn assert_ocrb_embedded_as_subset(pdf_path: &str) {
    let fonts = String::from_utf8_lossy(&tool("pdffonts", &[pdf_path])).to_string();
    let ocrb = fonts
        .lines()
        .find(|line| {
            line.to_ascii_uppercase().contains("OCRB")
                || line.to_ascii_uppercase().contains("OCR-B")
        })
        .unwrap_or_else(|| panic!("OCR-B not listed by pdffonts:\n{fonts}"));
    let name = ocrb.split_whitespace().next().unwrap_or_default();
    let (tag, _) = name
        .split_once('+')
        .unwrap_or_else(|| panic!("no subset tag on {name}:\n{fonts}"));
    assert!(
        tag.len() == 6 && tag.chars().all(|c| c.is_ascii_uppercase()),
        "subset tag {tag}"
    );
    // columns: name type encoding emb sub uni object ID
    let columns: Vec<&str> = ocrb.split_whitespace().collect();
    let flags = &columns[columns.len() - 5..columns.len() - 2];
    assert_eq!(
        flags,
        ["yes", "yes", "yes"],
        "emb/sub/uni for OCR-B:\n{fonts}"
    );
}

#[test]
fn ttd_seal_decodes_from_the_rasterised_page_with_the_exact_bytes_and_the_mrz_is_extractable() {
    let dir = Scratch::new("ttd");
    let template = Template::builtin("ttd-sheet").unwrap();
    let seed0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut seed = seed0;
    for (round, length) in [120usize, 233].into_iter().enumerate() {
        let mut data = specimen::ttd();
        data.seal_bytes = random_bytes(&mut seed, length);
        let pdf = render_ttd(&data, &template, &Calibration::default()).unwrap();
        let path = write_pdf(dir.path(), &format!("ttd-{round}.pdf"), &pdf);

        let png = rasterise_barcode_area(&path, &template, dir.path());
        assert_eq!(
            decode_barcode_image(&png).unwrap(),
            data.seal_bytes,
            "seal of {length} random bytes, seed {seed0:#x}"
        );

        let lines = text_lines(&path);
        for mrz in &data.mrz_lines {
            assert!(
                lines.contains(mrz),
                "MRZ line {mrz} not in pdftotext output:\n{}",
                lines.join("\n")
            );
        }
        assert_ocrb_embedded_as_subset(&path);
        let all = lines.join("\n");
        assert!(
            all.contains("EMERGENCY TRAVEL DOCUMENT") && all.contains("SINGLE JOURNEY"),
            "{all}"
        );
        assert!(all.contains(&data.serial), "serial missing: {all}");
    }
}

#[test]
fn passport_datapage_mrz_is_extractable_and_fonts_are_subsets() {
    let dir = Scratch::new("page");
    let template = Template::builtin("passport-datapage").unwrap();
    let data = specimen::passport();
    let pdf = render_passport_datapage(&data, &template, &Calibration::default()).unwrap();
    let path = write_pdf(dir.path(), "passport.pdf", &pdf);
    let lines = text_lines(&path);
    for mrz in &data.mrz_lines {
        assert!(
            lines.contains(mrz),
            "MRZ line {mrz} not in:\n{}",
            lines.join("\n")
        );
    }
    assert_ocrb_embedded_as_subset(&path);
    let info = String::from_utf8_lossy(&tool("pdfinfo", &[&path])).to_string();
    let size_line = info
        .lines()
        .find(|line| line.starts_with("Page size:"))
        .unwrap();
    let numbers: Vec<f32> = size_line
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    let (width_mm, height_mm) = (numbers[0] * 25.4 / 72.0, numbers[1] * 25.4 / 72.0);
    assert!(
        (width_mm - 125.0).abs() < 0.01 && (height_mm - 88.0).abs() < 0.01,
        "{size_line}"
    );
    // Every font is a subset: the whole Noto Sans alone is 500 KB.
    assert!(pdf.len() < 200_000, "PDF is {} bytes", pdf.len());
}

#[test]
fn legalization_qr_decodes_to_the_payload() {
    let dir = Scratch::new("page");
    let template = Template::builtin("legalization-certificate").unwrap();
    let data = specimen::legalization();
    let pdf = render_legalization(&data, &template, &Calibration::default()).unwrap();
    let path = write_pdf(dir.path(), "legalization.pdf", &pdf);
    let png = rasterise_barcode_area(&path, &template, dir.path());
    assert_eq!(
        decode_barcode_image(&png).unwrap(),
        data.qr_payload.as_bytes()
    );
    let all = text_lines(&path).join("\n");
    assert!(
        all.contains(&data.certificate_number) && all.contains(&data.document_sha256),
        "{all}"
    );
}

#[test]
fn calibration_offsets_move_the_mrz() {
    let template = Template::builtin("passport-datapage").unwrap();
    let data = specimen::passport();
    let dir = Scratch::new("page");
    let first_word_x = |calibration: Calibration, name: &str| -> f32 {
        let pdf = render_passport_datapage(&data, &template, &calibration).unwrap();
        let path = write_pdf(dir.path(), name, &pdf);
        let html = String::from_utf8_lossy(&tool("pdftotext", &["-bbox", &path, "-"])).to_string();
        let escaped = data.mrz_lines[1].replace('<', "&lt;");
        let line = html
            .lines()
            .find(|line| line.contains(&escaped))
            .unwrap()
            .to_string();
        let x_min = line
            .split("xMin=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        x_min.parse::<f32>().unwrap()
    };
    let base = first_word_x(Calibration::default(), "a.pdf");
    let moved = first_word_x(
        Calibration {
            dpi: 300,
            offset_x_mm: 2.0,
            offset_y_mm: 0.0,
        },
        "b.pdf",
    );
    let moved_pt = moved - base;
    assert!(
        (moved_pt - 2.0 * 72.0 / 25.4).abs() < 0.05,
        "moved {moved_pt} pt"
    );
    // 6 mm from the left edge, as in the template.
    assert!(
        (base - 6.0 * 72.0 / 25.4).abs() < 0.6,
        "MRZ starts at {base} pt"
    );
}

#[test]
fn a_direct_journey_without_transit_points_renders() {
    // Found by schemathesis: a TTD requested with `"route": []` was issued, then its PDF failed
    // with a 500 because the required route line was blank.
    let template = Template::builtin("ttd-sheet").unwrap();
    let mut data = specimen::ttd();
    data.route.clear();
    let pdf = render_ttd(&data, &template, &Calibration::default()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
}

#[test]
fn bad_data_gives_errors_naming_the_field() {
    let ttd_template = Template::builtin("ttd-sheet").unwrap();
    let calibration = Calibration::default();

    let mut data = specimen::ttd();
    data.destination = "A VERY LONG DESTINATION NAME ".repeat(8);
    let error = render_ttd(&data, &ttd_template, &calibration).unwrap_err();
    assert!(
        matches!(error, RenderError::FieldTooLong { ref field, .. } if field == "destination"),
        "{error}"
    );

    let mut data = specimen::ttd();
    data.portrait_jpeg = Some(b"\xFF\xD8\xFF\xE0 truncated".to_vec());
    let error = render_ttd(&data, &ttd_template, &calibration).unwrap_err();
    assert!(
        matches!(error, RenderError::UnreadableImage { ref field, .. } if field == "portrait_jpeg"),
        "{error}"
    );

    let mut data = specimen::ttd();
    data.mrz_lines[1].pop();
    let error = render_ttd(&data, &ttd_template, &calibration).unwrap_err();
    assert!(
        matches!(error, RenderError::InvalidField { ref field, .. } if field == "mrz_lines[1]"),
        "{error}"
    );

    let mut data = specimen::ttd();
    data.mrz_lines[0] = data.mrz_lines[0].replacen('<', "a", 1);
    let error = render_ttd(&data, &ttd_template, &calibration).unwrap_err();
    assert!(
        matches!(error, RenderError::InvalidField { ref field, .. } if field == "mrz_lines[0]"),
        "{error}"
    );

    let mut data = specimen::ttd();
    data.seal_bytes = vec![0x5A; 1400];
    let error = render_ttd(&data, &ttd_template, &calibration).unwrap_err();
    assert!(
        matches!(error, RenderError::BarcodeTooLarge { ref field, .. } if field == "seal"),
        "{error}"
    );

    let mut data = specimen::ttd();
    data.serial.clear();
    let error = render_ttd(&data, &ttd_template, &calibration).unwrap_err();
    assert!(
        matches!(error, RenderError::MissingField { ref field, .. } if field == "serial"),
        "{error}"
    );

    // A TTD without a portrait is allowed (a frame for a stick-on photo is printed).
    let mut data = specimen::ttd();
    data.portrait_jpeg = None;
    assert!(render_ttd(&data, &ttd_template, &calibration).is_ok());

    // The passport data page requires one.
    let mut passport = specimen::passport();
    passport.portrait_jpeg = None;
    let passport_template = Template::builtin("passport-datapage").unwrap();
    let error = render_passport_datapage(&passport, &passport_template, &calibration).unwrap_err();
    assert!(
        matches!(error, RenderError::MissingField { ref field, .. } if field == "portrait_jpeg"),
        "{error}"
    );

    let error =
        render_passport_datapage(&specimen::passport(), &ttd_template, &calibration).unwrap_err();
    assert!(
        matches!(error, RenderError::TemplateKindMismatch { .. }),
        "{error}"
    );

    let error = render_ttd(
        &specimen::ttd(),
        &ttd_template,
        &Calibration {
            dpi: 10,
            ..Calibration::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(error, RenderError::InvalidCalibration { field: "dpi", .. }),
        "{error}"
    );
}
