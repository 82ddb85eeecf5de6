//! The rule file (`config/classifier.toml`): its format, checked and
//! compiled. The shipped file documents every key in place; this module
//! gives them types, rejects unknown keys and reports every problem with the
//! file name and where it is.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::RulesError;
use super::matcher::{LexId, Matcher, MatcherBuilder};
use super::text::{Normalized, is_word_byte};

// ---------------------------------------------------------------------------
// The file as written
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    version: String,
    #[serde(default)]
    scoring: ScoringSpec,
    #[serde(default)]
    lexicons: BTreeMap<String, LexiconSpec>,
    #[serde(default)]
    modifiers: Vec<ModifierSpec>,
    #[serde(default)]
    labels: Vec<LabelSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoringSpec {
    #[serde(default = "one")]
    title: f64,
    #[serde(default = "one")]
    lede: f64,
    #[serde(default = "three")]
    lede_sentences: usize,
    #[serde(default = "body_factor")]
    body: f64,
    #[serde(default = "body_sentences")]
    body_sentences: usize,
    #[serde(default = "tail_factor")]
    tail: f64,
    #[serde(default = "question_factor")]
    question: f64,
    #[serde(default = "accumulate")]
    accumulate: f64,
    #[serde(default = "max_evidence")]
    max_evidence: usize,
}

fn one() -> f64 {
    1.0
}
fn three() -> usize {
    3
}
fn body_factor() -> f64 {
    0.8
}
fn body_sentences() -> usize {
    10
}
fn tail_factor() -> f64 {
    0.5
}
fn question_factor() -> f64 {
    0.7
}
fn accumulate() -> f64 {
    0.5
}
fn max_evidence() -> usize {
    5
}

impl Default for ScoringSpec {
    fn default() -> Self {
        ScoringSpec {
            title: one(),
            lede: one(),
            lede_sentences: three(),
            body: body_factor(),
            body_sentences: body_sentences(),
            tail: tail_factor(),
            question: question_factor(),
            accumulate: accumulate(),
            max_evidence: max_evidence(),
        }
    }
}

/// A lexicon: a plain list of terms, or a table with `terms`, `groups` and
/// `include` (other lexicons whose terms this one also has).
#[derive(Debug, Default)]
struct LexiconSpec {
    terms: Vec<String>,
    groups: BTreeMap<String, Vec<String>>,
    include: Vec<String>,
    shadow: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconTable {
    #[serde(default)]
    #[allow(dead_code)]
    doc: String,
    #[serde(default)]
    terms: Vec<String>,
    #[serde(default)]
    groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    shadow: bool,
}

impl<'de> Deserialize<'de> for LexiconSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LexiconSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of terms or a table with `terms`, `groups` and/or `include`")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<LexiconSpec, A::Error> {
                let terms = Vec::<String>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(LexiconSpec {
                    terms,
                    ..LexiconSpec::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LexiconSpec, A::Error> {
                let t = LexiconTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(LexiconSpec {
                    terms: t.terms,
                    groups: t.groups,
                    include: t.include,
                    shadow: t.shadow,
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Before,
    After,
    Around,
}

/// Voice of a trigger verb, for rules that only hold in one.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Voice {
    Active,
    Passive,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModifierSpec {
    name: String,
    lexicon: String,
    #[serde(default = "around")]
    side: Side,
    window: u32,
    factor: f64,
    #[serde(default)]
    breakers: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
}

fn around() -> Side {
    Side::Around
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelSpec {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    #[serde(default)]
    rules: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    weight: f64,
    trigger: String,
    #[serde(default)]
    near: BTreeMap<String, u32>,
    #[serde(default)]
    before: BTreeMap<String, u32>,
    #[serde(default)]
    after: BTreeMap<String, u32>,
    #[serde(default)]
    sentence: Vec<String>,
    #[serde(default)]
    item: Vec<String>,
    #[serde(default)]
    unless_near: BTreeMap<String, u32>,
    #[serde(default)]
    unless_before: BTreeMap<String, u32>,
    #[serde(default)]
    unless_after: BTreeMap<String, u32>,
    #[serde(default)]
    unless_sentence: Vec<String>,
    #[serde(default)]
    unless_item: Vec<String>,
    #[serde(default)]
    subject_not: Vec<String>,
    #[serde(default)]
    voice: Option<Voice>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    action: Option<String>,
}

// ---------------------------------------------------------------------------
// Compiled form
// ---------------------------------------------------------------------------

/// How much a sentence counts by where it stands, and how sentences combine.
#[derive(Debug, Clone)]
pub struct Scoring {
    pub title: f64,
    pub lede: f64,
    pub lede_sentences: usize,
    pub body: f64,
    pub body_sentences: usize,
    pub tail: f64,
    pub question: f64,
    pub accumulate: f64,
    pub max_evidence: usize,
}

/// A proximity condition: a term of `lex` within `dist` words on `side`.
#[derive(Debug, Clone, Copy)]
pub struct Near {
    pub lex: LexId,
    pub dist: u32,
    pub side: Side,
}

#[derive(Debug)]
pub struct Rule {
    pub name: String,
    pub weight: f64,
    pub trigger: LexId,
    pub near: Vec<Near>,
    pub sentence: Vec<LexId>,
    pub item: Vec<LexId>,
    pub unless_near: Vec<Near>,
    pub unless_sentence: Vec<LexId>,
    pub unless_item: Vec<LexId>,
    pub subject_not: Vec<LexId>,
    pub voice: Option<Voice>,
    pub actor: Option<LexId>,
    pub target: Option<LexId>,
    pub action: Option<String>,
}

#[derive(Debug)]
pub struct Label {
    pub name: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug)]
pub struct Modifier {
    #[allow(dead_code)]
    pub name: String,
    pub lex: LexId,
    pub side: Side,
    pub window: u32,
    pub factor: f64,
    pub breakers: Option<LexId>,
    /// Label indices this modifier applies to; empty: all.
    pub labels: Vec<usize>,
}

/// A compiled rule file.
#[derive(Debug)]
pub struct Compiled {
    pub version: String,
    pub lexicon_names: Vec<String>,
    /// Canonical names, indexed by the ids the matcher reports.
    pub canon: Vec<String>,
    pub matcher: Matcher,
    pub modifiers: Vec<Modifier>,
    pub labels: Vec<Label>,
    pub scoring: Scoring,
}

/// The most alternatives one term may expand to.
const MAX_EXPANSIONS: usize = 256;

/// Parses and compiles a rule file; `source_name` names it in errors.
pub fn compile(text: &str, source_name: &str) -> Result<Compiled, RulesError> {
    let bad = |message: String| RulesError::Invalid {
        source_name: source_name.to_string(),
        message,
    };
    let file: RulesFile =
        toml::from_str(text).map_err(|e| bad(e.to_string().trim_end().to_string()))?;
    if file.version.trim().is_empty() {
        return Err(bad("`version` must not be empty".into()));
    }
    let s = &file.scoring;
    for (key, v) in [
        ("title", s.title),
        ("lede", s.lede),
        ("body", s.body),
        ("tail", s.tail),
        ("question", s.question),
        ("accumulate", s.accumulate),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(bad(format!(
                "[scoring] {key} must be between 0 and 1, got {v}"
            )));
        }
    }

    // Lexicons and their terms.
    let mut builder = MatcherBuilder::default();
    let mut lexicon_names = Vec::new();
    let mut canon: Vec<String> = Vec::new();
    let mut canon_ids: HashMap<String, u32> = HashMap::new();
    if file.lexicons.len() > usize::from(LexId::MAX) {
        return Err(bad("too many lexicons".into()));
    }
    let names: Vec<&String> = file.lexicons.keys().collect();
    for (lex_idx, name) in names.iter().copied().enumerate() {
        let lex = lex_idx as LexId;
        let shadow = file.lexicons[name].shadow;
        lexicon_names.push(name.clone());
        let mut n_terms = 0;
        // This lexicon's own terms and those of the lexicons it includes.
        let mut sources = vec![name];
        let mut k = 0;
        while k < sources.len() {
            let src = &file.lexicons[sources[k]];
            for inc in &src.include {
                let Some(&found) = names.iter().find(|n| **n == inc) else {
                    return Err(bad(format!(
                        "lexicon {:?} includes unknown lexicon {inc:?}",
                        sources[k]
                    )));
                };
                if !sources.contains(&found) {
                    sources.push(found);
                }
            }
            k += 1;
        }
        for src_name in sources {
            let src = &file.lexicons[src_name];
            let mut entries: Vec<(String, &String)> = Vec::new();
            for t in &src.terms {
                let canonical = first_expansion(t)
                    .map_err(|m| bad(format!("lexicon {src_name:?}, term {t:?}: {m}")))?;
                entries.push((canonical, t));
            }
            for (g, terms) in &src.groups {
                if g.trim().is_empty() {
                    return Err(bad(format!(
                        "lexicon {src_name:?} has a group with an empty name"
                    )));
                }
                if terms.is_empty() {
                    return Err(bad(format!(
                        "lexicon {src_name:?}, group {g:?} has no terms"
                    )));
                }
                for t in terms {
                    entries.push((g.clone(), t));
                }
            }
            for (canonical, term) in entries {
                let cid = *canon_ids.entry(canonical.clone()).or_insert_with(|| {
                    canon.push(canonical.clone());
                    (canon.len() - 1) as u32
                });
                let compiled = compile_term(term)
                    .map_err(|m| bad(format!("lexicon {src_name:?}, term {term:?}: {m}")))?;
                for ct in compiled {
                    builder.add(ct.text, ct.exact, ct.wildcard, lex, cid, shadow);
                    n_terms += 1;
                }
            }
        }
        if n_terms == 0 {
            return Err(bad(format!("lexicon {name:?} is empty")));
        }
    }
    let lex_id = |n: &str, ctx: &str| -> Result<LexId, RulesError> {
        lexicon_names
            .iter()
            .position(|l| l == n)
            .map(|i| i as LexId)
            .ok_or_else(|| bad(format!("{ctx} names unknown lexicon {n:?}")))
    };
    let lex_list = |v: &[String], ctx: &str| -> Result<Vec<LexId>, RulesError> {
        v.iter().map(|n| lex_id(n, ctx)).collect()
    };
    let near_list =
        |m: &BTreeMap<String, u32>, side: Side, ctx: &str| -> Result<Vec<Near>, RulesError> {
            m.iter()
                .map(|(n, &dist)| {
                    if dist == 0 {
                        return Err(bad(format!(
                            "{ctx}: distance for {n:?} must be at least 1 word"
                        )));
                    }
                    Ok(Near {
                        lex: lex_id(n, ctx)?,
                        dist,
                        side,
                    })
                })
                .collect()
        };

    // Labels and rules.
    let mut labels: Vec<Label> = Vec::new();
    if file.labels.is_empty() {
        return Err(bad("no [[labels]] defined".into()));
    }
    for l in &file.labels {
        if l.name.trim().is_empty() {
            return Err(bad("a [[labels]] entry has an empty name".into()));
        }
        if labels.iter().any(|x| x.name == l.name) {
            return Err(bad(format!("label {:?} is defined twice", l.name)));
        }
        if l.rules.is_empty() {
            return Err(bad(format!("label {:?} has no rules", l.name)));
        }
        let mut rules = Vec::new();
        for r in &l.rules {
            let ctx = format!("label {:?}, rule {:?}", l.name, r.name);
            if !(r.weight > 0.0 && r.weight <= 1.0) {
                return Err(bad(format!(
                    "{ctx}: weight must be in (0, 1], got {}",
                    r.weight
                )));
            }
            let mut near = near_list(&r.near, Side::Around, &ctx)?;
            near.extend(near_list(&r.before, Side::Before, &ctx)?);
            near.extend(near_list(&r.after, Side::After, &ctx)?);
            let mut unless_near = near_list(&r.unless_near, Side::Around, &ctx)?;
            unless_near.extend(near_list(&r.unless_before, Side::Before, &ctx)?);
            unless_near.extend(near_list(&r.unless_after, Side::After, &ctx)?);
            rules.push(Rule {
                name: r.name.clone(),
                weight: r.weight,
                trigger: lex_id(&r.trigger, &ctx)?,
                near,
                sentence: lex_list(&r.sentence, &ctx)?,
                item: lex_list(&r.item, &ctx)?,
                unless_near,
                unless_sentence: lex_list(&r.unless_sentence, &ctx)?,
                unless_item: lex_list(&r.unless_item, &ctx)?,
                subject_not: lex_list(&r.subject_not, &ctx)?,
                voice: r.voice,
                actor: r.actor.as_deref().map(|a| lex_id(a, &ctx)).transpose()?,
                target: r.target.as_deref().map(|a| lex_id(a, &ctx)).transpose()?,
                action: r.action.clone().filter(|a| !a.trim().is_empty()),
            });
        }
        labels.push(Label {
            name: l.name.clone(),
            rules,
        });
    }

    let mut modifiers = Vec::new();
    for m in &file.modifiers {
        let ctx = format!("modifier {:?}", m.name);
        if !(0.0..=1.0).contains(&m.factor) {
            return Err(bad(format!(
                "{ctx}: factor must be between 0 and 1, got {}",
                m.factor
            )));
        }
        if m.window == 0 {
            return Err(bad(format!("{ctx}: window must be at least 1 word")));
        }
        let mut label_idx = Vec::new();
        for ln in &m.labels {
            let i = labels
                .iter()
                .position(|l| &l.name == ln)
                .ok_or_else(|| bad(format!("{ctx} names unknown label {ln:?}")))?;
            label_idx.push(i);
        }
        modifiers.push(Modifier {
            name: m.name.clone(),
            lex: lex_id(&m.lexicon, &ctx)?,
            side: m.side,
            window: m.window,
            factor: m.factor,
            breakers: m.breakers.as_deref().map(|b| lex_id(b, &ctx)).transpose()?,
            labels: label_idx,
        });
    }

    let matcher = builder.build().map_err(bad)?;
    Ok(Compiled {
        version: file.version,
        lexicon_names,
        canon,
        matcher,
        modifiers,
        labels,
        scoring: Scoring {
            title: s.title,
            lede: s.lede,
            lede_sentences: s.lede_sentences,
            body: s.body,
            body_sentences: s.body_sentences.max(s.lede_sentences),
            tail: s.tail,
            question: s.question,
            accumulate: s.accumulate,
            max_evidence: s.max_evidence.max(1),
        },
    })
}

/// One term after expansion, ready for the matcher.
#[derive(Debug, PartialEq)]
struct CompiledTerm {
    text: String,
    exact: Option<String>,
    wildcard: bool,
}

/// Term syntax: `=` in front matches the exact case; `*` at the end lets the
/// last word continue (`prohibit*`); `{a,b}` lists alternatives
/// (`ban{,s,ned,ning}`).
fn compile_term(raw: &str) -> Result<Vec<CompiledTerm>, String> {
    let mut t = raw.trim();
    let exact = t.starts_with('=');
    if exact {
        t = &t[1..];
    }
    let wildcard = t.ends_with('*');
    if wildcard {
        t = &t[..t.len() - 1];
    }
    if t.contains('*') {
        return Err("`*` is only allowed at the end".into());
    }
    let mut out = Vec::new();
    for alt in expand_braces(t)? {
        let norm = Normalized::new(&[(0, alt.as_str())]).text;
        let norm = norm.trim().to_string();
        if !norm.bytes().any(is_word_byte) {
            if alt.trim().is_empty() {
                continue;
            }
            return Err("a term needs at least one letter or digit".into());
        }
        if wildcard && !norm.bytes().last().is_some_and(is_word_byte) {
            return Err("`*` must follow a letter or digit".into());
        }
        out.push(CompiledTerm {
            text: norm,
            exact: exact.then(|| alt.trim().to_string()),
            wildcard,
        });
    }
    if out.is_empty() {
        return Err("the term is empty".into());
    }
    Ok(out)
}

/// The canonical name of a plain term: its first alternative, without the
/// `=` and `*` markers.
fn first_expansion(raw: &str) -> Result<String, String> {
    let t = raw.trim().trim_start_matches('=').trim_end_matches('*');
    let first = expand_braces(t)?
        .into_iter()
        .find(|a| !a.trim().is_empty())
        .ok_or_else(|| "the term is empty".to_string())?;
    Ok(first.trim().to_string())
}

/// Expands `{a,b}` groups (several allowed, not nested).
fn expand_braces(t: &str) -> Result<Vec<String>, String> {
    let mut out = vec![String::new()];
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or("unclosed `{`")?;
        let inner = &rest[open + 1..close];
        if inner.contains('{') {
            return Err("nested `{` is not supported".into());
        }
        let prefix = &rest[..open];
        if prefix.contains('}') {
            return Err("`}` without `{`".into());
        }
        let alts: Vec<&str> = inner.split(',').collect();
        let mut next = Vec::with_capacity(out.len() * alts.len());
        for o in &out {
            for a in &alts {
                next.push(format!("{o}{prefix}{a}"));
            }
        }
        if next.len() > MAX_EXPANSIONS {
            return Err(format!(
                "expands to more than {MAX_EXPANSIONS} alternatives"
            ));
        }
        out = next;
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err("`}` without `{`".into());
    }
    for o in &mut out {
        o.push_str(rest);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match compile(text, "t.toml") {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    const RULE: &str =
        "[[labels]]\nname = \"l\"\n[[labels.rules]]\nname = \"r\"\nweight = 0.5\ntrigger = \"a\"\n";

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let e = err(&format!(
            "version = \"x\"\n[lexicons.a]\nterms = [\"x\"]\nterm = [\"y\"]\n{RULE}"
        ));
        assert!(
            e.contains("t.toml") && e.contains("line 4") && e.contains("term"),
            "{e}"
        );
        let e = err(&format!(
            "version = \"x\"\n[lexicons]\na = [\"ban{{s\"]\n{RULE}"
        ));
        assert!(e.contains("lexicon \"a\"") && e.contains("unclosed"), "{e}");
        let e = err(&format!(
            "version = \"x\"\n[lexicons]\na = [\"x\"]\n{}",
            RULE.replace("0.5", "1.5")
        ));
        assert!(e.contains("rule \"r\"") && e.contains("weight"), "{e}");
        let e = err(&format!(
            "version = \"x\"\n[lexicons]\na = [\"x\"]\n{RULE}{RULE}"
        ));
        assert!(e.contains("defined twice"), "{e}");
        let e = err(&format!(
            "version = \"x\"\n[lexicons.a]\ninclude = [\"zz\"]\n{RULE}"
        ));
        assert!(e.contains("unknown lexicon \"zz\""), "{e}");
        let e = err(&format!("version = \"x\"\n[lexicons]\na = []\n{RULE}"));
        assert!(e.contains("is empty"), "{e}");
        let e = err("version = \"x\"\n[lexicons]\na = [\"x\"]\n");
        assert!(e.contains("no [[labels]]"), "{e}");
    }

    #[test]
    fn include_cycles_terminate() {
        let text = format!(
            "version = \"x\"\n[lexicons.a]\nterms = [\"x\"]\ninclude = [\"b\"]\n[lexicons.b]\nterms = [\"y\"]\ninclude = [\"a\"]\n{RULE}"
        );
        assert!(compile(&text, "t.toml").is_ok());
    }

    #[test]
    fn brace_expansion() {
        assert_eq!(
            expand_braces("ban{,s,ned}").unwrap(),
            vec!["ban", "bans", "banned"]
        );
        assert_eq!(
            expand_braces("{stop,stops} {using,buying}").unwrap(),
            vec!["stop using", "stop buying", "stops using", "stops buying"]
        );
        assert!(expand_braces("ban{s").is_err());
        assert!(expand_braces("ban}s").is_err());
        assert!(expand_braces("a{b{c}}").is_err());
    }

    #[test]
    fn term_markers() {
        let t = compile_term("=U.S.").unwrap();
        assert_eq!(t[0].text, "u.s.");
        assert_eq!(t[0].exact.as_deref(), Some("U.S."));
        let t = compile_term("Prohibit*").unwrap();
        assert_eq!(t[0].text, "prohibit");
        assert!(t[0].wildcard);
        assert!(compile_term("ban*ned").is_err());
        assert!(compile_term("--").is_err());
        assert_eq!(first_expansion("=Ban{,s}*").unwrap(), "Ban");
    }
}
