//! Property tests: encode(parse(m)) == m for generated messages with random
//! delimiters, escapes and line endings; parse never panics.

use bytes::BytesMut;
use concord_hl7v2::mllp::{encode_frame, MllpDecoder};
use concord_hl7v2::{escape, Delimiters, Location, Message};
use proptest::prelude::*;

/// Five distinct delimiter characters.
fn delimiters() -> impl Strategy<Value = Vec<char>> {
    let pool: Vec<char> = "|^~\\&#!@$%*+/:;=?".chars().collect();
    Just(pool)
        .prop_shuffle()
        .prop_map(|p| p.into_iter().take(5).collect())
}

/// Leaf text: letters, spaces, digits and now and then a delimiter or
/// escape character (raw text as a sender might write it, escapes included).
fn leaf(escape: char) -> impl Strategy<Value = String> {
    let mut alphabet: Vec<char> = "ab Z09éFX.-".chars().collect();
    alphabet.push(escape); // produces escape sequences, valid or not
    prop::collection::vec(prop::sample::select(alphabet), 0..8)
        .prop_map(|cs| cs.into_iter().collect())
}

/// Fields → repetitions → components → sub-components of one segment.
type Tree = Vec<Vec<Vec<Vec<String>>>>;

/// A message text and, per non-MSH segment, the leaves it was built from.
fn message() -> impl Strategy<Value = (String, Vec<Tree>)> {
    delimiters().prop_flat_map(|d| {
        let esc = d[3];
        let seg_names = prop::sample::select(vec!["PID", "OBX", "ZAB", "NTE", "PV1"]);
        let endings = prop::sample::select(vec!["\r", "\n", "\r\n", "\r\n\r\n"]);
        let field = prop::collection::vec(
            prop::collection::vec(prop::collection::vec(leaf(esc), 1..3), 1..3),
            1..3,
        );
        let segment = (
            seg_names,
            prop::collection::vec(field, 0..6),
            endings.clone(),
        );
        (
            Just(d),
            prop::collection::vec(segment, 0..6),
            any::<bool>(),
            endings,
            prop::collection::vec(leaf(esc), 3),
        )
            .prop_map(|(d, segs, bom, msh_end, msh_fields)| {
                let (f, c, r, e, s) = (d[0], d[1], d[2], d[3], d[4]);
                // Leaves hold no delimiters but the escape character.
                let clean = |t: &str| -> String {
                    t.chars()
                        .map(|ch| if [f, c, r, s].contains(&ch) { e } else { ch })
                        .collect()
                };
                let mut text = String::new();
                if bom {
                    text.push('\u{feff}');
                }
                text.push_str(&format!(
                    "MSH{f}{c}{r}{e}{s}{f}{}{f}{}{f}{}{msh_end}",
                    clean(&msh_fields[0]),
                    clean(&msh_fields[1]),
                    clean(&msh_fields[2])
                ));
                for (i, (name, fields, end)) in segs.iter().enumerate() {
                    text.push_str(name);
                    for field in fields {
                        text.push(f);
                        let reps: Vec<String> = field
                            .iter()
                            .map(|comps| {
                                comps
                                    .iter()
                                    .map(|subs| {
                                        subs.iter()
                                            .map(|l| clean(l))
                                            .collect::<Vec<_>>()
                                            .join(&s.to_string())
                                    })
                                    .collect::<Vec<_>>()
                                    .join(&c.to_string())
                            })
                            .collect();
                        text.push_str(&reps.join(&r.to_string()));
                    }
                    // The last segment sometimes has no terminator.
                    if i + 1 < segs.len() || i % 2 == 0 {
                        text.push_str(end);
                    }
                }
                let trees = segs.into_iter().map(|(_, fields, _)| fields).collect();
                (text, trees)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_parse_is_identity((text, trees) in message()) {
        let m = Message::parse(text.as_bytes()).expect("generated message parses");
        prop_assert_eq!(m.to_bytes(), text.as_bytes());
        // Every generated leaf is found where it was put.
        let d = *m.delimiters();
        for (seg, tree) in m.all_segments().iter().skip(1).zip(&trees) {
            prop_assert_eq!(seg.field_count(), tree.len());
            for (fi, reps) in tree.iter().enumerate() {
                prop_assert_eq!(seg.repetitions(fi + 1, &d).len(), reps.len());
                for (ri, comps) in reps.iter().enumerate() {
                    for (ci, subs) in comps.iter().enumerate() {
                        for (si, leaf) in subs.iter().enumerate() {
                            let loc = Location {
                                field: fi + 1,
                                repetition: ri + 1,
                                component: Some(ci + 1),
                                subcomponent: Some(si + 1),
                            };
                            prop_assert_eq!(seg.raw_at(&loc, &d), Some(leaf.as_str()));
                        }
                    }
                }
            }
        }
        // Re-parsing the encoding gives the same tree.
        let again = Message::parse(&m.to_bytes()).expect("re-parse");
        prop_assert_eq!(again, m);
    }

    #[test]
    fn escape_round_trips(value in ".{0,40}", d in delimiters()) {
        let d = Delimiters {
            field: d[0],
            component: Some(d[1]),
            repetition: Some(d[2]),
            escape: Some(d[3]),
            subcomponent: Some(d[4]),
            truncation: None,
        };
        let escaped = escape::escape(&value, &d);
        prop_assert!(!escaped.contains(d.field));
        prop_assert!(!escaped.contains('\r'));
        let back = escape::unescape(&escaped, &d).into_owned();
        prop_assert_eq!(back.as_str(), value.as_str());
    }

    #[test]
    fn set_then_get((text, _trees) in message(), value in ".{0,20}") {
        let mut m = Message::parse(text.as_bytes()).expect("parses");
        m.set("MSH-4-2", &value).expect("set");
        let got = m.get("MSH-4-2").map(|v| v.into_owned()).unwrap_or_default();
        prop_assert_eq!(got, value);
        let again = Message::parse(&m.to_bytes()).expect("re-parse");
        prop_assert_eq!(again, m);
    }

    #[test]
    fn parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(m) = Message::parse(&bytes) {
            let _ = m.groups();
            let _ = m.get("PID-3(2)-1-1");
            let _ = m.to_bytes();
        }
    }

    #[test]
    fn msh_prefixed_garbage_never_panics(tail in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut bytes = b"MSH".to_vec();
        bytes.extend(tail);
        if let Ok(m) = Message::parse(&bytes) {
            prop_assert_eq!(m.to_bytes(), bytes);
            let _ = m.groups();
            let _ = m.message_type();
        }
    }

    #[test]
    fn mllp_decoder_survives_anything(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..16)) {
        let mut dec = MllpDecoder::new(40);
        let mut buf = BytesMut::new();
        for chunk in chunks {
            buf.extend_from_slice(&chunk);
            for _ in 0..10_000 {
                match dec.decode(&mut buf) {
                    Ok(Some(frame)) => {
                        prop_assert!(frame.len() <= 40);
                        prop_assert!(!frame.iter().any(|&b| b == 0x0b || b == 0x1c));
                    }
                    Ok(None) => break,
                    Err(_) => {}
                }
            }
            prop_assert!(buf.len() <= 64 + 41);
        }
    }

    #[test]
    fn mllp_frames_survive_any_split(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>().prop_filter("frame byte", |b| *b != 0x0b && *b != 0x1c), 0..50), 1..5),
        cut in 1usize..20,
    ) {
        let mut wire = Vec::new();
        for p in &payloads {
            wire.extend(encode_frame(p).expect("frameable"));
        }
        let mut dec = MllpDecoder::new(1000);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for chunk in wire.chunks(cut) {
            buf.extend_from_slice(chunk);
            while let Some(frame) = dec.decode(&mut buf).expect("valid frames") {
                got.push(frame.to_vec());
            }
        }
        prop_assert_eq!(got, payloads);
    }
}
