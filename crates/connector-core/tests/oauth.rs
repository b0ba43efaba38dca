//! The OAuth2 helpers against a token endpoint that follows RFC 6749 §4.1.3 and §6:
//! client authentication by HTTP Basic, form-encoded grants, JSON answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine as _;
use connector_core::descriptor::OAuth2Descriptor;
use connector_core::oauth;
use oauth2::{AuthUrl, ClientId, ClientSecret, RedirectUrl, Scope, TokenUrl};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

async fn token(req: HttpRequest, form: web::Form<Vec<(String, String)>>) -> HttpResponse {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("client-id:client-secret")
    );
    if req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        != Some(expected.as_str())
    {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let ok = match (get("grant_type"), get("code"), get("refresh_token")) {
        (Some("authorization_code"), Some("good-code"), _) => {
            get("redirect_uri") == Some("https://rds.example.org/redirect")
        }
        (Some("refresh_token"), _, Some("refresh-1")) => true,
        _ => false,
    };
    if !ok {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_grant"}));
    }
    let refreshed = get("grant_type") == Some("refresh_token");
    HttpResponse::Ok().json(json!({
        "access_token": if refreshed { "access-2" } else { "access-1" },
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": if refreshed { "refresh-2" } else { "refresh-1" },
    }))
}

fn descriptor(base: &str) -> OAuth2Descriptor {
    OAuth2Descriptor {
        auth_url: AuthUrl::new(format!("{base}/authorize")).unwrap(),
        token_url: TokenUrl::new(format!("{base}/token")).unwrap(),
        redirect_url: Some(RedirectUrl::new("https://rds.example.org/redirect".into()).unwrap()),
        client_id: ClientId::new("client-id".into()),
        client_secret: ClientSecret::new("client-secret".into()),
        scopes: vec![Scope::new("deposit:write".into())],
    }
}

#[actix_web::test]
async fn exchange_and_refresh() {
    let server = HttpServer::new(|| App::new().route("/token", web::post().to(token)))
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    let d = descriptor(&format!("http://{addr}"));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let t = oauth::exchange_code(&d, &http, "good-code".into())
        .await
        .unwrap();
    assert_eq!(t.access_token.expose_secret(), "access-1");
    assert_eq!(t.expires_in.map(|d| d.as_secs()), Some(3600));
    assert!(!format!("{t:?}").contains("access-1"), "Debug hides tokens");

    let refresh = t.refresh_token.unwrap();
    let t2 = oauth::refresh(&d, &http, &refresh).await.unwrap();
    assert_eq!(t2.access_token.expose_secret(), "access-2");
    assert_eq!(t2.refresh_token.unwrap().expose_secret(), "refresh-2");

    let err = oauth::exchange_code(&d, &http, "bad-code".into())
        .await
        .unwrap_err();
    assert_eq!(err.status().as_u16(), 502);
    let err = oauth::refresh(&d, &http, &SecretString::from("stale"))
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("stale"));

    let (url, state) = oauth::authorize_url(&d);
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(q.contains(&("client_id".into(), "client-id".into())));
    assert!(q.contains(&("scope".into(), "deposit:write".into())));
    assert!(q.contains(&("state".into(), state.secret().clone())));
    handle.stop(true).await;
}
