//! msg.rs - building and reading messages: header fields, the inline
//! payload and little-endian integers in it. Pure logic, host-tested.

use crate::abi::*;
use crate::error::{check, Error, Result};

impl Default for Msg {
    fn default() -> Msg {
        Msg::new(0)
    }
}

impl Msg {
    /// An empty message with `label`.
    pub const fn new(label: u16) -> Msg {
        Msg {
            label,
            len: 0,
            flags: 0,
            reserved: 0,
            from: 0,
            channel: 0,
            page: 0,
            arg: 0,
            data: [0; MSG_INLINE_MAX],
        }
    }

    /// A message with `label` and `payload` as its inline data.
    pub fn with_data(label: u16, payload: &[u8]) -> Result<Msg> {
        let mut m = Msg::new(label);
        m.push_bytes(payload)?;
        Ok(m)
    }

    /// A message with `label` whose data is the first `len` bytes of
    /// `req` (an ABI struct; `len` at most its size).
    pub fn with_struct<T: Pod>(label: u16, req: &T, len: usize) -> Result<Msg> {
        Msg::with_data(label, req.as_bytes().get(..len).ok_or(Error::Inval)?)
    }

    /// A message with `label` and all of `req` as its data.
    pub fn request<T: Pod>(label: u16, req: &T) -> Result<Msg> {
        Msg::with_struct(label, req, core::mem::size_of::<T>())
    }

    /// The payload as an ABI struct (None when it is shorter).
    pub fn get_struct<T: Pod>(&self) -> Option<T> {
        T::from_bytes(self.payload())
    }

    /// The inline payload (never longer than MSG_INLINE_MAX).
    pub fn payload(&self) -> &[u8] {
        &self.data[..(self.len as usize).min(MSG_INLINE_MAX)]
    }

    /// Append bytes to the payload.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let start = self.len as usize;
        let end = start.checked_add(bytes.len()).ok_or(Error::TooBig)?;
        if end > MSG_INLINE_MAX {
            return Err(Error::TooBig);
        }
        self.data[start..end].copy_from_slice(bytes);
        self.len = end as u16;
        Ok(())
    }

    pub fn push_u16(&mut self, v: u16) -> Result<()> {
        self.push_bytes(&v.to_le_bytes())
    }

    pub fn push_u32(&mut self, v: u32) -> Result<()> {
        self.push_bytes(&v.to_le_bytes())
    }

    pub fn push_i32(&mut self, v: i32) -> Result<()> {
        self.push_bytes(&v.to_le_bytes())
    }

    pub fn push_u64(&mut self, v: u64) -> Result<()> {
        self.push_bytes(&v.to_le_bytes())
    }

    /// `N` payload bytes at `off`, if the payload holds them.
    fn get<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        let bytes = self.payload().get(off..off.checked_add(N)?)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Some(out)
    }

    pub fn get_u32(&self, off: usize) -> Option<u32> {
        self.get::<4>(off).map(u32::from_le_bytes)
    }

    pub fn get_i32(&self, off: usize) -> Option<i32> {
        self.get::<4>(off).map(i32::from_le_bytes)
    }

    pub fn get_u64(&self, off: usize) -> Option<u64> {
        self.get::<8>(off).map(u64::from_le_bytes)
    }

    /// Attach channel `cid` as the channel payload (it moves on send).
    pub fn set_channel(&mut self, cid: i32) {
        self.flags |= MSG_CHANNEL;
        self.channel = cid;
    }

    /// Attach the page at `vaddr` as the page payload (it moves on send).
    pub fn set_page(&mut self, vaddr: u64) {
        self.flags |= MSG_PAGE;
        self.page = vaddr;
    }

    /// The received channel payload's cid, if any.
    pub fn channel_payload(&self) -> Option<i32> {
        (self.flags & MSG_CHANNEL != 0).then_some(self.channel)
    }

    /// The received page payload's address, if any.
    pub fn page_payload(&self) -> Option<u64> {
        (self.flags & MSG_PAGE != 0).then_some(self.page)
    }

    /// A kernel notification?
    pub fn is_notification(&self) -> bool {
        self.label == LABEL_NOTIFICATION
    }

    /// `.arg` read as a result (>= 0 value, < 0 negated error).
    pub fn result(&self) -> Result<u64> {
        check(self.arg as i64)
    }

    /// Turn this message into a reply: same buffer, no payload, `arg`.
    pub fn make_reply(&mut self, arg: u64) {
        self.len = 0;
        self.flags = 0;
        self.arg = arg;
    }

    /// The part of the message a copy needs (header + used inline bytes).
    pub fn used_size(&self) -> usize {
        MSG_HEADER_SIZE + (self.len as usize).min(MSG_INLINE_MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_little_endian() {
        let mut m = Msg::new(KS_CREATE_TASK);
        m.push_u32(0x0a0b0c0d).unwrap();
        m.push_u64(0x1122334455667788).unwrap();
        assert_eq!(m.len, 12);
        assert_eq!(&m.data[..4], &[0x0d, 0x0c, 0x0b, 0x0a]);
        assert_eq!(m.get_u32(0), Some(0x0a0b0c0d));
        assert_eq!(m.get_u64(4), Some(0x1122334455667788));
        assert_eq!(m.get_u64(5), None, "reads past len fail");
        assert_eq!(m.get_u32(usize::MAX), None);
    }

    #[test]
    fn payload_limit_is_224() {
        let big = [7u8; MSG_INLINE_MAX];
        let mut m = Msg::with_data(1, &big).unwrap();
        assert_eq!(m.payload().len(), MSG_INLINE_MAX);
        assert_eq!(m.push_bytes(&[1]), Err(Error::TooBig));
        assert_eq!(Msg::with_data(1, &[0u8; MSG_INLINE_MAX + 1]).err(), Some(Error::TooBig));
        // A bogus len from the wire is clamped.
        m.len = 1000;
        assert_eq!(m.payload().len(), MSG_INLINE_MAX);
        assert_eq!(m.used_size(), MSG_SIZE);
    }

    #[test]
    fn payload_flags() {
        let mut m = Msg::new(5);
        assert_eq!(m.channel_payload(), None);
        m.set_channel(9);
        assert_eq!(m.channel_payload(), Some(9));
        m.set_page(0x1000);
        assert_eq!(m.page_payload(), Some(0x1000));
        assert_eq!(m.flags, MSG_CHANNEL | MSG_PAGE);
        m.make_reply(3);
        assert_eq!((m.flags, m.len, m.arg), (0, 0, 3));
    }

    #[test]
    fn result_reads_negated_errors() {
        let mut m = Msg::new(0);
        m.arg = (-E_NOENT) as u64;
        assert_eq!(m.result(), Err(Error::NoEnt));
        m.arg = 12;
        assert_eq!(m.result(), Ok(12));
    }
}
