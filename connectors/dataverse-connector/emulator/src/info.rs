//! Small read-only routes: `GET /api/users/:me` (`api/Users.getAuthenticatedUserByToken`,
//! SOURCES.md §1), `GET /api/licenses` (`api/Licenses.getLicenses`, §13) and
//! `GET /api/info/version` (`api/Info.getInfo`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::handlers::{caller, error, lock, ok, tri, Shared};
use crate::vocab::LICENSES;

/// `:me` is `@AuthRequired`: a bad token fails in the filter (401 "Bad API key"); no
/// token reaches the method, which answers 400 naming the (null) token.
pub(crate) async fn me(req: HttpRequest, st: web::Data<Shared>) -> HttpResponse {
    let g = lock(&st);
    let Some(user) = tri!(caller(&req, &g)) else {
        return error(400, "User with token null not found.");
    };
    let id = g.user_ids.get(&user).copied().unwrap_or(0);
    // `JsonPrinter.json(AuthenticatedUser)`.
    ok(json!({
        "id": id,
        "identifier": format!("@{user}"),
        "displayName": user,
        "firstName": user,
        "lastName": user,
        "email": format!("{user}@example.org"),
        "superuser": false,
        "deactivated": false,
        "persistentUserId": user,
        "authenticationProviderId": "builtin",
    }))
}

/// The stock licenses, no auth needed (`JsonPrinter.json(License)`).
pub(crate) async fn licenses() -> HttpResponse {
    let spdx = ["CC0-1.0", "CC-BY-4.0"];
    let data: Vec<Value> = LICENSES
        .iter()
        .zip(spdx)
        .enumerate()
        .map(|(i, ((name, uri, icon), rights))| {
            json!({
                "id": i + 1,
                "name": name,
                "uri": uri,
                "iconUrl": icon,
                "active": true,
                "isDefault": i == 0,
                "sortOrder": i + 1,
                "rightsIdentifier": rights,
                "rightsIdentifierScheme": "SPDX",
                "schemeUri": "https://spdx.org/licenses/",
                "languageCode": "en",
            })
        })
        .collect();
    ok(Value::Array(data))
}

/// The emulated version (SOURCES.md: IQSS/dataverse 6.11).
pub(crate) async fn version() -> HttpResponse {
    ok(json!({"version": "6.11", "build": "emulator"}))
}
