//! The one error type of `travdoc-print`.

/// Errors of printer profiles and drivers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrintError {
    /// A printer profile file cannot be read or parsed.
    #[error("printer profile {file}: {message}")]
    ProfileSyntax {
        /// File name.
        file: String,
        /// Parser or I/O message.
        message: String,
    },
    /// A printer profile field has an unusable value.
    #[error("printer profile {file}: field {field}: {message}")]
    ProfileField {
        /// File name.
        file: String,
        /// Field name.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Two profiles share a name.
    #[error("printer profile {file}: name {name:?} is already used by {other}")]
    DuplicateProfile {
        /// File name.
        file: String,
        /// Printer name.
        name: String,
        /// The other file.
        other: String,
    },
    /// The template is not allowed on this printer.
    #[error("printer {printer} does not print {template} pages")]
    TemplateNotAllowed {
        /// Printer name.
        printer: String,
        /// Template name.
        template: String,
    },
    /// The job name cannot be used (empty, too long or with characters unsafe in a file name).
    #[error("job name {0:?} is not usable: 1-64 characters of A-Z a-z 0-9 - _ . expected")]
    InvalidJobName(String),
    /// The document is not a PDF.
    #[error("the document is not a PDF")]
    NotPdf,
    /// The printer cannot be reached or refused the request.
    #[error("printer {printer}: {message}")]
    Printer {
        /// Printer name.
        printer: String,
        /// What happened.
        message: String,
    },
    /// A hot folder cannot be written.
    #[error("hot folder {folder}: {message}")]
    Folder {
        /// Folder path.
        folder: String,
        /// I/O message.
        message: String,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, PrintError>;
