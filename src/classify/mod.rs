//! Stage 4, **classify**: flag `vendor_ban` and `ppp_change` items (or any
//! label the rule file defines), with a score, the evidence sentences and
//! who did what to whom.
//!
//! Pure: no I/O. The knowledge lives in `config/classifier.toml`: lexicons
//! (vendors, authorities, programmes, action verbs, negation and hedge cues)
//! and rules that combine them. This module compiles that file once and
//! then, per item:
//!
//! 1. [`text`] normalises the title and body (case, quotes, dashes, white
//!    space) keeping a map back to the original, and splits sentences;
//! 2. [`matcher`] finds every lexicon term with one Aho-Corasick pass;
//! 3. [`score`] checks each rule around each trigger term *inside one
//!    sentence* (proximity, vetoes, the subject of the verb from
//!    [`events`]), applies negation and hedges, weighs the sentence by its
//!    position, and combines sentence scores into a 0..1 label score;
//! 4. [`events`] reads actor, action and target off the matched sentence.

mod events;
mod matcher;
mod rules;
mod score;
mod text;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use rules::Compiled;
use score::Doc;

#[derive(Debug, Error)]
pub enum RulesError {
    /// The message names the problem (and, for syntax errors, the line).
    #[error("invalid classifier rules {source_name}: {message}")]
    Invalid {
        source_name: String,
        message: String,
    },
}

/// A compiled classifier.
#[derive(Debug)]
pub struct Classifier {
    c: Compiled,
    threshold: f64,
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

    /// The result for one label, if the rules define it.
    pub fn label(&self, name: &str) -> Option<&LabelResult> {
        self.labels.iter().find(|l| l.label == name)
    }
}

/// Which rule gave a sentence its score (for `secwire classify --explain`
/// and for people writing rules).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleMatch {
    pub label: String,
    pub rule: String,
    /// The sentence's contribution: rule weight x modifiers x position.
    pub score: f64,
    pub sentence: String,
}

impl Classifier {
    /// Compiles a rule file. `source_name` names it in errors; `threshold`
    /// is the score from which a label is flagged.
    pub fn from_toml(text: &str, source_name: &str, threshold: f64) -> Result<Self, RulesError> {
        let c = rules::compile(text, source_name)?;
        Ok(Classifier { c, threshold })
    }

    /// The rules' version string, stored with every label.
    pub fn version(&self) -> &str {
        &self.c.version
    }

    /// Names of all labels, in rule-file order.
    pub fn label_names(&self) -> Vec<&str> {
        self.c.labels.iter().map(|l| l.name.as_str()).collect()
    }

    /// The score from which a label is flagged.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Classifies one item.
    pub fn classify(&self, title: &str, text: &str) -> Classification {
        self.with_doc(title, text, |doc| self.classify_doc(doc))
    }

    /// Prepares the item (title, a blank line, the body) and runs `f` on it.
    fn with_doc<R>(&self, title: &str, text: &str, f: impl FnOnce(&Doc) -> R) -> R {
        let title = title.trim();
        if title.is_empty() {
            f(&Doc::new(&self.c, text, 0))
        } else {
            let full = format!("{title}\n\n{text}");
            f(&Doc::new(&self.c, &full, title.len()))
        }
    }

    fn classify_doc(&self, doc: &Doc) -> Classification {
        let mut labels = Vec::with_capacity(self.c.labels.len());
        let mut events = Vec::new();
        for (li, label) in self.c.labels.iter().enumerate() {
            let mut matches = score::label_matches(&self.c, doc, li);
            let mut scores: Vec<f64> = matches.iter().map(|m| m.score).collect();
            let score = score::combine(&mut scores, self.c.scoring.accumulate);
            let flagged = score > 0.0 && score >= self.threshold;
            matches.sort_by(|a, b| b.score.total_cmp(&a.score));
            matches.truncate(self.c.scoring.max_evidence);
            matches.sort_by_key(|m| m.sentence);
            let mut evidence = Vec::with_capacity(matches.len());
            for m in &matches {
                let ev = self.evidence(doc, m.sentence);
                if flagged {
                    let e = self.event(doc, li, m, &ev.sentence);
                    if !events.contains(&e) {
                        events.push(e);
                    }
                }
                evidence.push(ev);
            }
            labels.push(LabelResult {
                label: label.name.clone(),
                score,
                flagged,
                evidence,
            });
        }
        Classification { labels, events }
    }

    /// The best rule of every matching sentence, per label, in text order.
    pub fn explain(&self, title: &str, text: &str) -> Vec<RuleMatch> {
        self.with_doc(title, text, |doc| {
            let mut out = Vec::new();
            for (li, label) in self.c.labels.iter().enumerate() {
                for m in score::label_matches(&self.c, doc, li) {
                    out.push(RuleMatch {
                        label: label.name.clone(),
                        rule: label.rules[m.rule].name.clone(),
                        score: m.score,
                        sentence: self.evidence(doc, m.sentence).sentence,
                    });
                }
            }
            out
        })
    }

    fn evidence(&self, doc: &Doc, sentence: usize) -> Evidence {
        let s = &doc.sentences[sentence];
        let (start, end) = doc.n.orig_range(doc.full, s.start as usize, s.end as usize);
        Evidence {
            sentence: doc.full.get(start..end).unwrap_or_default().to_string(),
            start,
            end,
        }
    }

    fn event(&self, doc: &Doc, label: usize, m: &score::SentenceMatch, sentence: &str) -> Event {
        let rule = &self.c.labels[label].rules[m.rule];
        let s = &doc.sentences[m.sentence];
        let range = (s.hit_lo, s.hit_hi);
        let lo_word = doc.words.partition_point(|&w| w < s.start) as u32;
        let passive = events::is_passive(doc, &doc.hits.hits[m.trigger], lo_word);
        let canon = |k: usize, lex| {
            doc.hits
                .canon_in(&doc.hits.hits[k], lex)
                .and_then(|c| self.c.canon.get(c as usize))
        };
        // Names (written with capitals in the rules) beat generic words
        // ("the agency"): the nearest name in the sentence, else the first
        // in the item, else the nearest generic word.
        let role = |lex, prefer_after: bool, agent_first: bool| -> Option<String> {
            let named = |k: usize| canon(k, lex).is_some_and(|n| n.chars().any(char::is_uppercase));
            let any = |_: usize| true;
            let agent = if agent_first {
                events::agent(doc, range, m.trigger, lex).filter(|&k| named(k))
            } else {
                None
            };
            agent
                .or_else(|| events::nearest(doc, range, m.trigger, lex, prefer_after, &named))
                .or_else(|| events::first_in_item(doc, lex, &named))
                .or_else(|| events::nearest(doc, range, m.trigger, lex, prefer_after, &any))
                .or_else(|| events::first_in_item(doc, lex, &any))
                .and_then(|k| canon(k, lex).cloned())
        };
        let actor = rule.actor.and_then(|lex| role(lex, false, passive));
        let target = rule.target.and_then(|lex| role(lex, !passive, false));
        let action = rule
            .action
            .clone()
            .or_else(|| canon(m.trigger, rule.trigger).cloned());
        Event {
            label: self.c.labels[label].name.clone(),
            actor,
            target,
            action,
            sentence: sentence.to_string(),
        }
    }
}
