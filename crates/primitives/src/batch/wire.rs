//! Primitive field encodings of the segment payload: LEB128 varints, decimal-scaled integers and
//! bitmaps. The writer produces the shortest form; the reader accepts any form that fits (the
//! on-chain opener does the same: determinism is the rule, uniqueness is not).

use alloy_primitives::U256;

use super::BatchError;

/// `10^77` is the largest power of ten below `2^256`.
const MAX_DECIMAL_EXPONENT: u8 = 77;

/// Appends payload fields.
#[derive(Debug, Default)]
pub(super) struct Writer {
    pub(super) buf: Vec<u8>,
}

impl Writer {
    pub(super) fn bytes(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub(super) fn byte(&mut self, byte: u8) {
        self.buf.push(byte);
    }

    /// Unsigned LEB128.
    pub(super) fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.buf.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.buf.push(value as u8);
    }

    /// Unsigned LEB128 of a 256-bit integer.
    pub(super) fn varint_u256(&mut self, mut value: U256) {
        while value >= U256::from(0x80) {
            self.buf.push(value.as_limbs()[0] as u8 | 0x80);
            value >>= 7;
        }
        self.buf.push(value.as_limbs()[0] as u8);
    }

    /// A non-zero `value = mantissa * 10^exponent` as the byte `exponent + 1` then the mantissa
    /// as a varint, with the largest exponent; zero as the single byte 0. Wei amounts and fees
    /// are usually round in decimal, so this turns 8-10 byte varints into 2-3 bytes.
    pub(super) fn decimal(&mut self, value: U256) {
        if value.is_zero() {
            self.byte(0);
            return;
        }
        let ten = U256::from(10);
        let mut mantissa = value;
        let mut exponent = 0u8;
        loop {
            let (quotient, remainder) = mantissa.div_rem(ten);
            if !remainder.is_zero() {
                break;
            }
            mantissa = quotient;
            exponent += 1;
        }
        self.byte(exponent + 1);
        self.varint_u256(mantissa);
    }

    /// Bits packed least significant first; unused bits of the last byte are zero.
    pub(super) fn bitmap(&mut self, bits: impl ExactSizeIterator<Item = bool>) {
        let start = self.buf.len();
        self.buf.resize(start + bits.len().div_ceil(8), 0);
        for (i, bit) in bits.enumerate() {
            self.buf[start + i / 8] |= u8::from(bit) << (i % 8);
        }
    }
}

/// Reads payload fields; see the module docs for what it accepts.
#[derive(Debug)]
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) const fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(super) const fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(super) const fn error(&self, reason: &'static str) -> BatchError {
        BatchError::Malformed {
            offset: self.pos,
            reason,
        }
    }

    pub(super) fn bytes(&mut self, len: usize) -> Result<&'a [u8], BatchError> {
        if len > self.remaining() {
            return Err(self.error("field runs past the end of the payload"));
        }
        let bytes = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(bytes)
    }

    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], BatchError> {
        let bytes = self.bytes(N)?;
        let mut out = [0; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub(super) fn byte(&mut self) -> Result<u8, BatchError> {
        Ok(self.bytes(1)?[0])
    }

    pub(super) fn varint(&mut self) -> Result<u64, BatchError> {
        let start = self.pos;
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            if shift == 63 && byte > 1 {
                self.pos = start;
                return Err(self.error("varint overflows 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        self.pos = start;
        Err(self.error("varint overflows 64 bits"))
    }

    /// A count of items that each take at least `min_item_size` payload bytes, bounded by what
    /// the rest of the payload can hold, so no allocation exceeds the payload. (Reading that
    /// many items would fail anyway: rejecting early gives the same verdict.)
    pub(super) fn count(&mut self, min_item_size: usize) -> Result<usize, BatchError> {
        let count = self.varint()?;
        let fits = self.remaining() / min_item_size.max(1);
        match usize::try_from(count) {
            Ok(count) if count <= fits => Ok(count),
            _ => Err(self.error("count exceeds the remaining payload")),
        }
    }

    pub(super) fn varint_u256(&mut self) -> Result<U256, BatchError> {
        let start = self.pos;
        let mut value = U256::ZERO;
        for shift in (0..256).step_by(7) {
            let byte = self.byte()?;
            // The 37th byte holds bits 252..=255 only.
            if shift == 252 && byte > 0x0f {
                self.pos = start;
                return Err(self.error("varint overflows 256 bits"));
            }
            value |= U256::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        self.pos = start;
        Err(self.error("varint overflows 256 bits"))
    }

    pub(super) fn decimal(&mut self) -> Result<U256, BatchError> {
        let start = self.pos;
        let Some(exponent) = self.byte()?.checked_sub(1) else {
            return Ok(U256::ZERO);
        };
        if exponent > MAX_DECIMAL_EXPONENT {
            self.pos = start;
            return Err(self.error("decimal exponent above 77"));
        }
        let mantissa = self.varint_u256()?;
        let ten = U256::from(10);
        let value = ten
            .checked_pow(U256::from(exponent))
            .and_then(|scale| mantissa.checked_mul(scale));
        value.ok_or_else(|| {
            self.pos = start;
            self.error("decimal overflows 256 bits")
        })
    }

    /// `len` bits, least significant first; the padding bits of the last byte are ignored.
    pub(super) fn bitmap(&mut self, len: usize) -> Result<Vec<bool>, BatchError> {
        let bytes = self.bytes(len.div_ceil(8))?;
        Ok((0..len).map(|i| bytes[i / 8] >> (i % 8) & 1 == 1).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varint_round_trip(value in any::<u64>()) {
            let mut w = Writer::default();
            w.varint(value);
            let mut r = Reader::new(&w.buf);
            prop_assert_eq!(r.varint()?, value);
            prop_assert_eq!(r.remaining(), 0);
        }

        #[test]
        fn decimal_round_trip(mantissa in any::<u64>(), exponent in 0u32..60, raw in any::<[u8; 32]>()) {
            for value in [
                U256::from(mantissa).saturating_mul(U256::from(10).pow(U256::from(exponent))),
                U256::from_be_bytes(raw),
            ] {
                let mut w = Writer::default();
                w.decimal(value);
                let mut r = Reader::new(&w.buf);
                prop_assert_eq!(r.decimal()?, value);
                prop_assert_eq!(r.remaining(), 0);
            }
        }
    }

    #[test]
    fn overflows_are_rejected_and_other_forms_accepted() {
        // Redundant continuation: accepted.
        assert_eq!(Reader::new(&[0x81, 0x00]).varint().unwrap(), 1);
        assert_eq!(
            Reader::new(&[0x80, 0x80, 0x00]).varint_u256().unwrap(),
            U256::ZERO
        );
        // 64-bit overflow.
        assert!(
            Reader::new(&[0xff; 9].iter().copied().chain([0x02]).collect::<Vec<_>>())
                .varint()
                .is_err()
        );
        assert_eq!(
            Reader::new(&[0xff; 9].iter().copied().chain([0x01]).collect::<Vec<_>>())
                .varint()
                .unwrap(),
            u64::MAX
        );
        // 256-bit overflow.
        let mut too_big = vec![0xff; 36];
        too_big.push(0x10);
        assert!(Reader::new(&too_big).varint_u256().is_err());
        too_big[36] = 0x0f;
        assert_eq!(Reader::new(&too_big).varint_u256().unwrap(), U256::MAX);
        // Decimal: mantissa divisible by ten and zero mantissa accepted; 10^78, overflow not.
        assert_eq!(Reader::new(&[2, 10]).decimal().unwrap(), U256::from(100));
        assert_eq!(Reader::new(&[1, 0]).decimal().unwrap(), U256::ZERO);
        assert!(Reader::new(&[79, 1]).decimal().is_err());
        assert!(Reader::new(&[78, 12]).decimal().is_err());
        assert_eq!(Reader::new(&[3, 7]).decimal().unwrap(), U256::from(700));
        assert_eq!(Reader::new(&[0]).decimal().unwrap(), U256::ZERO);
        // Bitmap padding is ignored.
        assert_eq!(Reader::new(&[0b1000_0000]).bitmap(7).unwrap(), [false; 7]);
        assert_eq!(
            Reader::new(&[0b0100_0001]).bitmap(7).unwrap(),
            [true, false, false, false, false, false, true]
        );
    }
}
