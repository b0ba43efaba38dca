//! `UserId::parse`: never panics, and what it returns is exactly what the raw text says.
//! The port part never leaks into the user or token, only the first `:` after the user
//! splits, `""`/`"None"` mean "no token", and `Debug` never prints the token.
#![no_main]

use connector_core::credentials::{Credentials, UserId};
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use secrecy::{ExposeSecret, SecretString};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let trimmed = raw.trim();
    let parsed = UserId::parse(raw);
    let Some((port_raw, rest)) = trimmed.split_once("://") else {
        // Normal format: the whole trimmed text is the user name; refused only when
        // empty or when it would change a URL it is put into.
        match parsed {
            Ok(UserId::Normal { username }) => {
                assert_eq!(username, trimmed);
                assert!(!changes_a_url(trimmed), "{raw:?} accepted");
            }
            Ok(other) => panic!("{raw:?} is not session format: {other:?}"),
            Err(_) => assert!(
                trimmed.is_empty() || changes_a_url(trimmed),
                "{raw:?} refused"
            ),
        }
        return;
    };
    let (user_raw, token_raw) = rest.split_once(':').unwrap_or((rest, ""));
    let want_user = (!user_raw.is_empty()).then_some(user_raw);
    let want_token = (!token_raw.is_empty() && token_raw != "None").then_some(token_raw);
    match parsed {
        Ok(UserId::Session {
            ref port,
            ref username,
            ref token,
        }) => {
            assert!(port.starts_with("port-"));
            assert!(port == port_raw || *port == format!("port-{port_raw}"));
            assert_eq!(username.as_deref(), want_user);
            assert!(
                !username.as_deref().is_some_and(changes_a_url),
                "{raw:?} accepted"
            );
            let token = token.as_ref().map(|t| t.expose_secret());
            assert_eq!(token, want_token);
            // The token is the text after the user's first `:`: the port part (everything
            // before `://`) can never end up in it, nor can the user name.
            if let (Some(t), Some(u)) = (token, username.as_deref()) {
                assert!(!u.contains(':'));
                assert!(
                    trimmed.ends_with(t)
                        && trimmed.len() >= port_raw.len() + 3 + u.len() + 1 + t.len()
                );
            }
            if let Some(t) = token {
                check_redacted(t, &parsed, username.as_deref(), port);
            }
        }
        Ok(other) => panic!("{raw:?} is session format: {other:?}"),
        Err(_) => assert!(
            want_user.is_none() && want_token.is_none() || want_user.is_some_and(changes_a_url),
            "{raw:?} refused"
        ),
    }
});

/// A user name that is blank, or, as sent or percent-decoded any number of times, holds
/// `/`, `\` or a control character or is (before its last `@`) `.` or `..`.
fn changes_a_url(name: &str) -> bool {
    if name.trim().is_empty() {
        return true;
    }
    let mut form = name.to_owned();
    loop {
        let local = form.rsplit_once('@').map_or(form.as_str(), |(l, _)| l);
        if form.contains(['/', '\\'])
            || form.chars().any(char::is_control)
            || [form.as_str(), local]
                .iter()
                .any(|n| *n == "." || *n == "..")
        {
            return true;
        }
        let decoded = percent_decode_str(&form).decode_utf8_lossy().into_owned();
        if decoded == form {
            return false;
        }
        form = decoded;
    }
}

/// `Debug` of the `UserId` and of the `Credentials` made from it never shows the token
/// (checked when the token is distinctive: not part of the other fields or the layout).
fn check_redacted(
    token: &str,
    parsed: &Result<UserId, connector_core::ConnectorError>,
    user: Option<&str>,
    port: &str,
) {
    let layout = format!(
        "Ok(Session {{ port: {port:?}, username: {user:?}, token: Some(\"[REDACTED]\") }}) \
         Credentials {{ username: {user:?}, token: \"[REDACTED]\" }}"
    );
    if token.len() < 3 || layout.contains(token) {
        return;
    }
    let dbg = format!("{parsed:?}");
    assert!(!dbg.contains(token), "token in {dbg}");
    let creds = Credentials::new(
        user.map(str::to_owned),
        SecretString::from(token.to_owned()),
    );
    let dbg = format!("{creds:?}");
    assert!(!dbg.contains(token), "token in {dbg}");
}
