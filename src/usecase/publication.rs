//! PKI publication: the certificates, CRL and master list the service publishes for foreign
//! verifiers. The port the API's PKI handlers call, implemented over `travdoc-pki` by the
//! composition root.

/// Public parts of the PKI, as published.
pub trait Publication: Send + Sync {
    /// CSCA certificate(s), DER.
    fn csca(&self) -> Vec<Vec<u8>>;
    /// Signer certificates by purpose, DER.
    fn signers(&self) -> Vec<(String, Vec<u8>)>;
    /// The current CRL, DER.
    fn crl(&self) -> Option<Vec<u8>>;
    /// The master list, DER (CMS).
    fn master_list(&self) -> Option<Vec<u8>>;
}

/// Nothing published.
#[derive(Debug, Default)]
pub struct NoPublication;

impl Publication for NoPublication {
    fn csca(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }
    fn signers(&self) -> Vec<(String, Vec<u8>)> {
        Vec::new()
    }
    fn crl(&self) -> Option<Vec<u8>> {
        None
    }
    fn master_list(&self) -> Option<Vec<u8>> {
        None
    }
}
