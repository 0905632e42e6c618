//! Elementary files of LDS1: EF.COM, DG1, DG11, DG12 (9303-10 §4.6, §4.7).

use crate::LdsError;
use crate::tlv;

/// EF.COM tag.
pub const TAG_COM: u32 = 0x60;
/// EF.SOD tag.
pub const TAG_SOD: u32 = 0x77;

/// The file tag of data group `number` (1..=16), 9303-10 Table 34.
pub fn data_group_tag(number: u8) -> Option<u32> {
    Some(match number {
        1 => 0x61,
        2 => 0x75,
        3 => 0x63,
        4 => 0x76,
        5 => 0x65,
        6 => 0x66,
        7 => 0x67,
        8 => 0x68,
        9 => 0x69,
        10 => 0x6A,
        11 => 0x6B,
        12 => 0x6C,
        13 => 0x6D,
        14 => 0x6E,
        15 => 0x6F,
        16 => 0x70,
        _ => return None,
    })
}

/// The data group number for a file tag (inverse of [`data_group_tag`]).
pub fn data_group_number(tag: u32) -> Option<u8> {
    (1..=16).find(|n| data_group_tag(*n) == Some(tag))
}

/// The data group number of a DG file's bytes, from its first tag.
pub fn data_group_number_of(file: &[u8]) -> Result<u8, LdsError> {
    let (tlv, _) = tlv::read(file)?;
    data_group_number(tlv.tag).ok_or(LdsError::UnknownDataGroupTag { tag: tlv.tag })
}

/// EF.COM (9303-10 §4.6.1):
/// `60 L { 5F01 04 <LDS version "aabb"> | 5F36 06 <Unicode version "aabbcc"> | 5C n <DG tags> }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EfCom {
    /// LDS version, four digits, e.g. `0107` (1.7) or `0108` (1.8).
    pub lds_version: String,
    /// Unicode version, six digits, e.g. `040000`.
    pub unicode_version: String,
    /// The data group file tags present, e.g. `[0x61, 0x75]`.
    pub tag_list: Vec<u8>,
}

impl EfCom {
    /// Build for the given data group numbers.
    pub fn new(
        lds_version: &str,
        unicode_version: &str,
        data_groups: &[u8],
    ) -> Result<Self, LdsError> {
        if lds_version.len() != 4 || !lds_version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LdsError::InvalidField {
                field: "EF.COM LDS version",
                reason: "must be 4 digits",
            });
        }
        if unicode_version.len() != 6 || !unicode_version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LdsError::InvalidField {
                field: "EF.COM Unicode version",
                reason: "must be 6 digits",
            });
        }
        let mut tag_list = Vec::new();
        for n in data_groups {
            let tag = data_group_tag(*n).ok_or(LdsError::InvalidField {
                field: "EF.COM tag list",
                reason: "data group number outside 1..=16",
            })?;
            tag_list.push(tag as u8);
        }
        Ok(Self {
            lds_version: lds_version.into(),
            unicode_version: unicode_version.into(),
            tag_list,
        })
    }

    /// Parse EF.COM bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LdsError> {
        let outer = tlv::read_exact(bytes, TAG_COM)?;
        let children = tlv::read_all(outer.value)?;
        let field =
            |tag, name| tlv::find(&children, tag).ok_or(LdsError::MissingField { field: name });
        let ascii = |value: &[u8], name| {
            std::str::from_utf8(value)
                .ok()
                .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_string)
                .ok_or(LdsError::InvalidField {
                    field: name,
                    reason: "not ASCII digits",
                })
        };
        let lds_version = ascii(field(0x5F01, "EF.COM 5F01")?.value, "EF.COM LDS version")?;
        let unicode_version = ascii(
            field(0x5F36, "EF.COM 5F36")?.value,
            "EF.COM Unicode version",
        )?;
        let tag_list = field(0x5C, "EF.COM 5C")?.value.to_vec();
        Ok(Self {
            lds_version,
            unicode_version,
            tag_list,
        })
    }

    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut value = tlv::encode(0x5F01, self.lds_version.as_bytes());
        value.extend(tlv::encode(0x5F36, self.unicode_version.as_bytes()));
        value.extend(tlv::encode(0x5C, &self.tag_list));
        tlv::encode(TAG_COM, &value)
    }

    /// The data group numbers listed.
    pub fn data_groups(&self) -> Vec<u8> {
        self.tag_list
            .iter()
            .filter_map(|t| data_group_number(u32::from(*t)))
            .collect()
    }
}

/// DG1 (9303-10 §4.7.1): `61 L { 5F1F L <MRZ characters without line breaks> }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dg1 {
    /// The MRZ, all lines concatenated (88 TD3, 90 TD1, 72 TD2 characters).
    pub mrz: String,
}

impl Dg1 {
    /// Build from the MRZ lines joined without separators.
    pub fn new(mrz: &str) -> Result<Self, LdsError> {
        if !matches!(mrz.len(), 72 | 88 | 90)
            || !mrz
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'<')
        {
            return Err(LdsError::InvalidField {
                field: "DG1 MRZ",
                reason: "must be 72, 88 or 90 characters of A-Z 0-9 <",
            });
        }
        Ok(Self { mrz: mrz.into() })
    }

    /// Parse DG1 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LdsError> {
        let outer = tlv::read_exact(bytes, 0x61)?;
        let mrz = tlv::read_exact(outer.value, 0x5F1F)?;
        let text = std::str::from_utf8(mrz.value).map_err(|_| LdsError::InvalidField {
            field: "DG1 MRZ",
            reason: "not ASCII",
        })?;
        Self::new(text)
    }

    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        tlv::encode(0x61, &tlv::encode(0x5F1F, self.mrz.as_bytes()))
    }

    /// The MRZ lines (2 or 3).
    pub fn lines(&self) -> Vec<&str> {
        let width = if self.mrz.len() == 90 {
            30
        } else {
            self.mrz.len() / 2
        };
        (0..self.mrz.len() / width)
            .filter_map(|i| self.mrz.get(i * width..(i + 1) * width))
            .collect()
    }

    /// The two-character document code (`P<`, `PP`, `PU`, ...).
    pub fn document_code(&self) -> &str {
        self.mrz.get(..2).unwrap_or_default()
    }
}

/// A data group made of a tag list (`5C`) and simple text/binary fields, as DG11 and DG12 are
/// (9303-10 §4.7.11, §4.7.12). Fields are kept in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDataGroup {
    /// The file tag (`6B` for DG11, `6C` for DG12).
    pub tag: u32,
    /// (field tag, value) pairs, e.g. `(0x5F0E, b"SMITH<<JOHN")`.
    pub fields: Vec<(u32, Vec<u8>)>,
}

/// DG11 field tags (9303-10 §4.7.11).
pub mod dg11_tags {
    /// Full name of the holder.
    pub const FULL_NAME: u32 = 0x5F0E;
    /// Personal number.
    pub const PERSONAL_NUMBER: u32 = 0x5F10;
    /// Full date of birth CCYYMMDD.
    pub const FULL_DATE_OF_BIRTH: u32 = 0x5F2B;
    /// Place of birth.
    pub const PLACE_OF_BIRTH: u32 = 0x5F11;
    /// Permanent address.
    pub const ADDRESS: u32 = 0x5F42;
    /// Telephone.
    pub const TELEPHONE: u32 = 0x5F12;
    /// Profession.
    pub const PROFESSION: u32 = 0x5F13;
    /// Title.
    pub const TITLE: u32 = 0x5F14;
    /// Personal summary.
    pub const PERSONAL_SUMMARY: u32 = 0x5F15;
    /// Other valid travel document numbers.
    pub const OTHER_TD_NUMBERS: u32 = 0x5F17;
    /// Custody information.
    pub const CUSTODY: u32 = 0x5F18;
}

/// DG12 field tags (9303-10 §4.7.12).
pub mod dg12_tags {
    /// Issuing authority.
    pub const ISSUING_AUTHORITY: u32 = 0x5F19;
    /// Date of issue CCYYMMDD.
    pub const DATE_OF_ISSUE: u32 = 0x5F26;
    /// Endorsements and observations.
    pub const ENDORSEMENTS: u32 = 0x5F1B;
    /// Tax/exit requirements.
    pub const TAX_EXIT: u32 = 0x5F1C;
    /// Personalization date and time CCYYMMDDhhmmss.
    pub const PERSONALIZATION_TIME: u32 = 0x5F55;
    /// Personalization system serial number.
    pub const PERSONALIZATION_SERIAL: u32 = 0x5F56;
}

impl FieldDataGroup {
    /// DG11 with the given fields.
    pub fn dg11(fields: Vec<(u32, Vec<u8>)>) -> Self {
        Self { tag: 0x6B, fields }
    }

    /// DG12 with the given fields.
    pub fn dg12(fields: Vec<(u32, Vec<u8>)>) -> Self {
        Self { tag: 0x6C, fields }
    }

    /// Encode: the file tag around `5C <tag list>` followed by the fields.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut list = Vec::new();
        for (tag, _) in &self.fields {
            if *tag > 0xFF {
                list.push((*tag >> 8) as u8);
            }
            list.push(*tag as u8);
        }
        let mut value = tlv::encode(0x5C, &list);
        for (tag, data) in &self.fields {
            value.extend(tlv::encode(*tag, data));
        }
        tlv::encode(self.tag, &value)
    }

    /// Parse a DG11 (`6B`) or DG12 (`6C`) file. Fields other than the tag list are kept as-is
    /// (constructed fields such as `A0` other-names stay encoded).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LdsError> {
        let (outer, rest) = tlv::read(bytes)?;
        if !rest.is_empty() {
            return Err(LdsError::Tlv {
                reason: "trailing bytes after the element",
            });
        }
        if outer.tag != 0x6B && outer.tag != 0x6C {
            return Err(LdsError::UnexpectedTag {
                expected: 0x6B,
                found: outer.tag,
            });
        }
        let children = tlv::read_all(outer.value)?;
        let mut fields = Vec::new();
        let mut saw_list = false;
        for child in children {
            if child.tag == 0x5C && !saw_list {
                saw_list = true;
                continue;
            }
            fields.push((child.tag, child.value.to_vec()));
        }
        if !saw_list {
            return Err(LdsError::MissingField {
                field: "tag list 5C",
            });
        }
        Ok(Self {
            tag: outer.tag,
            fields,
        })
    }

    /// The value of field `tag`.
    pub fn field(&self, tag: u32) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_slice())
    }
}
