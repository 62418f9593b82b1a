//! MLLP framing: `0x0B` payload `0x1C 0x0D`.
//!
//! The decoder is a pure state machine over a `BytesMut` read buffer.
//! Carriage returns and line feeds between frames are skipped (some senders
//! add them); any other byte outside a frame is an error, as are a `0x1C`
//! not followed by `0x0D`, a `0x0B` inside a frame (the earlier frame was
//! truncated) and a payload larger than the limit. After an error the
//! decoder has dropped the offending bytes and can go on; after an
//! oversize error it discards the rest of that frame.

use bytes::{Buf, Bytes, BytesMut};

use super::MllpError;

pub const START_BLOCK: u8 = 0x0B;
pub const END_BLOCK: u8 = 0x1C;
pub const CARRIAGE_RETURN: u8 = 0x0D;

/// How much of an oversize message is kept to answer it.
pub const OVERSIZE_HEAD: usize = 4096;

#[derive(Debug)]
pub struct MllpDecoder {
    max: usize,
    /// Bytes of the current frame already searched for the end.
    scanned: usize,
    /// Dropping the rest of an oversize frame.
    discarding: bool,
}

impl MllpDecoder {
    pub fn new(max_message_size: usize) -> Self {
        MllpDecoder {
            max: max_message_size,
            scanned: 0,
            discarding: false,
        }
    }

    /// Is the decoder dropping the rest of an oversize frame?
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// Is a frame partly received (for "closed mid-frame" reporting)?
    pub fn in_frame(&self, buf: &BytesMut) -> bool {
        self.discarding || buf.first() == Some(&START_BLOCK)
    }

    /// Takes the next complete frame's payload out of `buf`; `Ok(None)`
    /// when more bytes are needed.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, MllpError> {
        if self.discarding {
            match find_end(buf, 0) {
                Some(i) => {
                    buf.advance(i + 2);
                    self.discarding = false;
                }
                None => {
                    // Keep a trailing 0x1C: its 0x0D may come next.
                    let keep = usize::from(buf.last() == Some(&END_BLOCK));
                    let drop = buf.len() - keep;
                    buf.advance(drop);
                    return Ok(None);
                }
            }
        }
        let ws = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        buf.advance(ws);
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        if first != START_BLOCK {
            let count = buf
                .iter()
                .position(|&b| b == START_BLOCK)
                .unwrap_or(buf.len());
            buf.advance(count);
            self.scanned = 0;
            return Err(MllpError::Garbage { count });
        }
        let from = self.scanned.max(1);
        let hit = buf
            .get(from..)
            .and_then(|rest| {
                rest.iter()
                    .position(|&b| b == END_BLOCK || b == START_BLOCK)
            })
            .map(|p| p + from);
        match hit {
            Some(i) if buf[i] == START_BLOCK => {
                buf.advance(i);
                self.scanned = 0;
                Err(MllpError::UnexpectedStart)
            }
            Some(i) => match buf.get(i + 1) {
                None => {
                    self.scanned = i;
                    self.check_size(buf, i - 1)
                }
                Some(&CARRIAGE_RETURN) => {
                    let len = i - 1;
                    if len > self.max {
                        return self.check_size(buf, len);
                    }
                    let mut frame = buf.split_to(i + 2);
                    frame.advance(1);
                    frame.truncate(len);
                    self.scanned = 0;
                    Ok(Some(frame.freeze()))
                }
                Some(_) => {
                    buf.advance(i + 1);
                    self.scanned = 0;
                    Err(MllpError::BadFrameEnd)
                }
            },
            None => {
                self.scanned = buf.len();
                self.check_size(buf, buf.len() - 1)
            }
        }
    }

    /// `len` payload bytes so far: over the limit → keep the head, start
    /// discarding the frame, report.
    fn check_size(&mut self, buf: &mut BytesMut, len: usize) -> Result<Option<Bytes>, MllpError> {
        if len <= self.max {
            return Ok(None);
        }
        let head_end = (1 + OVERSIZE_HEAD).min(buf.len());
        let head = buf.get(1..head_end).unwrap_or_default().to_vec();
        // Drop what we have; if the frame end is already here, skip to it.
        match find_end(buf, 1) {
            Some(i) => buf.advance(i + 2),
            None => {
                let keep = usize::from(buf.last() == Some(&END_BLOCK));
                let drop = buf.len() - keep;
                buf.advance(drop);
                self.discarding = true;
            }
        }
        self.scanned = 0;
        Err(MllpError::Oversize {
            limit: self.max,
            head,
        })
    }
}

fn find_end(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(2)
        .position(|w| w == [END_BLOCK, CARRIAGE_RETURN])
        .map(|p| p + from)
}

/// Frames a payload. Payloads containing 0x0B or 0x1C cannot be framed.
pub fn encode_frame(payload: &[u8]) -> Result<Vec<u8>, MllpError> {
    if payload.iter().any(|&b| b == START_BLOCK || b == END_BLOCK) {
        return Err(MllpError::FrameByteInPayload);
    }
    let mut out = Vec::with_capacity(payload.len() + 3);
    out.push(START_BLOCK);
    out.extend_from_slice(payload);
    out.push(END_BLOCK);
    out.push(CARRIAGE_RETURN);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(dec: &mut MllpDecoder, buf: &mut BytesMut, bytes: &[u8]) -> Vec<Result<Bytes, String>> {
        buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            match dec.decode(buf) {
                Ok(Some(f)) => out.push(Ok(f)),
                Ok(None) => break,
                Err(e) => out.push(Err(e.to_string())),
            }
        }
        out
    }

    #[test]
    fn frames_split_anywhere() {
        let mut wire = encode_frame(b"MSH|one").unwrap();
        wire.extend_from_slice(b"\r\n");
        wire.extend(encode_frame(b"MSH|two").unwrap());
        for split in 0..wire.len() {
            let mut dec = MllpDecoder::new(100);
            let mut buf = BytesMut::new();
            let mut got = feed(&mut dec, &mut buf, &wire[..split]);
            got.extend(feed(&mut dec, &mut buf, &wire[split..]));
            let got: Vec<_> = got.into_iter().map(|r| r.unwrap()).collect();
            assert_eq!(
                got,
                vec![
                    Bytes::from_static(b"MSH|one"),
                    Bytes::from_static(b"MSH|two")
                ]
            );
        }
    }

    #[test]
    fn errors() {
        let mut dec = MllpDecoder::new(10);
        let mut buf = BytesMut::new();
        let got = feed(&mut dec, &mut buf, b"junk\x0bA\x1c\x0d");
        assert!(got[0].as_ref().unwrap_err().contains("4 bytes"));
        assert_eq!(got[1].as_ref().unwrap(), &Bytes::from_static(b"A"));
        let got = feed(&mut dec, &mut buf, b"\x0bA\x1cX\x0bB\x1c\x0d");
        assert!(got[0].as_ref().unwrap_err().contains("0x0D"));
        assert!(got[1].is_err()); // "X" is garbage
        assert_eq!(got[2].as_ref().unwrap(), &Bytes::from_static(b"B"));
        let got = feed(&mut dec, &mut buf, b"\x0bAB\x0bC\x1c\x0d");
        assert!(got[0].as_ref().unwrap_err().contains("started"));
        assert_eq!(got[1].as_ref().unwrap(), &Bytes::from_static(b"C"));
        let got = feed(&mut dec, &mut buf, b"\x0b0123456789ABC");
        assert!(got[0].as_ref().unwrap_err().contains("maximum"));
        let got = feed(&mut dec, &mut buf, b"DEF\x1c");
        assert!(got.is_empty());
        let got = feed(&mut dec, &mut buf, b"\x0d\x0bok\x1c\x0d");
        assert_eq!(got, vec![Ok(Bytes::from_static(b"ok"))]);
        assert!(encode_frame(b"a\x1cb").is_err());
    }
}
