//! What the member page shows of the transparency log (issue 16): the tree head the server
//! signed last (size, root, time, key), and for each history entry a link to download its
//! inclusion proof (`/m/proof?t=TOKEN&line=N`, JSON with the head in it), which `fanli audit
//! check-proof PROOF.json --head PROOF.json --key KEY` checks with nothing but the public key.

use super::*;
use fanli_format::merkle::to_hex;
use fanli_format::transparency::SignedHead;

/// The card with the signed head.
pub(super) fn render(lang: Lang, head: Option<&SignedHead>, offset: UtcOffset) -> Markup {
    let Some(head) = head else { return html! {} };
    let root = to_hex(&head.head.root);
    let key = to_hex(&head.public_key);
    let time = fanli_engine::Timestamp::parse_rfc3339(&head.head.time).map(|at| local_time(at, offset));
    html! {
        section #head {
            h2 { (tr!(lang, "my-signed-log")) }
            p.note { (tr!(lang, "my-signed-note")) }
            dl {
                div style="display:flex;justify-content:space-between;gap:8px" {
                    dt { (tr!(lang, "my-head-size")) } dd #head-size style="margin:0" { (head.head.size) }
                }
                div style="display:flex;justify-content:space-between;gap:8px" {
                    dt { (tr!(lang, "my-head-root")) } dd #head-root style="margin:0" title=(root) { code { (&root[..16]) "…" } }
                }
                div style="display:flex;justify-content:space-between;gap:8px" {
                    dt { (tr!(lang, "my-head-time")) }
                    dd #head-time style="margin:0" { (time.unwrap_or_else(|| head.head.time.clone())) }
                }
                div style="display:flex;justify-content:space-between;gap:8px" {
                    dt { (tr!(lang, "my-head-key")) } dd style="margin:0" title=(key) { code { (&key[..16]) "…" } }
                }
            }
        }
    }
}

/// The link to download the proof of line `line`.
pub(super) fn link(lang: Lang, encoded: &str, line: u64) -> Markup {
    html! {
        a.proof href={ "/m/proof?t=" (encoded) "&line=" (line) } download={ "proof-" (line) ".json" } {
            (tr!(lang, "my-proof"))
        }
    }
}

/// `GET /m/proof?t=TOKEN&line=N`: the inclusion proof of line N, one of the member's own, in the
/// latest signed tree, with that head, as a JSON download.
pub(crate) async fn proof(
    State(server): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::of_fields(&headers, &query);
    let (tenant, member) = match member_of(&server, &query, lang) {
        Ok(found) => found,
        Err((status, message)) => return error_page(lang, status, &message),
    };
    let Some(line) = query.get("line").and_then(|l| l.parse::<u64>().ok()) else {
        return error_page(lang, StatusCode::BAD_REQUEST, &tr!(lang, "my-proof-which"));
    };
    let caller = crate::auth::Caller { tenant, role: Role::Member(member), key: String::new() };
    match crate::api::transparency::inclusion_proof(&server, &caller, line, None).await {
        Ok(proof) => (
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"proof-{line}.json\"")),
                (header::CACHE_CONTROL, "private, no-store".to_owned()),
            ],
            format!("{proof:#}\n"),
        )
            .into_response(),
        Err(error) => error_page(lang, error.0, &error.2),
    }
}
