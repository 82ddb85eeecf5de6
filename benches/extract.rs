//! Extraction speed on the fixture pages (`cargo bench --bench extract`).

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use secwire::extract::Extractor;
use url::Url;

const PAGES: &[&str] = &["darkreading-kaspersky", "blog-wordpress", "news-de"];

fn load(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/extract")
        .join(format!("{name}.html"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn bench_extract(c: &mut Criterion) {
    let ex = Extractor::default();
    let url = Url::parse("https://www.example.com/2024/03/02/story.html").ok();
    let mut group = c.benchmark_group("extract");
    let mut all = 0u64;
    for name in PAGES {
        let html = load(name);
        all += html.len() as u64;
        group.throughput(Throughput::Bytes(html.len() as u64));
        group.bench_function(*name, |b| b.iter(|| ex.extract(&html, url.as_ref())));
    }
    // All pages in a row: the figure to compare with docs/second.
    let pages: Vec<String> = PAGES.iter().map(|n| load(n)).collect();
    group.throughput(Throughput::Bytes(all));
    group.bench_function("all-pages", |b| {
        b.iter(|| {
            for p in &pages {
                std::hint::black_box(ex.extract(p, url.as_ref()));
            }
        })
    });
    group.finish();
}

fn bench_hostile(c: &mut Criterion) {
    let ex = Extractor::default();
    let deep = format!("<html><body>{}<p>bottom</p>", "<div>".repeat(100_000));
    let wide: String = (0..50_000)
        .map(|i| format!("<p>Paragraph {i}, with a comma, and words.</p>"))
        .collect();
    let mut group = c.benchmark_group("hostile");
    group.sample_size(10);
    group.bench_function("100k-nested-divs", |b| b.iter(|| ex.extract(&deep, None)));
    group.bench_function("50k-paragraphs", |b| b.iter(|| ex.extract(&wide, None)));
    group.finish();
}

criterion_group!(benches, bench_extract, bench_hostile);
criterion_main!(benches);
