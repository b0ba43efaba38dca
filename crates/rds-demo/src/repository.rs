//! The research repository the demo publishes to (`--repository zenodo|inveniordm|dataverse`): its
//! emulator, how its connector is configured and reached, and what it stored.

use std::io::Read as _;

use dataverse_emulator::DataverseEmulator;
use inveniordm_emulator::InvenioEmulator;
use sha2::{Digest, Sha256};
use zenodo_emulator::ZenodoEmulator;

use crate::DemoError;

/// The repositories the demo knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Repository {
    /// zenodo-connector on Zenodo's legacy deposit API, OAuth2.
    #[default]
    Zenodo,
    /// inveniordm-connector on a stock InvenioRDM instance, login mode (a personal token).
    Inveniordm,
    /// dataverse-connector on a Dataverse installation's `root` collection (an API token).
    Dataverse,
}

impl Repository {
    pub const NAMES: &'static str = "zenodo, inveniordm, dataverse";

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "zenodo" => Some(Self::Zenodo),
            "inveniordm" => Some(Self::Inveniordm),
            "dataverse" => Some(Self::Dataverse),
            _ => None,
        }
    }

    /// As people call it.
    pub fn title(self) -> &'static str {
        match self {
            Self::Zenodo => "Zenodo",
            Self::Inveniordm => "InvenioRDM",
            Self::Dataverse => "Dataverse",
        }
    }

    /// The connector binary.
    pub fn connector(self) -> &'static str {
        match self {
            Self::Zenodo => "zenodo-connector",
            Self::Inveniordm => "inveniordm-connector",
            Self::Dataverse => "dataverse-connector",
        }
    }

    /// Its servicename in the Token Storage.
    pub fn service(self) -> &'static str {
        match self {
            Self::Zenodo => "port-zenodo",
            Self::Inveniordm => "port-inveniordm",
            Self::Dataverse => "port-dataverse",
        }
    }
}

/// A file as the repository stored it.
pub struct Stored {
    pub sha256: String,
    pub size: u64,
}

/// A running emulator of the repository.
pub enum RepositoryEmulator {
    Zenodo(ZenodoEmulator),
    Inveniordm(InvenioEmulator),
    Dataverse(DataverseEmulator),
}

impl RepositoryEmulator {
    /// Starts it, with `token` as `user`'s access token.
    pub async fn start(repo: Repository, user: &str, token: &str) -> Result<Self, DemoError> {
        let failed =
            |e: std::io::Error| DemoError::Setup(format!("{} emulator: {e}", repo.title()));
        Ok(match repo {
            Repository::Zenodo => {
                let emu = ZenodoEmulator::start().await.map_err(failed)?;
                emu.add_token(token, user);
                Self::Zenodo(emu)
            }
            Repository::Inveniordm => {
                let emu = InvenioEmulator::start().await.map_err(failed)?;
                emu.add_token(token, user);
                Self::Inveniordm(emu)
            }
            Repository::Dataverse => {
                let emu = DataverseEmulator::start().await.map_err(failed)?;
                emu.add_token(token, user);
                Self::Dataverse(emu)
            }
        })
    }

    pub fn repository(&self) -> Repository {
        match self {
            Self::Zenodo(_) => Repository::Zenodo,
            Self::Inveniordm(_) => Repository::Inveniordm,
            Self::Dataverse(_) => Repository::Dataverse,
        }
    }

    /// The connector's own environment, as an operator would set it.
    pub fn connector_env(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Zenodo(emu) => vec![
                ("ZENODO_ADDRESS", emu.url().to_owned()),
                ("ZENODO_OAUTH_CLIENT_ID", "demo-zenodo-client".to_owned()),
                (
                    "ZENODO_OAUTH_CLIENT_SECRET",
                    "demo-zenodo-client-secret".to_owned(),
                ),
            ],
            Self::Inveniordm(emu) => vec![("INVENIORDM_ADDRESS", emu.url().to_owned())],
            // The demo's RO-Crate names no e-mail; Dataverse requires a contact.
            Self::Dataverse(emu) => vec![
                ("DATAVERSE_ADDRESS", emu.url().to_owned()),
                ("DATAVERSE_CONTACT_EMAIL", "rds-demo@example.org".to_owned()),
            ],
        }
    }

    /// The `userId` RDS sends the metadata connector: the RDS user for an OAuth2 service
    /// (the connector asks the Token Storage), the session form with the personal token
    /// in its password slot for a login service.
    pub fn user_id(&self, user: &str, token: &str) -> String {
        match self {
            Self::Zenodo(_) => user.to_owned(),
            Self::Inveniordm(_) | Self::Dataverse(_) => {
                format!("{}://{user}:{token}", self.repository().service())
            }
        }
    }

    /// The files of the project, as stored.
    pub fn stored(&self, project_id: &str) -> Result<Vec<Stored>, String> {
        match self {
            Self::Zenodo(emu) => {
                let id: u64 = project_id
                    .parse()
                    .map_err(|_| format!("project id {project_id} is not numeric"))?;
                Ok(emu
                    .files(id)
                    .into_iter()
                    .map(|f| Stored {
                        sha256: f.sha256,
                        size: f.size,
                    })
                    .collect())
            }
            Self::Inveniordm(emu) => emu
                .files(project_id)
                .into_iter()
                .map(|f| {
                    Ok(Stored {
                        sha256: sha256_of(&f.path)
                            .map_err(|e| format!("cannot read the stored {}: {e}", f.key))?,
                        size: f.size,
                    })
                })
                .collect(),
            Self::Dataverse(emu) => {
                let id: u64 = project_id
                    .parse()
                    .map_err(|_| format!("project id {project_id} is not numeric"))?;
                emu.files(id)
                    .into_iter()
                    .map(|f| {
                        Ok(Stored {
                            sha256: sha256_of(&f.path)
                                .map_err(|e| format!("cannot read the stored {}: {e}", f.label))?,
                            size: f.size,
                        })
                    })
                    .collect()
            }
        }
    }

    /// The id in the published record's link (Zenodo's record id differs from its
    /// deposition id; InvenioRDM's draft becomes the record of the same id).
    pub fn record_id(&self, project_id: &str) -> String {
        match self {
            Self::Zenodo(emu) => project_id
                .parse()
                .ok()
                .and_then(|id| emu.deposition(id))
                .and_then(|d| d["record_id"].as_u64().map(|r| r.to_string()))
                .unwrap_or_else(|| project_id.to_owned()),
            Self::Inveniordm(_) | Self::Dataverse(_) => project_id.to_owned(),
        }
    }

    pub async fn stop(self) {
        match self {
            Self::Zenodo(emu) => emu.stop().await,
            Self::Inveniordm(emu) => emu.stop().await,
            Self::Dataverse(emu) => emu.stop().await,
        }
    }
}

/// The stored bytes' SHA-256, read in pieces (a large file is not held in memory).
fn sha256_of(path: &std::path::Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}
