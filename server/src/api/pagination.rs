//! Keyset pagination shared by the lists: `limit` and an opaque `cursor` in,
//! a page and `next_cursor` out. Ids are UUIDv7, so "after this id" is
//! "created after this item", and a page costs the same however deep it is.

use uuid::Uuid;

use crate::{error::ApiError, store::PageRequest};

const DEFAULT_PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 100;

/// What to ask the store for. It asks one item more than the page holds, to
/// learn whether a next page exists without counting.
pub fn page_request(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("`limit` must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    // An empty cursor is what a loop sends before it has one: the first page.
    let after = cursor.filter(|cursor| !cursor.is_empty()).map(decode_cursor).transpose()?;
    Ok(PageRequest { after, limit: u32::try_from(limit + 1).expect("limit is at most 101") })
}

/// Cuts the store's answer to the page and says where the next one starts.
pub fn into_page<T>(mut items: Vec<T>, page: PageRequest, id_of: impl Fn(&T) -> Uuid) -> (Vec<T>, Option<String>) {
    let page_size = (page.limit - 1) as usize;
    let has_more = items.len() > page_size;
    items.truncate(page_size);
    let next_cursor = if has_more { items.last().map(|item| encode_cursor(id_of(item))) } else { None };
    (items, next_cursor)
}

/// Cursors are the last id of a page. They are opaque to clients, so the
/// encoding may change without breaking anyone.
fn encode_cursor(id: Uuid) -> String {
    id.simple().to_string()
}

fn decode_cursor(cursor: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(cursor)
        .ok()
        .filter(|_| cursor.len() == 32)
        .ok_or_else(|| ApiError::bad_request("invalid_parameter", "`cursor` is not a cursor this API returned"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_bounded_and_defaults_to_fifty() {
        assert_eq!(page_request(None, None).unwrap().limit, 51);
        assert!(page_request(Some(0), None).is_err());
        assert!(page_request(Some(101), None).is_err());
        assert_eq!(page_request(Some(100), None).unwrap().limit, 101);
    }

    /// What the list queries' `#[param(pattern)]` say a `cursor` is: 32 hex
    /// digits, or empty for the first page.
    const CURSOR_PATTERN: &str = "^([0-9a-fA-F]{32})?$";

    #[test]
    fn the_spec_states_exactly_the_cursors_the_decoder_takes() {
        let document = serde_json::to_value(crate::api::openapi()).unwrap();
        for path in ["/v1/apps", "/v1/api-tokens", "/v1/audit-events"] {
            let parameters = document["paths"][path]["get"]["parameters"].as_array().unwrap();
            let cursor = parameters.iter().find(|parameter| parameter["name"] == "cursor").unwrap();
            assert_eq!(cursor["schema"]["pattern"], CURSOR_PATTERN, "{path}");
        }
        let pattern = regex::Regex::new(CURSOR_PATTERN).unwrap();
        let hex = Uuid::now_v7().simple().to_string();
        for candidate in [hex.clone(), hex.to_uppercase(), String::new(), hex[1..].to_owned(), format!("{hex}0")]
            .into_iter()
            .chain(["g".repeat(32), Uuid::now_v7().to_string(), " ".into()])
        {
            let decodes = page_request(None, Some(&candidate)).is_ok();
            assert_eq!(pattern.is_match(&candidate), decodes, "{candidate:?}");
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::now_v7();
        let page = PageRequest { after: None, limit: 2 };
        let (items, next) = into_page(vec![Uuid::now_v7(), id, Uuid::now_v7()], page, |item| *item);
        assert_eq!(items.len(), 1);
        let next = next.expect("a next page");
        assert_eq!(page_request(None, Some(&next)).unwrap().after, Some(items[0]));
        assert!(page_request(None, Some("not-a-cursor")).is_err());
        assert_eq!(page_request(None, Some("")).unwrap().after, None);
        let (_, last) = into_page(vec![id], page, |item| *item);
        assert_eq!(last, None);
    }
}
