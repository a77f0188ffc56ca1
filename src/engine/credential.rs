//! Credentials: whether a request carries a Cloudflare Access credential.
