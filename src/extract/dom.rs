//! A flat, pre-order copy of the parsed document.
//!
//! Every element and text node gets an index; a node's descendants are the
//! indices `i + 1 .. end`. Walking a subtree is a loop over a range, skipping
//! a subtree is a jump to its `end`, and sums over subtrees are one reverse
//! pass. Nothing here recurses, so depth does not matter.

use std::borrow::Cow;
use std::ops::Range;

use ego_tree::NodeRef;
use scraper::{Html, Node};

/// The element names the extractor distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    Text,
    Html,
    Head,
    Body,
    Title,
    Meta,
    Link,
    Script,
    Style,
    Noscript,
    Template,
    Svg,
    Math,
    Div,
    Section,
    Article,
    Main,
    Header,
    Footer,
    Nav,
    Aside,
    Form,
    Fieldset,
    Legend,
    P,
    Pre,
    Code,
    Blockquote,
    H1,
    H2,
    H3,
    H4,
    H5,
    H6,
    Hgroup,
    Ul,
    Ol,
    Li,
    Dl,
    Dt,
    Dd,
    Table,
    Thead,
    Tbody,
    Tfoot,
    Tr,
    Td,
    Th,
    Caption,
    Col,
    Colgroup,
    A,
    Img,
    Picture,
    Figure,
    Figcaption,
    Br,
    Hr,
    Span,
    B,
    Strong,
    Em,
    I,
    U,
    S,
    Sup,
    Sub,
    Small,
    Big,
    Font,
    Center,
    Abbr,
    Cite,
    Q,
    Mark,
    Del,
    Ins,
    Kbd,
    Samp,
    Var,
    Tt,
    Dfn,
    Bdi,
    Bdo,
    Wbr,
    Label,
    Time,
    Data,
    Address,
    Details,
    Summary,
    Dialog,
    Menu,
    Iframe,
    Object,
    Embed,
    Video,
    Audio,
    Source,
    Canvas,
    Button,
    Input,
    Select,
    Option,
    Textarea,
    Output,
    Other,
}

impl Tag {
    pub fn from_name(name: &str) -> Tag {
        use Tag::*;
        match name {
            "html" => Html,
            "head" => Head,
            "body" => Body,
            "title" => Title,
            "meta" => Meta,
            "link" => Link,
            "script" => Script,
            "style" => Style,
            "noscript" => Noscript,
            "template" => Template,
            "svg" => Svg,
            "math" => Math,
            "div" => Div,
            "section" => Section,
            "article" => Article,
            "main" => Main,
            "header" => Header,
            "footer" => Footer,
            "nav" => Nav,
            "aside" => Aside,
            "form" => Form,
            "fieldset" => Fieldset,
            "legend" => Legend,
            "p" => P,
            "pre" | "listing" => Pre,
            "code" => Code,
            "blockquote" => Blockquote,
            "h1" => H1,
            "h2" => H2,
            "h3" => H3,
            "h4" => H4,
            "h5" => H5,
            "h6" => H6,
            "hgroup" => Hgroup,
            "ul" | "dir" => Ul,
            "ol" => Ol,
            "li" => Li,
            "dl" => Dl,
            "dt" => Dt,
            "dd" => Dd,
            "table" => Table,
            "thead" => Thead,
            "tbody" => Tbody,
            "tfoot" => Tfoot,
            "tr" => Tr,
            "td" => Td,
            "th" => Th,
            "caption" => Caption,
            "col" => Col,
            "colgroup" => Colgroup,
            "a" => A,
            "img" | "image" => Img,
            "picture" => Picture,
            "figure" => Figure,
            "figcaption" => Figcaption,
            "br" => Br,
            "hr" => Hr,
            "span" => Span,
            "b" => B,
            "strong" => Strong,
            "em" => Em,
            "i" => I,
            "u" => U,
            "s" | "strike" => S,
            "sup" => Sup,
            "sub" => Sub,
            "small" => Small,
            "big" => Big,
            "font" => Font,
            "center" => Center,
            "abbr" | "acronym" => Abbr,
            "cite" => Cite,
            "q" => Q,
            "mark" => Mark,
            "del" => Del,
            "ins" => Ins,
            "kbd" => Kbd,
            "samp" => Samp,
            "var" => Var,
            "tt" => Tt,
            "dfn" => Dfn,
            "bdi" => Bdi,
            "bdo" => Bdo,
            "wbr" => Wbr,
            "label" => Label,
            "time" => Time,
            "data" => Data,
            "address" => Address,
            "details" => Details,
            "summary" => Summary,
            "dialog" => Dialog,
            "menu" => Menu,
            "iframe" | "frame" | "frameset" => Iframe,
            "object" | "applet" => Object,
            "embed" => Embed,
            "video" => Video,
            "audio" => Audio,
            "source" | "track" => Source,
            "canvas" => Canvas,
            "button" => Button,
            "input" => Input,
            "select" | "datalist" => Select,
            "option" | "optgroup" => Option,
            "textarea" => Textarea,
            "output" => Output,
            _ => Other,
        }
    }

    pub fn is_heading(self) -> bool {
        matches!(
            self,
            Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6
        )
    }

    /// Never holds article text: skipped with everything inside.
    pub fn is_invisible(self) -> bool {
        matches!(
            self,
            Tag::Head
                | Tag::Title
                | Tag::Meta
                | Tag::Link
                | Tag::Script
                | Tag::Style
                | Tag::Noscript
                | Tag::Template
                | Tag::Svg
                | Tag::Iframe
                | Tag::Object
                | Tag::Embed
                | Tag::Video
                | Tag::Audio
                | Tag::Source
                | Tag::Canvas
                | Tag::Select
                | Tag::Option
                | Tag::Textarea
                | Tag::Input
                | Tag::Button
                | Tag::Dialog
        )
    }

    /// Starts a new line of text (a "block" for the text writer).
    pub fn is_block(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Html | Body
                | Div
                | Section
                | Article
                | Main
                | Header
                | Footer
                | Nav
                | Aside
                | Form
                | Fieldset
                | Legend
                | P
                | Pre
                | Blockquote
                | H1
                | H2
                | H3
                | H4
                | H5
                | H6
                | Hgroup
                | Ul
                | Ol
                | Li
                | Dl
                | Dt
                | Dd
                | Table
                | Thead
                | Tbody
                | Tfoot
                | Tr
                | Td
                | Th
                | Caption
                | Figure
                | Figcaption
                | Hr
                | Center
                | Address
                | Details
                | Summary
                | Menu
        )
    }

    /// Phrasing content in Readability's sense (text-level elements).
    pub fn is_phrasing(self) -> bool {
        use Tag::*;
        matches!(
            self,
            Text | A
                | Abbr
                | Audio
                | B
                | Bdi
                | Bdo
                | Br
                | Button
                | Cite
                | Code
                | Data
                | Dfn
                | Em
                | Embed
                | I
                | Img
                | Input
                | Kbd
                | Label
                | Mark
                | Math
                | Noscript
                | Object
                | Output
                | Q
                | S
                | Samp
                | Script
                | Select
                | Small
                | Span
                | Strong
                | Sub
                | Sup
                | Textarea
                | Time
                | Var
                | Wbr
                | U
                | Font
                | Big
                | Tt
                | Del
                | Ins
                | Picture
        )
    }
}

/// One node of the flat document.
#[derive(Debug, Clone)]
pub struct DomNode<'a> {
    pub tag: Tag,
    /// Index of the parent; the root is its own parent.
    pub parent: u32,
    /// One past the last descendant.
    pub end: u32,
    /// Text nodes: the text. Elements: empty.
    pub text: Cow<'a, str>,
    /// Elements: the range of their attributes in [`Dom::attrs`].
    pub attrs: Range<u32>,
}

/// An attribute: lower-case name, decoded value.
pub type Attr<'a> = (Cow<'a, str>, Cow<'a, str>);

/// The flat document.
#[derive(Debug, Default)]
pub struct Dom<'a> {
    pub nodes: Vec<DomNode<'a>>,
    pub attrs: Vec<Attr<'a>>,
    /// For each node, the ego-tree id of scraper's node it was made from.
    pub ids: Vec<ego_tree::NodeId>,
}

impl<'a> Dom<'a> {
    /// Flattens the document under its root element.
    pub fn from_html(doc: &'a Html) -> Dom<'a> {
        Dom::from_node(*doc.root_element())
    }

    /// Flattens the subtree under `root` (iteratively).
    pub fn from_node(root: NodeRef<'a, Node>) -> Dom<'a> {
        let mut nodes: Vec<DomNode<'a>> = Vec::new();
        let mut attrs: Vec<Attr<'a>> = Vec::new();
        let mut ids = Vec::new();
        let mut stack: Vec<u32> = Vec::new();
        for edge in root.traverse() {
            match edge {
                ego_tree::iter::Edge::Open(n) => match n.value() {
                    Node::Element(el) => {
                        let idx = nodes.len() as u32;
                        let a0 = attrs.len() as u32;
                        attrs.extend(
                            el.attrs()
                                .map(|(k, v)| (Cow::Borrowed(k), Cow::Borrowed(v))),
                        );
                        nodes.push(DomNode {
                            tag: Tag::from_name(el.name()),
                            parent: stack.last().copied().unwrap_or(idx),
                            end: idx + 1,
                            text: Cow::Borrowed(""),
                            attrs: a0..attrs.len() as u32,
                        });
                        ids.push(n.id());
                        stack.push(idx);
                    }
                    Node::Text(t) => {
                        let idx = nodes.len() as u32;
                        nodes.push(DomNode {
                            tag: Tag::Text,
                            parent: stack.last().copied().unwrap_or(idx),
                            end: idx + 1,
                            text: Cow::Borrowed(t),
                            attrs: 0..0,
                        });
                        ids.push(n.id());
                    }
                    _ => {}
                },
                ego_tree::iter::Edge::Close(n) => {
                    if n.value().is_element()
                        && let Some(idx) = stack.pop()
                    {
                        let end = nodes.len() as u32;
                        if let Some(node) = nodes.get_mut(idx as usize) {
                            node.end = end;
                        }
                    }
                }
            }
        }
        Dom { nodes, attrs, ids }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn tag(&self, i: usize) -> Tag {
        self.nodes[i].tag
    }

    pub fn end(&self, i: usize) -> usize {
        self.nodes[i].end as usize
    }

    pub fn parent(&self, i: usize) -> Option<usize> {
        let p = self.nodes[i].parent as usize;
        (p != i).then_some(p)
    }

    /// The attributes of node `i`.
    pub fn attrs_of(&self, i: usize) -> &[Attr<'a>] {
        let r = &self.nodes[i].attrs;
        self.attrs
            .get(r.start as usize..r.end as usize)
            .unwrap_or(&[])
    }

    pub fn attr(&self, i: usize, name: &str) -> Option<&str> {
        self.attrs_of(i)
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| &**v)
    }

    /// Element children of `i`, in order.
    pub fn children(&self, i: usize) -> Children<'_, 'a> {
        Children {
            dom: self,
            next: i + 1,
            end: self.end(i),
        }
    }

    /// Concatenated raw text of the subtree (no block separation), skipping
    /// invisible elements.
    pub fn raw_text(&self, i: usize) -> String {
        let mut s = String::new();
        let end = self.end(i);
        let mut j = i;
        while j < end {
            let n = &self.nodes[j];
            if n.tag == Tag::Text {
                s.extend(n.text.chars().filter(|&c| c != '\u{AD}'));
            } else if j != i && n.tag.is_invisible() {
                j = n.end as usize;
                continue;
            }
            j += 1;
        }
        s
    }
}

/// Iterator over the direct children (all node kinds) of a node.
pub struct Children<'d, 'a> {
    dom: &'d Dom<'a>,
    next: usize,
    end: usize,
}

impl Iterator for Children<'_, '_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.next >= self.end {
            return None;
        }
        let i = self.next;
        self.next = self.dom.end(i);
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preorder_ranges() {
        let doc = Html::parse_document("<div id=a><p>x<b>y</b></p><p>z</p></div>");
        let dom = Dom::from_html(&doc);
        let tags: Vec<Tag> = dom.nodes.iter().map(|n| n.tag).collect();
        assert_eq!(
            tags,
            vec![
                Tag::Html,
                Tag::Head,
                Tag::Body,
                Tag::Div,
                Tag::P,
                Tag::Text,
                Tag::B,
                Tag::Text,
                Tag::P,
                Tag::Text
            ]
        );
        assert_eq!(dom.end(3), 10);
        assert_eq!(dom.children(3).collect::<Vec<_>>(), vec![4, 8]);
        assert_eq!(dom.parent(7), Some(6));
        assert_eq!(dom.parent(0), None);
        assert_eq!(dom.attr(3, "id"), Some("a"));
        assert_eq!(dom.raw_text(3), "xyz");
    }
}
