//! Document checks: type allowed, required images present and readable, machine-readable
//! zone, expiry and minimum age; the image sniffer; date helpers.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::mrz::{self, Mrz};
use super::CheckResult;
use crate::outputs::Date;
use crate::session::{DocumentType, ErrorCode};

// ---------------------------------------------------------------------------------------------
// Dates

pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A real calendar date (month 1–12, day within the month).
pub fn is_valid_date(d: Date) -> bool {
    (1..=12).contains(&d.month) && d.day >= 1 && d.day <= days_in_month(d.year, d.month)
}

/// Chronological order (`Date` itself has no `Ord`).
pub fn compare_dates(a: Date, b: Date) -> Ordering {
    (a.year, a.month, a.day).cmp(&(b.year, b.month, b.day))
}

/// Age in whole years on `today`; `None` for an invalid date or one after `today`. A person
/// born on 29 February turns a year older on 1 March in common years.
pub fn age_on(dob: Date, today: Date) -> Option<u32> {
    if !is_valid_date(dob) || !is_valid_date(today) || compare_dates(dob, today).is_gt() {
        return None;
    }
    let before_birthday = (today.month, today.day) < (dob.month, dob.day);
    let years = today.year - dob.year - i32::from(before_birthday);
    u32::try_from(years).ok()
}

// ---------------------------------------------------------------------------------------------
// Images

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageType {
    Png,
    Jpeg,
    Webp,
}

impl ImageType {
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Png => "image/png",
            ImageType::Jpeg => "image/jpeg",
            ImageType::Webp => "image/webp",
        }
    }
}

/// What `sniff_image` read from a file's structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageInfo {
    pub media_type: ImageType,
    pub width: u32,
    pub height: u32,
}

/// Recognise a complete PNG, JPEG or WebP file and read its dimensions from its structure
/// (pixels are not decoded). Anything else, truncated or inconsistent → `None`. Never panics.
pub fn sniff_image(bytes: &[u8]) -> Option<ImageInfo> {
    let (media_type, (width, height)) = if bytes.starts_with(PNG_SIGNATURE) {
        (ImageType::Png, png_dims(bytes)?)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        (ImageType::Jpeg, jpeg_dims(bytes)?)
    } else if bytes.get(0..4) == Some(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        (ImageType::Webp, webp_dims(bytes)?)
    } else {
        return None;
    };
    (width > 0 && height > 0).then_some(ImageInfo {
        media_type,
        width,
        height,
    })
}

const PNG_SIGNATURE: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

fn be16(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u32::from(u16::from_be_bytes([*s.first()?, *s.get(1)?])))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

fn le_n(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(n)?)?;
    Some(
        s.iter()
            .rev()
            .fold(0u32, |acc, &x| (acc << 8) | u32::from(x)),
    )
}

/// PNG: IHDR first, well-formed chunks with correct CRCs, at least one IDAT, ending in IEND.
fn png_dims(b: &[u8]) -> Option<(u32, u32)> {
    let mut pos = PNG_SIGNATURE.len();
    let mut dims = None;
    let mut seen_idat = false;
    loop {
        let len = be32(b, pos)?;
        if len > 0x7FFF_FFFF {
            return None;
        }
        let data_start = pos.checked_add(8)?;
        let data_end = data_start.checked_add(usize::try_from(len).ok()?)?;
        let chunk_end = data_end.checked_add(4)?;
        let kind = b.get(pos + 4..data_start)?;
        let data = b.get(data_start..data_end)?;
        let crc = be32(b, data_end)?;
        if crc32(b.get(pos + 4..data_end)?) != crc {
            return None;
        }
        match (kind, dims) {
            (b"IHDR", None) => dims = Some(png_ihdr(data)?),
            (_, None) | (b"IHDR", Some(_)) => return None,
            (b"IDAT", Some(_)) => seen_idat = true,
            (b"IEND", Some(d)) => return (seen_idat && len == 0).then_some(d),
            _ if !kind.iter().all(u8::is_ascii_alphabetic) => return None,
            _ => {}
        }
        pos = chunk_end;
    }
}

fn png_ihdr(d: &[u8]) -> Option<(u32, u32)> {
    if d.len() != 13 {
        return None;
    }
    let (w, h) = (be32(d, 0)?, be32(d, 4)?);
    let (depth, color) = (*d.get(8)?, *d.get(9)?);
    let depth_ok = match color {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    let rest_ok = d.get(10..13) == Some(&[0, 0, 0]) || d.get(10..13) == Some(&[0, 0, 1]);
    let in_range = w <= 0x7FFF_FFFF && h <= 0x7FFF_FFFF;
    (depth_ok && rest_ok && in_range).then_some((w, h))
}

/// CRC-32 (ISO-HDLC, as PNG uses), table computed at compile time.
fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut n = 0;
        while n < 256 {
            let mut c = n as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[n] = c;
            n += 1;
        }
        t
    };
    !data
        .iter()
        .fold(!0u32, |c, &x| TABLE[usize::from((c as u8) ^ x)] ^ (c >> 8))
}

/// JPEG: segments walked from SOI; a baseline, extended or progressive frame header (SOF0–2)
/// before the first scan, and an EOI marker after it. Other codings are rejected.
fn jpeg_dims(b: &[u8]) -> Option<(u32, u32)> {
    let mut pos = 2usize;
    let mut dims = None;
    loop {
        if *b.get(pos)? != 0xFF {
            return None;
        }
        while *b.get(pos)? == 0xFF {
            pos += 1;
        }
        let marker = *b.get(pos)?;
        pos += 1;
        match marker {
            0x01 | 0xD0..=0xD7 => continue,
            0x00 | 0xD8 | 0xD9 => return None,
            _ => {}
        }
        let len = usize::try_from(be16(b, pos)?).ok()?;
        if len < 2 {
            return None;
        }
        let end = pos.checked_add(len)?;
        let seg = b.get(pos + 2..end)?;
        match marker {
            0xC0..=0xC2 => {
                let (h, w) = (be16(seg, 1)?, be16(seg, 3)?);
                let comps = usize::from(*seg.get(5)?);
                if dims.is_some() || !matches!(comps, 1 | 3 | 4) || seg.len() != 6 + 3 * comps {
                    return None;
                }
                dims = Some((w, h));
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xDA => {
                let d = dims?;
                let rest = b.get(end..)?;
                return rest.windows(2).any(|w| w == [0xFF, 0xD9]).then_some(d);
            }
            _ => {}
        }
        pos = end;
    }
}

/// WebP: a RIFF container wholly present; a simple lossy (`VP8 `), lossless (`VP8L`) or
/// extended (`VP8X`, followed by image data) first chunk.
fn webp_dims(b: &[u8]) -> Option<(u32, u32)> {
    let riff_len = usize::try_from(le_n(b, 4, 4)?).ok()?;
    let riff_end = riff_len.checked_add(8)?;
    if riff_end > b.len() || riff_len < 4 {
        return None;
    }
    let body = b.get(..riff_end)?;
    let mut pos = 12usize;
    let mut dims = None;
    while pos < riff_end {
        let kind = body.get(pos..pos.checked_add(4)?)?;
        let size = usize::try_from(le_n(body, pos + 4, 4)?).ok()?;
        let data_start = pos.checked_add(8)?;
        let data = body.get(data_start..data_start.checked_add(size)?)?;
        let first = pos == 12;
        match kind {
            b"VP8 " => {
                let frame = (data.first()? & 1 == 0) && data.get(3..6) == Some(&[0x9D, 0x01, 0x2A]);
                let d = (le_n(data, 6, 2)? & 0x3FFF, le_n(data, 8, 2)? & 0x3FFF);
                return (frame && (first || dims.is_some())).then_some(dims.unwrap_or(d));
            }
            b"VP8L" => {
                let bits = le_n(data, 1, 4)?;
                let ok = *data.first()? == 0x2F && bits >> 29 == 0;
                let d = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
                return (ok && (first || dims.is_some())).then_some(dims.unwrap_or(d));
            }
            b"VP8X" if first => {
                if data.len() < 10 {
                    return None;
                }
                dims = Some((le_n(data, 4, 3)? + 1, le_n(data, 7, 3)? + 1));
            }
            b"ANMF" if dims.is_some() => return dims,
            _ if first => return None,
            _ => {}
        }
        pos = data_start.checked_add(size)?.checked_add(size & 1)?;
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The document check

/// What the user submitted for a document check. Images are what `sniff_image` read (`None`
/// when the upload is missing or not a readable image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSubmission {
    pub document_type: DocumentType,
    /// `options.document.allowed_types` (`None` or empty: all types).
    pub allowed: Option<Vec<DocumentType>>,
    pub front: Option<ImageInfo>,
    pub back: Option<ImageInfo>,
    pub selfie: Option<ImageInfo>,
    /// Expiration date as entered (cross-checked against the MRZ when both are present).
    pub expiration: Option<Date>,
    /// Date of birth as entered (cross-checked against the MRZ when both are present).
    pub dob: Option<Date>,
    /// The machine-readable zone as typed or read by OCR on the client.
    pub mrz: Option<String>,
    /// `options.document.require_matching_selfie`.
    pub require_selfie: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentVerdict {
    /// The report's `document` check; its code is always one of Stripe's document-check
    /// codes (an age failure is `document_unverified_other` here).
    pub document: CheckResult,
    /// The report's `selfie` check, when a selfie is required.
    pub selfie: Option<CheckResult>,
    /// The session `last_error` these checks imply (document first, then selfie): the
    /// failing check's code, except `under_supported_age` for an age failure.
    pub last_error: Option<ErrorCode>,
    /// The zone, when one was given, its check digits held and it fits the document type.
    pub mrz: Option<Mrz>,
}

fn readable(image: Option<ImageInfo>) -> bool {
    image.is_some_and(|i| i.width > 0 && i.height > 0)
}

/// Run every decidable document check. The document passes only when all of them pass and
/// a machine-readable zone matching the document type validated; a selfie never passes
/// (matching a face is not decidable offline).
pub fn check_document(sub: &DocumentSubmission, today: Date, min_age: u32) -> DocumentVerdict {
    let mrz = valid_zone(sub, today);
    let parsed = sub.mrz.as_ref().map(|_| mrz.clone());
    let outcome = document_outcome(sub, parsed, today, min_age);
    let document = match outcome {
        Ok(()) => CheckResult::Verified,
        Err(ErrorCode::UnderSupportedAge) => {
            CheckResult::Unverified(ErrorCode::DocumentUnverifiedOther)
        }
        Err(code) => CheckResult::Unverified(code),
    };
    let selfie = sub.require_selfie.then(|| {
        let code = if !readable(sub.front) {
            ErrorCode::SelfieDocumentMissingPhoto
        } else {
            // Missing, unreadable or present: no offline face match either way.
            ErrorCode::SelfieUnverifiedOther
        };
        CheckResult::Unverified(code)
    });
    let last_error = outcome
        .err()
        .or_else(|| selfie.and_then(CheckResult::error));
    DocumentVerdict {
        document,
        selfie,
        last_error,
        mrz,
    }
}

/// The submission's machine-readable zone, when one was given, its check digits held and it
/// fits the document type (what a verified document check stands on).
pub fn valid_zone(sub: &DocumentSubmission, today: Date) -> Option<Mrz> {
    let text = sub.mrz.as_deref()?;
    mrz::parse(text, today)
        .ok()
        .filter(|m| fits_type(m, sub.document_type))
}

fn fits_type(m: &Mrz, t: DocumentType) -> bool {
    match t {
        DocumentType::Passport => m.is_passport(),
        DocumentType::IdCard => m.is_id_card(),
        DocumentType::DrivingLicense => false,
    }
}

/// `parsed`: `None` = no zone given; `Some(None)` = given but invalid or of another type.
fn document_outcome(
    sub: &DocumentSubmission,
    parsed: Option<Option<Mrz>>,
    today: Date,
    min_age: u32,
) -> Result<(), ErrorCode> {
    let other = ErrorCode::DocumentUnverifiedOther;
    if let Some(allowed) = sub.allowed.as_deref() {
        if !allowed.is_empty() && !allowed.contains(&sub.document_type) {
            return Err(ErrorCode::DocumentTypeNotSupported);
        }
    }
    let needs_back = matches!(
        sub.document_type,
        DocumentType::DrivingLicense | DocumentType::IdCard
    );
    if !readable(sub.front) || (needs_back && !readable(sub.back)) {
        return Err(other);
    }
    let mrz = match parsed {
        None => None,
        Some(None) => return Err(other),
        Some(Some(m)) => Some(m),
    };
    let expiration = agreed(sub.expiration, mrz.as_ref().map(|m| m.expiry)).ok_or(other)?;
    if let Some(exp) = expiration {
        if compare_dates(exp, today).is_lt() {
            return Err(ErrorCode::DocumentExpired);
        }
    }
    let dob = agreed(sub.dob, mrz.as_ref().map(|m| m.dob)).ok_or(other)?;
    if let Some(dob) = dob {
        let age = age_on(dob, today).ok_or(other)?;
        if age < min_age {
            return Err(ErrorCode::UnderSupportedAge);
        }
    }
    // Without a validated zone nothing ties the images to a genuine document.
    if mrz.is_none() {
        return Err(other);
    }
    Ok(())
}

/// The date both sources give: `None` when they disagree or one is not a calendar date;
/// `Some(None)` when neither gives one.
fn agreed(entered: Option<Date>, from_mrz: Option<Date>) -> Option<Option<Date>> {
    match (entered, from_mrz) {
        (Some(e), _) if !is_valid_date(e) => None,
        (Some(e), Some(m)) => (e == m).then_some(Some(m)),
        (e, m) => Some(e.or(m)),
    }
}

#[cfg(test)]
#[path = "document_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "image_tests.rs"]
mod image_tests;
