//! Classifier throughput on one core, over items written for this benchmark:
//! headline + lede items (the feed summary case) and ~5 KB article bodies
//! (the extracted-article case). Run with `cargo bench --bench classify`;
//! criterion reports elements (items) per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use secwire::classify::Classifier;
use secwire::config::DEFAULT_CLASSIFIER_RULES;

/// Headline and lede pairs in the style of security news feeds: bans,
/// partnership changes, their look-alikes and ordinary news.
const LEDES: &[(&str, &str)] = &[
    (
        "Commerce Department bars sales of Kaspersky software in the US",
        "The Bureau of Industry and Security said the Russian company may no longer sell or update its antivirus products for American customers. Retailers and resellers have until September to comply. The company said it would challenge the decision.",
    ),
    (
        "Bitdefender joins No More Ransom as an associate partner",
        "The Romanian security firm will contribute free decryption tools to the initiative, which is run by Europol and the Dutch National Police. More than 180 organisations now take part.",
    ),
    (
        "Critical flaw in popular VPN appliance exploited in the wild",
        "Attackers are exploiting an authentication bypass to gain a foothold on corporate networks, researchers said. The vendor released a patch on Tuesday and urged customers to update immediately. CISA added the bug to its catalogue of known exploited vulnerabilities.",
    ),
    (
        "UK government proposes ban on ransom payments by public bodies",
        "Councils, schools and hospitals would be prohibited from paying extortion demands under the Home Office plan. Private companies would instead have to report payments before making them.",
    ),
    (
        "Google removes 40 malicious apps from Play Store",
        "The apps, downloaded more than ten million times, displayed hidden advertisements and stole session cookies. Google said it had banned the developer accounts behind them.",
    ),
    (
        "DHS disbands cyber advisory board amid review",
        "The Department of Homeland Security dismissed all members of the Cyber Safety Review Board, ending its investigation into recent telecom intrusions. Industry representatives on the board said they were not consulted.",
    ),
    (
        "Europol and Microsoft disrupt infostealer infrastructure",
        "A coordinated operation seized more than two thousand domains used to control the malware. Officials praised the cooperation with private partners. Several arrests were made in three countries.",
    ),
    (
        "Italy's privacy regulator blocks Chinese AI chatbot",
        "The Garante ordered the company to stop processing Italian users' data and said the app would be unavailable while it investigates. The developer has twenty days to respond.",
    ),
    (
        "Ransomware gang claims attack on regional hospital chain",
        "The group posted samples of patient records on its leak site and demanded payment within a week. The hospital said emergency care continued while systems were restored from backups.",
    ),
    (
        "CISA ends funding for election security information sharing centre",
        "The agency will no longer pay for the EI-ISAC under a cooperative agreement with the Center for Internet Security. State officials warned the cut leaves local offices without threat intelligence. The change takes effect next month.",
    ),
    (
        "Treasury sanctions Russian national behind ransomware attacks",
        "The Office of Foreign Assets Control designated the man and froze any assets he holds in the United States. Prosecutors also unsealed an indictment charging him with extortion.",
    ),
    (
        "Lawmakers introduce bill to ban Chinese drone maker DJI from federal use",
        "The proposal would prohibit agencies from buying or operating drones made by the company and would add it to the FCC Covered List. Supporters cited data security concerns.",
    ),
];

/// One paragraph of article prose; long bodies repeat varied paragraphs.
const PARAGRAPHS: &[&str] = &[
    "The decision follows months of review by officials who examined how the company handles customer data and whether its software updates could be used to deliver malicious code. Several agencies had already stopped buying the products, and a number of state governments took similar steps last year.",
    "Company representatives rejected the accusations and said they had offered to move data processing to a third country and to open their source code to independent review. \u{201c}We have never helped any government with its cyber espionage efforts,\u{201d} a spokesperson said in a statement.",
    "Security researchers noted that the risk is not unique to one vendor. Any software with deep access to a system, they said, can be abused if its maker is compelled by a hostile state, which is why procurement rules increasingly look at ownership and jurisdiction as well as technical quality.",
    "The initiative, which started with four founding members, now counts law enforcement agencies from dozens of countries and a growing number of private companies among its partners. Its website offers free tools that have helped victims recover files without paying criminals.",
    "Analysts expect the move to affect thousands of small businesses that rely on the products, many of which will need to find alternatives before the deadline. Resellers said they had received little guidance on how to migrate customers.",
    "Meanwhile, attackers continue to exploit unpatched systems. In a separate advisory, officials urged organisations to apply updates for a critical remote code execution flaw in widely used firewall appliances and to review logs for signs of compromise going back several months.",
    "The agency said the programme had shared more than a million threat indicators with participating companies since its launch and that participants would be consulted on the changes. Critics argued that the proposal would reduce the value of the information for smaller firms.",
    "Officials declined to say whether other vendors were under review. A spokesperson for the ministry said only that national security decisions are taken on the basis of technical advice and are kept under constant review.",
];

fn long_bodies() -> Vec<(String, String)> {
    (0..8)
        .map(|k| {
            let (title, lede) = LEDES[k % LEDES.len()];
            let mut body = String::from(lede);
            let mut i = k;
            while body.len() < 5000 {
                body.push_str("\n\n");
                body.push_str(PARAGRAPHS[i % PARAGRAPHS.len()]);
                i += 3;
            }
            (title.to_string(), body)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let clf = Classifier::from_toml(DEFAULT_CLASSIFIER_RULES, "default", 0.5)
        .expect("the default rules compile");

    let mut g = c.benchmark_group("classify");
    g.throughput(Throughput::Elements(LEDES.len() as u64));
    g.bench_function("headline_and_lede", |b| {
        b.iter(|| {
            for (t, x) in LEDES {
                black_box(clf.classify(black_box(t), black_box(x)));
            }
        })
    });
    let long = long_bodies();
    let avg = long.iter().map(|(_, b)| b.len()).sum::<usize>() / long.len();
    g.throughput(Throughput::Elements(long.len() as u64));
    g.bench_function(format!("article_body_{avg}_bytes"), |b| {
        b.iter(|| {
            for (t, x) in &long {
                black_box(clf.classify(black_box(t), black_box(x)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
