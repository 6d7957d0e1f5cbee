//! Where a webhook may point: an `http` or `https` URL whose host is a public address. Loopback,
//! private, link-local, shared (carrier-grade NAT), unspecified, broadcast, multicast and
//! documentation addresses are refused unless an admin allows their network explicitly, so a
//! webhook cannot be aimed at the services beside Gatehouse. The same check runs on every
//! address a host name resolves to, when the webhook is saved and again at each delivery.

use crate::domain::Invalid;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The networks an admin has allowed webhooks to reach although they are not public
/// (`10.20.0.0/16`, `127.0.0.1/32`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowed(Vec<ipnet::IpNet>);

impl Allowed {
    /// Reads a comma-separated list of networks (`10.0.0.0/8, 127.0.0.1`; a bare address is
    /// that one address). Empty allows nothing beyond public addresses.
    pub fn parse(list: &str) -> Result<Allowed, Invalid> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = match item.parse::<ipnet::IpNet>() {
                Ok(net) => net,
                Err(_) => item
                    .parse::<IpAddr>()
                    .map(ipnet::IpNet::from)
                    .map_err(|_| {
                        Invalid(format!(
                            "`{item}` is not a network (`10.0.0.0/8`) or an address"
                        ))
                    })?,
            };
            nets.push(net);
        }
        Ok(Allowed(nets))
    }

    /// Whether a webhook may connect to `ip`: a public address, or one in an allowed network.
    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.0.iter().any(|net| net.contains(&ip))
    }
}

/// A webhook URL's parts the delivery needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The URL, as given (trimmed).
    pub url: String,
    /// The host: a name to resolve, or an address.
    pub host: Host,
    /// The port (the scheme's default when the URL names none).
    pub port: u16,
}

/// A URL's host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// A name, resolved at delivery.
    Name(String),
    /// An address literal.
    Ip(IpAddr),
}

/// Checks a webhook URL's form: `http` or `https`, a host, no user name or password (the
/// receiver authenticates the signature instead), and an address literal `allowed` permits.
/// Host names are checked once resolved ([`Allowed::permits`] on each address).
pub fn check_url(url: &str, allowed: &Allowed) -> Result<Target, Invalid> {
    let trimmed = url.trim();
    let parsed = ::url::Url::parse(trimmed)
        .map_err(|e| Invalid(format!("`{trimmed}` is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Invalid(format!(
            "the scheme `{}` is not allowed: use http or https",
            parsed.scheme()
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Invalid(
            "must not carry a user name or password (receivers check the signature)".into(),
        ));
    }
    let host = match parsed.host() {
        Some(::url::Host::Domain(name)) => match name.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(name.to_ascii_lowercase()),
        },
        Some(::url::Host::Ipv4(ip)) => Host::Ip(IpAddr::V4(ip)),
        Some(::url::Host::Ipv6(ip)) => Host::Ip(IpAddr::V6(ip)),
        None => return Err(Invalid("must name a host".into())),
    };
    if let Host::Ip(ip) = host {
        refuse_unless_permitted(ip, allowed)?;
    }
    if let Host::Name(name) = &host {
        if name == "localhost" || name.ends_with(".localhost") {
            refuse_unless_permitted(IpAddr::V4(Ipv4Addr::LOCALHOST), allowed)?;
        }
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    Ok(Target {
        url: trimmed.to_owned(),
        host,
        port,
    })
}

/// `Ok` when `allowed` permits `ip`; otherwise the refusal, naming the address's kind.
pub fn refuse_unless_permitted(ip: IpAddr, allowed: &Allowed) -> Result<(), Invalid> {
    if allowed.permits(ip) {
        return Ok(());
    }
    Err(Invalid(format!(
        "points at {ip}, a {} address; webhooks reach public addresses only, unless an admin \
         allows the network (GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS)",
        kind(ip)
    )))
}

/// Whether `ip` is an ordinary public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b);
    let reserved = a >= 240 || a == 0;
    let benchmarking = a == 198 && (b == 18 || b == 19);
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || shared
        || reserved
        || benchmarking)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let documentation = ip.segments()[0] == 0x2001 && ip.segments()[1] == 0x0db8;
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || documentation)
}

/// What kind of non-public address `ip` is, for the refusal.
fn kind(ip: IpAddr) -> &'static str {
    let v4 = match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    };
    match (ip, v4) {
        (_, Some(v4)) if v4.is_loopback() => "loopback",
        (_, Some(v4)) if v4.is_private() => "private",
        (_, Some(v4)) if v4.is_link_local() => "link-local",
        (_, Some(v4)) if v4.is_unspecified() => "unspecified",
        (_, Some(v4)) if v4.is_multicast() || v4.is_broadcast() => "multicast or broadcast",
        (_, Some(_)) => "reserved",
        (IpAddr::V6(v6), None) if v6.is_loopback() => "loopback",
        (IpAddr::V6(v6), None) if v6.is_unique_local() => "private",
        (IpAddr::V6(v6), None) if v6.is_unicast_link_local() => "link-local",
        _ => "reserved",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_public_addresses_pass_by_default() {
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(ip(public)), "{public}");
        }
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(internal)), "{internal}");
        }
    }

    #[test]
    fn an_admin_allows_networks_explicitly() {
        let allowed = Allowed::parse(" 10.20.0.0/16, 127.0.0.1 ,").unwrap();
        assert!(allowed.permits(ip("10.20.3.4")));
        assert!(allowed.permits(ip("127.0.0.1")));
        assert!(!allowed.permits(ip("127.0.0.2")));
        assert!(!allowed.permits(ip("10.21.0.1")));
        assert_eq!(Allowed::parse(""), Ok(Allowed::default()));
        assert!(Allowed::parse("10.0.0.0/33")
            .unwrap_err()
            .contains("10.0.0.0/33"));
    }

    #[test]
    fn urls_are_checked_for_scheme_credentials_and_address() {
        let none = Allowed::default();
        let t = check_url(" https://hooks.example.com/in?x=1 ", &none).unwrap();
        assert_eq!(t.host, Host::Name("hooks.example.com".into()));
        assert_eq!(
            (t.port, t.url.as_str()),
            (443, "https://hooks.example.com/in?x=1")
        );
        assert_eq!(check_url("http://1.2.3.4:8080/", &none).unwrap().port, 8080);
        assert!(check_url("ftp://example.com/", &none)
            .unwrap_err()
            .contains("`ftp`"));
        assert!(check_url("file:///etc/passwd", &none).is_err());
        assert!(check_url("not a url", &none)
            .unwrap_err()
            .contains("not a URL"));
        assert!(check_url("https://u:p@example.com/", &none)
            .unwrap_err()
            .contains("password"));
        let e = check_url("http://127.0.0.1:9000/hook", &none).unwrap_err();
        assert!(e.contains("127.0.0.1, a loopback address"), "{e}");
        assert!(check_url("http://[::1]/", &none)
            .unwrap_err()
            .contains("loopback"));
        assert!(check_url("http://169.254.169.254/latest", &none)
            .unwrap_err()
            .contains("link-local"));
        assert!(check_url("http://localhost:8080/", &none).is_err());
        assert!(check_url("http://api.localhost/", &none).is_err());
        let local = Allowed::parse("127.0.0.0/8").unwrap();
        assert!(check_url("http://127.0.0.1:9000/hook", &local).is_ok());
        assert!(check_url("http://localhost:9000/hook", &local).is_ok());
    }
}
