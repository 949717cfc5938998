//! What the page accepts as an image: a complete PNG, JPEG or WebP file, recognised from its
//! structure by the checks module (the declared content type and file name are ignored).

use vouch_domain::checks::sniff_image;

/// The media type of an accepted image, or None.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    sniff_image(bytes).map(|info| info.media_type.mime())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_alone_are_not_an_image() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n and then nothing"), None);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0xFF, 0xD9]), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
        assert_eq!(sniff(b"<svg/>"), None);
        assert_eq!(sniff(b""), None);
    }
}
