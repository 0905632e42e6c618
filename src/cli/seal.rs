//! `travdoc seal decode FILE`: what a visible digital seal says (header, features, profile fields)
//! as JSON. Nothing is verified here; `travdoc verify` checks signatures and certificates.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum SealCommand {
    /// Decode a seal and print its header and features as JSON (no signature check). FILE holds
    /// the raw seal bytes, their hexadecimal text, the QR text of a legalization seal, or a PNG
    /// or JPEG photo or scan of the barcode (Data Matrix or QR).
    Decode {
        /// The seal file (`-` for standard input).
        file: PathBuf,
    },
}

pub fn run(command: &SealCommand) -> anyhow::Result<ExitCode> {
    match command {
        SealCommand::Decode { file } => {
            let input = if file.as_os_str() == "-" {
                let mut buffer = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buffer)
                    .context("reading standard input")?;
                buffer
            } else {
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))?
            };
            let bytes = seal_bytes(&input)?;
            let seal = travdoc_seal::Seal::decode(&bytes).context("decoding the seal")?;
            println!(
                "{}",
                serde_json::to_string_pretty(&travdoc_seal::describe(&seal))?
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Whether `input` starts like a PNG or JPEG file.
pub(crate) fn is_image(input: &[u8]) -> bool {
    input.starts_with(b"\x89PNG\r\n\x1a\n") || input.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// Raw bytes (starting with the magic 0xDC), hexadecimal text, QR text, or an image of the
/// barcode (decoded with rxing; a QR code's text is read as QR text).
pub(crate) fn seal_bytes(input: &[u8]) -> anyhow::Result<Vec<u8>> {
    if input.first() == Some(&travdoc_seal::header::MAGIC) {
        return Ok(input.to_vec());
    }
    if is_image(input) {
        let decoded = travdoc_render::barcode::decode_barcode_image(input)
            .context("reading the barcode image")?;
        if decoded.first() == Some(&travdoc_seal::header::MAGIC) {
            return Ok(decoded);
        }
        let text =
            std::str::from_utf8(&decoded).context("the barcode holds neither a seal nor text")?;
        return travdoc_seal::parse_qr_payload(text.trim()).context("reading the QR text");
    }
    let text = std::str::from_utf8(input)
        .context("the file is neither a binary seal nor text")?
        .trim();
    let compact: String = text.split_whitespace().collect();
    if !compact.is_empty() && compact.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(&compact).context("decoding hexadecimal seal text");
    }
    travdoc_seal::parse_qr_payload(text).context("reading QR text")
}
