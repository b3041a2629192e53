//! The pages' languages: Simplified Chinese by default, English by choice, with Fluent
//! (`fluent-bundle`) messages in `web/locales/zh-CN.ftl` and `web/locales/en.ftl`, compiled into
//! the binary and parsed once.
//!
//! **Which language a request gets** ([`Lang`] as an extractor), first rule that says:
//! 1. `?lang=zh` or `?lang=en` in the URL (a link can pin a language; the pages' 中文/English
//!    switch is such a link, and [`remember`] then keeps the choice in the `fanli_lang` cookie);
//! 2. the `fanli_lang` cookie (`zh` or `en`), set by that switch;
//! 3. `Accept-Language`: the first language the browser prefers (highest `q`, ties in order)
//!    that is Chinese (`zh…`) or English (`en…`);
//! 4. otherwise Chinese.
//!
//! **Using it in a page**: take `lang: Lang` as a handler's argument, then `tr!(lang, "id")` or
//! `tr!(lang, "id", name = value)` for a message; [`Lang::name`] for an engine id's display name
//! (`kind-appreciation` → 消费增值, `event-close_day` → 日结, `rule-mint` → 铸造积分): the id
//! itself when no name is written, so a new id shows, raw, rather than nothing. Every message is
//! in both files (a test checks it, and that every `tr!` id the pages use exists).
//! A sentence with a value in bold (or any markup) is one message too, through
//! [`tr_html!`]: its text escaped, the markup put in its `{ $name }`, so that each language puts
//! the value where its grammar wants it. A number that a sentence counts goes in as a number, so
//! the English message can choose between `{ $n -> [one] … *[other] … }` forms.
//!
//! **Message ids** are named by the page that says them: `nav-…`, `overview-…`, `plan-…`,
//! `members-…` and `member-…` (the console's member list and member page), `reviews-…`,
//! `withdrawals-…`, `votes-…`, `audit-…`, `webhook-…` (the console's pages); `my-…` (the
//! member's own phone page, `/m`, its proofs, vote and coming rule change); `join-…` (`/join`).
//! The engine's ids are named by group (`event-…`, `rule-…`, `kind-…`, `grade-…`); the member
//! page says events, rules, accounts and figures in the members' own words (`my-event-…`,
//! `my-rule-…`, `my-account-…`, `my-label-…`), which are not always the console's. The pages
//! never pair literal texts in code: a text that comes in both languages from elsewhere (a
//! check's finding, which the engine writes in both) is picked by its own small function.

use std::sync::LazyLock;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use maud::{Markup, PreEscaped, html};

/// `tr!(lang, "id")`, `tr!(lang, "id", name = value, …)`: message `id` in `lang`, the values
/// (anything that converts to a Fluent value: text, numbers) put in its `{ $name }`s.
macro_rules! tr {
    ($lang:expr, $id:literal) => {
        $lang.tr($id)
    };
    ($lang:expr, $id:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $lang.tr_args($id, &[$((stringify!($name), ::fluent_bundle::FluentValue::from($value))),+])
    };
}
pub(crate) use tr;

/// `tr_html!(lang, "id", name = value, …)`: message `id` as markup, for a sentence one of whose
/// values is marked up (a figure in bold): the message's text is escaped, a [`Markup`] value
/// goes in as it is, any other value (text, a number, which plural forms select on) as text.
/// So a sentence stays one message, its words in the order its language wants.
macro_rules! tr_html {
    ($lang:expr, $id:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $lang.tr_html($id, vec![$((stringify!($name), $crate::web::i18n::Arg::from($value))),+])
    };
}
pub(crate) use tr_html;

/// A value of [`tr_html!`]: text or a number (escaped with the message), or markup.
pub(crate) enum Arg<'a> {
    Value(FluentValue<'a>),
    Markup(Markup),
}

impl From<Markup> for Arg<'_> {
    fn from(markup: Markup) -> Self {
        Arg::Markup(markup)
    }
}

/// Text and numbers are [`Arg::Value`]s.
macro_rules! value_args {
    ($($t:ty),*) => {
        $(impl<'a> From<$t> for Arg<'a> {
            fn from(value: $t) -> Self {
                Arg::Value(FluentValue::from(value))
            }
        })*
    };
}
value_args!(&'a str, String, &'a String, i64, u64, i32, u32, usize);

/// A page's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    /// Simplified Chinese, the default.
    Zh,
    /// English.
    En,
}

/// The cookie that keeps a language chosen with `?lang=`.
pub(crate) const COOKIE: &str = "fanli_lang";

type Bundle = FluentBundle<FluentResource>;

const ZH_FTL: &str = include_str!("locales/zh-CN.ftl");
const EN_FTL: &str = include_str!("locales/en.ftl");

static ZH: LazyLock<Bundle> = LazyLock::new(|| bundle("zh-CN", ZH_FTL));
static EN: LazyLock<Bundle> = LazyLock::new(|| bundle("en", EN_FTL));

/// A bundle of one locale file; the files are part of the source, parsed in the tests.
fn bundle(locale: &str, text: &str) -> Bundle {
    let resource = FluentResource::try_new(text.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("web/locales/{locale}.ftl: {errors:?}"));
    let mut bundle = FluentBundle::new_concurrent(vec![locale.parse().expect("a language tag")]);
    // No Unicode isolation marks around values: the pages are left-to-right throughout.
    bundle.set_use_isolating(false);
    bundle.add_resource(resource).unwrap_or_else(|errors| panic!("web/locales/{locale}.ftl: {errors:?}"));
    bundle
}

impl Lang {
    /// `zh` or `en` (also `zh-CN`, `en-US`, …).
    fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of a request by the rules above (`query`: the URL's query string).
    pub(crate) fn of(headers: &HeaderMap, query: Option<&str>) -> Lang {
        if let Some(lang) = query_lang(query) {
            return lang;
        }
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix("fanli_lang=").and_then(Lang::parse));
        if let Some(lang) = cookie {
            return lang;
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(accepted)
            .unwrap_or(Lang::Zh)
    }

    /// The language of a request whose query or form was read into `fields`: its `lang`
    /// field, else the rules of [`Lang::of`] (cookie, `Accept-Language`, Chinese). For the
    /// member's and the join pages, which read their query as a map (and `POST` a form whose
    /// hidden `lang` field carries the page's language).
    pub(crate) fn of_fields(headers: &HeaderMap, fields: &std::collections::HashMap<String, String>) -> Lang {
        fields.get("lang").and_then(|l| Lang::parse(l)).unwrap_or_else(|| Lang::of(headers, None))
    }

    /// `zh-CN` or `en`, for `<html lang>`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// `zh` or `en`, for `?lang=`.
    pub(crate) fn short(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The other language (the pages' switch).
    pub(crate) fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    fn bundle(self) -> &'static Bundle {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// Message `id`, or `None` when this language has none.
    fn message(self, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
        let bundle = self.bundle();
        let pattern = bundle.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors).into_owned();
        debug_assert!(errors.is_empty(), "message {id}: {errors:?}");
        Some(text)
    }

    /// Message `id` in this language (the id itself when missing: a test keeps that from
    /// happening to the pages' messages).
    pub(crate) fn tr(self, id: &str) -> String {
        self.message(id, None).unwrap_or_else(|| id.to_owned())
    }

    /// Message `id` with its arguments.
    pub(crate) fn tr_args(self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            fluent.set(*name, value.clone());
        }
        self.message(id, Some(&fluent)).unwrap_or_else(|| id.to_owned())
    }

    /// Message `id` as markup, its [`Arg::Markup`] values put in as they are (see [`tr_html!`]).
    pub(crate) fn tr_html(self, id: &str, args: Vec<(&str, Arg<'_>)>) -> Markup {
        // Each markup value stands in the text as a mark of the Unicode private use area, which
        // neither a message nor the escaping makes, until the text is escaped.
        let mut fluent = FluentArgs::new();
        let mut markups = Vec::new();
        for (name, arg) in args {
            match arg {
                Arg::Value(value) => fluent.set(name, value),
                Arg::Markup(markup) => {
                    fluent.set(name, format!("\u{E000}{}\u{E001}", markups.len()));
                    markups.push(markup.into_string());
                }
            }
        }
        let text = self.message(id, Some(&fluent)).unwrap_or_else(|| id.to_owned());
        let mut escaped = html! { (text) }.into_string();
        for (i, markup) in markups.iter().enumerate() {
            escaped = escaped.replace(&format!("\u{E000}{i}\u{E001}"), markup);
        }
        PreEscaped(escaped)
    }

    /// The display name of the engine's id `id` of kind `group` (message `group-id`), or the
    /// id when none is written: `name("event", "close_day")` is 日结 in Chinese.
    pub(crate) fn name(self, group: &str, id: &str) -> String {
        self.named(group, id).unwrap_or_else(|| id.to_owned())
    }

    /// Message `group-id`, or `None` when none is written (a page's own fallback follows).
    pub(crate) fn named(self, group: &str, id: &str) -> Option<String> {
        self.message(&format!("{group}-{id}"), None)
    }

    /// An anti-fraud rule's evidence (the engine writes it in English, in one of five shapes)
    /// in this language; as written when its shape is not known.
    pub(crate) fn evidence(self, text: &str) -> String {
        if self == Lang::En {
            return text.to_owned();
        }
        let contact = |kind: &str| self.name("contact", kind);
        let translated = if let Some(rest) = text.strip_prefix("shares ") {
            // "shares KIND VALUE with their referrer" / "… with their upline N levels up"
            let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            if let Some(value) = rest.strip_suffix(" with their referrer") {
                Some(tr!(self, "evidence-shares-referrer", kind = contact(kind), value = value))
            } else {
                rest.strip_suffix(" levels up").and_then(|r| r.rsplit_once(" with their upline ")).map(
                    |(value, levels)| {
                        tr!(
                            self,
                            "evidence-shares-upline",
                            kind = contact(kind),
                            value = value,
                            levels = levels
                        )
                    },
                )
            }
        } else if let Some(rest) = text.strip_prefix("the referrer's ") {
            // "the referrer's Nth referee within H hours, at most M"
            let (nth, rest) = rest.split_once("th referee within ").unwrap_or(("", ""));
            let (hours, max) = rest.split_once(" hours, at most ").unwrap_or(("", ""));
            (!nth.is_empty() && !max.is_empty())
                .then(|| tr!(self, "evidence-burst", nth = nth, hours = hours, max = max))
        } else if let Some(rest) = text.strip_prefix("one order of at most ") {
            // "one order of at most AMOUNT, then none for D days"
            rest.strip_suffix(" days")
                .and_then(|r| r.split_once(", then none for "))
                .map(|(amount, days)| tr!(self, "evidence-quiet", amount = amount, days = days))
        } else {
            // "KIND VALUE has N members, at most M"
            text.split_once(' ').and_then(|(kind, rest)| {
                let (value, rest) = rest.rsplit_once(" has ")?;
                let (count, max) = rest.split_once(" members, at most ")?;
                Some(tr!(
                    self,
                    "evidence-contact",
                    kind = contact(kind),
                    value = value,
                    count = count,
                    max = max
                ))
            })
        };
        translated.unwrap_or_else(|| text.to_owned())
    }
}

/// `lang=…` in a query string.
fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?.split('&').find_map(|pair| pair.strip_prefix("lang=")).and_then(Lang::parse)
}

/// The language an `Accept-Language` header prefers: the first Chinese or English tag of the
/// highest weight.
fn accepted(header: &str) -> Option<Lang> {
    let mut best: Option<(u32, Lang)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default();
        // The weight in thousandths (`q=0.8` → 800); 1000 when not given.
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .map_or(1000, |q| (q.trim().parse::<f32>().unwrap_or(0.0).clamp(0.0, 1.0) * 1000.0) as u32);
        if let Some(lang) = Lang::parse(tag)
            && q > 0
            && best.is_none_or(|(b, _)| q > b)
        {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Self::Rejection> {
        Ok(Lang::of(&parts.headers, parts.uri.query()))
    }
}

/// Middleware: a request with `?lang=zh|en` has its answer keep the choice in the `fanli_lang`
/// cookie (a year; every page of this server reads it).
pub(crate) async fn remember(request: Request, next: Next) -> Response {
    let chosen = query_lang(request.uri().query());
    let secure = if super::https(request.headers()) { "; Secure" } else { "" };
    let mut response = next.run(request).await;
    if let Some(lang) = chosen {
        let cookie =
            format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}", lang.short());
        response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ASCII"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message ids of a locale file.
    fn ids(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
            .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim()))
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_messages_and_parse() {
        let (zh, en) = (ids(ZH_FTL), ids(EN_FTL));
        assert!(zh.len() > 100, "{} messages", zh.len());
        let missing_en: Vec<_> = zh.iter().filter(|id| !en.contains(id)).collect();
        let missing_zh: Vec<_> = en.iter().filter(|id| !zh.contains(id)).collect();
        assert!(
            missing_en.is_empty() && missing_zh.is_empty(),
            "en lacks {missing_en:?}; zh lacks {missing_zh:?}"
        );
        for id in zh {
            assert!(ZH.has_message(id) && EN.has_message(id), "{id}");
        }
    }

    /// The pages' sources (every `.rs` file under `src/web` but this one), with their paths.
    fn page_sources() -> Vec<(String, String)> {
        fn walk(dir: &std::path::Path, found: &mut Vec<(String, String)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
            entries.sort();
            for path in entries {
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("web/i18n.rs") {
                    found.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        let mut found = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web"), &mut found);
        found
    }

    /// The first string literal after each `call` in `source` (a macro's or method's first
    /// literal argument, on the same line or the next).
    fn literals_after<'a>(source: &'a str, call: &str) -> Vec<&'a str> {
        source
            .split(call)
            .skip(1)
            .filter_map(|rest| rest.split_once('"'))
            .filter(|(before, _)| !before.contains(')') && !before.contains(';'))
            .filter_map(|(_, after)| after.split('"').next())
            .collect()
    }

    #[test]
    fn every_message_the_pages_use_is_written_in_both_languages_and_every_one_is_used() {
        let sources = page_sources();
        assert!(sources.iter().any(|(path, _)| path.ends_with("member/votes.rs")), "{}", sources.len());
        let (zh, en) = (ids(ZH_FTL), ids(EN_FTL));
        let mut used = Vec::new();
        // Groups of names looked up by an id only known when the page is made.
        let mut groups = vec!["level", "role", "figure"];
        for (path, source) in &sources {
            for call in ["tr!(", "tr_html!("] {
                for id in literals_after(source, call) {
                    assert!(zh.contains(&id), "{path}: {call}…, \"{id}\") has no message in zh-CN.ftl");
                    assert!(en.contains(&id), "{path}: {call}…, \"{id}\") has no message in en.ftl");
                    used.push(id);
                }
            }
            for call in [".name(", ".named("] {
                groups.extend(literals_after(source, call));
            }
            assert!(!source.contains("lang.t("), "{path} pairs literal texts: make them messages");
        }
        assert!(used.len() > 300, "{} uses", used.len());
        // Each message is said somewhere: by its id, or as a name of a group.
        let unused: Vec<_> = zh
            .iter()
            .filter(|id| !used.contains(id))
            .filter(|id| !groups.iter().any(|g| id.strip_prefix(g).is_some_and(|rest| rest.starts_with('-'))))
            .filter(|id| !id.starts_with("evidence-") && !id.starts_with("contact-"))
            .collect();
        assert!(unused.is_empty(), "messages no page says: {unused:?}");
    }

    /// The names an engine source file gives in `=> "name"` arms between `start` and the next
    /// `}` at the start of a line.
    fn arms<'a>(source: &'a str, start: &str) -> Vec<&'a str> {
        let body = &source[source.find(start).unwrap_or_else(|| panic!("{start}"))..];
        let body = &body[..body.find("\n    }\n").unwrap_or(body.len())];
        body.split("=> \"").skip(1).filter_map(|s| s.split('"').next()).collect()
    }

    #[test]
    fn every_event_type_ledger_rule_and_kind_has_a_chinese_name() {
        let events = arms(include_str!("../../../fanli-engine/src/event.rs"), "pub fn type_name(&self)");
        let rules = arms(include_str!("../../../fanli-engine/src/ledger.rs"), "pub fn name(self)");
        assert!(events.contains(&"close_day") && rules.contains(&"mint"), "{events:?} {rules:?}");
        for (group, ids) in [("event", events), ("rule", rules)] {
            for id in ids {
                let zh = Lang::Zh.name(group, id);
                assert!(zh != id && !zh.is_ascii(), "{group}-{id} has no Chinese name: {zh}");
                assert!(EN.has_message(&format!("{group}-{id}")), "{group}-{id} has no English name");
            }
        }
        assert_eq!(Lang::Zh.name("event", "close_day"), "日结");
        assert_eq!(Lang::En.name("event", "close_day"), "Day close");
        assert_eq!(Lang::Zh.name("rule", "mint"), "铸造积分");
        assert_eq!(Lang::Zh.name("event", "no_such_type"), "no_such_type", "an unknown id shows as is");
        for kind in [
            "appreciation",
            "refer_refund",
            "queue",
            "distribution",
            "green_points",
            "cycle",
            "ad_tasks",
            "loyalty",
            "coalition",
        ] {
            assert!(!Lang::Zh.name("kind", kind).is_ascii(), "kind-{kind}");
        }
        for rule in ["device", "phone", "ip", "shared-device", "ring", "burst", "quiet"] {
            assert!(!Lang::Zh.name("fraud", rule).is_ascii(), "fraud-{rule}");
        }
    }

    #[test]
    fn the_evidence_reads_in_chinese() {
        let zh = |text| Lang::Zh.evidence(text);
        assert_eq!(zh("device d1 has 4 members, at most 3"), "设备 d1 已有 4 名会员，上限 3");
        assert_eq!(zh("shares device phone-a with their referrer"), "与推荐人共用设备 phone-a");
        assert_eq!(zh("shares device d9 with their upline 2 levels up"), "与上 2 级的上线共用设备 d9");
        assert_eq!(
            zh("the referrer's 6th referee within 24 hours, at most 5"),
            "推荐人 24 小时内的第 6 位被推荐人，上限 5"
        );
        assert_eq!(
            zh("one order of at most 10.00, then none for 30 days"),
            "仅一笔不超过 10.00 元的订单，之后 30 天没有订单"
        );
        assert_eq!(zh("something new"), "something new", "an unknown shape shows as written");
        assert_eq!(
            Lang::En.evidence("device d1 has 4 members, at most 3"),
            "device d1 has 4 members, at most 3"
        );
    }

    #[test]
    fn the_language_is_the_querys_the_cookies_the_browsers_or_chinese() {
        let mut headers = HeaderMap::new();
        assert_eq!(Lang::of(&headers, None), Lang::Zh, "Chinese by default");
        headers.insert(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9,zh-CN;q=0.8".parse().unwrap());
        assert_eq!(Lang::of(&headers, None), Lang::En);
        headers.insert(header::ACCEPT_LANGUAGE, "fr;q=1,zh-CN;q=0.9,en;q=0.8".parse().unwrap());
        assert_eq!(Lang::of(&headers, None), Lang::Zh, "the first of ours by weight");
        headers.insert(header::ACCEPT_LANGUAGE, "de,fr".parse().unwrap());
        assert_eq!(Lang::of(&headers, None), Lang::Zh, "neither: Chinese");
        headers.insert(header::COOKIE, "fanli_console=x; fanli_lang=en".parse().unwrap());
        assert_eq!(Lang::of(&headers, None), Lang::En, "the cookie over the browser");
        assert_eq!(Lang::of(&headers, Some("q=A&lang=zh")), Lang::Zh, "the query over the cookie");
        assert_eq!(Lang::of(&HeaderMap::new(), Some("lang=en")), Lang::En);
        assert_eq!(Lang::of(&HeaderMap::new(), Some("lang=fr")), Lang::Zh);
    }

    #[test]
    fn messages_take_their_values() {
        assert_eq!(
            tr!(Lang::Zh, "members-page", from = 51, to = 100, total = 120),
            "第 51–100 名，共 120 名"
        );
        assert_eq!(tr!(Lang::En, "members-page", from = 51, to = 100, total = 120), "51–100 of 120");
    }

    #[test]
    fn a_sentence_with_markup_is_one_message_its_text_escaped() {
        let bold = |text: &str| html! { b { (text) } };
        assert_eq!(
            tr_html!(Lang::Zh, "my-member", member = bold("<a&b>")).into_string(),
            "会员 <b>&lt;a&amp;b&gt;</b>"
        );
        // The value goes where each language wants it.
        let date = || html! { b.date { "2027-01-01" } };
        assert_eq!(
            tr_html!(Lang::Zh, "my-next-expiry", mechanism = "绿色积分", points = bold("5"), date = date())
                .into_string(),
            "绿色积分: <b>5</b> 积分于 <b class=\"date\">2027-01-01</b> 到期"
        );
        assert_eq!(
            tr_html!(Lang::En, "my-next-expiry", mechanism = "<g>", points = bold("5"), date = date())
                .into_string(),
            "&lt;g&gt;: <b>5</b> points expire at <b class=\"date\">2027-01-01</b>",
            "a text value is escaped with the message"
        );
        // Chinese says the round's count; English's "1 of 3" already does.
        let progress = |lang: Lang, done: u32, of: u32| {
            tr_html!(lang, "my-round", progress = bold("p"), done = done, of = of).into_string()
        };
        assert_eq!(progress(Lang::Zh, 1, 3), "本轮 <b>p</b>（本轮已推荐 1 位，共 3 位）");
        assert_eq!(progress(Lang::Zh, 0, 0), "本轮 <b>p</b>");
        assert_eq!(progress(Lang::En, 1, 3), "This round: <b>p</b>");
    }

    #[test]
    fn english_counts_are_plural_safe() {
        let soon = |days: u64| {
            tr_html!(Lang::En, "my-expiring-soon", mechanism = "G", points = html! { "5" }, days = days)
                .into_string()
        };
        assert_eq!(soon(1), "G: 5 points expire within 1 day");
        assert_eq!(soon(7), "G: 5 points expire within 7 days");
        assert_eq!(
            tr!(Lang::En, "join-too-many", minutes = 1u64),
            "Too many attempts: try again in 1 minute."
        );
        assert_eq!(
            tr!(Lang::En, "join-too-many", minutes = 10u64),
            "Too many attempts: try again in 10 minutes."
        );
        assert_eq!(tr!(Lang::Zh, "join-too-many", minutes = 10u64), "尝试次数太多：请 10 分钟后再试。");
        let retrying = |lang: Lang, n: i64| tr!(lang, "webhook-retrying", attempts = n, error = "503");
        assert_eq!(retrying(Lang::En, 1), "The oldest pending one has failed once · 503");
        assert_eq!(retrying(Lang::En, 4), "The oldest pending one has failed 4 times · 503");
        assert_eq!(retrying(Lang::Zh, 4), "最早待发的一条已失败次数：4 · 503");
        assert_eq!(tr!(Lang::En, "my-held-count", count = 2usize), "2 waiting for review");
        assert_eq!(tr!(Lang::Zh, "my-held-count", count = 2usize), "待审核 2");
    }

    #[test]
    fn the_member_page_has_its_own_words_for_rules_events_and_figures() {
        assert_eq!(Lang::Zh.named("my-rule", "mint").as_deref(), Some("获得积分"));
        assert_eq!(Lang::En.named("my-rule", "credit_spent").as_deref(), Some("credit spent"));
        assert_eq!(Lang::Zh.named("my-event", "order").as_deref(), Some("下单"));
        assert_eq!(Lang::Zh.named("my-label", "wallet").as_deref(), Some("零钱"));
        assert_eq!(Lang::En.named("my-account", "credit").as_deref(), Some("store credit"));
        assert_eq!(Lang::Zh.named("my-rule", "no_such_rule"), None);
        // The member page's rules and events cover the engine's (but the console's own).
        let rules = arms(include_str!("../../../fanli-engine/src/ledger.rs"), "pub fn name(self)");
        for rule in rules {
            assert!(Lang::Zh.named("my-rule", rule).is_some_and(|n| !n.is_ascii()), "my-rule-{rule}");
        }
    }
}
