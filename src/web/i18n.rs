//! The one translation table of the public verification page: English, Sinhala and Tamil.
//!
//! Every key has a text in all three languages (a test checks it). Reason codes of the verifier
//! (ICAO 9303-13 App. D sub-indications and our own checks) are keys too, prefixed `reason.`,
//! so that a verdict is explained in plain language.

use std::collections::BTreeMap;

/// A language of the public page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Si,
    Ta,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Si, Lang::Ta];

    /// `en`, `si` or `ta`; anything else is English.
    pub fn parse(code: Option<&str>) -> Lang {
        match code.map(str::trim) {
            Some("si") => Lang::Si,
            Some("ta") => Lang::Ta,
            _ => Lang::En,
        }
    }

    /// The BCP 47 code (for `<html lang>`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Si => "si",
            Lang::Ta => "ta",
        }
    }

    /// The language's own name (for the switcher).
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Si => "සිංහල",
            Lang::Ta => "தமிழ்",
        }
    }

    fn column(self, row: &Row) -> &'static str {
        match self {
            Lang::En => row.1,
            Lang::Si => row.2,
            Lang::Ta => row.3,
        }
    }
}

/// (key, English, Sinhala, Tamil).
type Row = (&'static str, &'static str, &'static str, &'static str);

const TABLE: &[Row] = &[
    // Page furniture.
    (
        "site.name",
        "Travel document verification",
        "ගමන් ලේඛන සත්‍යාපනය",
        "பயண ஆவண சரிபார்ப்பு",
    ),
    (
        "skip",
        "Skip to the main content",
        "ප්‍රධාන අන්තර්ගතයට යන්න",
        "முதன்மை உள்ளடக்கத்துக்குச் செல்லவும்",
    ),
    ("lang.label", "Language", "භාෂාව", "மொழி"),
    (
        "verify.title",
        "Verify a travel document or a legalization certificate",
        "ගමන් ලේඛනයක් හෝ සහතික කිරීමේ සහතිකයක් සත්‍යාපනය කරන්න",
        "பயண ஆவணம் அல்லது சட்டமாக்கல் சான்றிதழைச் சரிபார்க்கவும்",
    ),
    (
        "verify.intro",
        "Paste the text of the seal or QR code, or upload a photo or scan of the barcode. Nothing you upload is stored.",
        "මුද්‍රාවේ හෝ QR කේතයේ පෙළ අලවන්න, නැතහොත් තීරු කේතයේ ඡායාරූපයක් හෝ ස්කෑන් එකක් උඩුගත කරන්න. ඔබ උඩුගත කරන කිසිවක් ගබඩා නොකෙරේ.",
        "முத்திரை அல்லது QR குறியீட்டின் உரையை ஒட்டவும், அல்லது பட்டைக் குறியீட்டின் புகைப்படம் அல்லது வருடலைப் பதிவேற்றவும். நீங்கள் பதிவேற்றுவது எதுவும் சேமிக்கப்படாது.",
    ),
    (
        "verify.text",
        "Seal or QR code text",
        "මුද්‍රාවේ හෝ QR කේතයේ පෙළ",
        "முத்திரை அல்லது QR குறியீட்டு உரை",
    ),
    (
        "verify.text.hint",
        "The link printed under the QR code, or the seal data.",
        "QR කේතය යටතේ මුද්‍රිත සබැඳිය, නැතහොත් මුද්‍රා දත්ත.",
        "QR குறியீட்டின் கீழ் அச்சிடப்பட்ட இணைப்பு, அல்லது முத்திரைத் தரவு.",
    ),
    (
        "verify.image",
        "Photo or scan of the barcode (PNG or JPEG)",
        "තීරු කේතයේ ඡායාරූපය හෝ ස්කෑන් එක (PNG හෝ JPEG)",
        "பட்டைக் குறியீட்டின் புகைப்படம் அல்லது வருடல் (PNG அல்லது JPEG)",
    ),
    (
        "verify.document",
        "The legalized document (optional, to check it is the one certified)",
        "සහතික කළ ලේඛනය (විකල්ප, සහතික කළ ලේඛනයම දැයි පරීක්ෂා කිරීමට)",
        "சட்டமாக்கப்பட்ட ஆவணம் (விருப்பத்தேர்வு, சான்றளிக்கப்பட்டதுதானா எனச் சரிபார்க்க)",
    ),
    (
        "verify.printed_mrz",
        "The two MRZ lines printed on a temporary travel document (optional, to check they match the seal)",
        "තාවකාලික ගමන් ලේඛනයක මුද්‍රිත MRZ පේළි දෙක (විකල්ප, මුද්‍රාවට ගැළපේදැයි පරීක්ෂා කිරීමට)",
        "தற்காலிகப் பயண ஆவணத்தில் அச்சிடப்பட்ட இரண்டு MRZ வரிகள் (விருப்பத்தேர்வு, முத்திரையுடன் பொருந்துகிறதா எனச் சரிபார்க்க)",
    ),
    (
        "verify.chip",
        "A passport chip: EF.SOD and data groups",
        "ගමන් බලපත්‍ර චිපයක්: EF.SOD සහ දත්ත කාණ්ඩ",
        "கடவுச்சீட்டுச் சில்லு: EF.SOD மற்றும் தரவுக் குழுக்கள்",
    ),
    (
        "verify.sod",
        "EF.SOD file read from the chip",
        "චිපයෙන් කියවූ EF.SOD ගොනුව",
        "சில்லிலிருந்து படித்த EF.SOD கோப்பு",
    ),
    (
        "verify.data_groups",
        "Data group files (DG1 at least)",
        "දත්ත කාණ්ඩ ගොනු (අවම වශයෙන් DG1)",
        "தரவுக் குழுக் கோப்புகள் (குறைந்தது DG1)",
    ),
    ("verify.submit", "Verify", "සත්‍යාපනය කරන්න", "சரிபார்"),
    (
        "verify.empty",
        "Give the seal or QR text, or upload an image of the barcode.",
        "මුද්‍රාවේ හෝ QR පෙළ දෙන්න, නැතහොත් තීරු කේතයේ රූපයක් උඩුගත කරන්න.",
        "முத்திரை அல்லது QR உரையைத் தரவும், அல்லது பட்டைக் குறியீட்டின் படத்தைப் பதிவேற்றவும்.",
    ),
    (
        "verify.refused",
        "The verification could not be done",
        "සත්‍යාපනය කළ නොහැකි විය",
        "சரிபார்ப்பைச் செய்ய முடியவில்லை",
    ),
    ("verify.result", "Result", "ප්‍රතිඵලය", "முடிவு"),
    (
        "verify.again",
        "Verify another",
        "තවත් එකක් සත්‍යාපනය කරන්න",
        "இன்னொன்றைச் சரிபார்",
    ),
    // Verdicts.
    ("verdict.valid", "Valid", "වලංගුයි", "செல்லுபடியானது"),
    (
        "verdict.valid.text",
        "This document was issued by us, its seal is genuine and it is in force.",
        "මෙම ලේඛනය අප විසින් නිකුත් කරන ලදී; එහි මුද්‍රාව අව්‍යාජ වන අතර එය බලාත්මකයි.",
        "இந்த ஆவணம் எங்களால் வழங்கப்பட்டது; அதன் முத்திரை உண்மையானது, அது நடைமுறையில் உள்ளது.",
    ),
    ("verdict.invalid", "Not valid", "වලංගු නැත", "செல்லுபடியற்றது"),
    (
        "verdict.invalid.text",
        "Do not accept this document: the checks below failed.",
        "මෙම ලේඛනය පිළිගන්න එපා: පහත පරීක්ෂණ අසාර්ථක විය.",
        "இந்த ஆவணத்தை ஏற்க வேண்டாம்: கீழுள்ள சோதனைகள் தோல்வியடைந்தன.",
    ),
    (
        "verdict.revoked",
        "Revoked",
        "අවලංගු කර ඇත",
        "திரும்பப் பெறப்பட்டது",
    ),
    (
        "verdict.revoked.text",
        "The seal is genuine, but this document has been revoked (for example reported lost or stolen). Do not accept it.",
        "මුද්‍රාව අව්‍යාජයි, නමුත් මෙම ලේඛනය අවලංගු කර ඇත (උදා: නැතිවූ හෝ සොරකම් කළ බව වාර්තා වී ඇත). එය පිළිගන්න එපා.",
        "முத்திரை உண்மையானது, ஆனால் இந்த ஆவணம் திரும்பப் பெறப்பட்டுள்ளது (உதாரணமாக தொலைந்ததாக அல்லது திருடப்பட்டதாக அறிவிக்கப்பட்டது). இதை ஏற்க வேண்டாம்.",
    ),
    (
        "verdict.used",
        "Already used",
        "දැනටමත් භාවිත කර ඇත",
        "ஏற்கனவே பயன்படுத்தப்பட்டது",
    ),
    (
        "verdict.used.text",
        "The seal is genuine, but this single-journey document was already used to enter the country.",
        "මුද්‍රාව අව්‍යාජයි, නමුත් මෙම තනි ගමන් ලේඛනය රටට ඇතුළු වීමට දැනටමත් භාවිත කර ඇත.",
        "முத்திரை உண்மையானது, ஆனால் இந்த ஒருமுறைப் பயண ஆவணம் நாட்டிற்குள் நுழைய ஏற்கனவே பயன்படுத்தப்பட்டது.",
    ),
    ("verdict.expired", "Expired", "කල් ඉකුත් වී ඇත", "காலாவதியானது"),
    (
        "verdict.expired.text",
        "The seal is genuine, but the document is past its last day of validity.",
        "මුද්‍රාව අව්‍යාජයි, නමුත් ලේඛනයේ වලංගු අවසන් දිනය ඉක්මවා ඇත.",
        "முத்திரை உண்மையானது, ஆனால் ஆவணத்தின் செல்லுபடியாகும் கடைசி நாள் கடந்துவிட்டது.",
    ),
    // Sections.
    ("reasons.title", "Why", "හේතුව", "காரணம்"),
    ("checks.title", "Checks", "පරීක්ෂණ", "சோதனைகள்"),
    ("check.passed", "passed", "සමත්", "வெற்றி"),
    ("check.failed", "failed", "අසමත්", "தோல்வி"),
    (
        "check.skipped",
        "not checked",
        "පරීක්ෂා නොකළා",
        "சரிபார்க்கப்படவில்லை",
    ),
    (
        "check.read",
        "The seal could be read",
        "මුද්‍රාව කියවිය හැකි විය",
        "முத்திரையைப் படிக்க முடிந்தது",
    ),
    (
        "check.signer",
        "Signed with a certificate of our country signing authority",
        "අපගේ රටේ අත්සන් අධිකාරියේ සහතිකයකින් අත්සන් කර ඇත",
        "எங்கள் நாட்டுக் கையொப்ப அதிகாரத்தின் சான்றிதழால் கையொப்பமிடப்பட்டது",
    ),
    (
        "check.signature",
        "The digital signature is correct",
        "ඩිජිටල් අත්සන නිවැරදියි",
        "டிஜிட்டல் கையொப்பம் சரியானது",
    ),
    (
        "check.content",
        "The data in the seal is consistent (check digits)",
        "මුද්‍රාවේ දත්ත අනුකූලයි (පරීක්ෂා ඉලක්කම්)",
        "முத்திரையிலுள்ள தரவு ஒத்திசைவானது (சரிபார்ப்பு இலக்கங்கள்)",
    ),
    (
        "check.match",
        "The uploaded document is the one certified",
        "උඩුගත කළ ලේඛනය සහතික කළ ලේඛනයමයි",
        "பதிவேற்றிய ஆவணமே சான்றளிக்கப்பட்டது",
    ),
    (
        "check.record",
        "The document is in our register",
        "ලේඛනය අපගේ ලේඛනයේ ඇත",
        "ஆவணம் எங்கள் பதிவேட்டில் உள்ளது",
    ),
    (
        "check.status",
        "The document is in force (not revoked, used or expired)",
        "ලේඛනය බලාත්මකයි (අවලංගු කර, භාවිත කර හෝ කල් ඉකුත් වී නැත)",
        "ஆவணம் நடைமுறையில் உள்ளது (திரும்பப் பெறப்படவில்லை, பயன்படுத்தப்படவில்லை, காலாவதியாகவில்லை)",
    ),
    (
        "holder.title",
        "What the seal says",
        "මුද්‍රාවේ සඳහන් දෑ",
        "முத்திரை கூறுவது",
    ),
    (
        "holder.note",
        "Compare these details with the document and the person in front of you.",
        "මෙම විස්තර ඔබ ඉදිරියේ ඇති ලේඛනය හා පුද්ගලයා සමඟ සසඳන්න.",
        "இந்த விவரங்களை உங்கள் முன்னுள்ள ஆவணம் மற்றும் நபருடன் ஒப்பிடவும்.",
    ),
    ("field.kind", "Document", "ලේඛනය", "ஆவணம்"),
    ("field.number", "Document number", "ලේඛන අංකය", "ஆவண எண்"),
    ("field.surname", "Surname", "වාසගම", "குடும்பப் பெயர்"),
    ("field.given_names", "Given names", "මුල් නම්", "இயற்பெயர்கள்"),
    ("field.nationality", "Nationality", "ජාතිකත්වය", "தேசியம்"),
    ("field.birth_date", "Date of birth", "උපන් දිනය", "பிறந்த தேதி"),
    ("field.sex", "Sex", "ස්ත්‍රී/පුරුෂ භාවය", "பாலினம்"),
    (
        "field.expiry",
        "Valid until",
        "වලංගු කාලය",
        "செல்லுபடியாகும் வரை",
    ),
    (
        "field.issuing_state",
        "Issuing state",
        "නිකුත් කළ රාජ්‍යය",
        "வழங்கிய நாடு",
    ),
    (
        "field.mrz",
        "Machine readable zone",
        "යන්ත්‍ර කියවිය හැකි කලාපය",
        "இயந்திரம் படிக்கக்கூடிய பகுதி",
    ),
    (
        "field.certificate_number",
        "Certificate number",
        "සහතික අංකය",
        "சான்றிதழ் எண்",
    ),
    (
        "field.issue_date",
        "Date of certification",
        "සහතික කළ දිනය",
        "சான்றளித்த தேதி",
    ),
    (
        "field.document_type",
        "Type of public document",
        "රාජ්‍ය ලේඛනයේ වර්ගය",
        "பொது ஆவணத்தின் வகை",
    ),
    ("field.signatory", "Signed by", "අත්සන් කළේ", "கையொப்பமிட்டவர்"),
    ("field.capacity", "Acting as", "තනතුර", "பதவி"),
    (
        "field.seal_of",
        "Seal or stamp of",
        "මුද්‍රාව හෝ මුද්දරය",
        "முத்திரை அல்லது முத்திரையிட்டது",
    ),
    ("field.authority", "Certified by", "සහතික කළේ", "சான்றளித்தவர்"),
    ("field.place", "Certified at", "සහතික කළ ස්ථානය", "சான்றளித்த இடம்"),
    ("field.country_of_use", "For use in", "භාවිතයට", "பயன்பாட்டுக்கு"),
    (
        "field.document_sha256",
        "Fingerprint of the certified document (SHA-256)",
        "සහතික කළ ලේඛනයේ ඇඟිලි සලකුණ (SHA-256)",
        "சான்றளிக்கப்பட்ட ஆவணத்தின் கைரேகை (SHA-256)",
    ),
    (
        "kind.ttd",
        "Temporary travel document",
        "තාවකාලික ගමන් ලේඛනය",
        "தற்காலிகப் பயண ஆவணம்",
    ),
    ("kind.passport", "Passport", "ගමන් බලපත්‍රය", "கடவுச்சீட்டு"),
    (
        "kind.legalization",
        "Legalization certificate",
        "සහතික කිරීමේ සහතිකය",
        "சட்டமாக்கல் சான்றிதழ்",
    ),
    (
        "proof.title",
        "Audit ledger proof",
        "විගණන ලෙජර සාක්ෂිය",
        "தணிக்கைப் பேரேட்டுச் சான்று",
    ),
    (
        "proof.text",
        "The issuance of this document is recorded in our tamper-evident ledger. Technical proof:",
        "මෙම ලේඛනය නිකුත් කිරීම අපගේ වෙනස් කළ නොහැකි ලෙජරයේ සටහන් වී ඇත. තාක්ෂණික සාක්ෂිය:",
        "இந்த ஆவணத்தின் வழங்கல் எங்கள் மாற்ற முடியாத பேரேட்டில் பதிவாகியுள்ளது. தொழில்நுட்பச் சான்று:",
    ),
    // Reasons (verifier codes).
    (
        "reason.WRONG_FORMAT",
        "The data is not a seal we can read.",
        "දත්ත අපට කියවිය හැකි මුද්‍රාවක් නොවේ.",
        "இந்தத் தரவு எங்களால் படிக்கக்கூடிய முத்திரை அல்ல.",
    ),
    (
        "reason.READ_ERROR",
        "No barcode or seal could be read from what was given. Try a sharper, straight photo.",
        "දුන් දෙයින් තීරු කේතයක් හෝ මුද්‍රාවක් කියවිය නොහැකි විය. වඩා පැහැදිලි, සෘජු ඡායාරූපයක් උත්සාහ කරන්න.",
        "கொடுக்கப்பட்டதிலிருந்து பட்டைக் குறியீடு அல்லது முத்திரையைப் படிக்க முடியவில்லை. தெளிவான, நேரான புகைப்படத்தை முயற்சிக்கவும்.",
    ),
    (
        "reason.UNKNOWN_FEATURE",
        "The seal holds a field we do not interpret; this alone does not make it invalid.",
        "මුද්‍රාවේ අප අර්ථ නොදක්වන ක්ෂේත්‍රයක් ඇත; එය පමණක් මුද්‍රාව අවලංගු නොකරයි.",
        "முத்திரையில் நாங்கள் விளக்காத ஒரு புலம் உள்ளது; அது மட்டும் அதைச் செல்லாததாக்காது.",
    ),
    (
        "reason.UNSUPPORTED_ARTIFACT",
        "This kind of input cannot be checked here.",
        "මෙම ආදාන වර්ගය මෙහි පරීක්ෂා කළ නොහැක.",
        "இந்த வகை உள்ளீட்டை இங்கு சரிபார்க்க முடியாது.",
    ),
    (
        "reason.UNKNOWN_CERTIFICATE",
        "The seal names a signing certificate we do not know.",
        "මුද්‍රාවේ සඳහන් අත්සන් සහතිකය අප නොදනිමු.",
        "முத்திரை குறிப்பிடும் கையொப்பச் சான்றிதழ் எங்களுக்குத் தெரியாது.",
    ),
    (
        "reason.UNTRUSTED_CERTIFICATE",
        "The signing certificate does not lead to our country signing authority.",
        "අත්සන් සහතිකය අපගේ රටේ අත්සන් අධිකාරිය වෙත නොයයි.",
        "கையொப்பச் சான்றிதழ் எங்கள் நாட்டுக் கையொப்ப அதிகாரத்துடன் இணையவில்லை.",
    ),
    (
        "reason.EXPIRED_CERTIFICATE",
        "The signing certificate is not valid at this date.",
        "අත්සන් සහතිකය මෙම දිනයේ වලංගු නැත.",
        "கையொப்பச் சான்றிதழ் இந்தத் தேதியில் செல்லுபடியாகாது.",
    ),
    (
        "reason.REVOKED_CERTIFICATE",
        "The signing certificate has been revoked.",
        "අත්සන් සහතිකය අවලංගු කර ඇත.",
        "கையொப்பச் சான்றிதழ் திரும்பப் பெறப்பட்டுள்ளது.",
    ),
    (
        "reason.INVALID_DOCUMENTTYPE",
        "The signing certificate may not sign this type of document.",
        "අත්සන් සහතිකයට මෙම වර්ගයේ ලේඛන අත්සන් කළ නොහැක.",
        "கையொப்பச் சான்றிதழ் இந்த வகை ஆவணத்தில் கையொப்பமிட முடியாது.",
    ),
    (
        "reason.INVALID_SIGNATURE",
        "The digital signature does not match the data: the seal was altered or forged.",
        "ඩිජිටල් අත්සන දත්ත සමඟ නොගැළපේ: මුද්‍රාව වෙනස් කර හෝ ව්‍යාජ ලෙස සාදා ඇත.",
        "டிஜிட்டல் கையொப்பம் தரவுடன் பொருந்தவில்லை: முத்திரை மாற்றப்பட்டது அல்லது போலியானது.",
    ),
    (
        "reason.INVALID_SEAL_MRZ",
        "The machine readable zone in the seal has wrong check digits.",
        "මුද්‍රාවේ යන්ත්‍ර කියවිය හැකි කලාපයේ පරීක්ෂා ඉලක්කම් වැරදියි.",
        "முத்திரையிலுள்ள இயந்திரம் படிக்கக்கூடிய பகுதியின் சரிபார்ப்பு இலக்கங்கள் தவறு.",
    ),
    (
        "reason.DOCUMENT_HASH_MISMATCH",
        "The uploaded document is not the document that was certified.",
        "උඩුගත කළ ලේඛනය සහතික කළ ලේඛනය නොවේ.",
        "பதிவேற்றிய ஆவணம் சான்றளிக்கப்பட்ட ஆவணம் அல்ல.",
    ),
    (
        "reason.SEAL_DOCUMENT_MISMATCH",
        "The machine readable zone printed on the document differs from the one in the seal.",
        "ලේඛනයේ මුද්‍රිත යන්ත්‍ර කියවිය හැකි කලාපය මුද්‍රාවේ ඇති කලාපයට වඩා වෙනස් ය.",
        "ஆவணத்தில் அச்சிடப்பட்ட இயந்திரம் படிக்கக்கூடிய பகுதி முத்திரையில் உள்ளதிலிருந்து வேறுபடுகிறது.",
    ),
    (
        "reason.INVALID_PRINTED_MRZ",
        "The check digits of the printed machine readable zone are wrong.",
        "මුද්‍රිත යන්ත්‍ර කියවිය හැකි කලාපයේ පරීක්ෂණ ඉලක්කම් වැරදි ය.",
        "அச்சிடப்பட்ட இயந்திரம் படிக்கக்கூடிய பகுதியின் சரிபார்ப்பு இலக்கங்கள் தவறானவை.",
    ),
    (
        "reason.NOT_COMPARABLE",
        "What was given with the seal cannot be compared with this kind of seal.",
        "මුද්‍රාව සමඟ දුන් දෙය මෙම වර්ගයේ මුද්‍රාවක් සමඟ සැසඳිය නොහැක.",
        "முத்திரையுடன் கொடுக்கப்பட்டதை இந்த வகை முத்திரையுடன் ஒப்பிட முடியாது.",
    ),
    (
        "reason.DATA_GROUP_HASH_MISMATCH",
        "Data read from the passport chip differs from what was signed.",
        "ගමන් බලපත්‍ර චිපයෙන් කියවූ දත්ත අත්සන් කළ දත්තවලට වඩා වෙනස් ය.",
        "கடவுச்சீட்டுச் சில்லிலிருந்து படித்த தரவு கையொப்பமிடப்பட்டதிலிருந்து வேறுபடுகிறது.",
    ),
    (
        "reason.DOCUMENT_KIND_MISMATCH",
        "The seal does not match the kind of document recorded under this number.",
        "මුද්‍රාව මෙම අංකය යටතේ සටහන් කළ ලේඛන වර්ගයට නොගැළපේ.",
        "முத்திரை இந்த எண்ணில் பதிவான ஆவண வகையுடன் பொருந்தவில்லை.",
    ),
    (
        "reason.DOCUMENT_REVOKED",
        "The document has been revoked.",
        "ලේඛනය අවලංගු කර ඇත.",
        "ஆவணம் திரும்பப் பெறப்பட்டுள்ளது.",
    ),
    (
        "reason.DOCUMENT_USED",
        "The single-journey document has already been used.",
        "තනි ගමන් ලේඛනය දැනටමත් භාවිත කර ඇත.",
        "ஒருமுறைப் பயண ஆவணம் ஏற்கனவே பயன்படுத்தப்பட்டது.",
    ),
    (
        "reason.DOCUMENT_EXPIRED",
        "The document has expired.",
        "ලේඛනය කල් ඉකුත් වී ඇත.",
        "ஆவணம் காலாவதியாகிவிட்டது.",
    ),
    (
        "reason.DOCUMENT_UNKNOWN",
        "We have no record of a document with this number.",
        "මෙම අංකය සහිත ලේඛනයක් පිළිබඳ වාර්තාවක් අප සතුව නැත.",
        "இந்த எண்ணுடைய ஆவணம் பற்றிய பதிவு எங்களிடம் இல்லை.",
    ),
    (
        "reason.OTHER",
        "Another check failed.",
        "වෙනත් පරීක්ෂණයක් අසාර්ථක විය.",
        "வேறொரு சோதனை தோல்வியடைந்தது.",
    ),
];

/// The text of `key` in `lang` (the key itself when it is unknown, so a gap is visible).
pub fn text(lang: Lang, key: &str) -> String {
    TABLE
        .iter()
        .find(|row| row.0 == key)
        .map(|row| lang.column(row).to_owned())
        .unwrap_or_else(|| key.to_owned())
}

/// Whether the table has `key`.
pub fn has(key: &str) -> bool {
    TABLE.iter().any(|row| row.0 == key)
}

/// The whole table in one language, for a template (`t["verify.title"]`).
pub fn table(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    TABLE.iter().map(|row| (row.0, lang.column(row))).collect()
}

/// The languages for a switcher (public page and console), `current` marked.
pub fn languages(current: Lang) -> Vec<minijinja::Value> {
    Lang::ALL
        .iter()
        .map(|lang| {
            minijinja::context! {
                code => lang.code(),
                name => lang.native_name(),
                current => *lang == current,
            }
        })
        .collect()
}

/// The plain-language explanation of a verifier reason code.
pub fn reason(lang: Lang, code: &str) -> String {
    let key = format!("reason.{code}");
    if has(&key) {
        text(lang, &key)
    } else {
        text(lang, "reason.OTHER")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_translated_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for row in TABLE {
            assert!(seen.insert(row.0), "duplicate key {}", row.0);
            for lang in Lang::ALL {
                assert!(
                    !lang.column(row).trim().is_empty(),
                    "{} has no {:?} text",
                    row.0,
                    lang
                );
            }
            // Sinhala and Tamil texts are written in their own scripts.
            assert!(
                row.2
                    .chars()
                    .any(|c| ('\u{0D80}'..='\u{0DFF}').contains(&c)),
                "{} si",
                row.0
            );
            assert!(
                row.3
                    .chars()
                    .any(|c| ('\u{0B80}'..='\u{0BFF}').contains(&c)),
                "{} ta",
                row.0
            );
        }
    }

    #[test]
    fn every_verifier_reason_has_a_plain_text() {
        for code in crate::usecase::verify::Code::ALL.map(|code| code.as_str()) {
            assert!(has(&format!("reason.{code}")), "{code}");
            assert_ne!(reason(Lang::Ta, code), text(Lang::Ta, "reason.OTHER"));
        }
        assert_eq!(reason(Lang::En, "NO_SUCH_CODE"), "Another check failed.");
    }

    #[test]
    fn language_codes() {
        assert_eq!(Lang::parse(Some("si")), Lang::Si);
        assert_eq!(Lang::parse(Some("ta")), Lang::Ta);
        assert_eq!(Lang::parse(Some("fr")), Lang::En);
        assert_eq!(Lang::parse(None), Lang::En);
        assert_eq!(text(Lang::Si, "verdict.revoked"), "අවලංගු කර ඇත");
        assert_eq!(text(Lang::En, "missing.key"), "missing.key");
    }
}
