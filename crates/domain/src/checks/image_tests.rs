#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// Real files: the common 1×1 PNG data URI and Modernizr's WebP feature-detection images.
const PNG_1X1: &str = "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da636460f85f0f0002870180eb47ba920000000049454e44ae426082";
const WEBP_LOSSY: &str =
    "52494646220000005745425056503820160000003001009d012a010001000ec0fe25a400037000000000";
const WEBP_LOSSLESS: &str = "524946461a000000574542505650384c0d0000002f00000010071011118888fe0700";
const WEBP_ALPHA: &str = "524946464a00000057454250565038580a00000010000000000000000000414c50480c00000011071011fd0f4444ff03000056503820180000001401009d012a010001000000fe00000dc000fee6b5000000";
const WEBP_ANIMATED: &str = "524946465200000057454250565038580a00000012000000000000000000414e494d06000000ffffffff0000414e4d4626000000000000000000000000000000640000005650384c0d0000002f00000010071011118888fe0700";

fn info(media_type: ImageType, width: u32, height: u32) -> Option<ImageInfo> {
    Some(ImageInfo {
        media_type,
        width,
        height,
    })
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(kind);
    out.extend(data);
    let mut covered = kind.to_vec();
    covered.extend(data);
    out.extend(crc32(&covered).to_be_bytes());
}

fn png_with(w: u32, h: u32, depth: u8, color: u8, idat: bool) -> Vec<u8> {
    let mut out = PNG_SIGNATURE.to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([depth, color, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"tEXt", b"Comment\0vouch");
    if idat {
        png_chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1]);
    }
    png_chunk(&mut out, b"IEND", &[]);
    out
}

fn png(w: u32, h: u32) -> Vec<u8> {
    png_with(w, h, 8, 2, true)
}

fn seg(out: &mut Vec<u8>, marker: u8, data: &[u8]) {
    out.extend([0xFF, marker]);
    out.extend(((data.len() + 2) as u16).to_be_bytes());
    out.extend(data);
}

fn jpeg_with(w: u16, h: u16, sof: Option<u8>, eoi: bool) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    seg(&mut out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    seg(&mut out, 0xDB, &[0; 65]);
    if let Some(marker) = sof {
        let mut frame = vec![8];
        frame.extend(h.to_be_bytes());
        frame.extend(w.to_be_bytes());
        frame.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        seg(&mut out, marker, &frame);
    }
    // Fill bytes before a marker are legal.
    out.extend([0xFF, 0xFF]);
    seg(&mut out, 0xC4, &[0; 29]);
    seg(&mut out, 0xDA, &[3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);
    // Entropy-coded data with a stuffed 0xFF and a restart marker.
    out.extend([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
    if eoi {
        out.extend([0xFF, 0xD9]);
    }
    out
}

fn jpeg(w: u16, h: u16, sof: u8) -> Vec<u8> {
    jpeg_with(w, h, Some(sof), true)
}

fn riff(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    for (kind, data) in chunks {
        body.extend(*kind);
        body.extend((data.len() as u32).to_le_bytes());
        body.extend(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

fn vp8(w: u16, h: u16) -> Vec<u8> {
    let mut d = vec![0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A];
    d.extend(w.to_le_bytes());
    d.extend(h.to_le_bytes());
    d.extend([0; 7]);
    d
}

fn vp8l(w: u32, h: u32) -> Vec<u8> {
    let mut d = vec![0x2F];
    d.extend(((w - 1) | ((h - 1) << 14)).to_le_bytes());
    d.extend([0x00, 0x07]);
    d
}

fn vp8x(w: u32, h: u32) -> Vec<u8> {
    let mut d = vec![0x10, 0, 0, 0];
    d.extend(&(w - 1).to_le_bytes()[..3]);
    d.extend(&(h - 1).to_le_bytes()[..3]);
    d
}

fn valid_samples() -> Vec<(Vec<u8>, Option<ImageInfo>)> {
    vec![
        (hex(PNG_1X1), info(ImageType::Png, 1, 1)),
        (png(640, 480), info(ImageType::Png, 640, 480)),
        (png_with(3, 5, 1, 0, true), info(ImageType::Png, 3, 5)),
        (png_with(7, 2, 4, 3, true), info(ImageType::Png, 7, 2)),
        (jpeg(1024, 768, 0xC0), info(ImageType::Jpeg, 1024, 768)),
        (jpeg(300, 200, 0xC1), info(ImageType::Jpeg, 300, 200)),
        (jpeg(4032, 3024, 0xC2), info(ImageType::Jpeg, 4032, 3024)),
        (hex(WEBP_LOSSY), info(ImageType::Webp, 1, 1)),
        (hex(WEBP_LOSSLESS), info(ImageType::Webp, 1, 1)),
        (hex(WEBP_ALPHA), info(ImageType::Webp, 1, 1)),
        (hex(WEBP_ANIMATED), info(ImageType::Webp, 1, 1)),
        (
            riff(&[(b"VP8 ", vp8(800, 600))]),
            info(ImageType::Webp, 800, 600),
        ),
        (
            riff(&[(b"VP8L", vp8l(123, 45))]),
            info(ImageType::Webp, 123, 45),
        ),
        (
            riff(&[(b"VP8X", vp8x(2000, 1500)), (b"VP8L", vp8l(2000, 1500))]),
            info(ImageType::Webp, 2000, 1500),
        ),
    ]
}

#[test]
fn crc32_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
}

#[test]
fn recognises_png_jpeg_webp() {
    for (i, (bytes, expected)) in valid_samples().into_iter().enumerate() {
        assert_eq!(sniff_image(&bytes), expected, "sample {i}");
    }
    assert_eq!(ImageType::Png.mime(), "image/png");
    assert_eq!(ImageType::Jpeg.mime(), "image/jpeg");
    assert_eq!(ImageType::Webp.mime(), "image/webp");
}

#[test]
fn every_truncation_is_rejected() {
    for (i, (bytes, _)) in valid_samples().into_iter().enumerate() {
        for len in 0..bytes.len() {
            assert_eq!(sniff_image(&bytes[..len]), None, "sample {i} cut at {len}");
        }
    }
}

#[test]
fn other_formats_and_garbage_are_rejected() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec()),
        ("bmp", b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0".to_vec()),
        ("pdf", b"%PDF-1.7\n".to_vec()),
        ("tiff", b"II*\0\x08\0\0\0".to_vec()),
        ("wav", {
            let mut w = riff(&[(b"VP8L", vp8l(1, 1))]);
            w[8..12].copy_from_slice(b"WAVE");
            w
        }),
        ("text", b"hello, this is not an image".to_vec()),
        ("signature only", PNG_SIGNATURE.to_vec()),
        ("soi only", vec![0xFF, 0xD8]),
    ];
    for (name, bytes) in cases {
        assert_eq!(sniff_image(&bytes), None, "{name}");
    }
}

#[test]
fn malformed_png_is_rejected() {
    assert_eq!(sniff_image(&png(0, 10)), None, "zero width");
    assert_eq!(sniff_image(&png(10, 0)), None, "zero height");
    assert_eq!(sniff_image(&png(0x8000_0000, 1)), None, "width over 2^31-1");
    assert_eq!(sniff_image(&png_with(1, 1, 8, 2, false)), None, "no IDAT");
    assert_eq!(sniff_image(&png_with(1, 1, 4, 2, true)), None, "bad depth");
    assert_eq!(sniff_image(&png_with(1, 1, 8, 5, true)), None, "bad color");
    assert_eq!(
        sniff_image(&png_with(1, 1, 16, 3, true)),
        None,
        "16-bit palette"
    );
    // Any changed byte after the signature breaks a CRC or the structure.
    let good = png(4, 4);
    for i in PNG_SIGNATURE.len()..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        assert_eq!(sniff_image(&bad), None, "flip at {i}");
    }
    // IDAT before IHDR.
    let mut out = PNG_SIGNATURE.to_vec();
    png_chunk(&mut out, b"IDAT", &[0]);
    png_chunk(&mut out, b"IEND", &[]);
    assert_eq!(sniff_image(&out), None);
}

#[test]
fn malformed_jpeg_is_rejected() {
    assert_eq!(
        sniff_image(&jpeg_with(10, 10, None, true)),
        None,
        "no frame"
    );
    assert_eq!(
        sniff_image(&jpeg_with(10, 10, Some(0xC0), false)),
        None,
        "no EOI"
    );
    assert_eq!(sniff_image(&jpeg(0, 10, 0xC0)), None, "zero width");
    assert_eq!(sniff_image(&jpeg(10, 0, 0xC0)), None, "height from DNL");
    for sof in [0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF] {
        assert_eq!(sniff_image(&jpeg(10, 10, sof)), None, "coding {sof:#x}");
    }
    // A segment length running past the end.
    let mut long = vec![0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF, 0x00];
    long.extend([0xFF, 0xD9]);
    assert_eq!(sniff_image(&long), None);
    // Garbage where a marker belongs.
    let mut bad = jpeg(10, 10, 0xC0);
    bad[2] = 0x00;
    assert_eq!(sniff_image(&bad), None);
    // A second SOI / EOI before the scan.
    assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xD8]), None);
    assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xD9]), None);
}

#[test]
fn malformed_webp_is_rejected() {
    assert_eq!(
        sniff_image(&riff(&[(b"VP8X", vp8x(10, 10))])),
        None,
        "no image data"
    );
    assert_eq!(
        sniff_image(&riff(&[(b"EXIF", vec![0; 8])])),
        None,
        "unknown first chunk"
    );
    assert_eq!(sniff_image(&riff(&[])), None, "no chunks");
    let mut not_key = riff(&[(b"VP8 ", vp8(8, 8))]);
    not_key[20] |= 1;
    assert_eq!(sniff_image(&not_key), None, "interframe");
    let mut bad_sig = riff(&[(b"VP8L", vp8l(8, 8))]);
    bad_sig[20] = 0x2E;
    assert_eq!(sniff_image(&bad_sig), None, "lossless signature");
    assert_eq!(
        sniff_image(&riff(&[(b"VP8 ", vp8(0, 8))])),
        None,
        "zero width"
    );
    // Declared RIFF size larger than the data.
    let mut big = riff(&[(b"VP8L", vp8l(8, 8))]);
    big[4] = big[4].wrapping_add(2);
    assert_eq!(sniff_image(&big), None);
    // A chunk size running past the RIFF end.
    let mut chunk = riff(&[(b"VP8L", vp8l(8, 8))]);
    chunk[16] = 0xFF;
    assert_eq!(sniff_image(&chunk), None);
}

/// xorshift64*: deterministic pseudo-random bytes for the robustness tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let prefixes: [&[u8]; 5] = [
        b"",
        PNG_SIGNATURE,
        &[0xFF, 0xD8],
        b"RIFF\x20\0\0\0WEBP",
        b"RIFF\xff\xff\xff\xffWEBPVP8X",
    ];
    for i in 0..20_000 {
        let mut bytes = prefixes[i % prefixes.len()].to_vec();
        let len = rng.below(300);
        bytes.extend((0..len).map(|_| rng.next() as u8));
        let _ = sniff_image(&bytes);
    }
}

#[test]
fn mutated_images_never_panic() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    let samples = valid_samples();
    for _ in 0..20_000 {
        let (base, _) = &samples[rng.below(samples.len())];
        let mut bytes = base.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len());
            match rng.below(3) {
                0 => bytes[at] = rng.next() as u8,
                1 => bytes.truncate(at),
                _ => bytes.insert(at, 0xFF),
            }
            if bytes.is_empty() {
                break;
            }
        }
        if let Some(found) = sniff_image(&bytes) {
            assert!(found.width > 0 && found.height > 0);
        }
    }
}
