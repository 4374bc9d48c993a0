//! What is known about the visitor: what the site said about them, for the AI agent's
//! context and the flow's `$NAME`/`$EMAIL`, and (for the agent's context panel) a
//! description of their browser.

use crate::ai::prompt::ContextSection;
use crate::flow::FlowState;
use crate::store::{ContactRow, Conversation};

/// What the model may know about this visitor: what the site said about them (their
/// traits, and each context entry as a section of its own), the flow's answers and
/// the page.
pub fn visitor_context(
    conversation: &Conversation,
    flow_state: &FlowState,
    contact: Option<&ContactRow>,
) -> Vec<ContextSection> {
    let mut sections = Vec::new();
    let mut visitor: Vec<(String, String)> = Vec::new();
    if !conversation.visitor_name.is_empty() {
        visitor.push(("display name".into(), conversation.visitor_name.clone()));
    }
    if let Some(known) = contact.map(|contact| &contact.known) {
        let facts = [
            ("user id", known.user_id.as_ref()),
            ("email", known.email.as_ref()),
            ("company", known.company.as_ref()),
        ];
        for (key, value) in facts {
            if let Some(value) = value {
                visitor.push((key.into(), value.clone()));
            }
        }
        visitor.extend(known.traits.clone());
    }
    visitor.extend(
        flow_state
            .variables
            .iter()
            .map(|(key, value)| (key.clone(), value.clone())),
    );
    if !visitor.is_empty() {
        sections.push(ContextSection {
            label: "Visitor".into(),
            entries: visitor,
        });
    }
    for (key, entry) in contact
        .map(|contact| &contact.known.context)
        .into_iter()
        .flatten()
    {
        sections.push(ContextSection {
            label: entry.label.clone(),
            entries: entry
                .value
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(|line| (key.clone(), line.trim().to_owned()))
                .collect(),
        });
    }
    let mut page = Vec::new();
    if let Some(url) = &conversation.page_url {
        page.push(("url".into(), url.clone()));
    }
    if let Some(user_agent) = &conversation.user_agent {
        page.push(("browser".into(), describe_browser(user_agent)));
    }
    if !page.is_empty() {
        sections.push(ContextSection {
            label: "Page".into(),
            entries: page,
        });
    }
    sections
}

/// What the site said about an identified visitor fills `$NAME` and `$EMAIL` until
/// the flow asks for them itself.
pub fn known_visitor(conversation: &Conversation, flow_state: &mut FlowState) {
    if conversation.visitor_user_id.is_none() {
        return;
    }
    let variables = &mut flow_state.variables;
    variables
        .entry("name".into())
        .or_insert_with(|| conversation.visitor_name.clone());
    if let Some(email) = &conversation.visitor_email {
        variables
            .entry("email".into())
            .or_insert_with(|| email.clone());
    }
}

/// A short, human description of a `User-Agent` header: "Chrome 131 on Windows".
/// Order matters: Edge and Opera also say "Chrome", and Chrome also says "Safari".
pub fn describe_browser(user_agent: &str) -> String {
    const BROWSERS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("HeadlessChrome/", "Headless Chrome"),
        ("Chrome/", "Chrome"),
        ("CriOS/", "Chrome"),
        ("Version/", "Safari"),
    ];
    const SYSTEMS: &[(&str, &str)] = &[
        ("Windows", "Windows"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ];
    let browser = BROWSERS.iter().find_map(|(marker, name)| {
        let start = user_agent.find(marker)? + marker.len();
        let major: String = user_agent[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some(if major.is_empty() {
            (*name).to_owned()
        } else {
            format!("{name} {major}")
        })
    });
    let system = SYSTEMS
        .iter()
        .find(|(marker, _)| user_agent.contains(marker))
        .map(|(_, name)| *name);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser,
        (None, Some(system)) => format!("A browser on {system}"),
        (None, None) => "An unknown browser".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_browser;

    #[test]
    fn common_browsers_are_named_with_their_system() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome 131 on Windows",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
                "Edge 131 on Windows",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox 128 on Linux",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari 17 on iOS",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari 17 on macOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome 131 on Android",
            ),
            ("curl/8.5.0", "An unknown browser"),
        ];
        for (user_agent, expected) in cases {
            assert_eq!(describe_browser(user_agent), expected, "{user_agent}");
        }
    }
}
