//! The country PKI against a real SoftHSM2 token in a temporary directory, checked by openssl and
//! by parsing the certificates. Each test runs its body in a child process with a private
//! `SOFTHSM2_CONF`; a missing SoftHSM2 or openssl makes them fail.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use const_oid::ObjectIdentifier;
use der::Tagged;
use der::{Decode, Encode};
use travdoc_hsm::softhsm::{DEFAULT_MODULE, testing};
use travdoc_pki::profile::{
    CscaMasterList, DocumentTypeListSyntax, ID_ICAO_CSCA_MASTER_LIST_SIGNING_KEY,
    ID_ICAO_DOCUMENT_TYPE_LIST, ID_ICAO_VDS_SIGNER,
};
use travdoc_pki::{
    HsmSettings, Pki, PkiConfig, PkiError, PkiEvent, PkiEventKind, PkiEventSink, PkiOptions,
    RevocationReason, SignerKind, SystemClock,
};
use travdoc_pkix::key::SpecifiedEcDomain;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, PrivateKeyUsagePeriod,
};

/// Runs `body(data_dir)` in a child process whose `SOFTHSM2_CONF` is `data_dir/hsm/softhsm2.conf`.
fn isolated(test_name: &str, body: impl FnOnce(PathBuf)) {
    if let Some(home) = testing::child_home() {
        let data_dir = home.root().parent().expect("data dir").to_owned();
        body(data_dir);
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let output = testing::run_isolated(test_name, &dir.path().join("hsm")).expect("spawn child");
    let text = testing::describe(&output);
    assert!(output.status.success(), "child test failed: {text}");
    assert!(
        text.contains("1 passed"),
        "child did not run the test: {text}"
    );
}

/// Options with explicit EC domain parameters (ICAO 9303-12), whatever the default is.
fn explicit_options(data_dir: &Path) -> PkiOptions {
    let mut options = options(data_dir);
    options.pki.ec_parameters = "explicit".to_owned();
    options
}

fn options(data_dir: &Path) -> PkiOptions {
    PkiOptions {
        data_dir: data_dir.to_owned(),
        country: "LKA".to_owned(),
        hsm: HsmSettings {
            module: DEFAULT_MODULE.into(),
            token_label: "travdoc".to_owned(),
            pin_file: None,
            pin_env: None,
        },
        pki: PkiConfig::default(),
        open_csca: true,
        create_tokens: true,
    }
}

#[derive(Default)]
struct Events(Mutex<Vec<PkiEvent>>);

impl PkiEventSink for Events {
    fn record(&self, event: &PkiEvent) {
        self.0.lock().expect("events").push(event.clone());
    }
}

fn openssl(args: &[&str]) -> (bool, String) {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl must be installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn to_pem(der_path: &Path) -> PathBuf {
    let pem = der_path.with_extension("pem");
    let (ok, text) = openssl(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        der_path.to_str().expect("utf8"),
        "-out",
        pem.to_str().expect("utf8"),
    ]);
    assert!(
        ok,
        "openssl x509 conversion of {}: {text}",
        der_path.display()
    );
    pem
}

fn verify_strict(ca_pem: &Path, cert_pem: &Path) {
    let (ok, text) = openssl(&[
        "verify",
        "-x509_strict",
        "-CAfile",
        ca_pem.to_str().expect("utf8"),
        cert_pem.to_str().expect("utf8"),
    ]);
    assert!(
        ok && text.contains(": OK"),
        "openssl verify {}: {text}",
        cert_pem.display()
    );
}

/// OpenSSL's own check of `cert_der`'s signature with the public key of `ca_pem` (which OpenSSL
/// reads with explicit parameters too): `openssl dgst -verify` over the TBSCertificate. Used where
/// `openssl verify` cannot be: OpenSSL 3 refuses explicit EC parameters in any chain of two or
/// more certificates (X509_V_ERR_EC_KEY_EXPLICIT_PARAMS), strict mode or not.
fn verify_signature_with_openssl(ca_pem: &Path, cert_der: &Path) {
    let cert = read_cert(cert_der);
    let dir = cert_der.parent().expect("dir");
    let stem = cert_der.file_stem().expect("stem").to_string_lossy();
    let (ok, public_key) = openssl(&[
        "x509",
        "-in",
        ca_pem.to_str().expect("utf8"),
        "-pubkey",
        "-noout",
    ]);
    assert!(ok, "openssl x509 -pubkey: {public_key}");
    let public_key_path = dir.join(format!("{stem}.issuer-key.pem"));
    std::fs::write(&public_key_path, public_key).expect("write key");
    let tbs_path = dir.join(format!("{stem}.tbs"));
    let tbs = cert.tbs_certificate().to_der().expect("tbs");
    std::fs::write(&tbs_path, &tbs).expect("write tbs");
    let signature_path = dir.join(format!("{stem}.sig"));
    std::fs::write(&signature_path, cert.signature().raw_bytes()).expect("write sig");
    let hash = match cert.signature_algorithm().oid.to_string().as_str() {
        "1.2.840.10045.4.3.2" => "-sha256",
        "1.2.840.10045.4.3.3" => "-sha384",
        other => panic!("unexpected signature algorithm {other}"),
    };
    let dgst = |data: &Path| {
        openssl(&[
            "dgst",
            hash,
            "-verify",
            public_key_path.to_str().expect("utf8"),
            "-signature",
            signature_path.to_str().expect("utf8"),
            data.to_str().expect("utf8"),
        ])
    };
    let (ok, text) = dgst(&tbs_path);
    assert!(
        ok && text.contains("Verified OK"),
        "openssl dgst -verify of {}: {text}",
        cert_der.display()
    );
    // The check can fail: one flipped bit in the TBSCertificate.
    let mut tampered = tbs;
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    std::fs::write(&tbs_path, &tampered).expect("write tbs");
    let (ok, text) = dgst(&tbs_path);
    assert!(!ok, "tampered TBS verified: {text}");
}

/// openssl's own explicit encoding of a named curve (no seed), as an independent reference.
fn openssl_explicit_parameters(curve: &str, dir: &Path) -> SpecifiedEcDomain {
    let out = dir.join(format!("{curve}-explicit.der"));
    let (ok, text) = openssl(&[
        "ecparam",
        "-name",
        curve,
        "-param_enc",
        "explicit",
        "-no_seed",
        "-conv_form",
        "uncompressed",
        "-outform",
        "DER",
        "-out",
        out.to_str().expect("utf8"),
    ]);
    assert!(ok, "openssl ecparam {curve}: {text}");
    SpecifiedEcDomain::from_der(&std::fs::read(&out).expect("ecparam output"))
        .expect("openssl ECParameters decode")
}

fn sha1(bytes: &[u8]) -> Vec<u8> {
    use sha1::Digest;
    sha1::Sha1::digest(bytes).to_vec()
}

fn subject_key_identifier(cert: &Certificate) -> Option<Vec<u8>> {
    cert.tbs_certificate()
        .extensions()
        .and_then(|extensions| extensions.iter().find(|e| e.extn_id == SKI))
        .map(|extension| {
            x509_cert::ext::pkix::SubjectKeyIdentifier::from_der(extension.extn_value.as_bytes())
                .expect("SKI")
                .0
                .as_bytes()
                .to_vec()
        })
}

/// The certificate's SPKI carries explicit parameters equal to openssl's for `curve`: version 1,
/// prime field with p, a, b, uncompressed G, n and cofactor h; `openssl x509 -text` shows a
/// prime field; the key identifier is SHA-1 of the key bits (as with a named curve).
fn assert_explicit_parameters(cert_der: &Path, curve: &str, reference: &SpecifiedEcDomain) {
    let cert = read_cert(cert_der);
    let spki = cert.tbs_certificate().subject_public_key_info();
    let parameters = spki.algorithm.parameters.as_ref().expect("EC parameters");
    assert_eq!(
        parameters.tag(),
        der::Tag::Sequence,
        "{}: parameters are not a SEQUENCE",
        cert_der.display()
    );
    let ours = SpecifiedEcDomain::from_der(&parameters.to_der().expect("der")).expect("decode");
    assert_eq!(
        &ours,
        reference,
        "{} vs openssl {curve}",
        cert_der.display()
    );
    assert_eq!(ours.version.as_bytes(), [1]);
    assert_eq!(
        ours.cofactor.as_ref().map(|h| h.as_bytes().to_vec()),
        Some(vec![1])
    );
    assert_eq!(ours.base.as_bytes()[0], 0x04, "uncompressed base point");
    assert_eq!(
        spki.subject_public_key.raw_bytes()[0],
        0x04,
        "uncompressed public key"
    );
    let (ok, text) = openssl(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        cert_der.to_str().expect("utf8"),
        "-noout",
        "-text",
    ]);
    assert!(
        ok && text.contains("Field Type: prime-field") && !text.contains("ASN1 OID:"),
        "openssl x509 -text of {}: {text}",
        cert_der.display()
    );
    if let Some(ski) = subject_key_identifier(&cert) {
        assert_eq!(ski, sha1(spki.subject_public_key.raw_bytes()));
    }
}

/// OpenSSL 3 `verify` refuses explicit parameters in a chain (with or without -x509_strict):
/// documents the foreign-verifier risk that the `named` option exists for.
fn assert_openssl_verify_refuses_explicit(ca_pem: &Path, cert_pem: &Path) {
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        ca_pem.to_str().expect("utf8"),
        cert_pem.to_str().expect("utf8"),
    ]);
    assert!(
        !ok && text.contains("explicit ECC parameters"),
        "expected OpenSSL to refuse explicit parameters: {text}"
    );
}

/// Every exported certificate chains in travdoc's own verifier (travdoc_pkix), with explicit or
/// named parameters, and the master list verifies against the CSCA.
fn assert_pkix_chains(export: &Path) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let csca_der = std::fs::read(export.join("csca.der")).expect("csca");
    let mut trust = travdoc_pkix::TrustStore::new();
    trust
        .add_csca_der(&csca_der)
        .expect("csca into trust store");
    for kind in SignerKind::ALL {
        let cert = read_cert(&export.join(format!("signer-{kind}.der")));
        trust
            .chain(&cert, now)
            .unwrap_or_else(|error| panic!("{kind} does not chain: {error:?}"));
    }
    let mut from_list = travdoc_pkix::TrustStore::new();
    from_list.add_csca_der(&csca_der).expect("csca");
    let mut master_list = std::fs::read(export.join("masterlist.der")).expect("ml");
    from_list
        .add_verified_master_list(&master_list, now)
        .expect("master list verifies");
    // The signature over the signed attributes is checked with the signer's key.
    let last = master_list.len() - 1;
    master_list[last] ^= 0x01;
    assert!(
        from_list
            .add_verified_master_list(&master_list, now)
            .is_err()
    );
}

fn verify_crl(ca_pem: &Path, crl: &Path) {
    let (ok, text) = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        crl.to_str().expect("utf8"),
        "-CAfile",
        ca_pem.to_str().expect("utf8"),
        "-verify",
        "-noout",
    ]);
    assert!(
        ok && text.contains("verify OK"),
        "openssl crl -verify: {text}"
    );
}

/// `openssl cms -verify` of a master list. With `chain` false the signer certificate is not
/// chained (`-noverify`; OpenSSL 3 refuses explicit EC parameters in chains), only the signature
/// over the signed attributes is checked, with the signer's explicit-parameter key.
fn verify_master_list(ca_pem: &Path, master_list: &Path, chain: bool) -> Vec<u8> {
    let out = master_list.with_extension("content");
    let mut args = vec![
        "cms",
        "-verify",
        "-inform",
        "DER",
        "-in",
        master_list.to_str().expect("utf8"),
        "-CAfile",
        ca_pem.to_str().expect("utf8"),
        "-binary",
        "-purpose",
        "any",
        "-out",
        out.to_str().expect("utf8"),
    ];
    if !chain {
        args.push("-noverify");
    }
    let (ok, text) = openssl(&args);
    assert!(
        ok && text.contains("Verification successful"),
        "openssl cms -verify: {text}"
    );
    std::fs::read(out).expect("content")
}

fn read_cert(path: &Path) -> Certificate {
    Certificate::from_der(&std::fs::read(path).expect("read cert")).expect("parse cert")
}

fn extension_oids(cert: &Certificate) -> Vec<(ObjectIdentifier, bool)> {
    cert.tbs_certificate()
        .extensions()
        .map(|extensions| extensions.iter().map(|e| (e.extn_id, e.critical)).collect())
        .unwrap_or_default()
}

fn extension(cert: &Certificate, oid: ObjectIdentifier) -> &x509_cert::ext::Extension {
    cert.tbs_certificate()
        .extensions()
        .and_then(|extensions| extensions.iter().find(|e| e.extn_id == oid))
        .unwrap_or_else(|| panic!("extension {oid} missing"))
}

use const_oid::AssociatedOid;
const AKI: ObjectIdentifier = x509_cert::ext::pkix::AuthorityKeyIdentifier::OID;
const SKI: ObjectIdentifier = x509_cert::ext::pkix::SubjectKeyIdentifier::OID;
const SAN: ObjectIdentifier = x509_cert::ext::pkix::SubjectAltName::OID;
const IAN: ObjectIdentifier = x509_cert::ext::pkix::IssuerAltName::OID;
const CRLDP: ObjectIdentifier = x509_cert::ext::pkix::CrlDistributionPoints::OID;

#[test]
fn pki_lifecycle_verifies_with_openssl() {
    isolated("pki_lifecycle_verifies_with_openssl", |data_dir| {
        let events = Arc::new(Events::default());
        let pki = Pki::open_with(
            &explicit_options(&data_dir),
            Arc::new(SystemClock),
            events.clone(),
        )
        .expect("open");
        let report = pki.init().expect("init");
        let roles: Vec<&str> = report
            .created
            .iter()
            .map(|(role, _, _)| role.as_str())
            .collect();
        assert_eq!(
            roles,
            [
                "csca",
                "passport",
                "ttd",
                "legalization",
                "master-list",
                "ledger"
            ]
        );
        assert!(report.crl_issued && report.master_list_issued);

        // Idempotent: a second init, and a fresh open of the same data dir, change nothing.
        let state_before = std::fs::read(data_dir.join("pki/state.json")).expect("state");
        assert!(pki.init().expect("second init").created.is_empty());
        drop(pki);
        let pki = Pki::open_with(
            &explicit_options(&data_dir),
            Arc::new(SystemClock),
            events.clone(),
        )
        .expect("reopen");
        let report = pki.init().expect("third init");
        assert!(report.created.is_empty() && !report.crl_issued && !report.master_list_issued);
        assert_eq!(
            std::fs::read(data_dir.join("pki/state.json")).expect("state"),
            state_before
        );

        let export = data_dir.join("export");
        let written = pki.export(&export).expect("export");
        assert!(written.iter().any(|path| path.ends_with("masterlist.der")));
        let csca_pem = to_pem(&export.join("csca.der"));
        // Default: explicit P-256 domain parameters in the CSCA and every signer (ICAO 9303-12).
        let p256 = openssl_explicit_parameters("prime256v1", &data_dir);
        assert_explicit_parameters(&export.join("csca.der"), "prime256v1", &p256);
        for kind in SignerKind::ALL {
            let der_path = export.join(format!("signer-{kind}.der"));
            assert_explicit_parameters(&der_path, "prime256v1", &p256);
            verify_signature_with_openssl(&csca_pem, &der_path);
        }
        assert_openssl_verify_refuses_explicit(
            &csca_pem,
            &to_pem(&export.join(format!("signer-{}.der", SignerKind::Passport))),
        );
        assert_pkix_chains(&export);
        verify_crl(&csca_pem, &export.join("crl.der"));
        let content = verify_master_list(&csca_pem, &export.join("masterlist.der"), false);
        let list = CscaMasterList::from_der(&content).expect("CscaMasterList");
        assert_eq!(list.version, 0);
        assert_eq!(list.cert_list.len(), 1);
        let csca_der = std::fs::read(export.join("csca.der")).expect("csca");
        assert_eq!(
            list.cert_list
                .iter()
                .next()
                .expect("cert")
                .to_der()
                .expect("der"),
            csca_der
        );
        let (_, printed) = openssl(&[
            "cms",
            "-cmsout",
            "-print",
            "-inform",
            "DER",
            "-in",
            export.join("masterlist.der").to_str().expect("utf8"),
        ]);
        assert!(
            printed.contains("signingTime"),
            "master list lacks signingTime: {printed}"
        );
        assert!(
            printed.contains("2.23.136.1.1.2"),
            "wrong eContentType: {printed}"
        );

        // Signing through the PKI signer works and chains.
        let passport = pki.signer(SignerKind::Passport).expect("passport signer");
        let signature = passport.signer.sign_message_der(b"SOD").expect("sign");
        assert!(signature.len() > 64);

        // Revocation: reason in our store, CRL entry without extensions, the kind needs a new signer.
        pki.revoke(&passport.serial_hex, RevocationReason::KeyCompromise)
            .expect("revoke");
        let error = pki
            .revoke(&passport.serial_hex, RevocationReason::Superseded)
            .expect_err("twice");
        assert!(matches!(error, PkiError::AlreadyRevoked { .. }), "{error}");
        assert!(matches!(
            pki.signer(SignerKind::Passport),
            Err(PkiError::NoSigner { .. })
        ));
        let crl_der = pki.crl().expect("crl");
        let crl =
            x509_cert::crl::CertificateList::<x509_cert::certificate::Rfc5280>::from_der(&crl_der)
                .expect("parse crl");
        let revoked = crl
            .tbs_cert_list
            .revoked_certificates
            .as_ref()
            .expect("revoked list");
        assert_eq!(revoked.len(), 1);
        assert_eq!(
            hex::encode_upper(revoked[0].serial_number.as_bytes()).trim_start_matches('0'),
            passport.serial_hex
        );
        assert!(revoked[0].crl_entry_extensions.is_none());
        let crl_path = data_dir.join("revoked-crl.der");
        std::fs::write(&crl_path, &crl_der).expect("write crl");
        verify_crl(&csca_pem, &crl_path);
        let (_, text) = openssl(&[
            "crl",
            "-inform",
            "DER",
            "-in",
            crl_path.to_str().expect("utf8"),
            "-noout",
            "-text",
        ]);
        assert!(
            text.contains("X509v3 CRL Number") && text.contains("Authority Key Identifier"),
            "{text}"
        );
        assert!(
            !text.contains("Reason Code"),
            "CRL must not carry reason codes: {text}"
        );
        let status = pki.status().expect("status");
        let entry = status
            .entries
            .iter()
            .find(|e| e.serial_hex == passport.serial_hex)
            .expect("entry");
        assert_eq!(
            entry.revocation.as_ref().map(|r| r.reason),
            Some(RevocationReason::KeyCompromise)
        );
        assert!(
            status.warnings.iter().any(|w| w.contains("passport")),
            "{:?}",
            status.warnings
        );
        let replacement = pki
            .issue_signer(SignerKind::Passport)
            .expect("new passport signer");
        assert_ne!(replacement.serial_hex, passport.serial_hex);

        // Rollover: link certificate chains old to new; new signers chain to the new CSCA.
        let old_csca_pem = data_dir.join("old-csca.pem");
        std::fs::copy(&csca_pem, &old_csca_pem).expect("keep old csca");
        assert_eq!(pki.rollover().expect("rollover"), 2);
        let ttd = pki
            .issue_signer(SignerKind::Ttd)
            .expect("ttd after rollover");
        let export2 = data_dir.join("export2");
        pki.export(&export2).expect("export 2");
        let new_csca_pem = to_pem(&export2.join("csca.der"));
        let link_pem = to_pem(&export2.join("link-g2.der"));
        verify_signature_with_openssl(&old_csca_pem, &export2.join("link-g2.der"));
        assert_openssl_verify_refuses_explicit(&old_csca_pem, &link_pem);
        assert_explicit_parameters(&export2.join("link-g2.der"), "prime256v1", &p256);
        assert_explicit_parameters(&export2.join("csca.der"), "prime256v1", &p256);
        let link = read_cert(&export2.join("link-g2.der"));
        let new_csca = read_cert(&export2.join("csca.der"));
        assert_eq!(
            link.tbs_certificate().subject_public_key_info(),
            new_csca.tbs_certificate().subject_public_key_info()
        );
        let ttd_path = export2.join("signer-ttd.der");
        assert_eq!(std::fs::read(&ttd_path).expect("ttd"), ttd.certificate_der);
        assert_explicit_parameters(&ttd_path, "prime256v1", &p256);
        verify_signature_with_openssl(&new_csca_pem, &ttd_path);
        verify_crl(&new_csca_pem, &export2.join("crl.der"));
        let content = verify_master_list(&new_csca_pem, &export2.join("masterlist.der"), false);
        assert_eq!(
            CscaMasterList::from_der(&content)
                .expect("list")
                .cert_list
                .len(),
            3
        );

        let kinds: Vec<PkiEventKind> = events
            .0
            .lock()
            .expect("events")
            .iter()
            .map(|e| e.kind.clone())
            .collect();
        assert!(kinds.contains(&PkiEventKind::Revoked {
            reason: RevocationReason::KeyCompromise
        }));
        let cscas: Vec<&str> = {
            // The fingerprints of the two CSCAs, in order of creation.
            let events = events.0.lock().expect("events");
            let created: Vec<String> = events
                .iter()
                .filter(|e| matches!(e.kind, PkiEventKind::CscaCreated { .. }))
                .map(|e| e.fingerprint_sha256.clone())
                .collect();
            assert_eq!(created.len(), 2);
            kinds
                .iter()
                .filter_map(|k| match k {
                    PkiEventKind::LinkCertificateIssued {
                        from_generation: 1,
                        to_generation: 2,
                        old_csca_sha256,
                        new_csca_sha256,
                    } if *old_csca_sha256 == created[0] && *new_csca_sha256 == created[1] => {
                        Some("link")
                    }
                    _ => None,
                })
                .collect()
        };
        assert_eq!(cscas, vec!["link"], "one link g1->g2 naming both CSCAs");
        assert_eq!(
            kinds
                .iter()
                .filter(|k| matches!(k, PkiEventKind::CscaCreated { .. }))
                .count(),
            2
        );
        for event in events.0.lock().expect("events").iter() {
            assert_eq!(event.fingerprint_sha256.len(), 64);
        }
    });
}

#[test]
fn profiles_carry_the_icao_extensions() {
    isolated("profiles_carry_the_icao_extensions", |data_dir| {
        let pki = Pki::open_or_init(&options(&data_dir)).expect("open");
        let csca = pki.csca().expect("csca");
        let tbs = csca.tbs_certificate();
        assert_eq!(tbs.issuer(), tbs.subject());
        assert_eq!(
            tbs.subject().country().expect("c").map(|c| c.to_string()),
            Some("LK".to_owned())
        );
        let organization = tbs.subject().organization().expect("o").map(String::from);
        assert_eq!(organization.as_deref(), Some("travdoc TEST"));
        let common_name = tbs
            .subject()
            .common_name()
            .expect("cn")
            .map(String::from)
            .expect("cn");
        assert!(common_name.contains("TEST CSCA"), "{common_name}");
        let oids = extension_oids(&csca);
        for (oid, critical) in [
            (AKI, false),
            (SKI, false),
            (KeyUsage::OID, true),
            (PrivateKeyUsagePeriod::OID, false),
            (SAN, false),
            (IAN, false),
            (BasicConstraints::OID, true),
            (CRLDP, false),
        ] {
            assert!(
                oids.contains(&(oid, critical)),
                "CSCA lacks {oid} critical={critical}: {oids:?}"
            );
        }
        assert!(!oids.iter().any(|(oid, _)| *oid == ExtendedKeyUsage::OID));
        let usage =
            KeyUsage::from_der(extension(&csca, KeyUsage::OID).extn_value.as_bytes()).expect("ku");
        assert_eq!(usage.0, KeyUsages::KeyCertSign | KeyUsages::CRLSign);
        let constraints = BasicConstraints::from_der(
            extension(&csca, BasicConstraints::OID)
                .extn_value
                .as_bytes(),
        )
        .expect("bc");
        assert!(constraints.ca);
        assert_eq!(constraints.path_len_constraint, Some(0));
        let san = extension(&csca, SAN).extn_value.as_bytes().to_vec();
        assert!(san.windows(3).any(|w| w == b"LKA"), "SAN lacks L=LKA");
        let crl_dp = extension(&csca, CRLDP).extn_value.as_bytes().to_vec();
        assert!(
            crl_dp.windows(7).any(|w| w == b"LKA.crl"),
            "CRL DP lacks the URL"
        );
        let period = PrivateKeyUsagePeriod::from_der(
            extension(&csca, PrivateKeyUsagePeriod::OID)
                .extn_value
                .as_bytes(),
        )
        .expect("pkup");
        let pkup_years = period.not_after.expect("pkup end").to_date_time().year()
            - period.not_before.expect("pkup start").to_date_time().year();
        assert_eq!(pkup_years, 5);
        let validity = tbs.validity();
        let years =
            validity.not_after.to_date_time().year() - validity.not_before.to_date_time().year();
        assert!(years == 15 || years == 16, "CSCA validity {years} years");

        let passport = pki.signer(SignerKind::Passport).expect("passport");
        let oids = extension_oids(&passport.certificate);
        for (oid, critical) in [
            (AKI, false),
            (KeyUsage::OID, true),
            (PrivateKeyUsagePeriod::OID, false),
            (SAN, false),
            (IAN, false),
            (CRLDP, false),
            (ID_ICAO_DOCUMENT_TYPE_LIST, false),
        ] {
            assert!(
                oids.contains(&(oid, critical)),
                "DS lacks {oid} critical={critical}: {oids:?}"
            );
        }
        assert!(!oids.iter().any(|(oid, _)| *oid == BasicConstraints::OID));
        let usage = KeyUsage::from_der(
            extension(&passport.certificate, KeyUsage::OID)
                .extn_value
                .as_bytes(),
        )
        .expect("ku");
        assert!(usage.digital_signature() && !usage.key_cert_sign());
        let list = DocumentTypeListSyntax::from_der(
            extension(&passport.certificate, ID_ICAO_DOCUMENT_TYPE_LIST)
                .extn_value
                .as_bytes(),
        )
        .expect("doc types");
        let mut codes: Vec<String> = list.doc_type_list.iter().map(|c| c.to_string()).collect();
        codes.sort();
        assert_eq!(codes, ["P", "PP"]);
        assert_eq!(
            passport.certificate.tbs_certificate().issuer(),
            tbs.subject()
        );

        let ttd = pki.signer(SignerKind::Ttd).expect("ttd");
        let subject = ttd.certificate.tbs_certificate().subject();
        assert_eq!(subject.len(), 2, "bar-code signer subject is C + CN only");
        assert_eq!(subject.to_string().len(), "C=LK,CN=TD".len());
        assert_eq!(ttd.vds_signer_identifier().as_deref(), Some("LKTD"));
        let oids = extension_oids(&ttd.certificate);
        assert_eq!(
            oids,
            [
                (AKI, false),
                (ID_ICAO_DOCUMENT_TYPE_LIST, false),
                (ExtendedKeyUsage::OID, true)
            ]
        );
        let usage = ExtendedKeyUsage::from_der(
            extension(&ttd.certificate, ExtendedKeyUsage::OID)
                .extn_value
                .as_bytes(),
        )
        .expect("eku");
        assert_eq!(usage.0, [ID_ICAO_VDS_SIGNER]);
        let list = DocumentTypeListSyntax::from_der(
            extension(&ttd.certificate, ID_ICAO_DOCUMENT_TYPE_LIST)
                .extn_value
                .as_bytes(),
        )
        .expect("doc types");
        assert_eq!(
            list.doc_type_list
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>(),
            ["PU"]
        );
        let serial = ttd.certificate.tbs_certificate().serial_number().as_bytes();
        assert_eq!(
            hex::encode_upper(serial).trim_start_matches('0'),
            ttd.serial_hex
        );

        let legalization = pki.signer(SignerKind::Legalization).expect("legalization");
        assert_eq!(
            legalization.vds_signer_identifier().as_deref(),
            Some("LKLG")
        );
        assert_eq!(
            extension_oids(&legalization.certificate),
            [(AKI, false), (ExtendedKeyUsage::OID, true)]
        );

        let master_list = pki.signer(SignerKind::MasterList).expect("ml signer");
        let usage = ExtendedKeyUsage::from_der(
            extension(&master_list.certificate, ExtendedKeyUsage::OID)
                .extn_value
                .as_bytes(),
        )
        .expect("eku");
        assert_eq!(usage.0, [ID_ICAO_CSCA_MASTER_LIST_SIGNING_KEY]);
        assert!(extension_oids(&master_list.certificate).contains(&(ExtendedKeyUsage::OID, true)));
        assert!(extension_oids(&master_list.certificate).contains(&(SKI, false)));

        let ledger = pki.signer(SignerKind::Ledger).expect("ledger");
        assert!(extension_oids(&ledger.certificate).contains(&(KeyUsage::OID, true)));
        assert!(
            !extension_oids(&ledger.certificate)
                .iter()
                .any(|(oid, _)| *oid == ExtendedKeyUsage::OID)
        );
    });
}

#[test]
fn brainpool_certificates_carry_explicit_parameters() {
    isolated(
        "brainpool_certificates_carry_explicit_parameters",
        |data_dir| {
            let mut options = explicit_options(&data_dir);
            options.pki.key_algorithm = "ec-brainpoolP256r1".to_owned();
            let pki = Pki::open_or_init(&options).expect("brainpoolP256r1 PKI on SoftHSM2");
            let export = data_dir.join("export");
            pki.export(&export).expect("export");
            let reference = openssl_explicit_parameters("brainpoolP256r1", &data_dir);
            assert_explicit_parameters(&export.join("csca.der"), "brainpoolP256r1", &reference);
            let csca_pem = to_pem(&export.join("csca.der"));
            for kind in SignerKind::ALL {
                let der_path = export.join(format!("signer-{kind}.der"));
                assert_explicit_parameters(&der_path, "brainpoolP256r1", &reference);
                verify_signature_with_openssl(&csca_pem, &der_path);
                // The key bits are the token's: AKI/SKI and CMS sid stay SHA-1 of them.
                let issued = pki.signer(kind).expect("signer");
                let token_spki = issued.signer.public_key().spki().expect("token spki");
                assert_eq!(
                    issued
                        .certificate
                        .tbs_certificate()
                        .subject_public_key_info()
                        .subject_public_key,
                    token_spki.subject_public_key
                );
            }
            verify_crl(&csca_pem, &export.join("crl.der"));
            verify_master_list(&csca_pem, &export.join("masterlist.der"), false);
            assert_pkix_chains(&export);
        },
    );
}

#[test]
fn named_option_writes_the_curve_oid_and_old_named_pkis_keep_verifying() {
    isolated(
        "named_option_writes_the_curve_oid_and_old_named_pkis_keep_verifying",
        |data_dir| {
            let mut named = options(&data_dir);
            named.pki.ec_parameters = "named".to_owned();
            let pki = Pki::open_or_init(&named).expect("named PKI");
            let export = data_dir.join("export");
            pki.export(&export).expect("export");
            let csca_pem = to_pem(&export.join("csca.der"));
            let p256_oid =
                der::Any::encode_from(&ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7"))
                    .expect("oid");
            let mut paths = vec![export.join("csca.der")];
            paths.extend(SignerKind::ALL.map(|kind| export.join(format!("signer-{kind}.der"))));
            for path in &paths {
                let cert = read_cert(path);
                let spki = cert.tbs_certificate().subject_public_key_info();
                assert_eq!(
                    spki.algorithm.parameters.as_ref(),
                    Some(&p256_oid),
                    "{}",
                    path.display()
                );
                let (ok, text) = openssl(&[
                    "x509",
                    "-inform",
                    "DER",
                    "-in",
                    path.to_str().expect("utf8"),
                    "-noout",
                    "-text",
                ]);
                assert!(
                    ok && text.contains("ASN1 OID: prime256v1") && !text.contains("Field Type"),
                    "{text}"
                );
                if let Some(ski) = subject_key_identifier(&cert) {
                    assert_eq!(ski, sha1(spki.subject_public_key.raw_bytes()));
                }
            }
            for path in &paths[1..] {
                verify_strict(&csca_pem, &to_pem(path));
            }
            verify_master_list(&csca_pem, &export.join("masterlist.der"), true);
            assert_pkix_chains(&export);
            drop(pki);

            // The same data dir opened with explicit parameters: the named CSCA still issues,
            // and the new explicit-parameter signer chains to it.
            let pki = Pki::open_or_init(&explicit_options(&data_dir)).expect("reopen explicit");
            let passport = pki.issue_signer(SignerKind::Passport).expect("new signer");
            let passport_path = data_dir.join("mixed-passport.der");
            std::fs::write(&passport_path, &passport.certificate_der).expect("write");
            let p256 = openssl_explicit_parameters("prime256v1", &data_dir);
            assert_explicit_parameters(&passport_path, "prime256v1", &p256);
            verify_signature_with_openssl(&csca_pem, &passport_path);
            let export2 = data_dir.join("export2");
            pki.export(&export2).expect("export 2");
            assert_pkix_chains(&export2);
            verify_master_list(&csca_pem, &export2.join("masterlist.der"), true);
        },
    );
}

#[test]
fn unknown_ec_parameters_value_names_the_field() {
    let mut options = options(Path::new("/nonexistent"));
    options.pki.ec_parameters = "namedCurve".to_owned();
    match Pki::open_with(
        &options,
        Arc::new(SystemClock),
        Arc::new(travdoc_pki::NoEvents),
    ) {
        Err(PkiError::Config { field, message }) => {
            assert_eq!(field, "pki.ec_parameters");
            assert!(message.contains("namedCurve"), "{message}");
        }
        Err(other) => panic!("expected a config error, got {other}"),
        Ok(_) => panic!("an unknown ec_parameters value was accepted"),
    }
}

#[test]
fn deleted_signer_key_is_reported() {
    isolated("deleted_signer_key_is_reported", |data_dir| {
        let pki = Pki::open_or_init(&options(&data_dir)).expect("open");
        let ledger = pki.signer(SignerKind::Ledger).expect("ledger");
        pki.hsm()
            .destroy_key(ledger.signer.key_ref())
            .expect("destroy");
        drop(pki);
        let pki = Pki::open_with(
            &options(&data_dir),
            Arc::new(SystemClock),
            Arc::new(travdoc_pki::NoEvents),
        )
        .expect("reopen");
        let error = pki.signer(SignerKind::Ledger).expect_err("key gone");
        assert!(
            matches!(
                error,
                PkiError::Hsm(travdoc_hsm::HsmError::KeyNotFound { .. })
            ),
            "{error}"
        );
        let status = pki.status().expect("status");
        let entry = status
            .entries
            .iter()
            .find(|e| e.role == "ledger")
            .expect("ledger entry");
        assert_eq!(entry.key_present, Some(false));
        assert!(entry.warnings.iter().any(|w| w.contains("not found")));
    });
}

#[test]
fn unknown_country_is_refused() {
    let mut options = options(Path::new("/nonexistent"));
    options.country = "XXX".to_owned();
    let error = Pki::open_with(
        &options,
        Arc::new(SystemClock),
        Arc::new(travdoc_pki::NoEvents),
    )
    .expect_err("country");
    assert!(matches!(error, PkiError::UnknownCountry(_)), "{error}");
}

/// A clock the test moves.
struct TestClock(Mutex<std::time::SystemTime>);

impl travdoc_pki::Clock for TestClock {
    fn now(&self) -> std::time::SystemTime {
        *self.0.lock().expect("clock")
    }
}

impl TestClock {
    fn set(&self, at: std::time::SystemTime) {
        *self.0.lock().expect("clock") = at;
    }
}

#[test]
fn renewal_issues_crls_and_successors_ahead_of_time() {
    isolated(
        "renewal_issues_crls_and_successors_ahead_of_time",
        |data_dir| {
            const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);
            let start = std::time::SystemTime::now();
            let clock = Arc::new(TestClock(Mutex::new(start)));
            let events = Arc::new(Events::default());
            let pki =
                Pki::open_with(&options(&data_dir), clock.clone(), events.clone()).expect("open");
            pki.init().expect("init");
            let first_passport = pki.signer(SignerKind::Passport).expect("ds").serial_hex;
            let first_ttd = pki.signer(SignerKind::Ttd).expect("ttd").serial_hex;
            let crl_number = |der: &[u8]| {
                let crl: x509_cert::crl::CertificateList =
                    x509_cert::crl::CertificateList::from_der(der).expect("crl");
                let this_update = crl.tbs_cert_list.this_update.to_unix_duration();
                (crl.tbs_cert_list.crl_extensions.is_some(), this_update)
            };
            assert!(
                pki.renew().expect("renew").is_empty(),
                "nothing due at once"
            );

            // The CRL lives 90 days and is renewed 30 days ahead: not at day 59, at day 61.
            clock.set(start + 59 * DAY);
            assert!(
                pki.renew().expect("renew").is_empty(),
                "nothing due at day 59"
            );
            clock.set(start + 61 * DAY);
            let report = pki.renew().expect("renew");
            assert_eq!(report.crls.len(), 1, "{report:?}");
            assert!(report.signers.is_empty(), "{report:?}");
            let (_, this_update) = crl_number(&pki.crl().expect("crl"));
            let at_61 = (start + 61 * DAY)
                .duration_since(std::time::UNIX_EPOCH)
                .expect("time");
            assert_eq!(
                this_update.as_secs(),
                at_61.as_secs(),
                "the fresh CRL is dated now"
            );
            assert!(pki.renew().expect("renew").is_empty(), "done once");

            // The Document Signer's key-usage period (3 months) ends within 14 days at day 80: a
            // successor becomes current, the old one stays valid (retired), the TTD signer stays.
            clock.set(start + 80 * DAY);
            let report = pki.renew().expect("renew");
            assert_eq!(report.signers.len(), 1, "{report:?}");
            assert_eq!(report.signers[0].0, SignerKind::Passport);
            let current = pki.signer(SignerKind::Passport).expect("ds");
            assert_ne!(current.serial_hex, first_passport);
            assert_eq!(current.serial_hex, report.signers[0].1);
            assert_eq!(
                pki.signer(SignerKind::Ttd).expect("ttd").serial_hex,
                first_ttd
            );
            let certificates = pki.certificates().expect("certificates");
            let state_of = |serial: &str| {
                certificates
                    .iter()
                    .find(|certificate| certificate.serial_hex == serial)
                    .map(|certificate| certificate.state.as_str())
            };
            assert_eq!(state_of(&first_passport), Some("retired"));
            assert_eq!(state_of(&current.serial_hex), Some("current"));
            assert!(pki.renew().expect("renew").is_empty(), "done once");
            // Each renewal was ledgered: a CRL, then a key and a certificate.
            let kinds: Vec<String> = events
                .0
                .lock()
                .expect("events")
                .iter()
                .map(|event| format!("{:?}", event.kind))
                .collect();
            assert!(
                kinds
                    .iter()
                    .filter(|kind| kind.starts_with("CrlIssued"))
                    .count()
                    >= 2,
                "{kinds:?}"
            );
            // Deadlines name the next CRL update and each key-usage end.
            let deadlines = pki.deadlines().expect("deadlines");
            assert!(
                deadlines.iter().any(|(what, _)| what == "crl:g1"),
                "{deadlines:?}"
            );
            assert!(
                deadlines
                    .iter()
                    .any(|(what, _)| what == "key_usage:passport"),
                "{deadlines:?}"
            );
        },
    );
}
