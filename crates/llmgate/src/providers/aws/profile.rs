//! AWS's shared files as botocore reads them: the credentials file
//! (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`, sections `[name]`) and the config
//! file (`AWS_CONFIG_FILE`, else `~/.aws/config`, sections `[default]` / `[profile name]`), the
//! credentials file's values winning. A profile resolves to a [`Plan`]: where the first keys
//! come from, then the roles assumed with them (`role_arn` + `source_profile` chains).

use std::collections::{HashMap, HashSet};

use super::{env, Keys};

/// How deep `source_profile` chains may go (botocore stops cycles; we also stop depth).
const MAX_CHAIN: usize = 8;

/// Every profile of both files, by name.
#[derive(Default, Debug)]
pub struct Profiles {
    profiles: HashMap<String, HashMap<String, String>>,
}

/// Where a profile's first credentials come from.
#[derive(Debug, PartialEq, Eq)]
pub enum Base {
    /// `aws_access_key_id` / `aws_secret_access_key` (/ `aws_session_token`).
    Static(KeysView),
    /// `credential_source = Environment`: the `AWS_*` key variables.
    Environment,
    /// `credential_source = EcsContainer`: the container credentials endpoint.
    Container,
    /// `role_arn` + `web_identity_token_file` (no source).
    WebIdentity {
        role_arn: String,
        token_file: String,
        session_name: Option<String>,
    },
}

/// Static keys (a `Debug` that never prints the secret).
#[derive(PartialEq, Eq)]
pub struct KeysView(pub String, pub String, pub Option<String>);

impl std::fmt::Debug for KeysView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeysView({}, ..)", self.0)
    }
}

impl KeysView {
    pub fn keys(&self) -> Keys {
        Keys {
            key_id: self.0.clone(),
            secret: self.1.clone(),
            token: self.2.clone(),
        }
    }
}

/// One `AssumeRole` of a chain.
#[derive(Debug, PartialEq, Eq)]
pub struct Hop {
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
}

/// A profile's credentials: the base, then each role assumed in turn.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    pub base: Base,
    pub hops: Vec<Hop>,
}

/// Why a profile gives no credentials (botocore's exceptions, as messages).
pub type Refusal = String;

/// `path` with a leading `~` replaced by `HOME`.
fn expand(path: String) -> String {
    match (path.strip_prefix('~'), env("HOME")) {
        (Some(rest), Some(home)) => format!("{home}{rest}"),
        _ => path,
    }
}

pub fn credentials_path() -> String {
    expand(env("AWS_SHARED_CREDENTIALS_FILE").unwrap_or_else(|| "~/.aws/credentials".into()))
}

pub fn config_path() -> String {
    expand(env("AWS_CONFIG_FILE").unwrap_or_else(|| "~/.aws/config".into()))
}

/// Sections of an INI file, in order: `name = value` pairs, comments (`#`, `;`) and the
/// indented sub-sections botocore nests (`s3 =` ...) left out.
pub fn parse_ini(text: &str) -> Vec<(String, HashMap<String, String>)> {
    let mut out: Vec<(String, HashMap<String, String>)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((name.trim().to_string(), HashMap::new()));
        } else if let (Some((k, v)), Some((_, section))) = (line.split_once('='), out.last_mut()) {
            section.insert(k.trim().to_lowercase(), v.trim().to_string());
        }
    }
    out
}

impl Profiles {
    /// Both files' texts (a missing file is an empty one).
    pub fn parse(credentials: &str, config: &str) -> Profiles {
        let mut profiles: HashMap<String, HashMap<String, String>> = HashMap::new();
        for (section, values) in parse_ini(config) {
            let name = match section.strip_prefix("profile ") {
                Some(n) => n.trim().to_string(),
                None if section == "default" => section,
                // `sso-session`, `services`: not profiles.
                None => continue,
            };
            profiles.entry(name).or_default().extend(values);
        }
        for (name, values) in parse_ini(credentials) {
            profiles.entry(name).or_default().extend(values);
        }
        Profiles { profiles }
    }

    /// Reads both files (off the async workers' blocking path).
    pub async fn load() -> Profiles {
        let read =
            |p: String| async move { tokio::fs::read_to_string(p).await.unwrap_or_default() };
        let (c, f) = tokio::join!(read(credentials_path()), read(config_path()));
        Profiles::parse(&c, &f)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.profiles.contains_key(name)
    }

    /// `name`'s credentials, in botocore's order for one profile: an assumed role
    /// (`role_arn` with `source_profile` or `credential_source`), a web identity
    /// (`role_arn` + `web_identity_token_file`), then static keys. `Ok(None)`: no such profile.
    pub fn plan(&self, name: &str) -> Result<Option<Plan>, Refusal> {
        if !self.contains(name) {
            return Ok(None);
        }
        let mut hops = Vec::new();
        let mut seen = HashSet::new();
        let mut current = name.to_string();
        loop {
            if !seen.insert(current.clone()) || hops.len() > MAX_CHAIN {
                return Err(format!(
                    "Infinite loop in credential configuration detected at profile {current}"
                ));
            }
            let p = self
                .profiles
                .get(&current)
                .ok_or_else(|| format!("The config profile ({current}) could not be found"))?;
            let get = |k: &str| p.get(k).filter(|v| !v.is_empty()).cloned();
            // A source profile's static keys win over its own role (botocore).
            if current != name {
                if let Some(base) = static_keys(p) {
                    hops.reverse();
                    return Ok(Some(Plan { base, hops }));
                }
            }
            let Some(role_arn) = get("role_arn") else {
                let base = static_keys(p).ok_or_else(|| no_credentials(&current, p))?;
                hops.reverse();
                return Ok(Some(Plan { base, hops }));
            };
            let hop = Hop {
                role_arn: role_arn.clone(),
                external_id: get("external_id"),
                session_name: get("role_session_name"),
            };
            match (get("source_profile"), get("credential_source")) {
                (Some(source), None) => {
                    hops.push(hop);
                    // A profile that is its own source uses its static keys.
                    if source == current {
                        let base = static_keys(p).ok_or_else(|| no_credentials(&current, p))?;
                        hops.reverse();
                        return Ok(Some(Plan { base, hops }));
                    }
                    current = source;
                }
                (None, Some(source)) => {
                    hops.push(hop);
                    let base = match source.as_str() {
                        "Environment" => Base::Environment,
                        "EcsContainer" => Base::Container,
                        "Ec2InstanceMetadata" => {
                            return Err(
                                "credential_source Ec2InstanceMetadata (IMDS) is not supported by llmgate"
                                    .into(),
                            )
                        }
                        other => {
                            return Err(format!(
                                "The credential_source \"{other}\" is not supported"
                            ))
                        }
                    };
                    hops.reverse();
                    return Ok(Some(Plan { base, hops }));
                }
                (Some(_), Some(_)) => {
                    return Err(format!(
                    "The profile \"{current}\" contains both source_profile and credential_source"
                ))
                }
                (None, None) => {
                    let Some(token_file) = get("web_identity_token_file") else {
                        return Err(format!(
                            "The profile \"{current}\" has a role_arn but neither source_profile, credential_source nor web_identity_token_file"
                        ));
                    };
                    hops.reverse();
                    return Ok(Some(Plan {
                        base: Base::WebIdentity {
                            role_arn,
                            token_file: expand(token_file),
                            session_name: hop.session_name,
                        },
                        hops,
                    }));
                }
            }
        }
    }
}

fn static_keys(p: &HashMap<String, String>) -> Option<Base> {
    let get = |k: &str| p.get(k).filter(|v| !v.is_empty()).cloned();
    Some(Base::Static(KeysView(
        get("aws_access_key_id")?,
        get("aws_secret_access_key")?,
        get("aws_session_token").or_else(|| get("aws_security_token")),
    )))
}

/// Why a profile without keys gives none: what it uses instead, if llmgate lacks that.
fn no_credentials(name: &str, p: &HashMap<String, String>) -> Refusal {
    if p.keys().any(|k| k.starts_with("sso_")) {
        format!(
            "The profile \"{name}\" uses IAM Identity Center (SSO), which llmgate does not support"
        )
    } else if p.contains_key("credential_process") {
        format!("The profile \"{name}\" uses credential_process, which llmgate does not support")
    } else {
        format!("The profile \"{name}\" has no credentials (aws_access_key_id and aws_secret_access_key)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREDENTIALS: &str = "
# a comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = default-secret

[dev]
aws_access_key_id=AKIDDEV
aws_secret_access_key=dev/secret+x
aws_session_token = dev-token
";

    const CONFIG: &str = "
[default]
region = us-east-1

[profile dev]
region = eu-west-1
aws_access_key_id = AKIDFROMCONFIG
s3 =
  max_concurrent_requests = 20

[profile admin]
role_arn = arn:aws:iam::123456789012:role/admin
source_profile = dev
external_id = ext-1
role_session_name = admin-session

[profile chained]
role_arn = arn:aws:iam::123456789012:role/second
source_profile = admin

[profile self]
role_arn = arn:aws:iam::123456789012:role/self
source_profile = self
aws_access_key_id = AKIDSELF
aws_secret_access_key = self-secret

[profile env-role]
role_arn = arn:aws:iam::123456789012:role/env
credential_source = Environment

[profile web]
role_arn = arn:aws:iam::123456789012:role/web
web_identity_token_file = /var/run/token

[profile sso]
sso_session = corp
sso_account_id = 123456789012

[profile loop-a]
role_arn = arn:aws:iam::123456789012:role/a
source_profile = loop-b

[profile loop-b]
role_arn = arn:aws:iam::123456789012:role/b
source_profile = loop-a

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
";

    fn hop(role: &str, ext: Option<&str>, session: Option<&str>) -> Hop {
        Hop {
            role_arn: format!("arn:aws:iam::123456789012:role/{role}"),
            external_id: ext.map(str::to_string),
            session_name: session.map(str::to_string),
        }
    }

    #[test]
    fn profiles_resolve_as_botocore_does() {
        let p = Profiles::parse(CREDENTIALS, CONFIG);
        let dev = KeysView(
            "AKIDDEV".into(),
            "dev/secret+x".into(),
            Some("dev-token".into()),
        );
        // The credentials file wins over the config file's keys.
        assert_eq!(
            p.plan("dev").unwrap().unwrap(),
            Plan {
                base: Base::Static(dev),
                hops: vec![]
            }
        );
        let admin = p.plan("admin").unwrap().unwrap();
        assert_eq!(
            admin.hops,
            vec![hop("admin", Some("ext-1"), Some("admin-session"))]
        );
        let chained = p.plan("chained").unwrap().unwrap();
        assert_eq!(
            chained.hops,
            vec![
                hop("admin", Some("ext-1"), Some("admin-session")),
                hop("second", None, None)
            ]
        );
        assert!(matches!(chained.base, Base::Static(KeysView(ref id, ..)) if id == "AKIDDEV"));
        let me = p.plan("self").unwrap().unwrap();
        assert_eq!(me.hops, vec![hop("self", None, None)]);
        assert!(matches!(me.base, Base::Static(KeysView(ref id, ..)) if id == "AKIDSELF"));
        assert_eq!(p.plan("env-role").unwrap().unwrap().base, Base::Environment);
        assert_eq!(
            p.plan("web").unwrap().unwrap().base,
            Base::WebIdentity {
                role_arn: "arn:aws:iam::123456789012:role/web".into(),
                token_file: "/var/run/token".into(),
                session_name: None
            }
        );
        assert!(p.plan("sso").unwrap_err().contains("SSO"));
        assert!(p.plan("loop-a").unwrap_err().contains("Infinite loop"));
        assert_eq!(p.plan("missing").unwrap(), None);
        assert!(!p.contains("corp"), "sso-session sections are not profiles");
        let fmt = format!("{:?}", p.plan("dev").unwrap());
        assert!(!fmt.contains("dev/secret"), "{fmt}");
    }
}
