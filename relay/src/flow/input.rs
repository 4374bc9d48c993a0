//! What an input step accepts: each input type's check and normal form, and the hint
//! a refused answer gets.

use super::InputType;

pub(super) fn default_hint(input: InputType) -> &'static str {
    match input {
        InputType::Text => "Please type an answer.",
        InputType::Email => "That does not look like an email address. Please try again.",
        InputType::Number => "Please enter a number.",
        InputType::Date => "Please enter a date like 2026-12-24.",
        InputType::YesNo => "Please answer yes or no.",
        InputType::Choice => "Please pick one of the options.",
    }
}

/// The answer in its typed, normalised form, or `None` if it is not valid.
pub fn check_input(input: InputType, text: &str, options: &[String]) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match input {
        InputType::Text => Some(text.to_owned()),
        InputType::Email => {
            let (local, domain) = text.split_once('@')?;
            let valid = !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.contains(char::is_whitespace)
                && !domain.contains('@');
            valid.then(|| text.to_owned())
        }
        InputType::Number => {
            let number: f64 = text.replace(',', ".").parse().ok()?;
            number.is_finite().then(|| number.to_string())
        }
        InputType::Date => text
            .parse::<jiff::civil::Date>()
            .ok()
            .map(|date| date.to_string()),
        // The widget's yes and no buttons in each of its languages.
        InputType::YesNo => match text.to_lowercase().as_str() {
            "yes" | "y" | "true" | "1" | "ja" | "oui" | "sí" | "si" | "نعم" => {
                Some("yes".into())
            }
            "no" | "n" | "false" | "0" | "nein" | "non" | "لا" => Some("no".into()),
            _ => None,
        },
        InputType::Choice => options
            .iter()
            .find(|option| option.eq_ignore_ascii_case(text))
            .cloned(),
    }
}
