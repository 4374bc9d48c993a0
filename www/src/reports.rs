//! The Reports page's plain logic: the report as the relay sends it, bar geometry for
//! the SVG charts, and durations in words. Tested natively.

use porchlight_protocol::api::reports::Report;

/// "1 of 4 (25%)"; "none" when nothing waited.
pub fn abandonment(report: &Report) -> String {
    if report.queued == 0 {
        return "none".to_owned();
    }
    let percent = (report.abandoned * 100 + report.queued / 2) / report.queued;
    format!("{} of {} ({percent}%)", report.abandoned, report.queued)
}

/// "45 s", "3 min 5 s", "2 h 10 min"; "—" without data.
pub fn duration_text(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "—".to_owned();
    };
    let seconds = ms.max(0) / 1000;
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}

/// A visitor's rating as the agent sees it: "★★★★☆ 4/5", then their comment.
pub fn rating_text(score: u8, comment: Option<&str>) -> String {
    let score = score.min(5);
    let stars: String = (1..=5)
        .map(|star| if star <= score { '★' } else { '☆' })
        .collect();
    match comment {
        Some(comment) => format!("{stars} {score}/5 · “{comment}”"),
        None => format!("{stars} {score}/5"),
    }
}

/// One bar of a chart, in the SVG's user units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Bars for `values` filling a `width` × `height` plot, scaled to the largest value; a
/// zero is a bar of no height.
pub fn bars(values: &[usize], width: u32, height: u32) -> Vec<Bar> {
    let count = u32::try_from(values.len()).unwrap_or(u32::MAX).max(1);
    let slot = width / count;
    let gap = (slot / 5).max(1);
    let top = values.iter().copied().max().unwrap_or(0).max(1);
    values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let scaled = (*value as u64 * u64::from(height) / top as u64) as u32;
            Bar {
                x: slot * index as u32 + gap / 2,
                y: height - scaled,
                width: slot.saturating_sub(gap).max(1),
                height: scaled,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_read_as_stars_with_the_comment() {
        assert_eq!(rating_text(4, None), "★★★★☆ 4/5");
        assert_eq!(rating_text(1, Some("Slow")), "★☆☆☆☆ 1/5 · “Slow”");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(None), "—");
        assert_eq!(duration_text(Some(45_000)), "45 s");
        assert_eq!(duration_text(Some(185_000)), "3 min 5 s");
        assert_eq!(duration_text(Some(7_800_000)), "2 h 10 min");
    }

    #[test]
    fn bars_scale_to_the_largest_value() {
        let drawn = bars(&[0, 5, 10], 300, 100);
        assert_eq!(drawn.len(), 3);
        assert_eq!(
            (drawn[0].height, drawn[1].height, drawn[2].height),
            (0, 50, 100)
        );
        assert_eq!(drawn[2].y, 0);
        assert!(drawn[0].x < drawn[1].x && drawn[1].x < drawn[2].x);
        assert!(drawn.iter().all(|bar| bar.x + bar.width <= 300));
        assert!(bars(&[], 300, 100).is_empty());
    }

    #[test]
    fn abandonment_is_a_share_of_the_queued_chats() {
        use porchlight_protocol::api::reports::Spread;
        let report = Report {
            from: String::new(),
            to: String::new(),
            chats: 5,
            per_day: Vec::new(),
            per_hour: vec![0; 24],
            queued: 4,
            abandoned: 1,
            queue_time: Spread::default(),
            first_response: Spread::default(),
            per_agent: Vec::new(),
            per_team: Vec::new(),
            ratings: Default::default(),
        };
        assert_eq!(abandonment(&report), "1 of 4 (25%)");
        let quiet = Report {
            queued: 0,
            abandoned: 0,
            ..report
        };
        assert_eq!(abandonment(&quiet), "none");
    }
}
