use super::sums_of_chats::sums_of_chats;
use super::*;

fn summarise(days: Days, chats: &[ChatRecord]) -> Report {
    let (from, to) = days.day_numbers();
    report(days, sums_of_chats(chats, from, to))
}

const MINUTE: i64 = 60_000;

fn at(date: &str, hour: i8) -> i64 {
    date.parse::<Date>()
        .unwrap()
        .at(hour, 0, 0, 0)
        .to_zoned(TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_millisecond()
}

fn chat(id: i64, created_at: i64) -> ChatRecord {
    ChatRecord {
        id,
        created_at,
        status: ConversationStatus::Ended,
        visitor_name: format!("Visitor {id}"),
        agent_name: None,
        teams: Vec::new(),
        queued_at: None,
        agent_joined_at: None,
        queue_ms: None,
        ended_at: None,
        ended_by: None,
        first_response_at: None,
        messages: 1,
        page_url: None,
        ticket_id: None,
        rating: None,
    }
}

fn served(id: i64, created_at: i64, agent: &str, wait: i64) -> ChatRecord {
    ChatRecord {
        agent_name: Some(agent.into()),
        queued_at: Some(created_at),
        agent_joined_at: Some(created_at + wait),
        queue_ms: Some(wait),
        first_response_at: Some(created_at + wait + MINUTE),
        ..chat(id, created_at)
    }
}

#[test]
fn ranges_default_to_a_week_and_refuse_nonsense() {
    let today: Date = "2026-11-22".parse().unwrap();
    let week = Days::parse(&Range::default(), today).unwrap();
    assert_eq!(week.from.to_string(), "2026-11-16");
    let range = |from: &str, to: &str| Range {
        from: Some(from.into()),
        to: Some(to.into()),
    };
    assert!(Days::parse(&range("2026-11-22", "2026-11-01"), today).is_err());
    assert!(Days::parse(&range("2025-01-01", "2026-11-01"), today).is_err());
    assert!(Days::parse(&range("22/11/2026", "2026-11-01"), today).is_err());
    let one = Days::parse(&range("2026-11-01", "2026-11-01"), today).unwrap();
    let (start, end) = one.millis();
    assert_eq!(end - start, 24 * 60 * MINUTE);
}

#[test]
fn a_report_counts_days_hours_waits_abandonment_agents_teams_and_ratings() {
    let days = Days {
        from: "2026-11-01".parse().unwrap(),
        to: "2026-11-03".parse().unwrap(),
    };
    let waits = [MINUTE, 2 * MINUTE, 3 * MINUTE, 4 * MINUTE, 10 * MINUTE];
    let mut chats: Vec<ChatRecord> = waits
        .iter()
        .enumerate()
        .map(|(n, wait)| {
            let agent = if n % 2 == 0 { "Ana" } else { "Bo" };
            served(n as i64, at("2026-11-01", 9), agent, *wait)
        })
        .collect();
    for chat in &mut chats {
        chat.teams = vec!["Support".into()];
    }
    for (chat, score) in [(0, 5), (1, 2), (2, 4)] {
        chats[chat].rating = Some(score);
    }
    chats.push(ChatRecord {
        queued_at: Some(at("2026-11-03", 14)),
        teams: vec!["Sales".into()],
        ..chat(10, at("2026-11-03", 14))
    });
    chats.push(chat(11, at("2026-11-03", 23)));
    let report = summarise(days, &chats);
    assert_eq!(report.chats, 7);
    let per_day: Vec<usize> = report.per_day.iter().map(|day| day.chats).collect();
    assert_eq!(per_day, [5, 0, 2]);
    assert_eq!(
        (report.per_hour[9], report.per_hour[14], report.per_hour[23]),
        (5, 1, 1)
    );
    assert_eq!((report.queued, report.abandoned), (6, 1));
    assert_eq!(report.queue_time.median_ms, Some(3 * MINUTE));
    assert_eq!(report.queue_time.p90_ms, Some(10 * MINUTE));
    assert_eq!(report.first_response.median_ms, Some(4 * MINUTE));
    assert_eq!(
        report.per_agent,
        [
            AgentCount {
                agent: "Ana".into(),
                chats: 3,
                ratings: Ratings {
                    rated: 2,
                    score_sum: 9
                },
            },
            AgentCount {
                agent: "Bo".into(),
                chats: 2,
                ratings: Ratings {
                    rated: 1,
                    score_sum: 2
                },
            },
        ]
    );
    let teams: Vec<(&str, usize, Option<String>)> = report
        .per_team
        .iter()
        .map(|team| (team.team.as_str(), team.chats, team.ratings.text()))
        .collect();
    assert_eq!(
        teams,
        [
            ("Support", 5, Some("3.7 (3 ratings)".to_owned())),
            ("Sales", 1, None)
        ]
    );
    assert_eq!(
        report.per_agent[1].ratings.text().as_deref(),
        Some("2.0 (1 rating)")
    );
    assert_eq!(report.ratings.text().as_deref(), Some("3.7 (3 ratings)"));
    assert_eq!(summarise(days, &[]).queue_time, Spread::default());
}

#[test]
fn waits_are_reported_to_the_second_below_an_hour_and_to_the_minute_above() {
    let days = Days {
        from: "2026-11-01".parse().unwrap(),
        to: "2026-11-01".parse().unwrap(),
    };
    let start = at("2026-11-01", 9);
    let wait = |id, ms| ChatRecord {
        queue_ms: Some(ms),
        queued_at: Some(start),
        ..chat(id, start)
    };
    // Five chats waited 61.4 s, 61.9 s, 62 s, 62.5 s and two hours and a half minute.
    let chats = [
        wait(1, 61_400),
        wait(2, 61_900),
        wait(3, 62_000),
        wait(4, 62_500),
        wait(5, 2 * 60 * MINUTE + 30_000),
    ];
    let report = summarise(days, &chats);
    assert_eq!(report.queue_time.count, 5);
    assert_eq!(report.queue_time.median_ms, Some(62_000));
    assert_eq!(report.queue_time.p90_ms, Some(2 * 60 * MINUTE));
    let report = summarise(days, &chats[..2]);
    assert_eq!(
        (report.queue_time.median_ms, report.queue_time.p90_ms),
        (Some(61_000), Some(61_000))
    );
}

#[test]
fn csv_fields_are_quoted_and_never_formulas() {
    assert_eq!(csv_field("plain"), "plain");
    assert_eq!(csv_field("a, b"), "\"a, b\"");
    assert_eq!(csv_field("say \"hi\"\nthen"), "\"say \"\"hi\"\"\nthen\"");
    assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    assert_eq!(csv_field("-1"), "'-1");
    assert_eq!(csv_field("@sum"), "'@sum");
}

#[test]
fn the_chat_export_has_a_row_per_chat() {
    let mut text = CHATS_CSV_HEADER.to_owned();
    chats_csv(&mut text, &[served(7, at("2026-11-01", 9), "Ana", 90_000)]);
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("id,created_at,status,visitor,agent")
    );
    assert_eq!(
        lines.next().unwrap(),
        "7,2026-11-01T09:00:00Z,ended,Visitor 7,Ana,,2026-11-01T09:00:00Z,\
         2026-11-01T09:01:30Z,90,,,false,150,1,,"
    );
    assert_eq!(lines.next(), None);
}
