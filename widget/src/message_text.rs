//! A message's text as the widget and the console show it: plain text (line breaks
//! kept by the stylesheet) with its web addresses as links that open in a new tab and
//! give the page they open nothing of ours.

use leptos::prelude::*;
use porchlight_protocol::links::{Piece, pieces};

/// The message body's `<span>`.
pub fn message_body(text: &str) -> AnyView {
    let parts = pieces(text)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.to_owned().into_any(),
            Piece::Link(url) => view! {
                <a href=url.to_owned() target="_blank" rel="noopener noreferrer nofollow">{url.to_owned()}</a>
            }
            .into_any(),
        })
        .collect_view();
    view! { <span class="body">{parts}</span> }.into_any()
}
