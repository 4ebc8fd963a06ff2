//! The gateway's configuration file (TOML) and its `oauth2` blocks: the whole file through
//! `GatewayConfig::from_toml` (parse and check), and the input alone as an `oauth2` block turned
//! into the token client's credential configuration (no secret or key is read).
//!
//! Holds: no panic; a refusal says what is wrong (a non-empty message); a file that is accepted
//! round-trips (written back as TOML it reads back equal, and is accepted again); an `oauth2` block
//! that reads round-trips the same way, and turning it into a credential configuration either
//! succeeds or says why.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_gateway::{GatewayConfig, OAuth2Config};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match GatewayConfig::from_toml(text, "fuzz.toml") {
        Ok(cfg) => {
            let written = match toml::to_string(&cfg) {
                Ok(w) => w,
                Err(e) => panic!("an accepted configuration does not serialise: {e}"),
            };
            match GatewayConfig::from_toml(&written, "again.toml") {
                Ok(again) => assert_eq!(again, cfg, "the configuration changed through TOML"),
                Err(e) => {
                    panic!("an accepted configuration, written back, is refused: {e}\n{written}")
                }
            }
            for u in cfg.upstreams.values() {
                if let Some(o) = &u.oauth2 {
                    check_credential(o);
                }
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    if let Ok(block) = toml::from_str::<OAuth2Config>(text) {
        let written = match toml::to_string(&block) {
            Ok(w) => w,
            Err(e) => panic!("an oauth2 block does not serialise: {e}"),
        };
        match toml::from_str::<OAuth2Config>(&written) {
            Ok(again) => assert_eq!(again, block, "the oauth2 block changed through TOML"),
            Err(e) => panic!("an oauth2 block, written back, is refused: {e}\n{written}"),
        }
        check_credential(&block);
    }
});

fn check_credential(o: &OAuth2Config) {
    if let Err(e) = o.to_credential_config(None) {
        assert!(!e.is_empty());
    }
}
