//! A fixture news site: feeds in every format the pipeline reads, article
//! pages for their entries, and the broken cases (404, timeout, oversized,
//! not a feed, moved permanently, page that is not HTML).

use std::time::Duration;

use crate::support::{FILLER, Reply, TestServer, article_page, fixture};

/// Feeds that work, with the number of entries each carries.
pub const WORKING: &[(&str, usize)] = &[
    ("/rss2.xml", 3),
    ("/atom.xml", 2),
    ("/rss1.rdf", 2),
    ("/feed.json", 2),
    ("/cp1251.xml", 1),
    ("/blog/feed.xml", 2),
    ("/moved.xml", 3), // 301 to /rss2-copy.xml, same entries as /rss2.xml
];

/// Feeds that fail, with a word their recorded error must contain.
pub const BROKEN: &[(&str, &str)] = &[
    ("/missing.xml", "404"),
    ("/slow.xml", "timed out"),
    ("/huge.xml", "limit"),
    ("/not-a-feed.html", "not a feed"),
];

pub fn total_working_entries() -> usize {
    // /moved.xml carries the same articles as /rss2.xml: stored once.
    WORKING
        .iter()
        .filter(|(p, _)| *p != "/moved.xml")
        .map(|(_, n)| n)
        .sum()
}

pub fn all_feed_urls(server: &TestServer) -> Vec<String> {
    WORKING
        .iter()
        .map(|(p, _)| server.url(p))
        .chain(BROKEN.iter().map(|(p, _)| server.url(p)))
        .collect()
}

/// Registers every feed and article on `server`.
pub fn serve(server: &TestServer) {
    let rss2 = fixture("feeds/rss2.xml");
    server.route(
        "/rss2.xml",
        Reply::WithEtag {
            etag: "\"rss2-v1\"".into(),
            content_type: "application/rss+xml; charset=utf-8".into(),
            body: rss2.clone(),
        },
    );
    server.route("/moved.xml", Reply::redirect(301, "/rss2-copy.xml"));
    server.route("/rss2-copy.xml", Reply::rss(rss2));
    server.route(
        "/atom.xml",
        Reply::ok("application/atom+xml", fixture("feeds/atom.xml")),
    );
    server.route(
        "/rss1.rdf",
        Reply::ok("application/rdf+xml", fixture("feeds/rss1.rdf")),
    );
    server.route(
        "/feed.json",
        Reply::ok("application/feed+json", fixture("feeds/feed.json")),
    );
    // No charset in the header: the XML declaration must be honoured.
    server.route(
        "/cp1251.xml",
        Reply::ok("text/xml", fixture("feeds/cp1251.xml")),
    );
    server.route("/blog/feed.xml", Reply::rss(fixture("feeds/relative.xml")));

    server.route(
        "/slow.xml",
        Reply::delayed(
            Duration::from_secs(5),
            Reply::rss(fixture("feeds/rss2.xml")),
        ),
    );
    let mut huge =
        String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>huge</title>");
    while huge.len() < 260_000 {
        huge.push_str("<item><title>padding</title><description>");
        huge.push_str(&"x".repeat(1000));
        huge.push_str("</description></item>");
    }
    huge.push_str("</channel></rss>");
    server.route("/huge.xml", Reply::rss(huge));
    server.route(
        "/not-a-feed.html",
        Reply::html(
            "<html><body><h1>Welcome</h1><p>This is a home page, not a feed.</p></body></html>",
        ),
    );

    let articles: &[(&str, &str, &str, &[&str])] = &[
        (
            "/articles/ep-kaspersky.html",
            "European Parliament calls Kaspersky software malicious and urges a ban",
            "Jane Analyst",
            &[
                "The European Parliament adopted a resolution calling on EU institutions to ban Kaspersky Lab software, which it called malicious.",
                "In response, Kaspersky Lab halted its cooperation with Europol and its work on the No More Ransom project.",
                FILLER,
            ],
        ),
        (
            "/articles/hospital.html",
            "Ransomware gang hits a regional hospital",
            "Pat Writer",
            &[
                "A ransomware gang encrypted the hospital's systems overnight.",
                FILLER,
                FILLER,
            ],
        ),
        (
            "/atom/kaspersky-sales-ban.html",
            "Commerce bans Kaspersky antivirus sales in the US",
            "Sam Reporter",
            &[
                "The Commerce Department banned sales of Kaspersky antivirus software in the United States.",
                FILLER,
                FILLER,
            ],
        ),
        (
            "/atom/nmr-partners.html",
            "New No More Ransom partners announced",
            "Ann Writer",
            &[
                "Three security companies joined the No More Ransom initiative run by Europol and the Dutch police.",
                FILLER,
                FILLER,
            ],
        ),
        (
            "/rdf/one.html",
            "Agency warns against Hikvision cameras",
            "Rob Author",
            &[
                "The agency told departments to replace Hikvision cameras on sensitive sites.",
                FILLER,
                FILLER,
            ],
        ),
        (
            "/rdf/two.html",
            "Quarterly threat report released",
            "Rob Author",
            &[
                "Phishing remains the top entry point for attackers this quarter.",
                FILLER,
                FILLER,
            ],
        ),
        (
            "/json/huawei-covered-list.html",
            "FCC adds Huawei equipment to the Covered List",
            "Lee Correspondent",
            &[
                "The FCC barred new equipment authorisations for Huawei gear.",
                FILLER,
                FILLER,
            ],
        ),
        (
            "/json/botnet.html",
            "Botnet takedown in three countries",
            "Lee Correspondent",
            &[
                "Police in three countries disrupted a botnet.",
                FILLER,
                FILLER,
            ],
        ),
        (
            "/ru/news-1.html",
            "Регулятор ограничил продажи оборудования",
            "Иван Петров",
            &[
                "Регулятор ограничил продажи оборудования. Решение вступает в силу с мая, сообщили в ведомстве, и касается всех поставщиков.",
                FILLER,
            ],
        ),
        (
            "/blog/dji-restrictions.html",
            "Notes on the DJI drone restrictions",
            "Blog Owner",
            &[
                "New rules restrict DJI drones on federal property.",
                FILLER,
                FILLER,
            ],
        ),
        (
            "/blog/recap.html",
            "Conference season recap",
            "Blog Owner",
            &[
                "Talks we liked this year, from fuzzing to policy.",
                FILLER,
                FILLER,
            ],
        ),
    ];
    for (path, title, author, paras) in articles {
        server.route(path, Reply::html(article_page(title, author, paras)));
    }
    // A link that is not a web page.
    server.route(
        "/articles/patch.pdf",
        Reply::ok("application/pdf", b"%PDF-1.4\n%binary\n".to_vec()),
    );
}
