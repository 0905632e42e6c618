//! Renders the three specimen pages and writes the PDFs and PNG previews.
//!
//! `cargo run -p travdoc-render --example specimens -- [OUT_DIR] [DPI]`
//! (default `docs/specimens` at the workspace root, 110 dpi; needs `pdftoppm` from poppler-utils).

use std::process::Command;

use travdoc_render::{
    Calibration, Template, render_legalization, render_passport_datapage, render_ttd, specimen,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/specimens").to_string()
    });
    let dpi = args.next().unwrap_or_else(|| "110".to_string());
    std::fs::create_dir_all(&out)?;
    let calibration = Calibration::default();
    let pages = [
        (
            "passport-datapage",
            render_passport_datapage(
                &specimen::passport(),
                &Template::builtin("passport-datapage")?,
                &calibration,
            )?,
        ),
        (
            "ttd-sheet",
            render_ttd(
                &specimen::ttd(),
                &Template::builtin("ttd-sheet")?,
                &calibration,
            )?,
        ),
        (
            "legalization-certificate",
            render_legalization(
                &specimen::legalization(),
                &Template::builtin("legalization-certificate")?,
                &calibration,
            )?,
        ),
    ];
    let scratch = std::env::temp_dir().join(format!("travdoc-specimens-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    for (name, pdf) in pages {
        // The PDF is kept beside the preview (the print tests send the TTD one to a printer).
        std::fs::write(format!("{out}/{name}.pdf"), &pdf)?;
        let pdf_path = scratch.join(format!("{name}.pdf"));
        std::fs::write(&pdf_path, &pdf)?;
        let png_prefix = format!("{out}/{name}");
        let status = Command::new("pdftoppm")
            .args(["-r", &dpi, "-png", "-singlefile"])
            .arg(&pdf_path)
            .arg(&png_prefix)
            .status()?;
        if !status.success() {
            return Err(format!("pdftoppm failed for {name}").into());
        }
        println!("{name}: PDF {} bytes -> {png_prefix}.png", pdf.len());
    }
    std::fs::remove_dir_all(&scratch)?;
    Ok(())
}
