//! The wording of the emails a site sends, editable per site: a subject and a plain
//! text body with `$VARIABLES`. A line whose variables are all empty is left out (so
//! "Reply to: $VISITOREMAIL" disappears when the visitor gave no address). Values are
//! filled in one pass, so a visitor who writes "$LINK" gets those five characters.

use std::collections::BTreeMap;

use porchlight_protocol::api::email::{EmailTemplateForm, EmailTemplateView, TemplateKind};
use porchlight_protocol::words::Language;
use serde::{Deserialize, Serialize};

use crate::store::{SiteId, Store, StoreError};

/// The settings row that holds every site's own templates.
pub const SETTINGS_KEY: &str = "email_templates";

const MAX_SUBJECT_CHARS: usize = 200;
const MAX_BODY_CHARS: usize = 10_000;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

/// The variables a kind of email fills, each with what it holds.
pub fn variables(kind: TemplateKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        TemplateKind::NewTicket => &[
            ("TICKETID", "the ticket's number"),
            ("SUBJECT", "the ticket's subject"),
            ("REQUESTER", "the visitor's name"),
            (
                "VISITOREMAIL",
                "the address the visitor gave (also the Reply-To)",
            ),
            ("TRANSCRIPT", "the chat, once it ended"),
            ("LINK", "the console's address (with public_url)"),
        ],
        TemplateKind::Transcript => &[
            ("TITLE", "the chat profile's title"),
            ("CHATID", "the chat's number"),
            ("TRANSCRIPT", "who said what, when (UTC)"),
        ],
        TemplateKind::TicketReply => &[
            ("TICKETID", "the ticket's number"),
            ("SUBJECT", "the ticket's subject"),
            ("REPLY", "the agent's reply"),
        ],
    }
}

/// What each email says unless the site wrote its own.
pub fn default_template(kind: TemplateKind) -> Template {
    let (subject, body) = match kind {
        TemplateKind::NewTicket => (
            "New ticket #$TICKETID: $SUBJECT",
            "$REQUESTER left a message.\n\nTicket #$TICKETID: $SUBJECT\nReply to: $VISITOREMAIL\n\n\
             $TRANSCRIPT\n\nOpen it in the console: $LINK",
        ),
        TemplateKind::Transcript => {
            let (subject, body, _) = transcript_words(Language::En);
            (subject, body)
        }
        TemplateKind::TicketReply => (
            "Re: $SUBJECT (ticket #$TICKETID)",
            "$REPLY\n\n-- \nTicket #$TICKETID \u{b7} $SUBJECT",
        ),
    };
    Template {
        subject: subject.into(),
        body: body.into(),
    }
}

/// The transcript's default subject, body and name for the visitor, in the visitor's
/// language (the widget's languages); the other emails' defaults are in English.
pub fn transcript_words(language: Language) -> (&'static str, &'static str, &'static str) {
    match language {
        Language::En => (
            "Your chat with $TITLE (#$CHATID)",
            "Here is your chat with $TITLE.\n\n$TRANSCRIPT\n\nTimes are UTC.",
            "You",
        ),
        Language::De => (
            "Ihr Chat mit $TITLE (#$CHATID)",
            "Hier ist Ihr Chat mit $TITLE.\n\n$TRANSCRIPT\n\nZeiten in UTC.",
            "Sie",
        ),
        Language::Fr => (
            "Votre conversation avec $TITLE (n° $CHATID)",
            "Voici votre conversation avec $TITLE.\n\n$TRANSCRIPT\n\nHeures en UTC.",
            "Vous",
        ),
        Language::Es => (
            "Tu chat con $TITLE (n.º $CHATID)",
            "Aquí tienes tu chat con $TITLE.\n\n$TRANSCRIPT\n\nHoras en UTC.",
            "Tú",
        ),
        Language::Ar => (
            "محادثتك مع $TITLE (#$CHATID)",
            "إليك محادثتك مع $TITLE.\n\n$TRANSCRIPT\n\nالأوقات بتوقيت UTC.",
            "أنت",
        ),
    }
}

/// Every site's own templates, by site and kind.
type Saved = BTreeMap<SiteId, BTreeMap<TemplateKind, Template>>;

async fn saved(store: &dyn Store) -> Result<Saved, StoreError> {
    Ok(match store.setting(SETTINGS_KEY).await? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|err| StoreError::Backend(format!("the email templates: {err}")))?,
        None => Saved::new(),
    })
}

/// The template `site` uses for `kind`: its own, else the default (a transcript's in
/// the visitor's `language`).
pub async fn template(
    store: &dyn Store,
    site: Option<SiteId>,
    kind: TemplateKind,
    language: Language,
) -> Result<Template, StoreError> {
    let own = match site {
        Some(site) => saved(store)
            .await?
            .get(&site)
            .and_then(|own| own.get(&kind))
            .cloned(),
        None => None,
    };
    Ok(own.unwrap_or_else(|| match kind {
        TemplateKind::Transcript => {
            let (subject, body, _) = transcript_words(language);
            Template {
                subject: subject.into(),
                body: body.into(),
            }
        }
        _ => default_template(kind),
    }))
}

/// The site's three templates as the console shows them.
pub async fn views(store: &dyn Store, site: SiteId) -> Result<Vec<EmailTemplateView>, StoreError> {
    let saved = saved(store).await?;
    Ok(TemplateKind::ALL
        .into_iter()
        .map(|kind| {
            let own = saved.get(&site).and_then(|own| own.get(&kind));
            view(kind, own)
        })
        .collect())
}

fn view(kind: TemplateKind, own: Option<&Template>) -> EmailTemplateView {
    let template = own.cloned().unwrap_or_else(|| default_template(kind));
    EmailTemplateView {
        kind,
        subject: template.subject,
        body: template.body,
        custom: own.is_some(),
        variables: variables(kind)
            .iter()
            .map(|(name, about)| (format!("${name}"), (*about).to_owned()))
            .collect(),
    }
}

/// Saves the site's own template for `kind`, or (both fields empty) goes back to the
/// default. A variable the kind does not fill is refused, naming it.
pub async fn save(
    store: &dyn Store,
    site: SiteId,
    kind: TemplateKind,
    form: EmailTemplateForm,
) -> Result<Result<EmailTemplateView, String>, StoreError> {
    let subject = form.subject.trim().to_owned();
    let body = form.body.trim_end().to_owned();
    let default = default_template(kind);
    let unchanged = subject == default.subject && body == default.body;
    // The default saved as it stands stays the default (and a transcript's stays in
    // the visitor's language).
    let own = if unchanged || (subject.is_empty() && body.trim().is_empty()) {
        None
    } else {
        match check(kind, &subject, &body) {
            Ok(()) => Some(Template { subject, body }),
            Err(why) => return Ok(Err(why)),
        }
    };
    let mut all = saved(store).await?;
    let site_templates = all.entry(site).or_default();
    match &own {
        Some(template) => site_templates.insert(kind, template.clone()),
        None => site_templates.remove(&kind),
    };
    let json = serde_json::to_string(&all)
        .map_err(|err| StoreError::Backend(format!("the email templates: {err}")))?;
    store.set_setting(SETTINGS_KEY, json).await?;
    Ok(Ok(view(kind, own.as_ref())))
}

fn check(kind: TemplateKind, subject: &str, body: &str) -> Result<(), String> {
    if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(format!(
            "A subject has 1 to {MAX_SUBJECT_CHARS} characters."
        ));
    }
    if subject.contains(['\r', '\n']) {
        return Err("A subject is one line.".into());
    }
    if body.trim().is_empty() || body.chars().count() > MAX_BODY_CHARS {
        return Err(format!("A body has 1 to {MAX_BODY_CHARS} characters."));
    }
    let known = variables(kind);
    let unknown: Vec<String> = [subject, body]
        .into_iter()
        .flat_map(names)
        .filter(|name| !known.iter().any(|(known, _)| known == name))
        .map(|name| format!("${name}"))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        let may: Vec<String> = known.iter().map(|(name, _)| format!("${name}")).collect();
        Err(format!(
            "{} is not filled in this email; it may use {}.",
            unknown.join(", "),
            may.join(", ")
        ))
    }
}

/// The `$NAME`s in `text` (capital letters after a `$`).
fn names(text: &str) -> impl Iterator<Item = &str> {
    text.split('$').skip(1).filter_map(|after| {
        let end = after
            .find(|c: char| !c.is_ascii_uppercase())
            .unwrap_or(after.len());
        (end > 0).then(|| &after[..end])
    })
}

/// `template` with its variables filled from `values` in one pass; a line whose
/// variables are all empty is left out, and blank lines never pile up.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let value_of = |name: &str| {
        values
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| *value)
    };
    let mut out = String::with_capacity(template.len());
    for line in template.split('\n') {
        let mut filled = String::with_capacity(line.len());
        let (mut named, mut empty) = (0, 0);
        let mut rest = line;
        while let Some(at) = rest.find('$') {
            filled.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let end = after
                .find(|c: char| !c.is_ascii_uppercase())
                .unwrap_or(after.len());
            match value_of(&after[..end]) {
                Some(value) => {
                    named += 1;
                    empty += usize::from(value.trim().is_empty());
                    filled.push_str(value);
                    rest = &after[end..];
                }
                None => {
                    filled.push('$');
                    rest = after;
                }
            }
        }
        filled.push_str(rest);
        if named > 0 && named == empty {
            continue;
        }
        if filled.trim().is_empty() && (out.is_empty() || out.ends_with("\n\n")) {
            continue;
        }
        out.push_str(&filled);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fill_in_one_pass_and_a_line_of_empty_values_is_left_out() {
        let template = default_template(TemplateKind::NewTicket);
        let text = fill(
            &template.body,
            &[
                ("TICKETID", "7"),
                ("SUBJECT", "Boiler"),
                ("REQUESTER", "Visitor 3"),
                ("VISITOREMAIL", ""),
                ("TRANSCRIPT", "You: costs $LINK?"),
                ("LINK", ""),
            ],
        );
        assert_eq!(
            text,
            "Visitor 3 left a message.\n\nTicket #7: Boiler\n\nYou: costs $LINK?\n"
        );
        assert_eq!(fill("Price: $5 $NOPE", &[]), "Price: $5 $NOPE\n");
    }

    #[test]
    fn a_template_may_use_only_its_own_variables_and_a_one_line_subject() {
        let kind = TemplateKind::TicketReply;
        assert_eq!(check(kind, "Re: $SUBJECT", "$REPLY\n$TICKETID"), Ok(()));
        let wrong = check(kind, "Re: $SUBJECT", "$REPLY from $AGENT and $TRANSCRIPT").unwrap_err();
        assert!(
            wrong.starts_with("$AGENT, $TRANSCRIPT is not filled"),
            "{wrong}"
        );
        assert!(wrong.contains("$TICKETID, $SUBJECT, $REPLY"), "{wrong}");
        assert!(check(kind, "Re:\nBcc: x@y.z", "$REPLY").is_err());
        assert!(check(kind, "", "$REPLY").is_err());
        assert!(check(kind, "Re", " ").is_err());
    }
}
