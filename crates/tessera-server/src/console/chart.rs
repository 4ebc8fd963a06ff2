//! The overview's charts: stacked bars per five minutes of the last hour, one colour per grant
//! type, drawn as SVG on the server (no script). Each bar segment carries a `<title>` with its
//! numbers, and the page shows the same numbers in a table.

use super::activity::{MINUTES, Series};
use tessera_proto::GrantType;

/// Minutes per bar.
const MINUTES_PER_BAR: usize = 5;
/// Bars per chart.
pub const BARS: usize = MINUTES / MINUTES_PER_BAR;

const WIDTH: f64 = 360.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 132.0;

/// A grant type's colour: each at least 4.5:1 against white.
pub fn colour(g: GrantType) -> &'static str {
    match g {
        GrantType::ClientCredentials => "#1d4ed8",
        GrantType::AuthorizationCode => "#047857",
        GrantType::RefreshToken => "#b45309",
        GrantType::Password => "#6d28d9",
        GrantType::DeviceCode => "#be185d",
        GrantType::JwtBearer => "#0e7490",
    }
}

/// One bar segment.
#[derive(Debug, Clone)]
pub struct Rect {
    /// Left edge.
    pub x: String,
    /// Top edge.
    pub y: String,
    /// Width.
    pub w: String,
    /// Height.
    pub h: String,
    /// Fill colour.
    pub fill: &'static str,
    /// What it shows, for people (the segment's `<title>`).
    pub label: String,
}

/// A chart ready to draw.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Element id prefix (for `aria-labelledby`).
    pub id: &'static str,
    /// What it counts.
    pub title: &'static str,
    /// The total over the hour.
    pub total: u64,
    /// The tallest bar's value (the top of the scale).
    pub max: u64,
    /// The segments.
    pub rects: Vec<Rect>,
    /// `y` of the scale's top line.
    pub top: String,
    /// `y` of the base line.
    pub base: String,
    /// Left end of the base line.
    pub left: String,
    /// Right end of the base line.
    pub right: String,
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// Draws `pick` (issued or failed) of `series` as a chart.
pub fn chart(
    id: &'static str,
    title: &'static str,
    series: &[Series],
    pick: fn(&Series) -> &Vec<u64>,
) -> Chart {
    let bucket = |s: &Series, b: usize| -> u64 {
        pick(s)[b * MINUTES_PER_BAR..(b + 1) * MINUTES_PER_BAR]
            .iter()
            .sum()
    };
    let totals: Vec<u64> = (0..BARS)
        .map(|b| series.iter().map(|s| bucket(s, b)).sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let slot = (WIDTH - LEFT - RIGHT) / BARS as f64;
    let mut rects = Vec::new();
    for b in 0..BARS {
        let mut y = BOTTOM;
        let ago_from = (BARS - b) * MINUTES_PER_BAR;
        let ago_to = ago_from - MINUTES_PER_BAR;
        for s in series {
            let n = bucket(s, b);
            if n == 0 {
                continue;
            }
            let h = (BOTTOM - TOP) * n as f64 / max as f64;
            y -= h;
            rects.push(Rect {
                x: fmt(LEFT + slot * b as f64 + 2.0),
                y: fmt(y),
                w: fmt(slot - 4.0),
                h: fmt(h),
                fill: colour(s.grant),
                label: format!(
                    "{n} {} from {ago_from} to {ago_to} minutes ago",
                    s.grant.as_str()
                ),
            });
        }
    }
    Chart {
        id,
        title,
        total: totals.iter().sum(),
        max,
        rects,
        top: fmt(TOP),
        base: fmt(BOTTOM),
        left: fmt(LEFT),
        right: fmt(WIDTH - RIGHT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stack_per_five_minutes_and_scale_to_the_tallest() {
        let mut issued = vec![0; MINUTES];
        issued[59] = 3;
        issued[0] = 1;
        let s = vec![Series {
            grant: GrantType::ClientCredentials,
            issued,
            failed: vec![0; MINUTES],
        }];
        let c = chart("t", "Tokens issued", &s, |s| &s.issued);
        assert_eq!((c.total, c.max, c.rects.len()), (4, 3, 2));
        assert_eq!(
            c.rects[0].label,
            "1 client_credentials from 60 to 55 minutes ago"
        );
        assert_eq!(
            c.rects[1].label,
            "3 client_credentials from 5 to 0 minutes ago"
        );
        assert_eq!(c.rects[1].y, fmt(TOP), "the tallest bar reaches the top");
        let empty = chart("f", "Failed", &s, |s| &s.failed);
        assert_eq!((empty.total, empty.max, empty.rects.len()), (0, 1, 0));
    }
}
