//! Crawling a help site into knowledge: from a start page (following links) or a
//! sitemap, same origin only, obeying robots.txt, within page and depth limits.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use reqwest::Url;

use super::{document, html};
use crate::outbound::{Outbound, Refused, error_chain};
use crate::store::knowledge::{DocFormat, PutOutcome};
use crate::store::{KnowledgeStore, SiteId, StoreError};

/// The largest page read.
const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(15);
/// How robots.txt addresses us.
pub const USER_AGENT: &str = "porchlight";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct Limits {
    pub max_pages: usize,
    /// Links followed from the start page (0: the start page only).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pages: 200,
            max_depth: 3,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error("\"{0}\" is not an http(s) URL")]
    BadUrl(String),
    #[error("cannot fetch {url}: {reason}")]
    Start { url: String, reason: String },
    #[error("cannot crawl there: {0}")]
    Refused(#[from] Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub use porchlight_protocol::api::knowledge::CrawlReport;

/// The rules of robots.txt that apply to us: the `porchlight` group if there is one,
/// else `*`. Longest matching rule wins; Allow wins a tie.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Robots {
    rules: Vec<(bool, String)>,
}

impl Robots {
    pub fn parse(text: &str) -> Self {
        // Each group: its user agents, and its (allow, path) rules.
        type Group = (Vec<String>, Vec<(bool, String)>);
        let mut groups: Vec<Group> = Vec::new();
        let mut in_agents = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            match key.as_str() {
                "user-agent" => {
                    if !in_agents {
                        groups.push((Vec::new(), Vec::new()));
                    }
                    in_agents = true;
                    if let Some(group) = groups.last_mut() {
                        group.0.push(value.to_ascii_lowercase());
                    }
                }
                "allow" | "disallow" => {
                    in_agents = false;
                    if let Some(group) = groups.last_mut()
                        && !value.is_empty()
                    {
                        group.1.push((key == "allow", value.to_owned()));
                    }
                }
                _ => {}
            }
        }
        let pick = |agent: &str| {
            groups
                .iter()
                .find(|(agents, _)| agents.iter().any(|a| a == agent))
                .map(|(_, rules)| rules.clone())
        };
        Self {
            rules: pick(USER_AGENT).or_else(|| pick("*")).unwrap_or_default(),
        }
    }

    pub fn allows(&self, path: &str) -> bool {
        self.rules
            .iter()
            .filter(|(_, prefix)| rule_matches(prefix, path))
            .max_by_key(|(allow, prefix)| (prefix.len(), *allow))
            .is_none_or(|(allow, _)| *allow)
    }
}

/// A robots.txt path rule: a prefix, with `*` wildcards and an optional `$` end.
/// The middle parts match leftmost (which leaves the most room); an anchored rule's
/// last part must end the path.
fn rule_matches(rule: &str, path: &str) -> bool {
    let (rule, anchored) = match rule.strip_suffix('$') {
        Some(rule) => (rule, true),
        None => (rule, false),
    };
    let mut parts: Vec<&str> = rule.split('*').collect();
    let first = parts.remove(0);
    let Some(mut rest) = path.strip_prefix(first) else {
        return false;
    };
    let last = if anchored { parts.pop() } else { None };
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    match last {
        Some(last) => rest.ends_with(last),
        None => !anchored || rest.is_empty(),
    }
}

/// `<loc>` entries of a sitemap or sitemap index.
pub fn sitemap_locations(xml: &str) -> Vec<String> {
    xml.split("<loc>")
        .skip(1)
        .filter_map(|part| part.split("</loc>").next())
        .map(|loc| html::decode_entities(loc.trim()))
        .collect()
}

struct Fetched {
    url: Url,
    content_type: String,
    body: String,
}

async fn fetch(http: &Outbound, url: &Url) -> Result<Fetched, String> {
    let mut response = http
        .get(url)
        .map_err(|refused| refused.to_string())?
        .timeout(PAGE_TIMEOUT)
        .send()
        .await
        .map_err(|err| error_chain(&err))?;
    if !response.status().is_success() {
        return Err(format!("answered {}", response.status()));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let final_url = response.url().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| err.to_string())? {
        if body.len() + chunk.len() > MAX_PAGE_BYTES {
            return Err("larger than 2 MB".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        url: final_url,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn is_sitemap(url: &Url, content_type: &str) -> bool {
    url.path().ends_with(".xml") || content_type.contains("xml") && !content_type.contains("xhtml")
}

/// The site's robots.txt rules (none when it has no robots.txt).
async fn robots_of(http: &Outbound, start: &Url) -> Robots {
    let Ok(robots_url) = start.join("/robots.txt") else {
        return Robots::default();
    };
    match fetch(http, &robots_url).await {
        Ok(fetched) => Robots::parse(&fetched.body),
        Err(_) => Robots::default(),
    }
}

/// The pages still to visit, and every URL seen (so none is visited twice).
struct Frontier {
    start: Url,
    queue: VecDeque<(Url, usize)>,
    seen: HashSet<String>,
}

impl Frontier {
    fn new(start: Url) -> Self {
        Self {
            queue: VecDeque::from([(start.clone(), 0)]),
            seen: HashSet::from([start.to_string()]),
            start,
        }
    }

    /// Adds a URL found at `depth`, if it is on the site and new.
    fn add(&mut self, mut found: Url, depth: usize) {
        found.set_fragment(None);
        if same_origin(&found, &self.start) && self.seen.insert(found.to_string()) {
            self.queue.push_back((found, depth));
        }
    }
}

/// Stores a fetched page as a document whose source is its URL.
async fn store_page(
    store: &dyn KnowledgeStore,
    site: SiteId,
    url: &Url,
    format: DocFormat,
    body: &str,
    report: &mut CrawlReport,
) -> Result<(), CrawlError> {
    let fallback = url
        .path()
        .rsplit('/')
        .find(|part| !part.is_empty())
        .unwrap_or("Home")
        .to_owned();
    let document = document(url.as_str(), format, body, &fallback);
    match store.kb_put(site, document).await? {
        PutOutcome::Added => report.added += 1,
        PutOutcome::Updated => report.updated += 1,
        PutOutcome::Unchanged => report.unchanged += 1,
    }
    report.pages += 1;
    Ok(())
}

/// Crawls from `start` (a page or a sitemap), storing each page as a document whose
/// source is its URL. `progress(stored, seen)` is called after each page.
pub async fn crawl(
    http: &Outbound,
    store: &dyn KnowledgeStore,
    site: SiteId,
    start: &str,
    limits: Limits,
    mut progress: impl FnMut(usize, usize),
) -> Result<CrawlReport, CrawlError> {
    let start_url = Url::parse(start)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .ok_or_else(|| CrawlError::BadUrl(start.to_owned()))?;
    http.check(&start_url).await?;
    let robots = robots_of(http, &start_url).await;
    let mut report = CrawlReport::default();
    let mut frontier = Frontier::new(start_url.clone());
    let mut sitemaps_read = 0;
    while let Some((url, depth)) = frontier.queue.pop_front() {
        if report.pages >= limits.max_pages {
            break;
        }
        if !robots.allows(url.path()) {
            report
                .skipped
                .push(format!("{url}: disallowed by robots.txt"));
            continue;
        }
        let fetched = match fetch(http, &url).await {
            Ok(fetched) if same_origin(&fetched.url, &start_url) => fetched,
            Ok(fetched) => {
                report
                    .skipped
                    .push(format!("{url}: redirected off the site to {}", fetched.url));
                continue;
            }
            Err(reason) if url == start_url => {
                return Err(CrawlError::Start {
                    url: url.to_string(),
                    reason,
                });
            }
            Err(reason) => {
                report.skipped.push(format!("{url}: {reason}"));
                continue;
            }
        };
        if is_sitemap(&fetched.url, &fetched.content_type) {
            sitemaps_read += 1;
            for location in sitemap_locations(&fetched.body) {
                // Sitemap entries are where the crawl starts: depth is not spent on them.
                if let Ok(found) = Url::parse(&location)
                    && sitemaps_read < 50
                {
                    frontier.add(found, depth);
                }
            }
            continue;
        }
        let Some(format) = DocFormat::from_content_type(&fetched.content_type) else {
            report
                .skipped
                .push(format!("{url}: not a page ({})", fetched.content_type));
            continue;
        };
        let mut url = fetched.url;
        url.set_fragment(None);
        let page = (format == DocFormat::Html).then(|| html::extract(&fetched.body));
        if let Some(page) = &page
            && depth < limits.max_depth
        {
            for link in &page.links {
                if let Ok(found) = url.join(link) {
                    frontier.add(found, depth + 1);
                }
            }
        }
        if page.as_ref().is_some_and(|page| page.noindex) {
            report.skipped.push(format!("{url}: marked noindex"));
            continue;
        }
        store_page(store, site, &url, format, &fetched.body, &mut report).await?;
        progress(report.pages, frontier.seen.len());
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_rules_pick_our_group_and_the_longest_match() {
        let robots = Robots::parse(
            "User-agent: *\nDisallow: /\n\nUser-agent: porchlight\nUser-agent: other\nDisallow: /private\nAllow: /private/faq\nDisallow: /*.pdf$\n",
        );
        assert!(robots.allows("/help"));
        assert!(!robots.allows("/private/keys"));
        assert!(robots.allows("/private/faq/1"));
        assert!(!robots.allows("/docs/a.pdf"));
        assert!(robots.allows("/docs/a.pdf.html"));
        // An anchored rule's end is the path's end, however often its last part occurs.
        assert!(!robots.allows("/docs/a.pdf.pdf"));
        let everyone = Robots::parse("User-agent: *\nDisallow: /admin # staff\n");
        assert!(!everyone.allows("/admin/x"));
        assert!(everyone.allows("/"));
        assert!(Robots::parse("").allows("/anything"));
    }

    #[test]
    fn sitemaps_list_their_locations() {
        let xml = "<urlset><url><loc> https://a.test/one?x=1&amp;y=2 </loc></url><url><loc>https://a.test/two</loc></url></urlset>";
        assert_eq!(
            sitemap_locations(xml),
            vec![
                "https://a.test/one?x=1&y=2".to_owned(),
                "https://a.test/two".to_owned()
            ]
        );
    }
}
