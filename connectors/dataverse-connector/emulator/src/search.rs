//! The Search API for datasets (`api/Search.java`, `search/SolrSearchResult.json`),
//! SOURCES.md §8: one card per version the caller may see (its own drafts, everyone's
//! published versions), indexed at once (the real index lags; not emulated).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::handlers::{caller, error, lock, ok, param, params, tri, Shared};
use crate::render;
use crate::state::{Dataset, State, Version};

fn title(v: &Version) -> String {
    field_str(v, "title").unwrap_or_default()
}

fn field_str(v: &Version, name: &str) -> Option<String> {
    v.fields
        .iter()
        .find(|f| f.get("typeName").and_then(Value::as_str) == Some(name))
        .and_then(|f| f.get("value"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn subjects(v: &Version) -> Vec<String> {
    v.fields
        .iter()
        .find(|f| f.get("typeName").and_then(Value::as_str) == Some("subject"))
        .and_then(|f| f.get("value"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn description(v: &Version) -> Option<String> {
    v.fields
        .iter()
        .find(|f| f.get("typeName").and_then(Value::as_str) == Some("dsDescription"))
        .and_then(|f| f.get("value"))
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|d| d.pointer("/dsDescriptionValue/value"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `SolrSearchResult.json(showRelevance, showEntityIds, ...)` for a dataset card;
/// `publicationStatuses` as Solr indexes them (`Unpublished` for never released).
fn card(st: &State, d: &Dataset, v: &Version, entity_ids: bool) -> Value {
    let draft = v.number.is_none();
    let mut statuses = Vec::new();
    if d.released.is_empty() {
        statuses.push("Unpublished");
    }
    statuses.push(if draft { "Draft" } else { "Published" });
    let mut o = json!({
        "name": title(v),
        "type": "dataset",
        "url": render::dataset(st, d, None)["persistentUrl"],
        "global_id": render::persistent_id(st, d),
        "publisher": d.collection,
        "identifier_of_dataverse": d.collection,
        "name_of_dataverse": d.collection,
        "storageIdentifier": format!("file://{}/{}", st.options.authority, d.identifier),
        "subjects": subjects(v),
        "fileCount": v.files.len(),
        "versionId": v.id,
        "versionState": if draft { "DRAFT" } else { "RELEASED" },
        "createdAt": d.created,
        "updatedAt": v.last_update,
        "publicationStatuses": statuses,
    });
    if let Some(desc) = description(v) {
        o["description"] = json!(desc);
    }
    if let (Some((major, minor)), Some(t)) = (v.number, &v.release_time) {
        o["majorVersion"] = json!(major);
        o["minorVersion"] = json!(minor);
        o["published_at"] = json!(t);
    }
    if entity_ids {
        o["entity_id"] = json!(d.id);
    }
    o
}

/// `GET /api/search?q=&type=&subtree=&fq=&per_page=&start=&show_entity_ids=`.
pub(crate) async fn search(req: HttpRequest, st: web::Data<Shared>) -> HttpResponse {
    let g = lock(&st);
    let who = tri!(caller(&req, &g));
    let Some(q) = param(&req, "q") else {
        return error(400, "q parameter is missing");
    };
    // `getSubtree`: an unknown alias is an exception whose message is answered as 400.
    let subtrees = params(&req, "subtree");
    for s in &subtrees {
        if !s.is_empty() && !g.collections.contains_key(s) {
            return error(400, &format!("Could not find dataverse with alias {s}"));
        }
    }
    let start: usize = param(&req, "start")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let types = params(&req, "type");
    // `getFilterQueryFromTypes`.
    if let Some(t) = types
        .iter()
        .find(|t| !["dataverse", "dataset", "file"].contains(&t.as_str()))
    {
        return error(
            400,
            &format!("Invalid type '{t}'. Must be one of [dataverse, dataset, file]"),
        );
    }
    let wants_datasets = types.is_empty() || types.iter().any(|t| t == "dataset");
    // `getNumberOfResultsPerPage`: 0 → 10, over 1000 refused.
    let per_page: i64 = param(&req, "per_page")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let per_page = match per_page {
        0 => 10,
        n if n < 0 => {
            return error(
                400,
                &format!("{n} results per page requested but can not be less than zero."),
            )
        }
        n if n > 1000 => {
            return error(
                400,
                &format!("{n} results per page requested but max limit is 1000."),
            )
        }
        n => n as usize,
    };
    // `fq=publicationStatus:<Status>` is honoured; other filter queries are not emulated.
    let statuses: Vec<String> = params(&req, "fq")
        .iter()
        .filter_map(|f| f.strip_prefix("publicationStatus:"))
        .map(|s| s.trim_matches('"').to_owned())
        .collect();
    let entity_ids = param(&req, "show_entity_ids").as_deref() == Some("true");
    let needle = q.trim().trim_matches('*').to_lowercase();
    let root_only = subtrees.is_empty() || subtrees.iter().any(|s| s.is_empty() || s == "root");
    let mut cards = Vec::new();
    if wants_datasets {
        // Newest first.
        for d in g.datasets.values().rev() {
            if !root_only && !subtrees.contains(&d.collection) {
                continue;
            }
            let own = who.as_deref() == Some(d.owner.as_str());
            let mut versions: Vec<&Version> = Vec::new();
            if let (true, Some(draft)) = (own, &d.draft) {
                versions.push(draft);
            }
            if let Some(r) = d.released.last() {
                versions.push(r);
            }
            for v in versions {
                let c = card(&g, d, v, entity_ids);
                let matches_status = statuses.iter().all(|s| {
                    c["publicationStatuses"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == s.as_str()))
                });
                let matches_q = needle.is_empty() || title(v).to_lowercase().contains(&needle);
                if matches_status && matches_q {
                    cards.push(c);
                }
            }
        }
    }
    let total = cards.len();
    let items: Vec<Value> = cards.into_iter().skip(start).take(per_page).collect();
    ok(json!({
        "q": q,
        "total_count": total,
        "start": start,
        "spelling_alternatives": {},
        "items": items,
        "count_in_response": items.len(),
    }))
}

/// `SearchConstants.NUM_SOLR_DOCS_TO_RETRIEVE`: MyData's fixed page size.
const MYDATA_PAGE: usize = 10;

/// MyData's own envelope, always HTTP 200 (`DataRetrieverAPI.myDataAsJson`,
/// `getJSONErrorString`).
fn mydata_answer(body: Value) -> HttpResponse {
    HttpResponse::Ok().json(body)
}

/// `GET /api/mydata/retrieve` (`DataRetrieverAPI.retrieveMyDataAsJsonString`, SOURCES.md
/// §8): objects the caller holds a role on — the emulated owner holds Admin (role id 1) on
/// its datasets; `role_ids` required, `published_states` (default all), `dvobject_types`,
/// `selected_page` (1-based, 10 a page).
pub(crate) async fn mydata(req: HttpRequest, st: web::Data<Shared>) -> HttpResponse {
    let g = lock(&st);
    // `@AuthRequired`: a bad token fails in the filter; no token in `verifyAuth`.
    let who = tri!(caller(&req, &g));
    let Some(who) = who else {
        return mydata_answer(json!({
            "success": false,
            "error_message": "Only authenticated users can perform the requested operation",
        }));
    };
    let empty = |message: &str| {
        mydata_answer(json!({
            "success": true,
            "message": message,
            "data": {"pagination": {"isNecessary": false, "numResults": 0, "docsPerPage": MYDATA_PAGE},
                     "items": [], "total_count": 0, "start": 0},
        }))
    };
    let roles = params(&req, "role_ids");
    if roles.is_empty() {
        return empty("No results. Please select at least one Role.");
    }
    let types = params(&req, "dvobject_types");
    if !types.is_empty() && !types.iter().any(|t| t == "Dataset") {
        return empty("Sorry, no results were found.");
    }
    let states = params(&req, "published_states");
    let holds_admin = roles.iter().any(|r| r == "1");
    let page: usize = param(&req, "selected_page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let mut cards = Vec::new();
    for d in g.datasets.values().rev() {
        if d.owner != who || !holds_admin {
            continue;
        }
        let versions = d.draft.iter().chain(d.released.last());
        for v in versions {
            let mut c = card(&g, d, v, true);
            let statuses: Vec<String> = c["publicationStatuses"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            if !states.is_empty() && !states.iter().any(|s| statuses.contains(s)) {
                continue;
            }
            let draft = v.number.is_none();
            c["is_draft_state"] = json!(draft);
            c["is_unpublished_state"] = json!(d.released.is_empty());
            c["is_published"] = json!(!draft);
            c["parent_alias"] = json!(d.collection);
            c["user_roles"] = json!(["Admin"]);
            cards.push(c);
        }
    }
    if cards.is_empty() {
        return empty("Sorry, no results were found.");
    }
    let total = cards.len();
    let start = (page - 1) * MYDATA_PAGE;
    let items: Vec<Value> = cards.into_iter().skip(start).take(MYDATA_PAGE).collect();
    let pages = total.div_ceil(MYDATA_PAGE);
    mydata_answer(json!({
        "success": true,
        "data": {
            "pagination": {
                "isNecessary": pages > 1,
                "numResults": total,
                "docsPerPage": MYDATA_PAGE,
                "selectedPageNumber": page,
                "pageCount": pages,
                "hasNextPageNumber": page < pages,
                "nextPageNumber": if page < pages { page + 1 } else { page },
                "startCardNumber": start + 1,
                "endCardNumber": (start + items.len()),
            },
            "items": items,
            "total_count": total,
            "start": start,
        },
    }))
}
