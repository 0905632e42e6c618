//! What every seal-signing job shares (TTD, legalization): the date in seal form, signing with
//! an HSM key that keeps the signer's own error (an unavailable HSM stays a 503), and the
//! mapping of seal format errors to the domain's.

use time::Date;

use super::IssuanceError;
use super::ports::SealKey;

pub(crate) fn seal_error(error: travdoc_seal::SealError) -> IssuanceError {
    IssuanceError::Build(error.to_string())
}

pub(crate) fn seal_date(date: Date) -> Result<travdoc_seal::SealDate, IssuanceError> {
    let year = u16::try_from(date.year()).map_err(|_| IssuanceError::Build("year".into()))?;
    travdoc_seal::SealDate::from_ymd(year, u8::from(date.month()), date.day()).map_err(seal_error)
}

/// Signs a seal with `key`, keeping the signer's own error (HSM unavailable stays 503).
pub(crate) fn sign_seal(
    builder: travdoc_seal::SealBuilder,
    key: &dyn SealKey,
) -> Result<travdoc_seal::Seal, IssuanceError> {
    let mut failure = None;
    let result = builder.sign_with(key.curve(), |digest| {
        key.sign_digest(digest)
            .inspect_err(|error| failure = Some(error.clone()))
    });
    match (result, failure) {
        (Ok(seal), _) => Ok(seal),
        (Err(_), Some(error)) => Err(error.into()),
        (Err(error), None) => Err(seal_error(error)),
    }
}
