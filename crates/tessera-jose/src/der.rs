//! The little DER this crate needs: PKCS#1 `RSAPublicKey` and `RSAPrivateKey` (RFC 8017 App. A.1).

use crate::JoseError;

/// Reads the integers of a DER `SEQUENCE` of `INTEGER`s, returned without leading zero bytes.
pub(crate) fn read_integer_sequence(der: &[u8]) -> Result<Vec<&[u8]>, JoseError> {
    let bad = || JoseError::InvalidKey("malformed DER".into());
    let (tag, body, rest) = read_tlv(der).ok_or_else(bad)?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(bad());
    }
    let mut out = Vec::new();
    let mut cur = body;
    while !cur.is_empty() {
        let (tag, value, rest) = read_tlv(cur).ok_or_else(bad)?;
        if tag != 0x02 {
            return Err(bad());
        }
        let mut v = value;
        while v.len() > 1 && v[0] == 0 {
            v = &v[1..];
        }
        out.push(v);
        cur = rest;
    }
    Ok(out)
}

fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Writes a DER `SEQUENCE` of unsigned `INTEGER`s given big-endian.
pub(crate) fn write_integer_sequence(ints: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    for i in ints {
        let mut v: &[u8] = i;
        while v.len() > 1 && v[0] == 0 {
            v = &v[1..];
        }
        let pad = v.first().is_some_and(|b| b & 0x80 != 0) || v.is_empty();
        let len = v.len() + usize::from(pad);
        body.push(0x02);
        write_len(&mut body, len);
        if pad {
            body.push(0);
        }
        body.extend_from_slice(v);
    }
    let mut out = vec![0x30];
    write_len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

fn write_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let a = [0x80u8, 1, 2];
        let b = [0u8, 0, 5];
        let big = vec![0x7f; 300];
        let der = write_integer_sequence(&[&a, &b, &big]);
        let ints = read_integer_sequence(&der).unwrap_or_default();
        assert_eq!(ints, vec![&a[..], &[5u8][..], &big[..]]);
    }
}
