//! After a chat ends: "How was this chat?" with stars or thumbs, as the profile asks,
//! and an optional comment; then a thank-you. Drawn once and shown or hidden.

use leptos::prelude::*;
use porchlight_protocol::words::Text;
use porchlight_protocol::{RatingScale, to_text};

use crate::app::say;
use crate::browser;
use crate::state::ChatState;

#[component]
pub(crate) fn RatingCard(state: RwSignal<ChatState>) -> impl IntoView {
    let asked = Memo::new(move |_| state.with(ChatState::rating_asked));
    let score = RwSignal::new(0_u8);
    let comment = RwSignal::new(String::new());
    let send = move |_| {
        let frame = state
            .with_untracked(|state| state.rate(score.get_untracked(), &comment.get_untracked()));
        if let Some(frame) = frame {
            browser::send(&to_text(&frame));
            // The next chat's card starts blank.
            score.set(0);
            comment.set(String::new());
        }
    };
    // Every scale's buttons, the other scale's hidden: (score, label, symbol, scale).
    let choices: [(u8, Option<Text>, &str, RatingScale); 7] = [
        (1, None, "★", RatingScale::Stars),
        (2, None, "★", RatingScale::Stars),
        (3, None, "★", RatingScale::Stars),
        (4, None, "★", RatingScale::Stars),
        (5, None, "★", RatingScale::Stars),
        (5, Some(Text::ThumbsUp), "👍", RatingScale::Thumbs),
        (1, Some(Text::ThumbsDown), "👎", RatingScale::Thumbs),
    ];
    let buttons = choices.map(|(value, thumb, symbol, scale)| {
        let label = move || match thumb {
            Some(text) => say(state, text),
            None => state.with(|state| {
                state.words().fill(Text::Stars, &[("count", &value.to_string())])
            }),
        };
        // Stars light up to the one chosen; a thumb only when chosen.
        let lit = move || match scale {
            _ if asked.get() != Some(scale) => false,
            RatingScale::Stars => score.get() >= value,
            _ => score.get() == value,
        };
        view! {
            <button type="button" class="score" aria-label=label hidden=move || asked.get() != Some(scale)
                aria-pressed=move || lit().to_string() class:lit=lit on:click=move |_| score.set(value)>
                {symbol}
            </button>
        }
    });
    view! {
        <section class="rating" aria-label=move || say(state, Text::RateChat) hidden=move || asked.with(Option::is_none)>
            <p>{move || say(state, Text::HowWasIt)}</p>
            <div class="scores" role="group" aria-label=move || say(state, Text::Rating)>{buttons.into_iter().collect_view()}</div>
            <textarea rows="2" aria-label=move || say(state, Text::Comment) placeholder=move || say(state, Text::CommentHint)
                prop:value=move || comment.get() on:input=move |event| comment.set(event_target_value(&event))></textarea>
            <button type="button" class="send-rating" disabled=move || score.get() == 0 on:click=send>{move || say(state, Text::SendRating)}</button>
        </section>
        <p class="thanks" role="status" hidden=move || !state.with(ChatState::has_rated)>{move || say(state, Text::Thanks)}</p>
    }
}
