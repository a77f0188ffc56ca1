//! `explain [ID]`: the documentation of a check (its module doc comment under
//! [`crate::gate::checks`], in fixed sections) or a group; without an id, the list of both.

use crate::engine::classify::Group;
use crate::error::Error;
use crate::gate::Check;

/// `explain`: what a check or a group means, and what to do about it.
pub fn text(id: Option<&str>) -> Result<String, Error> {
    match id {
        None => {
            let mut s = String::from("Checks (access-audit check; explain <id> for details):\n");
            for c in Check::ALL {
                let off = if c.enabled_by_default() {
                    ""
                } else {
                    " (off by default)"
                };
                s.push_str(&format!("  {:<20} {}{off}\n", c.id(), c.summary()));
            }
            s.push_str("\nGroups (access-audit scan):\n");
            for g in Group::ALL {
                s.push_str(&format!("  {:<20} {}\n", g.as_str(), g.summary()));
            }
            Ok(s)
        }
        Some(id) => {
            if let Some(c) = Check::from_id(id) {
                return Ok(format!("{}\n\n{}", c.id(), c.doc()));
            }
            Group::ALL
                .into_iter()
                .find(|g| g.as_str() == id)
                .map(|g| format!("{}\n\n{}\n", g.as_str(), g.doc()))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "unknown id `{id}`; run `access-audit explain` for the list"
                    ))
                })
        }
    }
}

/// `explain [ID]`: print [`text`].
pub fn run(id: Option<&str>) -> Result<i32, Error> {
    crate::cmd::common::write_output(None, &text(id)?)?;
    Ok(0)
}
