//! Credentials: whether what a request sends carries a whole Cloudflare Access credential.
//!
//! The front ends only report evidence, in the shapes of their language: the credential *pieces*
//! an expression holds (lower-cased header / cookie names given a non-empty value, see
//! [`crate::rules::RuleSet::credential_piece`]), the names that receive pieces (a headers dict, a
//! session, a `HeaderMap`, a client built with default headers), pieces removed again (`clear`,
//! `pop`), names that hold no value, and functions whose body sends a whole credential (token
//! helpers, in any order, to a fixed point). The decisions are made here, once, for every language:
//!
//! - [`Holders`]: what each name carries, and whether that is a whole credential (both headers of
//!   a service-token pair, or the token header, or the cookie — the rules' `[access] header_sets`);
//! - [`decide`]: a use of an address is tokenized when **every** request that sends it carries the
//!   credential (or goes through a token helper); one bare request is enough to break.

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::engine::ir::Use;
use crate::rules::RuleSet;

/// The credential header and cookie names of the rules, for the front ends to rule out most
/// literals ([`CredentialNames::mentioned_in`]) before [`RuleSet::credential_piece`] lower-cases
/// (or a Rust literal is unescaped for) them.
#[derive(Default)]
pub struct CredentialNames {
    /// The names, ASCII lower-cased.
    names: Vec<Vec<u8>>,
    /// The bytes a name starts with, in either ASCII case: one bit per byte value.
    first: [u64; 4],
    /// Some name is empty (every string holds it).
    empty: bool,
}

impl CredentialNames {
    pub fn new(rules: &RuleSet) -> CredentialNames {
        let mut out = CredentialNames::default();
        for name in rules
            .credential_headers
            .iter()
            .chain(&rules.credential_cookies)
        {
            let name = name.as_bytes().to_ascii_lowercase();
            match name.first() {
                Some(&b) => {
                    for b in [b, b.to_ascii_uppercase()] {
                        out.first[usize::from(b >> 6)] |= 1 << (b & 63);
                    }
                }
                None => out.empty = true,
            }
            out.names.push(name);
        }
        out
    }

    /// Does a credential header or cookie name occur in `s`, ASCII case aside? One occurs in every
    /// credential piece ([`RuleSet::credential_piece`]).
    pub fn mentioned_in(&self, s: &str) -> bool {
        let hay = s.as_bytes();
        self.empty
            || hay.iter().enumerate().any(|(i, &b)| {
                self.first[usize::from(b >> 6)] & (1 << (b & 63)) != 0
                    && self.names.iter().any(|name| {
                        hay[i..]
                            .get(..name.len())
                            .is_some_and(|w| w.eq_ignore_ascii_case(name))
                    })
            })
    }
}

/// The piece that stands for "a whole credential" (a name assigned from a credentialed one, a
/// session a helper configured).
pub const WHOLE: &str = "*";

/// Credential pieces (lower-cased header / cookie names, or [`WHOLE`]).
pub type Pieces = BTreeSet<String>;

/// Are these pieces a whole Access credential under the rules?
pub fn is_whole(pieces: &Pieces, rules: &RuleSet) -> bool {
    rules.is_complete_credential(pieces.iter().map(String::as_str))
}

/// What each name of a file carries: credential pieces given and removed, names with no value,
/// and the functions that add a whole credential.
#[derive(Debug, Default, Clone)]
pub struct Holders {
    /// Names that carry a whole credential.
    whole: HashSet<String>,
    /// Pieces each name was given.
    pieces: HashMap<String, Pieces>,
    /// Pieces removed from a name (`h.clear()` → `None`: all of them; `h.pop("…")` → those).
    removed: HashMap<String, Option<Pieces>>,
    /// Names that hold no value (`CF_ID = None`, `TOKEN = ""`): a header given one adds nothing.
    empty: HashSet<String>,
    /// Functions whose body sends a whole credential.
    helpers: HashSet<String>,
}

impl Holders {
    /// The pieces `name` holds, less those removed from it.
    pub fn pieces_of(&self, name: &str) -> Pieces {
        if self.whole.contains(name) && !self.removed.contains_key(name) {
            return [WHOLE.to_string()].into();
        }
        let mut have = self.pieces.get(name).cloned().unwrap_or_default();
        match self.removed.get(name) {
            Some(None) => have.clear(),
            Some(Some(gone)) => have.retain(|p| !gone.contains(p)),
            None => {}
        }
        have
    }

    /// Does `name` carry a whole credential?
    pub fn carries(&self, name: &str, rules: &RuleSet) -> bool {
        is_whole(&self.pieces_of(name), rules)
    }

    /// Give `name` more pieces; it carries a credential once they are whole.
    pub fn add(&mut self, name: &str, more: Pieces, rules: &RuleSet) {
        if more.is_empty() {
            return;
        }
        self.pieces
            .entry(name.to_string())
            .or_default()
            .extend(more);
        if is_whole(&self.pieces_of(name), rules) {
            self.whole.insert(name.to_string());
        }
    }

    /// `name` carries a whole credential (assigned from a name that does, a configured session).
    pub fn set_whole(&mut self, name: &str) {
        self.whole.insert(name.to_string());
    }

    /// Every piece of `name` is removed (`h.clear()`, `del h`, `h = {}` after use).
    pub fn remove_all(&mut self, name: &str) {
        self.removed.insert(name.to_string(), None);
    }

    /// One piece of `name` is removed (`h.pop("CF-Access-Client-Id")`).
    pub fn remove_piece(&mut self, name: &str, piece: String) {
        if let Some(gone) = self
            .removed
            .entry(name.to_string())
            .or_insert(Some(Pieces::new()))
        {
            gone.insert(piece);
        }
    }

    /// `name` holds no value.
    pub fn set_empty(&mut self, name: &str) {
        self.empty.insert(name.to_string());
    }

    /// Does `name` hold no value?
    pub fn is_empty_name(&self, name: &str) -> bool {
        self.empty.contains(name)
    }

    /// `function`'s body sends a whole credential: a call through it is tokenized.
    pub fn add_helper(&mut self, function: &str) {
        self.helpers.insert(function.to_string());
        self.whole.insert(function.to_string());
    }

    /// Is `function` a token helper of this file?
    pub fn is_helper(&self, function: &str) -> bool {
        self.helpers.contains(function)
    }

    /// The token helpers of this file, sorted (for [`crate::engine::ir::FileFacts::credential_fns`]).
    pub fn helpers(&self) -> Vec<String> {
        let mut out: Vec<String> = self.helpers.iter().cloned().collect();
        out.sort();
        out
    }

    /// A measure that only grows while evidence is added: a fixed point is reached when it stays.
    pub fn size(&self) -> (usize, usize, usize) {
        (
            self.whole.len(),
            self.helpers.len(),
            self.pieces.values().map(BTreeSet::len).sum(),
        )
    }
}

/// How the uses of one address send it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// Every request that sends the address carries a whole credential.
    pub tokenized: bool,
    /// The client library (or token helper) of the first request.
    pub client: Option<String>,
    /// Some use is a request (a client call or a helper call), not only a value passed along.
    pub sent: bool,
    /// Non-Access authentication a request carries (`bearer`, `basic`).
    pub auth: Option<String>,
}

/// Decide over the uses that send an address. `helper(use)` names the token helper of another
/// module the use calls, if any. With requests among the uses, every one of them must carry the
/// credential; with none (the address only passed along), any use that carries it counts.
pub fn decide(uses: &[&Use], helper: impl Fn(&Use) -> Option<String>) -> Decision {
    if uses.is_empty() {
        return Decision::default();
    }
    let requests: Vec<&&Use> = uses
        .iter()
        .filter(|u| u.client.is_some() || helper(u).is_some())
        .collect();
    let tokenized = if requests.is_empty() {
        uses.iter().any(|u| u.credentialed)
    } else {
        requests
            .iter()
            .all(|u| u.credentialed || helper(u).is_some())
    };
    let client = requests
        .iter()
        .find_map(|u| u.client.clone())
        .or_else(|| uses.iter().find_map(|u| helper(u)));
    Decision {
        tokenized,
        client,
        sent: !requests.is_empty(),
        auth: requests.iter().find_map(|u| u.auth.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RuleSet {
        RuleSet::load(None).expect("embedded rules load")
    }

    fn pieces(names: &[&str]) -> Pieces {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn one_header_of_a_pair_is_not_a_credential() {
        let r = rules();
        assert!(!is_whole(&pieces(&["cf-access-client-id"]), &r));
        assert!(is_whole(
            &pieces(&["cf-access-client-id", "cf-access-client-secret"]),
            &r
        ));
        assert!(is_whole(&pieces(&["cf-access-token"]), &r));
        assert!(is_whole(&pieces(&["cf_authorization"]), &r));
    }

    #[test]
    fn pieces_add_up_and_can_be_removed() {
        let r = rules();
        let mut h = Holders::default();
        h.add("h", pieces(&["cf-access-client-id"]), &r);
        assert!(!h.carries("h", &r));
        h.add("h", pieces(&["cf-access-client-secret"]), &r);
        assert!(h.carries("h", &r));
        h.remove_piece("h", "cf-access-client-secret".into());
        assert!(!h.carries("h", &r));
        h.add("g", pieces(&["cf-access-token"]), &r);
        h.remove_all("g");
        assert!(!h.carries("g", &r));
    }

    fn use_of(client: Option<&str>, credentialed: bool) -> Use {
        Use {
            scope: 0,
            client: client.map(str::to_string),
            credentialed,
            auth: None,
            names: Vec::new(),
            callees: Vec::new(),
        }
    }

    #[test]
    fn every_request_must_carry_the_credential() {
        let with = use_of(Some("requests"), true);
        let without = use_of(Some("requests"), false);
        let passed = use_of(None, false);
        let d = decide(&[&with, &without], |_| None);
        assert!(!d.tokenized && d.sent);
        let d = decide(&[&with, &passed], |_| None);
        assert!(
            d.tokenized,
            "a use that only passes the value along is not a request"
        );
        let d = decide(&[&without], |_| Some("comfyui_request".into()));
        assert!(
            d.tokenized,
            "a call through a token helper of another module"
        );
        assert_eq!(d.client.as_deref(), Some("requests"));
        assert_eq!(decide(&[], |_| None), Decision::default());
    }
}
