//! Writing a subtree as plain text, one block (paragraph, heading, list
//! item, table row) per paragraph.

use super::dom::{Dom, Tag};
use super::text::collapse_ws;

const SOFT_HYPHEN: char = '\u{AD}';

/// One block of text and what it is made of.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Block {
    pub text: String,
    /// Characters (not counting whitespace) inside links.
    pub link_chars: usize,
    /// Characters (not counting whitespace).
    pub chars: usize,
    /// Written from a heading (`h1`-`h6`).
    pub heading: bool,
}

impl Block {
    pub fn link_density(&self) -> f64 {
        if self.chars == 0 {
            0.0
        } else {
            self.link_chars as f64 / self.chars as f64
        }
    }
}

/// Writes the text under `roots`, skipping nodes whose `skip` flag is set
/// (a skipped element is skipped with its whole subtree). Iterative.
pub fn write_blocks(dom: &Dom<'_>, roots: &[usize], skip: &[bool]) -> Vec<String> {
    write_blocks_detailed(dom, roots, skip)
        .into_iter()
        .map(|b| b.text)
        .collect()
}

/// [`write_blocks`] with link and heading facts per block.
pub fn write_blocks_detailed(dom: &Dom<'_>, roots: &[usize], skip: &[bool]) -> Vec<Block> {
    let mut w = Writer::default();
    // Open elements whose end matters: (end index, tag).
    let mut open: Vec<(usize, Tag)> = Vec::new();
    for &root in roots {
        if root >= dom.len() {
            continue;
        }
        let end = dom.end(root);
        let mut j = root;
        while j < end {
            close_until(&mut open, j, &mut w);
            if skip.get(j).copied().unwrap_or(false) {
                j = dom.end(j);
                continue;
            }
            let n = &dom.nodes[j];
            match n.tag {
                Tag::Text => w.text(&n.text),
                Tag::Br => w.br(),
                Tag::Td | Tag::Th => {
                    w.cell();
                    open.push((dom.end(j), n.tag));
                }
                Tag::Pre => {
                    w.flush();
                    w.pre += 1;
                    open.push((dom.end(j), n.tag));
                }
                Tag::A => {
                    w.link += 1;
                    open.push((dom.end(j), n.tag));
                }
                t if t.is_heading() => {
                    w.flush();
                    w.heading += 1;
                    open.push((dom.end(j), t));
                }
                t if t.is_invisible() && j != root => {
                    j = dom.end(j);
                    continue;
                }
                t if t.is_block() => {
                    w.flush();
                    open.push((dom.end(j), t));
                }
                Tag::Img => {}
                _ => {}
            }
            j += 1;
        }
        close_until(&mut open, usize::MAX, &mut w);
        w.flush();
    }
    w.blocks
}

fn close_until(open: &mut Vec<(usize, Tag)>, j: usize, w: &mut Writer) {
    while let Some(&(end, tag)) = open.last() {
        if end > j {
            break;
        }
        open.pop();
        match tag {
            Tag::Td | Tag::Th => w.cell_end(),
            Tag::Pre => {
                w.flush();
                w.pre = w.pre.saturating_sub(1);
            }
            Tag::A => w.link = w.link.saturating_sub(1),
            t if t.is_heading() => {
                w.flush();
                w.heading = w.heading.saturating_sub(1);
            }
            _ => w.flush(),
        }
    }
}

#[derive(Default)]
struct Writer {
    blocks: Vec<Block>,
    /// Open links and headings.
    link: u32,
    heading: u32,
    /// Characters of the current block, and those inside links.
    chars: usize,
    link_chars: usize,
    /// Lines of the current block (a `<br>` starts a new line).
    lines: Vec<String>,
    cur: String,
    pre: u32,
    /// The last thing seen was a `<br>` (no text since).
    after_br: bool,
    /// A table cell began after text on this line: separate the next text.
    cell_sep: bool,
}

impl Writer {
    fn text(&mut self, t: &str) {
        // Soft hyphens are invisible on the page (and break phrase search).
        let owned;
        let t = if t.contains(SOFT_HYPHEN) {
            owned = t.replace(SOFT_HYPHEN, "");
            owned.as_str()
        } else {
            t
        };
        let n = t.chars().filter(|c| !c.is_whitespace()).count();
        self.chars += n;
        if self.link > 0 {
            self.link_chars += n;
        }
        if self.pre > 0 {
            let mut parts = t.split('\n');
            if let Some(first) = parts.next() {
                self.cur.push_str(first);
            }
            for p in parts {
                self.end_line();
                self.cur.push_str(p);
            }
        } else {
            if self.cell_sep && !t.trim().is_empty() {
                self.cur.push_str(" | ");
                self.cell_sep = false;
            }
            self.cur.push_str(t);
        }
        if !t.trim().is_empty() {
            self.after_br = false;
        }
    }

    fn br(&mut self) {
        if self.after_br && self.cur.trim().is_empty() {
            // Two line breaks in a row: a paragraph break.
            self.flush();
        } else {
            self.end_line();
        }
        self.after_br = true;
    }

    fn cell(&mut self) {
        // The separator is written before the next cell's first text, so
        // empty cells leave no trace.
        self.cell_sep = !self.cur.trim().is_empty();
    }

    fn cell_end(&mut self) {}

    fn end_line(&mut self) {
        let l = collapse_ws(&self.cur);
        self.cur.clear();
        if !l.is_empty() {
            self.lines.push(l);
        }
    }

    fn flush(&mut self) {
        self.cell_sep = false;
        self.end_line();
        self.after_br = false;
        if self.lines.is_empty() {
            self.chars = 0;
            self.link_chars = 0;
            return;
        }
        let mut b = self.lines.join("\n");
        self.lines.clear();
        // A row of cells where some were empty leaves dangling separators.
        while b.ends_with(" |") {
            b.truncate(b.len() - 2);
        }
        let b = b.trim_start_matches("| ").trim();
        if !b.is_empty() && b != "|" {
            self.blocks.push(Block {
                text: b.to_string(),
                link_chars: self.link_chars,
                chars: self.chars,
                heading: self.heading > 0,
            });
        }
        self.chars = 0;
        self.link_chars = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn blocks(html: &str) -> Vec<String> {
        let doc = Html::parse_document(html);
        let dom = Dom::from_html(&doc);
        let skip = vec![false; dom.len()];
        write_blocks(&dom, &[0], &skip)
    }

    #[test]
    fn paragraphs_headings_lists() {
        assert_eq!(
            blocks(
                "<h2>Head</h2><p>One <b>bold</b>\n word.</p><ul><li>a</li><li>b <i>c</i></li></ul><blockquote>q</blockquote>"
            ),
            vec!["Head", "One bold word.", "a", "b c", "q"]
        );
    }

    #[test]
    fn soft_hyphens_are_dropped() {
        assert_eq!(
            blocks("<p>Kiess&shy;ling hat vie\u{AD}le</p>"),
            vec!["Kiessling hat viele"]
        );
    }

    #[test]
    fn line_breaks() {
        assert_eq!(
            blocks("<div>line one<br>line two<br><br>para two</div>"),
            vec!["line one\nline two", "para two"]
        );
    }

    #[test]
    fn tables_rows_and_cells() {
        assert_eq!(
            blocks(
                "<table><tr><th>Name</th><th>Age</th></tr><tr><td>Ann</td><td></td><td>41</td></tr></table>"
            ),
            vec!["Name | Age", "Ann | 41"]
        );
        assert_eq!(
            blocks("<table><tr><td><p>Para one.</p><p>Para two.</p></td></tr></table>"),
            vec!["Para one.", "Para two."]
        );
    }

    #[test]
    fn block_facts() {
        let doc = Html::parse_document(
            "<h2>Title <a href=x>link</a></h2><p><a href=y>all link</a></p><p>no link</p>",
        );
        let dom = Dom::from_html(&doc);
        let b = write_blocks_detailed(&dom, &[0], &[]);
        assert_eq!(b.len(), 3);
        assert!(b[0].heading);
        assert_eq!((b[0].chars, b[0].link_chars), (9, 4));
        assert_eq!(b[1].link_density(), 1.0);
        assert!(!b[2].heading);
        assert_eq!(b[2].link_density(), 0.0);
    }

    #[test]
    fn pre_keeps_lines() {
        assert_eq!(
            blocks("<p>x</p><pre>fn main() {\n    go();\n}</pre>"),
            vec!["x", "fn main() {\ngo();\n}"]
        );
    }

    #[test]
    fn skips_invisible_and_flagged() {
        let doc = Html::parse_document("<p>keep</p><script>x</script><p id=d>drop</p>");
        let dom = Dom::from_html(&doc);
        let mut skip = vec![false; dom.len()];
        let d = (0..dom.len())
            .find(|&i| dom.attr(i, "id") == Some("d"))
            .unwrap();
        skip[d] = true;
        assert_eq!(write_blocks(&dom, &[0], &skip), vec!["keep"]);
    }
}
