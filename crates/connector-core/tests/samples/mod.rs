//! Sample descriptors (an OAuth2 and a Login service) for the spec test. CI checks the
//! payloads the connectors really send (ci/registration-checks.sh).

use connector_core::descriptor::{
    AuthUrl, ClientId, ClientSecret, FileTransferArchive, FileTransferMode, Icon, Interface,
    OAuth2Descriptor, RedirectUrl, Scope, ServiceAuth, ServiceDescriptor, TokenUrl,
};

pub fn payloads() -> Result<Vec<serde_json::Value>, url::ParseError> {
    let oauth = ServiceDescriptor {
        servicename: "port-Zenodo".into(),
        file_transfer_mode: FileTransferMode::Active,
        file_transfer_archive: FileTransferArchive::Zip,
        auth: ServiceAuth::OAuth2(OAuth2Descriptor {
            auth_url: AuthUrl::new("https://sandbox.zenodo.org/oauth/authorize".into())?,
            token_url: TokenUrl::new("https://sandbox.zenodo.org/oauth/token".into())?,
            redirect_url: Some(RedirectUrl::new("https://rds.example.org/redirect".into())?),
            client_id: ClientId::new("sample-client".into()),
            client_secret: ClientSecret::new("sample-secret".into()),
            scopes: vec![
                Scope::new("deposit:write".into()),
                Scope::new("deposit:actions".into()),
            ],
        }),
        description: vec![
            ("en".into(), "A general-purpose repository.".into()),
            (
                "de".into(),
                "Ein allgemeines Repositorium für Forschungsdaten.".into(),
            ),
        ],
        display_name: "Zenodo".into(),
        info_url: "https://about.zenodo.org/".into(),
        help_url: "https://help.zenodo.org/?a=b c".into(),
        icon: Some(Icon::from_bytes(
            "image/svg+xml",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        )),
        metadata_profile: Some(br#"{"title": "profile"}"#.to_vec()),
        project_link_template: "https://zenodo.org/record/${projectId}".into(),
    };
    let login = ServiceDescriptor {
        servicename: "port-sftp".into(),
        auth: ServiceAuth::Login {
            user_id: true,
            password: false,
        },
        file_transfer_archive: FileTransferArchive::None,
        icon: None,
        metadata_profile: None,
        ..oauth.clone()
    };
    Ok(vec![
        oauth.registration_payload(&[Interface::Metadata]),
        login.registration_payload(&[Interface::FileStorage, Interface::Metadata]),
    ])
}
