//! Removal of the call's secrets from every text the library shows.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::encode::{json_escaped, needs_json_escape};
use super::text::one_line;
use crate::secret::{Secret, REDACTED};

/// Replaces every occurrence of the call's secrets in text the library is
/// about to keep or show. Both the raw form and the JSON-escaped form are
/// removed, since a server that echoes a request body echoes it escaped.
pub(crate) struct Scrubber<'a> {
    secrets: Vec<ScrubItem<'a>>,
}

/// A secret to scrub: borrowed for the call, shared with a token cache, or
/// a derived form (form-encoded) owned and wiped here.
enum ScrubItem<'a> {
    Borrowed(&'a str),
    Shared(Arc<Secret>),
    Owned(Zeroizing<String>),
}

impl ScrubItem<'_> {
    fn as_str(&self) -> &str {
        match self {
            ScrubItem::Borrowed(s) => s,
            ScrubItem::Shared(s) => s.expose_secret(),
            ScrubItem::Owned(s) => s.as_str(),
        }
    }
}

/// An empty value would match everywhere. Anything longer is scrubbed, even
/// a one-letter password: a mangled message beats a leaked secret.
const MIN_SCRUB_LEN: usize = 1;

impl<'a> Scrubber<'a> {
    pub(crate) fn new() -> Self {
        Scrubber {
            secrets: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, secret: &'a str) {
        self.push(ScrubItem::Borrowed(secret));
    }

    pub(crate) fn add_shared(&mut self, secret: Arc<Secret>) {
        self.push(ScrubItem::Shared(secret));
    }

    pub(crate) fn add_owned(&mut self, secret: Zeroizing<String>) {
        self.push(ScrubItem::Owned(secret));
    }

    /// Adds a secret and, when JSON escaping changes it, its escaped forms:
    /// a server that echoes the request body echoes it JSON-escaped, and an
    /// echo of an echo (a body quoted inside a JSON string) escapes it
    /// twice. Kept longest first, so a connection string is removed whole
    /// before the password inside it.
    fn push(&mut self, item: ScrubItem<'a>) {
        if item.as_str().len() < MIN_SCRUB_LEN {
            return;
        }
        let mut forms = Vec::new();
        if needs_json_escape(item.as_str()) {
            let once = json_escaped(item.as_str());
            forms.push(ScrubItem::Owned(json_escaped(&once)));
            forms.push(ScrubItem::Owned(once));
        }
        self.secrets.push(item);
        self.secrets.extend(forms);
        self.secrets
            .sort_by_key(|s| std::cmp::Reverse(s.as_str().len()));
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            replace_all(&mut out, secret.as_str());
        }
        out
    }

    /// Service text as the library shows it: on one line, at most
    /// `max_chars`, without the call's secrets. Scrubbed before and after
    /// flattening: a secret spelled with white space inside is caught in
    /// the raw text, and one split by control characters (`a\u0000bc`
    /// for `abc`) once they are gone.
    pub(crate) fn shown(&self, text: &str, max_chars: usize) -> String {
        // Cut only at the end: a cut first could leave part of a secret
        // that the second scrub no longer recognises.
        let flat = Zeroizing::new(one_line(&self.scrub(text), usize::MAX));
        let scrubbed = Zeroizing::new(self.scrub(&flat));
        one_line(&scrubbed, max_chars)
    }
}

fn replace_all(text: &mut String, needle: &str) {
    if text.contains(needle) {
        let replaced = text.replace(needle, REDACTED);
        zeroize::Zeroize::zeroize(text);
        *text = replaced;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubber_removes_raw_and_json_escaped_forms() {
        let mut s = Scrubber::new();
        s.add("p\"w\\canary");
        s.add("xy");
        s.add(""); // would match everywhere: ignored
        let text = r#"raw p"w\canary, escaped p\"w\\canary, twice p\\\"w\\\\canary; xy too"#;
        let out = s.scrub(text);
        assert!(!out.contains("canary"), "{out}");
        assert!(!out.contains("xy"), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 4, "{out}");
    }

    #[test]
    fn a_secret_split_at_the_length_cap_is_not_left_half_shown() {
        let mut s = Scrubber::new();
        s.add("tokCANARY99");
        // The split secret ends just where the cap would cut.
        let text = format!("{}tok\u{1}CANARY99 tail", "a".repeat(995));
        let out = s.shown(&text, 1000);
        assert!(!out.contains("tokCA"), "{out}");
        assert!(out.chars().count() <= 1001);
    }
}
