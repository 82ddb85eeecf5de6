//! Stage 4, **classify**: flag `vendor_ban` and `ppp_change` items, with a
//! score, the evidence sentences and who did what to whom.
//!
//! Pure: no I/O. The knowledge (lexicons and rules) lives in
//! `config/classifier.toml`; this module compiles it once and matches it
//! sentence by sentence, so that a ban word in one paragraph and a vendor in
//! another do not make a ban.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RulesError {
    #[error("invalid classifier rules {source_name}: {message}")]
    Invalid {
        source_name: String,
        message: String,
    },
}

/// The rule file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    version: String,
    #[serde(default)]
    lexicons: BTreeMap<String, Vec<String>>,
    labels: Vec<LabelSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelSpec {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    rules: Vec<RuleSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    weight: f64,
    /// Lexicon names; a sentence matches when it has a term of every one.
    all: Vec<String>,
    /// Lexicon roles for the structured event.
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    action: Option<String>,
}

struct Lexicon {
    name: String,
    matcher: AhoCorasick,
    terms: Vec<String>,
}

struct Rule {
    name: String,
    weight: f64,
    all: Vec<usize>,
    actor: Option<usize>,
    target: Option<usize>,
    action: Option<usize>,
}

struct Label {
    name: String,
    rules: Vec<Rule>,
}

/// A compiled classifier.
pub struct Classifier {
    version: String,
    threshold: f64,
    lexicons: Vec<Lexicon>,
    labels: Vec<Label>,
}

/// One evidence sentence, with byte offsets into the classified text
/// (title, a blank line, then the body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub sentence: String,
    pub start: usize,
    pub end: usize,
}

/// Who did what to whom, from one sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub label: String,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub action: Option<String>,
    pub sentence: String,
}

/// The result for one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelResult {
    pub label: String,
    pub score: f64,
    pub flagged: bool,
    pub evidence: Vec<Evidence>,
}

/// The result for one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub labels: Vec<LabelResult>,
    pub events: Vec<Event>,
}

impl Classification {
    /// Names of the flagged labels.
    pub fn flagged(&self) -> Vec<&str> {
        self.labels
            .iter()
            .filter(|l| l.flagged)
            .map(|l| l.label.as_str())
            .collect()
    }
}

impl Classifier {
    /// Compiles a rule file. `source_name` names it in errors.
    pub fn from_toml(text: &str, source_name: &str, threshold: f64) -> Result<Self, RulesError> {
        let bad = |message: String| RulesError::Invalid {
            source_name: source_name.to_string(),
            message,
        };
        let file: RulesFile =
            toml::from_str(text).map_err(|e| bad(e.to_string().trim_end().to_string()))?;
        let mut lexicons = Vec::new();
        for (name, terms) in &file.lexicons {
            let terms: Vec<String> = terms
                .iter()
                .map(|t| t.trim().to_lowercase())
                .filter(|t| !t.is_empty())
                .collect();
            if terms.is_empty() {
                return Err(bad(format!("lexicon {name:?} is empty")));
            }
            let matcher = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&terms)
                .map_err(|e| bad(format!("lexicon {name:?}: {e}")))?;
            lexicons.push(Lexicon {
                name: name.clone(),
                matcher,
                terms,
            });
        }
        let find = |lex: &str, rule: &str| {
            lexicons
                .iter()
                .position(|l| l.name == lex)
                .ok_or_else(|| bad(format!("rule {rule:?} names unknown lexicon {lex:?}")))
        };
        let mut labels = Vec::new();
        for l in &file.labels {
            let mut rules = Vec::new();
            for r in &l.rules {
                if r.all.is_empty() {
                    return Err(bad(format!("rule {:?} has an empty `all` list", r.name)));
                }
                if !(0.0..=1.0).contains(&r.weight) {
                    return Err(bad(format!("rule {:?}: weight must be in 0..1", r.name)));
                }
                rules.push(Rule {
                    name: r.name.clone(),
                    weight: r.weight,
                    all: r
                        .all
                        .iter()
                        .map(|x| find(x, &r.name))
                        .collect::<Result<_, _>>()?,
                    actor: r.actor.as_deref().map(|x| find(x, &r.name)).transpose()?,
                    target: r.target.as_deref().map(|x| find(x, &r.name)).transpose()?,
                    action: r.action.as_deref().map(|x| find(x, &r.name)).transpose()?,
                });
            }
            labels.push(Label {
                name: l.name.clone(),
                rules,
            });
        }
        if labels.is_empty() {
            return Err(bad("no [[labels]] defined".into()));
        }
        Ok(Classifier {
            version: file.version,
            threshold,
            lexicons,
            labels,
        })
    }

    /// The rules' version string, stored with every label.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Names of all labels, in rule-file order.
    pub fn label_names(&self) -> Vec<&str> {
        self.labels.iter().map(|l| l.name.as_str()).collect()
    }

    /// Classifies one item.
    pub fn classify(&self, title: &str, text: &str) -> Classification {
        let full = if title.trim().is_empty() {
            text.to_string()
        } else {
            format!("{}\n\n{}", title.trim(), text)
        };
        let lower = full.to_lowercase();
        // to_lowercase can change byte lengths for a few scripts; offsets are
        // only reported when it did not.
        let same_len = lower.len() == full.len();
        let sentences = split_sentences(&lower);
        let mut results = Vec::new();
        let mut events = Vec::new();
        for label in &self.labels {
            let mut score: f64 = 0.0;
            let mut evidence = Vec::new();
            for (idx, &(start, end)) in sentences.iter().enumerate() {
                let s = &lower[start..end];
                let hits: Vec<Option<String>> = self
                    .lexicons
                    .iter()
                    .map(|l| first_word_match(&l.matcher, &l.terms, s))
                    .collect();
                for rule in &label.rules {
                    if rule.all.iter().all(|&i| hits[i].is_some()) {
                        // The first sentences (title, lede) weigh more.
                        let position = if idx < 2 { 1.0 } else { 0.85 };
                        score = score.max(rule.weight * position);
                        let sentence = if same_len {
                            full[start..end].to_string()
                        } else {
                            s.to_string()
                        };
                        if !evidence.iter().any(|e: &Evidence| e.start == start) {
                            evidence.push(Evidence {
                                sentence: sentence.clone(),
                                start,
                                end,
                            });
                        }
                        let role = |r: Option<usize>| r.and_then(|i| hits[i].clone());
                        events.push(Event {
                            label: label.name.clone(),
                            actor: role(rule.actor),
                            target: role(rule.target),
                            action: role(rule.action),
                            sentence,
                        });
                        let _ = &rule.name;
                        break;
                    }
                }
            }
            results.push(LabelResult {
                label: label.name.clone(),
                score,
                flagged: score >= self.threshold,
                evidence,
            });
        }
        events.dedup();
        Classification {
            labels: results,
            events,
        }
    }
}

/// The first lexicon term that occurs in `s` as whole words.
fn first_word_match(m: &AhoCorasick, terms: &[String], s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    m.find_iter(s).find_map(|hit| {
        let before_ok = hit.start() == 0 || !is_word_byte(bytes[hit.start() - 1]);
        let after_ok = hit.end() == bytes.len() || !is_word_byte(bytes[hit.end()]);
        (before_ok && after_ok).then(|| terms[hit.pattern().as_usize()].clone())
    })
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Splits text into sentences: byte ranges, ends at `.`, `!`, `?` followed
/// by whitespace, and at blank lines.
pub fn split_sentences(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let end_here = (matches!(b, b'.' | b'!' | b'?')
            && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()))
            || (b == b'\n' && bytes.get(i + 1) == Some(&b'\n'));
        if end_here {
            push_trimmed(text, start, i + 1, &mut out);
            start = i + 1;
        }
        i += 1;
    }
    push_trimmed(text, start, bytes.len(), &mut out);
    out
}

fn push_trimmed(text: &str, start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
    let piece = &text[start..end];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    if start + lead < end - trail {
        out.push((start + lead, end - trail));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classifier() -> Classifier {
        Classifier::from_toml(crate::config::DEFAULT_CLASSIFIER_RULES, "default", 0.5).unwrap()
    }

    #[test]
    fn default_rules_compile() {
        let c = classifier();
        assert_eq!(c.label_names(), vec!["vendor_ban", "ppp_change"]);
    }

    #[test]
    fn ban_in_one_sentence_is_flagged() {
        let c = classifier();
        let r = c.classify(
            "DHS bans Kaspersky software",
            "The Department of Homeland Security banned Kaspersky Lab products from federal systems.",
        );
        assert_eq!(r.flagged(), vec!["vendor_ban"]);
        assert!(!r.labels[0].evidence.is_empty());
    }

    #[test]
    fn ban_word_and_vendor_in_different_sentences_is_not() {
        let c = classifier();
        let r = c.classify(
            "Weekly roundup",
            "The city will ban ransom payments. Separately, Kaspersky published research on a botnet.",
        );
        assert!(r.flagged().is_empty(), "{r:?}");
    }

    #[test]
    fn unknown_lexicon_is_a_clear_error() {
        let text = "version = \"t\"\n[lexicons]\na = [\"x\"]\n[[labels]]\nname = \"l\"\n[[labels.rules]]\nname = \"r\"\nweight = 0.9\nall = [\"a\", \"nope\"]\n";
        let err = Classifier::from_toml(text, "t.toml", 0.5)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("nope") && err.contains("t.toml"), "{err}");
    }

    #[test]
    fn sentences() {
        let t = "One two. Three?\n\nFour";
        let s: Vec<&str> = split_sentences(t).iter().map(|&(a, b)| &t[a..b]).collect();
        assert_eq!(s, vec!["One two.", "Three?", "Four"]);
    }
}
