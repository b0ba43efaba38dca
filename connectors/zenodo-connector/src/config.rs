//! The Zenodo connector's keys (the original port's environment names).

use serde::{Deserialize, Serialize};

pub const DEFAULT_ADDRESS: &str = "https://sandbox.zenodo.org";
pub const DEFAULT_DISPLAYNAME: &str = "Zenodo";
pub const DEFAULT_INFO_URL: &str = "https://about.zenodo.org/";
pub const DEFAULT_HELP_URL: &str = "https://help.zenodo.org/";
pub const DEFAULT_PROJECT_LINK_TEMPLATE: &str = "https://zenodo.org/record/${projectId}";

/// Field names are the environment names in lower case. No `Debug`: it holds the secret.
#[derive(Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ZenodoConfig {
    /// `ZENODO_ADDRESS`: Zenodo's base URL (default: the sandbox).
    pub zenodo_address: Option<String>,
    pub zenodo_oauth_client_id: Option<String>,
    /// Also from `ZENODO_OAUTH_CLIENT_SECRET_FILE`.
    pub zenodo_oauth_client_secret: Option<String>,
    pub zenodo_displayname: Option<String>,
    pub zenodo_info_url: Option<String>,
    pub zenodo_help_url: Option<String>,
    /// An image file sent as the service's icon; unset: the built-in SVG.
    pub zenodo_icon: Option<String>,
    /// A JSON file sent (base64) as the metadata profile; unset: none.
    pub zenodo_metadata_profile: Option<String>,
    pub zenodo_project_link_template: Option<String>,
    /// `ZENODO_MAX_PAGES`: the most pages of 100 drafts one project listing fetches.
    pub zenodo_max_pages: Option<usize>,
}
