//! PEM Diffie-Hellman parameters (PKCS #3 and X9.42): the prime's size and the generator, and
//! counting certificates in a PEM bundle.

use super::*;

/// What a PEM file of DH parameters holds: the prime's size in bits and the generator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DhParams {
    pub prime_bits: u32,
    pub generator: Option<u64>,
}

/// PEM labels of DH parameters (PKCS #3 and X9.42).
const DH_LABELS: &[&str] = &["DH PARAMETERS", "X9.42 DH PARAMETERS"];

/// Parses the first DH PARAMETERS block of a PEM file: base64 → DER `SEQUENCE { INTEGER p,
/// INTEGER g, ... }`. `Err` says why it is not one.
pub fn parse_dh_pem(text: &str) -> Result<DhParams, String> {
    let mut body = None;
    for label in DH_LABELS {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(b) = text.find(&begin) {
            let after = text.get(b + begin.len()..).unwrap_or("");
            match after.find(&end) {
                Some(e) => body = Some(after.get(..e).unwrap_or("")),
                None => return Err(format!("`{begin}` without `{end}`")),
            }
            break;
        }
    }
    let body = body.ok_or("no `-----BEGIN DH PARAMETERS-----` block")?;
    let der = base64_decode(body)?;
    parse_dh_der(&der)
}

/// The X.509 certificates of a PEM file (a CA bundle): how many `CERTIFICATE` blocks decode to a
/// DER `SEQUENCE`, or why the text holds none (what rsyslog's TLS drivers need in a CA file).
pub fn pem_certificates(text: &str) -> Result<usize, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut count = 0;
    let mut rest = text;
    while let Some(b) = rest.find(BEGIN) {
        let after = rest.get(b + BEGIN.len()..).unwrap_or("");
        let e = after
            .find(END)
            .ok_or_else(|| format!("`{BEGIN}` without `{END}`"))?;
        let der = base64_decode(after.get(..e).unwrap_or(""))?;
        let (tag, _, _) = der_tlv(&der)?;
        if tag != 0x30 {
            return Err("a CERTIFICATE block that is not a DER SEQUENCE".into());
        }
        count += 1;
        rest = after.get(e + END.len()..).unwrap_or("");
    }
    if count == 0 {
        return Err(format!("no `{BEGIN}` block"));
    }
    Ok(count)
}

fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in text.chars() {
        let v = match c {
            'A'..='Z' => c as u32 - 'A' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 26,
            '0'..='9' => c as u32 - '0' as u32 + 52,
            '+' => 62,
            '/' => 63,
            '=' => break,
            c if c.is_whitespace() => continue,
            other => return Err(format!("invalid base64 character {other:?}")),
        };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    Ok(out)
}

/// A DER tag-length-value: the tag, its contents and the bytes after it.
fn der_tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER (no tag)")?;
    let (&first, rest) = rest.split_first().ok_or("truncated DER (no length)")?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err("unsupported DER length form".into());
        }
        let bytes = rest.get(..n).ok_or("truncated DER length")?;
        let len = bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
        (len, rest.get(n..).unwrap_or(&[]))
    };
    let content = rest.get(..len).ok_or("DER length runs past the end")?;
    Ok((tag, content, rest.get(len..).unwrap_or(&[])))
}

pub(super) fn parse_dh_der(der: &[u8]) -> Result<DhParams, String> {
    let (tag, seq, _) = der_tlv(der)?;
    if tag != 0x30 {
        return Err(format!(
            "DER does not start with a SEQUENCE (tag {tag:#04x})"
        ));
    }
    let (tag, p, rest) = der_tlv(seq)?;
    if tag != 0x02 {
        return Err("the first element is not an INTEGER (the prime)".into());
    }
    let generator = match der_tlv(rest) {
        Ok((0x02, g, _)) if g.len() <= 8 => {
            Some(g.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)))
        }
        _ => None,
    };
    let significant: &[u8] = match p.iter().position(|b| *b != 0) {
        Some(i) => p.get(i..).unwrap_or(&[]),
        None => &[],
    };
    let prime_bits = match significant.first() {
        Some(top) => {
            let bytes = u32::try_from(significant.len()).unwrap_or(u32::MAX / 8);
            bytes.saturating_mul(8) - top.leading_zeros()
        }
        None => return Err("the prime is zero".into()),
    };
    Ok(DhParams {
        prime_bits,
        generator,
    })
}
