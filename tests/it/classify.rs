//! The classifier with the shipped rules (config/classifier.toml): one test
//! per rule family, negation and hedges, each hard-negative class from
//! LABELS.md, scoring by position, evidence and events, and hostile input.
//! Every sentence here was written for these tests.

use std::sync::OnceLock;

use secwire::classify::{Classification, Classifier};
use secwire::config::DEFAULT_CLASSIFIER_RULES;

/// Compiled once for all tests (building the automaton is the slow part).
fn clf() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| {
        Classifier::from_toml(DEFAULT_CLASSIFIER_RULES, "default", 0.5)
            .expect("default rules compile")
    })
}

fn run(title: &str, text: &str) -> Classification {
    clf().classify(title, text)
}

fn flagged(title: &str, text: &str) -> Vec<String> {
    run(title, text)
        .flagged()
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[track_caller]
fn assert_ban(title: &str, text: &str) {
    let c = run(title, text);
    assert_eq!(c.flagged(), vec!["vendor_ban"], "{title} | {text}\n{c:#?}");
}

#[track_caller]
fn assert_ppp(title: &str, text: &str) {
    let c = run(title, text);
    assert_eq!(c.flagged(), vec!["ppp_change"], "{title} | {text}\n{c:#?}");
}

#[track_caller]
fn assert_none(title: &str, text: &str) {
    let c = run(title, text);
    assert!(c.flagged().is_empty(), "{title} | {text}\n{c:#?}");
}

fn score(c: &Classification, label: &str) -> f64 {
    c.label(label).map_or(-1.0, |l| l.score)
}

// --- vendor_ban rule families ------------------------------------------------

#[test]
fn authority_bans_named_vendor_in_any_inflection() {
    assert_ban("Parliament votes to ban Huawei from 5G networks", "");
    assert_ban(
        "",
        "The Lithuanian government banned Hikvision cameras from public buildings on Monday.",
    );
    assert_ban(
        "",
        "Regulators are banning the sale of ZTE handsets, the ministry said.",
    );
    assert_ban(
        "",
        "The state legislature prohibits agencies from buying DJI drones.",
    );
    assert_ban(
        "",
        "A new law bars Kaspersky Lab software from every federal computer.",
    );
    assert_ban("", "Ottawa's order outlaws WeChat on government phones.");
}

#[test]
fn vendor_ban_compound_without_named_actor() {
    assert_ban("The TikTok ban, explained", "");
    assert_ban(
        "",
        "Opponents of the ban on Hytera radios say it will cost police forces millions.",
    );
}

#[test]
fn passive_ban_with_distant_vendor() {
    assert_ban(
        "",
        "Use of the Chinese AI assistant DeepSeek on any device issued to staff is now prohibited by the defence ministry.",
    );
    assert_ban("Kaspersky antivirus banned in US government systems", "");
}

#[test]
fn country_as_actor() {
    assert_ban("Nepal bans TikTok, citing social harmony", "");
    assert_ban(
        "",
        "With tensions rising, Pakistan has banned several apps, Telegram among them.",
    );
}

#[test]
fn weaker_restriction_verbs_need_vendor_as_object() {
    // Other senses of the words: a company's own restrictions, "raise the bar".
    assert_none(
        "",
        "Microsoft tightened restrictions on legacy sign-ins after CISA guidance.",
    );
    assert_none("", "CISA says Google raised the bar for browser security.");
    assert_ban(
        "",
        "Federal agencies can no longer buy Dahua cameras under the new law.",
    );
    assert_ban(
        "",
        "The telecom regulator blocked Telegram nationwide on Friday.",
    );
    assert_ban(
        "",
        "The ministry will exclude Huawei and ZTE from the core network tender.",
    );
    assert_ban(
        "",
        "Agencies must stop using Kaspersky products within ninety days, the directive says.",
    );
    // A company blocking things is not a public restriction.
    assert_none(
        "",
        "Microsoft blocked Telegram links in Teams chats after a spam wave.",
    );
}

#[test]
fn official_warning_to_replace_vendor() {
    assert_ban(
        "",
        "France's cyber agency warned against using Kaspersky software in ministries.",
    );
    assert_ban(
        "",
        "The national cyber centre advised operators to find replacements for Hikvision cameras.",
    );
}

#[test]
fn vendor_loses_the_right_to_sell() {
    assert_ban(
        "",
        "Under the Commerce Department decision, Kaspersky Lab will no longer be able to sell antivirus software in the US.",
    );
}

#[test]
fn listing_and_delisting() {
    assert_ban(
        "",
        "The Commerce Department added Candiru to the Entity List on Wednesday.",
    );
    assert_ban(
        "",
        "The FCC placed Hikvision and Dahua on its list of equipment deemed a threat to national security.",
    );
    assert_ban(
        "Contracts dry up",
        "Kaspersky Lab lost federal customers. The company was removed by the GSA from its approved vendor list.",
    );
}

#[test]
fn licence_revocation_and_access_denial() {
    assert_ban(
        "",
        "The FCC moved to revoke China Telecom's licence to operate in the United States.",
    );
    assert_ban(
        "",
        "The European Commission is denying Huawei staff access to its buildings.",
    );
}

#[test]
fn ordered_removal() {
    assert_ban(
        "",
        "The government ordered Apple to remove WhatsApp from its app store in the country.",
    );
}

#[test]
fn court_fights_and_vendor_responses() {
    assert_ban("Court upholds Montana TikTok ban", "");
    assert_ban(
        "",
        "Huawei filed a lawsuit challenging the ban on its equipment in Sweden.",
    );
    assert_ban(
        "",
        "Kaspersky said it would lay off staff in the US in response to the ban.",
    );
}

#[test]
fn lifting_a_ban_is_still_a_vendor_ban_item() {
    assert_ban("US lifts ban on ZTE after settlement", "");
    assert_ban("Regulator lifts WeChat block", "");
}

#[test]
fn back_reference_to_named_vendor() {
    assert_ban(
        "TP-Link under fire",
        "TP-Link dominates the home router market. The administration is considering a ban on the company's devices, officials said.",
    );
}

// --- negation and hedges -------------------------------------------------------

#[test]
fn negation_and_denial_cancel_the_ban() {
    assert_none(
        "",
        "The ministry denied it would ban Huawei from the 5G rollout.",
    );
    assert_none(
        "",
        "Officials said there is no ban on Kaspersky products in schools.",
    );
    assert_none(
        "",
        "The regulator has not blocked DeepSeek, a spokesman said.",
    );
}

#[test]
fn negation_scope_ends_at_a_breaker() {
    assert_ban("", "The court did not lift the ban on Huawei equipment.");
}

#[test]
fn conditional_and_question_hedges_lower_the_score() {
    let plain = run("", "The EU would ban TikTok in Europe.");
    let conditional = run(
        "",
        "TikTok faces a ban in Europe if it fails to comply with the new rules.",
    );
    assert!(score(&conditional, "vendor_ban") < 0.5, "{conditional:#?}");
    assert!(score(&plain, "vendor_ban") > score(&conditional, "vendor_ban"));
    let question = run("Will Britain ban DJI drones?", "");
    let statement = run("Britain bans DJI drones", "");
    assert!(score(&question, "vendor_ban") < score(&statement, "vendor_ban"));
}

// --- vendor_ban hard negatives -----------------------------------------------------

#[test]
fn practice_bans_are_not_vendor_bans() {
    assert_none(
        "",
        "In response to the ban on ransom payments, Kaspersky released a free decryptor.",
    );
    assert_none(
        "",
        "A court upheld the ban on facial recognition, a case Microsoft had followed closely.",
    );
    assert_none(
        "Government bans ransom payments by councils",
        "Public bodies will be prohibited from paying ransoms.",
    );
    assert_none(
        "",
        "The state banned facial recognition in policing, a move welcomed by Microsoft.",
    );
    assert_none(
        "New law bans default passwords on routers",
        "Manufacturers must ship unique passwords.",
    );
}

#[test]
fn platform_and_employer_bans_are_not_vendor_bans() {
    assert_none(
        "Google bans 50 apps from the Play Store",
        "The apps served hidden ads.",
    );
    assert_none(
        "",
        "Twitter banned advertising from Kaspersky Lab on its platform.",
    );
    assert_none(
        "",
        "Samsung banned its employees from using ChatGPT after a leak.",
    );
    assert_none(
        "",
        "The retailer Best Buy stopped selling Kaspersky products.",
    );
}

#[test]
fn private_lawsuits_are_not_vendor_bans() {
    assert_none(
        "WhatsApp wins damages from NSO Group",
        "A jury ordered the spyware maker to pay the messaging company.",
    );
    assert_none(
        "",
        "Apple sued NSO Group to stop it from targeting iPhone users.",
    );
}

#[test]
fn sanctions_on_individuals_are_not_vendor_bans() {
    assert_none(
        "Treasury sanctions ransomware administrator",
        "OFAC designated a Russian national tied to the gang.",
    );
}

#[test]
fn background_mentions_are_not_vendor_bans() {
    assert_none(
        "Huawei unveils a foldable phone",
        "Huawei, which was banned from US networks, showed the device on Tuesday.",
    );
    assert_none(
        "Kaspersky opens a new office in Zurich",
        "The company, whose software was banned from US federal networks in 2017, said the office will review its code.",
    );
    assert_none(
        "Huawei launches new phone despite US sanctions",
        "The handset goes on sale next week.",
    );
}

#[test]
fn investigations_and_fines_are_not_vendor_bans() {
    assert_none(
        "Irish regulator fines TikTok 345 million euros",
        "The fine concerns children's data.",
    );
    assert_none(
        "Regulators probe DeepSeek's data practices",
        "Several authorities sent questions to the company.",
    );
}

#[test]
fn vulnerability_news_is_not_a_vendor_ban() {
    assert_none(
        "CISA adds TP-Link flaw to exploited list",
        "Agencies must patch or stop using the affected TP-Link routers, the agency said.",
    );
}

#[test]
fn country_of_origin_is_not_a_named_vendor() {
    assert_none(
        "UK stops Chinese cameras at sensitive sites",
        "Departments must not install Chinese-made cameras.",
    );
}

// --- ppp_change rule families ----------------------------------------------------

#[test]
fn programme_joined_left_and_launched() {
    assert_ppp("Avast joins No More Ransom", "");
    assert_ppp(
        "",
        "Three security firms have signed up to the Joint Cyber Defense Collaborative.",
    );
    assert_ppp("Security vendor withdraws from JCDC", "");
    assert_ppp("UK cyber agency launches Industry 100 scheme", "");
}

#[test]
fn programme_ended_defunded_extended_expired_restructured() {
    assert_ppp(
        "",
        "CISA is ending its cooperative agreement with the Center for Internet Security.",
    );
    assert_ppp("DHS disbands the Cyber Safety Review Board", "");
    assert_ppp(
        "",
        "CISA cut funding for the MS-ISAC, the agency confirmed.",
    );
    assert_ppp(
        "",
        "Congress extended the Cybersecurity Information Sharing Act for ten years.",
    );
    assert_ppp("", "The CVE program contract expires at midnight.");
    assert_ppp(
        "",
        "CISA plans to overhaul its Automated Indicator Sharing program.",
    );
}

#[test]
fn public_private_agreements() {
    assert_ppp(
        "",
        "Europol and Bitdefender signed a memorandum of understanding on Tuesday.",
    );
    assert_ppp(
        "",
        "A data-sharing agreement was signed by Interpol and Trend Micro in Singapore.",
    );
    assert_ppp("AFRIPOL partners with Kaspersky on cybercrime", "");
    assert_ppp(
        "",
        "The White House secured voluntary commitments from seven AI companies.",
    );
    assert_ppp("Europol and Bitdefender tag team on ransomware", "");
    assert_ppp(
        "Four AI firms commit to model testing",
        "The voluntary pledges, made to the White House, cover red-teaming.",
    );
}

#[test]
fn sharing_promises_are_weak_evidence_alone() {
    let one = run(
        "",
        "The company said it will share its findings with the FBI.",
    );
    assert!(one.flagged().is_empty(), "{one:#?}");
    assert!(score(&one, "ppp_change") > 0.0);
    assert_none(
        "",
        "CISA urged companies to share threat data with the agency.",
    );
    assert_ppp(
        "Trend Micro to share threat data with Interpol",
        "The security firm signed a three-year agreement with the police organisation.",
    );
}

#[test]
fn company_halting_cooperation_with_police() {
    let c = run(
        "",
        "Kaspersky Lab has suspended its cooperation with Europol until further notice.",
    );
    assert_eq!(c.flagged(), vec!["ppp_change"]);
    let e = &c.events[0];
    assert_eq!(e.actor.as_deref(), Some("Kaspersky Lab"));
    assert_eq!(e.target.as_deref(), Some("Europol"));
    assert_eq!(e.action.as_deref(), Some("halt"));
}

#[test]
fn company_joining_a_forum_but_not_countries() {
    assert_ppp(
        "",
        "Microsoft joined the Counter Ransomware Initiative as a private partner.",
    );
    assert_none(
        "",
        "Five countries joined the Counter Ransomware Initiative this week.",
    );
}

#[test]
fn truncated_feed_summary_still_matches() {
    assert_ppp(
        "",
        "On Friday the administration dismissed all members of the Cyber Safety Rev\u{2026}",
    );
}

// --- ppp_change hard negatives -------------------------------------------------------

#[test]
fn single_operations_are_not_ppp_changes() {
    assert_none(
        "Europol and Microsoft take down botnet",
        "The operation, a model of public-private partnership, seized 300 servers.",
    );
    assert_none(
        "Kaspersky joins forces with Interpol in Operation Serengeti",
        "",
    );
}

#[test]
fn joint_advisories_are_not_ppp_changes() {
    assert_none(
        "CISA and FBI release joint advisory with input from Google",
        "",
    );
}

#[test]
fn vendor_vendor_deals_are_not_ppp_changes() {
    assert_none(
        "AWS and Palantir announce partnership to serve government agencies",
        "",
    );
    assert_none(
        "Cisco and Splunk sign partnership agreement",
        "The companies will integrate their products.",
    );
    assert_none("Cyber Threat Alliance adds three new members", "");
}

#[test]
fn public_public_agreements_are_not_ppp_changes() {
    assert_none("ENISA and Europol sign memorandum of understanding", "");
    assert_none(
        "",
        "CERT-In and the Japanese government signed an agreement on incident response.",
    );
}

#[test]
fn anniversaries_are_not_ppp_changes() {
    assert_none(
        "No More Ransom turns five",
        "The project, launched five years ago, now has 170 partners.",
    );
}

#[test]
fn staffing_news_is_not_a_ppp_change() {
    assert_none(
        "CISA staff placed on leave",
        "Hundreds of employees at the agency were told not to come in.",
    );
}

// --- scoring, evidence, events -----------------------------------------------------------

#[test]
fn title_and_lede_weigh_more_than_the_tail() {
    let sentence = "The government banned Huawei equipment from its networks.";
    let filler = "Other news followed. ".repeat(14);
    let lede = run("", sentence);
    let tail = run("", &format!("{filler}{sentence}"));
    assert!(score(&lede, "vendor_ban") > score(&tail, "vendor_ban"));
    assert!(lede.flagged().contains(&"vendor_ban"));
    assert!(!tail.flagged().contains(&"vendor_ban"), "{tail:#?}");
}

#[test]
fn scores_are_in_range_and_threshold_is_applied() {
    let strict = Classifier::from_toml(DEFAULT_CLASSIFIER_RULES, "default", 0.99).unwrap();
    let c = strict.classify("Poland bans Huawei", "");
    let s = score(&c, "vendor_ban");
    assert!(s > 0.5 && s < 0.99, "{s}");
    assert!(c.flagged().is_empty());
    for l in &run("Poland bans Huawei", "The government banned ZTE too.").labels {
        assert!((0.0..=1.0).contains(&l.score));
    }
}

#[test]
fn evidence_offsets_point_into_title_and_text() {
    let title = "\u{201c}Australia bans Huawei\u{201d}";
    let text = "Background first. Then Canberra banned ZTE from 5G.";
    let c = run(title, text);
    let full = format!("{title}\n\n{text}");
    let ev = &c.label("vendor_ban").unwrap().evidence;
    assert_eq!(ev.len(), 2);
    for e in ev {
        assert_eq!(&full[e.start..e.end], e.sentence);
    }
    assert_eq!(ev[0].sentence, title);
    assert_eq!(ev[1].sentence, "Then Canberra banned ZTE from 5G.");
}

#[test]
fn events_name_actor_action_and_target() {
    let c = run(
        "The Federal Communications Commission bans Hikvision gear",
        "",
    );
    let e = c
        .events
        .iter()
        .find(|e| e.label == "vendor_ban")
        .expect("an event");
    assert_eq!(e.actor.as_deref(), Some("FCC"));
    assert_eq!(e.target.as_deref(), Some("Hikvision"));
    assert_eq!(e.action.as_deref(), Some("ban"));
    let c = run(
        "",
        "Huawei was barred by the Swedish regulator from the 5G auction.",
    );
    let e = &c.events[0];
    assert_eq!(e.target.as_deref(), Some("Huawei"));
    assert_eq!(e.action.as_deref(), Some("bar"));
}

#[test]
fn aliases_report_the_canonical_vendor() {
    let c = run(
        "",
        "DHS ordered agencies to stop using AO Kaspersky Lab products.",
    );
    assert_eq!(c.events[0].target.as_deref(), Some("Kaspersky Lab"));
}

#[test]
fn hostile_input_does_not_panic() {
    let c = clf();
    let long = "ban Huawei ".repeat(20_000);
    for (t, x) in [
        ("", ""),
        ("   ", "\n\n\n"),
        ("\u{0}\u{1}\u{2}", "\u{1}ban\u{2} Huawei\u{0}"),
        ("\u{2026}", "\u{2026}\u{2026}[\u{2026}]"),
        ("İİİ ẞ ǅ", "Σ\u{301}\u{200b}\u{ad}TikTok\u{2014}ban."),
        ("", long.as_str()),
        ("x", "U.S. U.S. U.S. ...?!.;;;"),
    ] {
        let r = c.classify(t, x);
        for l in &r.labels {
            assert!((0.0..=1.0).contains(&l.score));
            for e in &l.evidence {
                assert!(e.start <= e.end);
            }
        }
    }
}

// --- the seed and the challenge set -----------------------------------------------------

#[test]
fn seed_article_is_flagged_for_both_labels_with_its_events() {
    let raw = include_str!("../fixtures/classify/seed-article.txt");
    let (title, body) = raw.split_once('\n').unwrap();
    let c = run(title, body);
    assert_eq!(c.flagged(), vec!["vendor_ban", "ppp_change"], "{c:#?}");
    let ban = c.label("vendor_ban").unwrap();
    assert!(
        ban.evidence
            .iter()
            .any(|e| e.sentence.contains("European Parliament document"))
    );
    let ppp = c.label("ppp_change").unwrap();
    assert!(ppp.evidence.iter().any(|e| {
        e.sentence
            .contains("temporarily halted any collaboration with Europol")
    }));
    let has = |label: &str, actor: &str, action: &str, target: &str| {
        c.events.iter().any(|e| {
            e.label == label
                && e.actor.as_deref() == Some(actor)
                && e.action.as_deref() == Some(action)
                && e.target.as_deref() == Some(target)
        })
    };
    assert!(
        has("vendor_ban", "European Parliament", "ban", "Kaspersky Lab"),
        "{:#?}",
        c.events
    );
    assert!(
        has("ppp_change", "Kaspersky Lab", "halt", "Europol"),
        "{:#?}",
        c.events
    );
}

#[test]
fn seed_paraphrase_in_two_sentences() {
    let c = run(
        "EU lawmakers say Kaspersky software should be banned",
        "In response, Kaspersky Lab has halted its cooperation with Europol and left the No More Ransom project.",
    );
    assert_eq!(c.flagged(), vec!["vendor_ban", "ppp_change"], "{c:#?}");
}

/// Labelled sets written for these tests (tests/fixtures/classify/
/// challenge*.jsonl): new wordings of every family and hard negative.
#[test]
fn challenge_set_precision_and_recall() {
    let c = clf();
    let data = [
        include_str!("../fixtures/classify/challenge.jsonl"),
        include_str!("../fixtures/classify/challenge2.jsonl"),
        include_str!("../fixtures/classify/challenge3.jsonl"),
        include_str!("../fixtures/classify/challenge4.jsonl"),
    ]
    .concat();
    for label in ["vendor_ban", "ppp_change"] {
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        let mut misses = Vec::new();
        for line in data.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let gold = v[label].as_bool().unwrap();
            let r = c.classify(v["title"].as_str().unwrap(), v["text"].as_str().unwrap());
            let got = r.flagged().contains(&label);
            match (gold, got) {
                (true, true) => tp += 1,
                (false, true) => {
                    fp += 1;
                    misses.push(format!("FP {}", v["id"]));
                }
                (true, false) => {
                    fn_ += 1;
                    misses.push(format!("FN {}", v["id"]));
                }
                _ => {}
            }
        }
        let p = tp as f64 / (tp + fp).max(1) as f64;
        let r = tp as f64 / (tp + fn_).max(1) as f64;
        assert!(
            p >= 0.9 && r >= 0.9,
            "{label}: precision {p:.3} recall {r:.3} {misses:?}"
        );
    }
}

#[test]
fn flagged_helper_lists_names() {
    assert_eq!(
        flagged("Poland bans Huawei", ""),
        vec!["vendor_ban".to_string()]
    );
}
