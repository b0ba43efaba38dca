//! OAuth2 authorization-code exchange and refresh, built on the `oauth2` crate.
//!
//! In RDS the Token Storage does both for real users; these helpers serve the demo and
//! developers who need a token for a provider while building a connector.

use oauth2::basic::BasicClient;
use oauth2::{AuthorizationCode, CsrfToken, RefreshToken, TokenResponse};
use secrecy::SecretString;

use crate::descriptor::OAuth2Descriptor;
use crate::error::ConnectorError;

/// Tokens returned by a provider's token endpoint.
pub struct Tokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<std::time::Duration>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

fn client(
    d: &OAuth2Descriptor,
) -> BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
> {
    let mut c = BasicClient::new(d.client_id.clone())
        .set_client_secret(d.client_secret.clone())
        .set_auth_uri(d.auth_url.clone())
        .set_token_uri(d.token_url.clone());
    if let Some(r) = &d.redirect_url {
        c = c.set_redirect_uri(r.clone());
    }
    c
}

/// The standard authorize URL (with `?`, for a browser) and its CSRF state.
pub fn authorize_url(d: &OAuth2Descriptor) -> (url::Url, CsrfToken) {
    client(d)
        .authorize_url(CsrfToken::new_random)
        .add_scopes(d.scopes.iter().cloned())
        .url()
}

fn map_err<E: std::error::Error>(err: E) -> ConnectorError {
    ConnectorError::BadGateway(format!("the token endpoint refused the request: {err}"))
}

fn tokens<T: TokenResponse>(t: &T) -> Tokens {
    Tokens {
        access_token: SecretString::from(t.access_token().secret().to_owned()),
        refresh_token: t
            .refresh_token()
            .map(|r| SecretString::from(r.secret().to_owned())),
        expires_in: t.expires_in(),
    }
}

/// Exchanges an authorization code for tokens.
pub async fn exchange_code(
    d: &OAuth2Descriptor,
    http: &reqwest::Client,
    code: String,
) -> Result<Tokens, ConnectorError> {
    let t = client(d)
        .exchange_code(AuthorizationCode::new(code))
        .request_async(http)
        .await
        .map_err(map_err)?;
    Ok(tokens(&t))
}

/// Uses a refresh token. Providers rotate refresh tokens (Nextcloud) or revoke older
/// access tokens (Zenodo): callers must not refresh the same grant concurrently.
pub async fn refresh(
    d: &OAuth2Descriptor,
    http: &reqwest::Client,
    refresh_token: &SecretString,
) -> Result<Tokens, ConnectorError> {
    use secrecy::ExposeSecret;
    let t = client(d)
        .exchange_refresh_token(&RefreshToken::new(refresh_token.expose_secret().to_owned()))
        .request_async(http)
        .await
        .map_err(map_err)?;
    Ok(tokens(&t))
}
