//! Trend charts as server-rendered SVG (no JavaScript): a line over time,
//! the reference range as a shaded band, abnormal points marked. Built
//! with maud, so every label is escaped. Each chart has a `<title>` and a
//! `<desc>`; pages show the same values in a table beside it.

use maud::{html, Markup};

/// One point: when (FHIR date/dateTime) and value; `flag` marks abnormal.
#[derive(Debug, Clone)]
pub struct Point {
    pub when: String,
    pub value: f64,
    pub flag: Option<String>,
}

/// A chart to draw.
pub struct Chart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub unit: &'a str,
    pub points: &'a [Point],
    /// Reference range (low, high), either side optional.
    pub range: (Option<f64>, Option<f64>),
}

const W: f64 = 640.0;
const H: f64 = 240.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 36.0;

/// Days since 0000-03-01 of a FHIR date/dateTime (for spacing points in time).
fn day_number(when: &str) -> Option<f64> {
    let y: i64 = when.get(0..4)?.parse().ok()?;
    let m: i64 = when.get(5..7).and_then(|s| s.parse().ok()).unwrap_or(1);
    let d: i64 = when.get(8..10).and_then(|s| s.parse().ok()).unwrap_or(1);
    let hours: f64 = when
        .get(11..13)
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(0.0);
    // Days from civil (proleptic Gregorian), H. Hinnant's algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe) as f64 + hours / 24.0)
}

fn fmt(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The chart, or a sentence when there is nothing to draw.
pub fn trend(c: &Chart) -> Markup {
    let pts: Vec<(f64, &Point)> = c
        .points
        .iter()
        .filter_map(|p| day_number(&p.when).map(|d| (d, p)))
        .collect();
    if pts.is_empty() {
        return html! { p.muted { "No values to chart." } };
    }
    let (mut lo, mut hi) = pts.iter().fold((f64::MAX, f64::MIN), |(lo, hi), (_, p)| {
        (lo.min(p.value), hi.max(p.value))
    });
    if let Some(l) = c.range.0 {
        lo = lo.min(l);
    }
    if let Some(h) = c.range.1 {
        hi = hi.max(h);
    }
    if (hi - lo).abs() < 1e-9 {
        lo -= 1.0;
        hi += 1.0;
    }
    let pad = (hi - lo) * 0.08;
    let (lo, hi) = (lo - pad, hi + pad);
    let (t0, t1) = pts.iter().fold((f64::MAX, f64::MIN), |(a, b), (d, _)| {
        (a.min(*d), b.max(*d))
    });
    let span = if t1 > t0 { t1 - t0 } else { 1.0 };
    let x = |d: f64| {
        if t1 > t0 {
            LEFT + (d - t0) / span * (W - LEFT - RIGHT)
        } else {
            LEFT + (W - LEFT - RIGHT) / 2.0
        }
    };
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * (H - TOP - BOTTOM);
    let line: Vec<String> = pts
        .iter()
        .map(|(d, p)| format!("{:.1},{:.1}", x(*d), y(p.value)))
        .collect();
    let band = match c.range {
        (None, None) => None,
        (l, h) => {
            let top = y(h.unwrap_or(hi));
            let bottom = y(l.unwrap_or(lo));
            Some((top, (bottom - top).max(0.0)))
        }
    };
    let title_id = format!("{}-title", c.id);
    let desc_id = format!("{}-desc", c.id);
    let first = &pts[0].1.when;
    let last = &pts[pts.len() - 1].1.when;
    let range_text = match c.range {
        (Some(l), Some(h)) => format!("Reference range {}–{} {}.", fmt(l), fmt(h), c.unit),
        (Some(l), None) => format!("Reference: at least {} {}.", fmt(l), c.unit),
        (None, Some(h)) => format!("Reference: at most {} {}.", fmt(h), c.unit),
        (None, None) => String::new(),
    };
    html! {
        svg.chart id=(c.id) xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (W) " " (H)}
            role="img" aria-labelledby={(title_id) " " (desc_id)} {
            title id=(title_id) { (c.title) " (" (c.unit) ")" }
            desc id=(desc_id) {
                (pts.len()) " values from " (crate::fhir::day(first)) " to " (crate::fhir::day(last)) ". " (range_text)
            }
            @if let Some((top, height)) = band {
                rect.band x=(LEFT) y={(format!("{top:.1}"))} width=(W - LEFT - RIGHT) height={(format!("{height:.1}"))}
                    fill="#e6f4ea" stroke="#1a6b2f" stroke-dasharray="4 3" stroke-width="1" {}
            }
            line x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(H - BOTTOM) stroke="#4f5b66" stroke-width="1" {}
            line x1=(LEFT) y1=(H - BOTTOM) x2=(W - RIGHT) y2=(H - BOTTOM) stroke="#4f5b66" stroke-width="1" {}
            text x=(LEFT - 6.0) y=(TOP + 4.0) text-anchor="end" font-size="12" fill="#1b1f24" { (fmt(hi)) }
            text x=(LEFT - 6.0) y=(H - BOTTOM) text-anchor="end" font-size="12" fill="#1b1f24" { (fmt(lo)) }
            text x=(LEFT) y=(H - 12.0) font-size="12" fill="#1b1f24" { (crate::fhir::day(first)) }
            text x=(W - RIGHT) y=(H - 12.0) text-anchor="end" font-size="12" fill="#1b1f24" { (crate::fhir::day(last)) }
            polyline points=(line.join(" ")) fill="none" stroke="#0b5cad" stroke-width="2" {}
            @for (d, p) in &pts {
                @let abnormal = p.flag.is_some();
                circle cx={(format!("{:.1}", x(*d)))} cy={(format!("{:.1}", y(p.value)))}
                    r=(if abnormal { 5 } else { 3 })
                    fill=(if abnormal { "#a1161f" } else { "#0b5cad" }) {
                    title { (crate::fhir::day(&p.when)) ": " (fmt(p.value)) " " (c.unit)
                        @if let Some(f) = &p.flag { " (" (f) ")" } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_points_band_and_escapes_labels() {
        let pts = vec![
            Point {
                when: "2026-01-01".into(),
                value: 5.0,
                flag: None,
            },
            Point {
                when: "2026-02-01T10:00:00Z".into(),
                value: 9.5,
                flag: Some("H".into()),
            },
        ];
        let svg = trend(&Chart {
            id: "c1",
            title: "Potassium <K+>",
            unit: "mmol/L",
            points: &pts,
            range: (Some(3.5), Some(5.1)),
        })
        .into_string();
        assert!(svg.contains("<polyline"));
        assert!(svg.contains("class=\"band\""));
        assert!(svg.contains("&lt;K+&gt;"));
        assert_eq!(svg.matches("<circle").count(), 2);
        // Inside HTML, SVG elements must be closed explicitly (a `<line>`
        // left open would swallow everything after it).
        assert_eq!(svg.matches("<line").count(), svg.matches("</line>").count());
        assert!(svg.contains("</polyline>") && svg.contains("</rect>"));
        assert!(svg.contains("fill=\"#a1161f\""));
        assert!(day_number("2026-03-01").unwrap() - day_number("2026-02-28").unwrap() == 1.0);
    }
}
