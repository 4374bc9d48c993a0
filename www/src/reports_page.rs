//! The admins' Reports page: a date range, the key figures, SVG bar charts (no
//! external service) and CSV export links.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use porchlight_protocol::api::reports::Report;

use crate::reports::{abandonment, bars, duration_text};

const PLOT_WIDTH: u32 = 600;
const PLOT_HEIGHT: u32 = 120;

/// A bar chart with a label under the first, middle and last bar.
fn chart(title: &'static str, labels: Vec<String>, values: Vec<usize>) -> impl IntoView {
    let drawn = bars(&values, PLOT_WIDTH, PLOT_HEIGHT);
    let ticks: Vec<(u32, String)> = [0, labels.len() / 2, labels.len().saturating_sub(1)]
        .into_iter()
        .filter(|index| *index < labels.len())
        .map(|index| (drawn[index].x, labels[index].clone()))
        .collect();
    let summary = labels
        .iter()
        .zip(&values)
        .map(|(label, value)| format!("{label}: {value}"))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {PLOT_WIDTH} {}", PLOT_HEIGHT + 18) role="img" aria-label=format!("{title}: {summary}")>
                {drawn.into_iter().zip(values).map(|(bar, value)| view! {
                    <rect x=bar.x y=bar.y width=bar.width height=bar.height class="bar"><title>{value}</title></rect>
                }).collect_view()}
                {ticks.into_iter().map(|(x, label)| view! {
                    <text x=x y=PLOT_HEIGHT + 14 class="tick">{label}</text>
                }).collect_view()}
            </svg>
        </figure>
    }
}

#[component]
pub(crate) fn ReportsPage() -> impl IntoView {
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let report = RwSignal::new(None::<Report>);
    let note = RwSignal::new(None::<String>);
    let range = move || format!("from={}&to={}", from.get(), to.get());
    let load = move || {
        let query = format!("from={}&to={}", from.get_untracked(), to.get_untracked());
        spawn_local(async move {
            match api::get::<Report>(&format!("/api/reports?{query}")).await {
                Ok(loaded) => {
                    from.set(loaded.from.clone());
                    to.set(loaded.to.clone());
                    report.set(Some(loaded));
                    note.set(None);
                }
                Err(failure) => note.set(Some(failure.message())),
            }
        });
    };
    load();
    view! {
        <main class="admin-page">
            <h2>"Reports"</h2>
            <form class="inline-form" on:submit=move |event| { event.prevent_default(); load(); }>
                <label>"From "<input type="date" aria-label="From" prop:value=move || from.get() on:input=move |event| from.set(event_target_value(&event))/></label>
                <label>"To "<input type="date" aria-label="To" prop:value=move || to.get() on:input=move |event| to.set(event_target_value(&event))/></label>
                <button type="submit">"Show"</button>
                <a href=move || format!("/api/reports/chats.csv?{}", range()) download="">"Export chats (CSV)"</a>
                <a href=move || format!("/api/reports/messages.csv?{}", range()) download="">"Export messages (CSV)"</a>
            </form>
            <p class="hint">"Days and hours are UTC."</p>
            <Show when=move || note.with(Option::is_some)>
                <p class="notice" role="alert">{move || note.get().unwrap_or_default()}</p>
            </Show>
            {move || report.get().map(|report| {
                let days: Vec<String> = report.per_day.iter().map(|day| day.day.get(5..).unwrap_or(&day.day).to_owned()).collect();
                let per_day: Vec<usize> = report.per_day.iter().map(|day| day.chats).collect();
                let hours: Vec<String> = (0..24).map(|hour| format!("{hour:02}h")).collect();
                let agents: Vec<String> = report.per_agent.iter().map(|count| count.agent.clone()).collect();
                let per_agent: Vec<usize> = report.per_agent.iter().map(|count| count.chats).collect();
                view! {
                    <dl class="figures" aria-label="Figures">
                        <div><dt>"Chats"</dt><dd>{report.chats}</dd></div>
                        <div><dt>"Queue time, median"</dt><dd>{duration_text(report.queue_time.median_ms)}</dd></div>
                        <div><dt>"Queue time, 90th percentile"</dt><dd>{duration_text(report.queue_time.p90_ms)}</dd></div>
                        <div><dt>"First response, median"</dt><dd>{duration_text(report.first_response.median_ms)}</dd></div>
                        <div><dt>"Abandoned"</dt><dd>{abandonment(&report)}</dd></div>
                    </dl>
                    {chart("Chats per day", days, per_day)}
                    {chart("Chats by hour of day", hours, report.per_hour.clone())}
                    {(!agents.is_empty()).then(|| chart("Chats per agent", agents, per_agent))}
                    <RatingsTable report=report.clone()/>
                }
            })}
        </main>
    }
}

/// Chats and ratings per agent and per team, and in all.
#[component]
fn RatingsTable(report: Report) -> impl IntoView {
    let rows = report
        .per_agent
        .iter()
        .map(|count| ("Agent", count.agent.clone(), count.chats, count.ratings))
        .chain(
            report
                .per_team
                .iter()
                .map(|count| ("Team", count.team.clone(), count.chats, count.ratings)),
        )
        .map(|(kind, name, chats, ratings)| {
            let rating = ratings.text().unwrap_or_else(|| "—".into());
            view! { <tr><td>{kind}</td><td>{name}</td><td>{chats}</td><td>{rating}</td></tr> }
        })
        .collect_view();
    view! {
        <table class="ratings" aria-label="Ratings">
            <caption>"Ratings: "{report.ratings.text().unwrap_or_else(|| "none yet".into())}</caption>
            <thead><tr><th>""</th><th>"Name"</th><th>"Chats"</th><th>"Average rating"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
