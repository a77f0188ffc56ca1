//! Address → group: who is affected when the public domain goes behind Cloudflare Access.
//!
//! Precedence, first match wins:
//! 1. host unknown at run time → `unresolved`;
//! 2. loopback / unspecified (`localhost`, `127.0.0.0/8`, `::1`, `0.0.0.0`, `::`) → `local`;
//! 3. a host name declared by the rules, or any single-label name → `docker-network`;
//! 4. private addresses (RFC 1918, CGNAT `100.64.0.0/10`, link-local, IPv6 ULA) and names under
//!    `.local`, `.lan`, `.internal`, `.home.arpa`, `.ts.net` → `private-network`;
//! 5. everything else (public domains and IPs) → `remote`.
//!
//! `container-exec` is not an address group: `docker exec` sites get it directly.

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use crate::rules::Service;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Group {
    Remote,
    Unresolved,
    PrivateNetwork,
    DockerNetwork,
    ContainerExec,
    Local,
}

impl Group {
    pub const ALL: [Group; 6] = [
        Group::Remote,
        Group::Unresolved,
        Group::PrivateNetwork,
        Group::DockerNetwork,
        Group::ContainerExec,
        Group::Local,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Group::Local => "local",
            Group::DockerNetwork => "docker-network",
            Group::ContainerExec => "container-exec",
            Group::Remote => "remote",
            Group::PrivateNetwork => "private-network",
            Group::Unresolved => "unresolved",
        }
    }

    /// One line for `explain` without an id.
    pub fn summary(self) -> &'static str {
        match self {
            Group::Local => "loopback (localhost, 127.0.0.0/8, ::1, 0.0.0.0): unaffected",
            Group::DockerNetwork => {
                "a container / compose service name: bypasses the tunnel, unaffected"
            }
            Group::ContainerExec => {
                "docker exec / docker compose exec into the container: unaffected"
            }
            Group::Remote => {
                "a public domain or IP: breaks unless every request carries an Access credential"
            }
            Group::PrivateNetwork => {
                "LAN, Tailscale and other private addresses: not behind the tunnel, listed"
            }
            Group::Unresolved => {
                "the host is only known at run time (env var without default, CLI argument)"
            }
        }
    }

    /// The full explanation printed by `access-audit explain <group>`.
    pub fn doc(self) -> &'static str {
        match self {
            Group::Local => "What: the address is the loopback interface: `localhost`, `127.0.0.0/8`, `::1`, `0.0.0.0`.\nWhy it matters: requests never leave the machine, so they never pass through the Cloudflare\ntunnel and Access does not see them.\nWhat to do: nothing.\nExample: requests.post(\"http://127.0.0.1:8188/prompt\", json=payload)",
            Group::DockerNetwork => "What: the host is a single-label name (a container or compose service such as `comfyui`) or a\nhost name the rules declare.\nWhy it matters: traffic stays on the Docker network and bypasses the tunnel.\nWhat to do: nothing; prefer this for service-to-service calls.\nExample: requests.get(\"http://comfyui:8188/system_stats\")",
            Group::ContainerExec => "What: code runs a command inside the service container with `docker exec` or\n`docker compose exec`.\nWhy it matters: no HTTP request is made, so Access is not involved.\nWhat to do: nothing.\nExample: subprocess.run([\"docker\", \"exec\", \"comfyui\", \"ls\", \"/root/ComfyUI/output\"])",
            Group::Remote => "What: the host is a public domain or a public IP address.\nWhy it matters: once Cloudflare Access protects the domain, a request without a credential gets\nthe sign-in page (302) or 403 instead of the API.\nWhat to do: send `CF-Access-Client-Id` + `CF-Access-Client-Secret` (a service token), or a\n`cf-access-token` header, or a `CF_Authorization` cookie - or route the call through the team's\ntoken helper. Read the secret from the environment, never write it in code.\nExample (breaks): requests.get(\"https://comfyui.example.space/prompt\")",
            Group::PrivateNetwork => "What: an RFC 1918, CGNAT (Tailscale 100.64.0.0/10), link-local or IPv6 ULA address, or a name\nunder .local, .lan, .internal, .home.arpa or .ts.net.\nWhy it matters: these do not pass through the public tunnel today, so Access does not affect\nthem - but moving them behind the tunnel later would.\nWhat to do: nothing now; keep them listed.\nExample: requests.get(\"http://192.168.1.20:8188/queue\")",
            Group::Unresolved => "What: the host comes from an environment variable without a default, a command-line argument\nor a function parameter.\nWhy it matters: whether it breaks depends on the value at run time.\nWhat to do: check the variable in each deployment; if it can point at the public domain, add\nthe credential.\nExample: requests.get(os.environ[\"COMFYUI_URL\"] + \"/prompt\")",
        }
    }

    /// Does Cloudflare Access on the public domain change anything for this group?
    pub fn affected(self) -> bool {
        matches!(self, Group::Remote)
    }
}

impl std::fmt::Display for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const PRIVATE_SUFFIXES: &[&str] = &[
    ".local",
    ".lan",
    ".internal",
    ".home.arpa",
    ".ts.net",
    ".localdomain",
];

/// The group of a (lower-cased, unbracketed) host, or `Unresolved` for `None`.
pub fn classify_host(host: Option<&str>, svc: &Service) -> Group {
    let Some(host) = host else {
        return Group::Unresolved;
    };
    let host = host.trim_end_matches('.');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return classify_ip(ip);
    }
    if host == "localhost" || host.ends_with(".localhost") {
        return Group::Local;
    }
    if svc.hosts.iter().any(|h| h == host) || !host.contains('.') {
        return Group::DockerNetwork;
    }
    if PRIVATE_SUFFIXES.iter().any(|s| host.ends_with(s)) {
        return Group::PrivateNetwork;
    }
    Group::Remote
}

fn classify_ip(ip: IpAddr) -> Group {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if v6.is_loopback() || v6.is_unspecified() {
                Group::Local
            } else if let Some(v4) = v6.to_ipv4_mapped() {
                classify_v4(v4)
            } else if (v6.segments()[0] & 0xfe00) == 0xfc00 || (v6.segments()[0] & 0xffc0) == 0xfe80
            {
                Group::PrivateNetwork
            } else {
                Group::Remote
            }
        }
    }
}

fn classify_v4(v4: Ipv4Addr) -> Group {
    let o = v4.octets();
    if v4.is_loopback() || v4.is_unspecified() {
        Group::Local
    } else if v4.is_private() || v4.is_link_local() || (o[0] == 100 && (o[1] & 0xc0) == 64) {
        Group::PrivateNetwork
    } else {
        Group::Remote
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn g(host: &str) -> Group {
        let rules = RuleSet::embedded().unwrap();
        classify_host(Some(host), rules.primary())
    }

    #[test]
    fn local_hosts() {
        for h in [
            "localhost",
            "127.0.0.1",
            "127.8.9.10",
            "::1",
            "0.0.0.0",
            "::",
        ] {
            assert_eq!(g(h), Group::Local, "{h}");
        }
    }

    #[test]
    fn docker_names() {
        assert_eq!(g("comfyui"), Group::DockerNetwork);
        assert_eq!(g("comfyui-worker"), Group::DockerNetwork);
        assert_eq!(g("some-service"), Group::DockerNetwork);
    }

    #[test]
    fn private_networks() {
        for h in [
            "192.168.1.20",
            "10.0.0.5",
            "172.16.3.4",
            "100.101.102.103",
            "169.254.1.1",
            "fd00::1",
            "gpu.lan",
            "box.tailnet-x.ts.net",
            "nas.home.arpa",
        ] {
            assert_eq!(g(h), Group::PrivateNetwork, "{h}");
        }
    }

    #[test]
    fn remote_hosts() {
        for h in [
            "comfyui.datacrew.space",
            "comfyui.example.com",
            "8.8.8.8",
            "2001:4860::8888",
            "172.32.0.1",
        ] {
            assert_eq!(g(h), Group::Remote, "{h}");
        }
    }

    #[test]
    fn unknown_host_is_unresolved() {
        let rules = RuleSet::embedded().unwrap();
        assert_eq!(classify_host(None, rules.primary()), Group::Unresolved);
    }
}
