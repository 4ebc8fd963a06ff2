//! Settings of the flows that involve people: pages, users, sessions, authorization codes,
//! refresh tokens and device codes. Part of [`crate::config::Config`]; every setting is
//! documented in `docs/configuration.md` and `docs/users-and-pages.md`.

use serde::{Deserialize, Serialize};

/// `[pages]`: how the login, consent and device pages look.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PagesConfig {
    /// The product name in titles and headings. Default `Tessera`.
    pub product_name: String,
    /// A logo shown above every page: an `https://` URL or a path on this server; none when
    /// absent.
    pub logo_url: Option<String>,
    /// Buttons and links, as `#rrggbb`. Default `#1d4ed8` (contrast 6.7:1 on white).
    pub primary_color: String,
    /// Text on primary buttons. Default `#ffffff`.
    pub primary_text_color: String,
    /// Page background. Default `#f3f4f6`.
    pub background_color: String,
    /// Body text. Default `#111827`.
    pub text_color: String,
}

impl Default for PagesConfig {
    fn default() -> Self {
        Self {
            product_name: "Tessera".into(),
            logo_url: None,
            primary_color: "#1d4ed8".into(),
            primary_text_color: "#ffffff".into(),
            background_color: "#f3f4f6".into(),
            text_color: "#111827".into(),
        }
    }
}

/// `[users]`: sign-in limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsersConfig {
    /// Failed sign-ins allowed per (username, source address) per minute (burst and refill).
    /// Default 5. Only the failing source is held back: a user is never refused to an address
    /// that has not been failing.
    pub failed_logins_per_user_and_address_per_minute: u32,
    /// Failed sign-ins allowed per source address per minute, whatever the username (IPv6 per
    /// /64). Default 20.
    pub failed_logins_per_address_per_minute: u32,
    /// Failed sign-ins per username per minute from all addresses together, past which an
    /// address failing on that username is blocked for a minute at its first failure. It never
    /// refuses an address that is not failing. Default 50; 0 turns it off.
    pub failed_logins_per_user_ceiling_per_minute: u32,
    /// `failed_logins_per_user_per_minute`, the former name of
    /// `failed_logins_per_user_and_address_per_minute`: still read, and when given it sets that.
    #[serde(
        default,
        rename = "failed_logins_per_user_per_minute",
        skip_serializing
    )]
    former_per_user: Option<u32>,
}

impl UsersConfig {
    /// Moves a value given under a former name to the setting's name.
    pub(crate) fn apply_former_names(&mut self) {
        if let Some(n) = self.former_per_user.take() {
            self.failed_logins_per_user_and_address_per_minute = n;
        }
    }
}

impl Default for UsersConfig {
    fn default() -> Self {
        Self {
            failed_logins_per_user_and_address_per_minute: 5,
            failed_logins_per_address_per_minute: 20,
            failed_logins_per_user_ceiling_per_minute: 50,
            former_per_user: None,
        }
    }
}

/// `[sessions]`: the browser session after sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// Seconds a sign-in lasts. Default 28800 (8 hours).
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub lifetime_secs: u64,
    /// The session cookie's name. Default `tessera_session`.
    pub cookie_name: String,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            lifetime_secs: 8 * 3600,
            cookie_name: "tessera_session".into(),
        }
    }
}

/// `[authorize]`: the authorization endpoint and its codes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthorizeConfig {
    /// Seconds an authorization code lives, at most 60. Default 60.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub code_lifetime_secs: u64,
    /// Whether confidential clients must use PKCE too (public clients always must). Default
    /// true, as RFC 9700 §2.1.1 advises.
    pub require_pkce: bool,
}

impl Default for AuthorizeConfig {
    fn default() -> Self {
        Self {
            code_lifetime_secs: 60,
            require_pkce: true,
        }
    }
}

/// `[refresh_tokens]`: lifetimes of refresh tokens, which rotate at every use.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RefreshTokensConfig {
    /// Seconds a refresh token stays usable when unused. Default 1209600 (14 days).
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub idle_lifetime_secs: u64,
    /// Seconds after the user's approval when the whole chain ends. Default 7776000 (90 days).
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub absolute_lifetime_secs: u64,
}

impl Default for RefreshTokensConfig {
    fn default() -> Self {
        Self {
            idle_lifetime_secs: 14 * 24 * 3600,
            absolute_lifetime_secs: 90 * 24 * 3600,
        }
    }
}

/// `[device]`: the device authorization grant (RFC 8628).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceConfig {
    /// Seconds a device code and its user code live. Default 600.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub code_lifetime_secs: u64,
    /// The polling interval given to devices, seconds. Default 5.
    #[serde(deserialize_with = "tessera_proto::duration::secs::deserialize")]
    pub interval_secs: u64,
    /// Wrong user codes allowed per source address per minute. Default 10.
    pub failed_user_codes_per_address_per_minute: u32,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        Self {
            code_lifetime_secs: 600,
            interval_secs: 5,
            failed_user_codes_per_address_per_minute: 10,
        }
    }
}

fn is_colour(s: &str) -> bool {
    let Some(hex) = s.strip_prefix('#') else {
        return false;
    };
    matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The background of the card that holds every page's text (`.card` in `assets/tessera.css`).
const CARD_BACKGROUND: &str = "#ffffff";

/// The least contrast between text and its background: WCAG 2.1 SC 1.4.3 (normal-size text).
const MIN_CONTRAST: f64 = 4.5;

/// The red, green and blue of a `#rgb` or `#rrggbb` colour; `None` for anything else.
fn rgb(colour: &str) -> Option<[u8; 3]> {
    if !is_colour(colour) {
        return None;
    }
    let hex = colour.get(1..)?;
    let digit = |i: usize| u8::from_str_radix(hex.get(i..=i)?, 16).ok();
    let mut out = [0u8; 3];
    for (i, c) in out.iter_mut().enumerate() {
        *c = if hex.len() == 3 {
            digit(i)? * 17
        } else {
            digit(2 * i)? * 16 + digit(2 * i + 1)?
        };
    }
    Some(out)
}

/// The relative luminance of an sRGB colour (WCAG 2.x definition).
fn relative_luminance([r, g, b]: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// The WCAG 2.x contrast ratio of two colours, from 1 (none) to 21 (black on white); `None`
/// when either is not a `#rgb` / `#rrggbb` colour.
pub fn contrast_ratio(a: &str, b: &str) -> Option<f64> {
    let (la, lb) = (relative_luminance(rgb(a)?), relative_luminance(rgb(b)?));
    let (light, dark) = if la >= lb { (la, lb) } else { (lb, la) };
    Some((light + 0.05) / (dark + 0.05))
}

/// Checks that every text colour of the pages stands out from what it is drawn on: text on
/// primary buttons, and links, the product name and body text on the white card. The page
/// background (`pages.background_color`) carries no text, only the card.
fn check_contrast(pages: &PagesConfig) -> Result<(), String> {
    let pairs = [
        (
            "pages.primary_text_color",
            pages.primary_text_color.as_str(),
            "pages.primary_color",
            pages.primary_color.as_str(),
            "the text of primary buttons",
        ),
        (
            "pages.primary_color",
            pages.primary_color.as_str(),
            "the white card of the pages",
            CARD_BACKGROUND,
            "links and the product name",
        ),
        (
            "pages.text_color",
            pages.text_color.as_str(),
            "the white card of the pages",
            CARD_BACKGROUND,
            "body text",
        ),
    ];
    for (fg_name, fg, bg_name, bg, what) in pairs {
        let Some(ratio) = contrast_ratio(fg, bg) else {
            return Err(format!(
                "{fg_name} and {bg_name} must be colours like #1d4ed8"
            ));
        };
        if ratio < MIN_CONTRAST {
            // Rounded down, so a refused ratio never shows as 4.50.
            let shown = (ratio * 100.0).floor() / 100.0;
            return Err(format!(
                "{fg_name} ({fg}) on {bg_name} ({bg}), used for {what}, has a contrast ratio of \
                 {shown:.2}:1; WCAG 2.1 success criterion 1.4.3 asks for at least 4.5:1: choose a \
                 lighter or darker colour"
            ));
        }
    }
    Ok(())
}

/// Checks the settings of this module; the error names the setting.
pub fn validate(
    pages: &PagesConfig,
    sessions: &SessionsConfig,
    authorize: &AuthorizeConfig,
    refresh: &RefreshTokensConfig,
    device: &DeviceConfig,
) -> Result<(), String> {
    for (name, v) in [
        ("pages.primary_color", &pages.primary_color),
        ("pages.primary_text_color", &pages.primary_text_color),
        ("pages.background_color", &pages.background_color),
        ("pages.text_color", &pages.text_color),
    ] {
        if !is_colour(v) {
            return Err(format!("{name} must be a colour like #1d4ed8, not {v:?}"));
        }
    }
    check_contrast(pages)?;
    if pages.product_name.trim().is_empty() || pages.product_name.chars().count() > 80 {
        return Err("pages.product_name must have 1 to 80 characters".into());
    }
    if let Some(logo) = &pages.logo_url {
        let ok = (logo.starts_with("https://")
            || logo.starts_with("http://")
            || (logo.starts_with('/') && !logo.starts_with("//")))
            && !logo.contains(['"', '\'', '<', '>', ' ', '\\']);
        if !ok {
            return Err(format!(
                "pages.logo_url must be an http(s) URL or a path starting with /, not {logo:?}"
            ));
        }
    }
    let cookie_ok = !sessions.cookie_name.is_empty()
        && sessions
            .cookie_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !cookie_ok {
        return Err("sessions.cookie_name may hold only letters, digits, '_' and '-'".into());
    }
    if sessions.lifetime_secs == 0 {
        return Err("sessions.lifetime_secs must be at least 1".into());
    }
    if !(1..=60).contains(&authorize.code_lifetime_secs) {
        return Err("authorize.code_lifetime_secs must be between 1 and 60 (RFC 9700 §4.2.1 wants codes short-lived)".into());
    }
    if refresh.idle_lifetime_secs == 0
        || refresh.idle_lifetime_secs > refresh.absolute_lifetime_secs
    {
        return Err("refresh_tokens.idle_lifetime_secs must be between 1 and refresh_tokens.absolute_lifetime_secs".into());
    }
    if device.code_lifetime_secs == 0 || device.interval_secs == 0 || device.interval_secs > 60 {
        return Err("device.code_lifetime_secs must be at least 1 and device.interval_secs between 1 and 60".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        let (p, s, a, r, d) = (
            PagesConfig::default(),
            SessionsConfig::default(),
            AuthorizeConfig::default(),
            RefreshTokensConfig::default(),
            DeviceConfig::default(),
        );
        assert_eq!(validate(&p, &s, &a, &r, &d), Ok(()));
        let mut bad = p.clone();
        bad.primary_color = "red;}body{".into();
        assert!(validate(&bad, &s, &a, &r, &d).is_err_and(|e| e.contains("pages.primary_color")));
        let mut bad = a.clone();
        bad.code_lifetime_secs = 600;
        assert!(validate(&p, &s, &bad, &r, &d).is_err());
        let mut bad = p;
        bad.logo_url = Some("javascript:alert(1)".into());
        assert!(validate(&bad, &s, &a, &r, &d).is_err());
    }

    fn ratio(a: &str, b: &str) -> f64 {
        contrast_ratio(a, b).unwrap_or(f64::NAN)
    }

    #[test]
    fn contrast_ratios_follow_wcag() {
        assert!((ratio("#000000", "#ffffff") - 21.0).abs() < 1e-9);
        assert!((ratio("#fff", "#000") - 21.0).abs() < 1e-9);
        assert!((ratio("#777777", "#777") - 1.0).abs() < 1e-9);
        // Known values: #767676 is the lightest grey with 4.5:1 on white; #777777 falls short.
        assert!(ratio("#767676", "#ffffff") >= 4.5);
        assert!(ratio("#777777", "#ffffff") < 4.5);
        // The defaults, as their documentation says.
        assert!((ratio("#ffffff", "#1d4ed8") - 6.70).abs() < 0.01);
        assert_eq!(contrast_ratio("red", "#ffffff"), None);
    }

    fn pages_with(f: impl FnOnce(&mut PagesConfig)) -> Result<(), String> {
        let mut p = PagesConfig::default();
        f(&mut p);
        validate(
            &p,
            &SessionsConfig::default(),
            &AuthorizeConfig::default(),
            &RefreshTokensConfig::default(),
            &DeviceConfig::default(),
        )
    }

    #[test]
    fn button_text_must_stand_out_from_the_button() {
        // The defaults pass.
        assert_eq!(pages_with(|_| {}), Ok(()));
        // Black on white passes.
        assert_eq!(
            pages_with(|p| {
                p.primary_color = "#000000".into();
                p.primary_text_color = "#fff".into();
            }),
            Ok(())
        );
        // Light grey text on a white button is refused, naming both settings and the ratio.
        let e = pages_with(|p| {
            p.primary_color = "#ffffff".into();
            p.primary_text_color = "#cccccc".into();
        })
        .err()
        .unwrap_or_default();
        assert!(
            e.contains("pages.primary_text_color (#cccccc) on pages.primary_color (#ffffff)")
                && e.contains("1.60:1")
                && e.contains("4.5:1")
                && e.contains("1.4.3"),
            "{e}"
        );
        // Just below the threshold (4.49998:1) is refused, and not shown as 4.50.
        let e = pages_with(|p| p.primary_color = "#457baa".into())
            .err()
            .unwrap_or_default();
        assert!(e.contains("pages.primary_text_color"), "{e}");
        assert!(e.contains("4.49:1"), "{e}");
    }

    #[test]
    fn links_and_body_text_must_stand_out_from_the_card() {
        // A light primary colour with dark button text: fine on the button, not for links on
        // the white card.
        let e = pages_with(|p| {
            p.primary_color = "#fbbf24".into();
            p.primary_text_color = "#111827".into();
        })
        .err()
        .unwrap_or_default();
        assert!(
            e.contains("pages.primary_color (#fbbf24) on the white card"),
            "{e}"
        );
        let e = pages_with(|p| p.text_color = "#aaaaaa".into())
            .err()
            .unwrap_or_default();
        assert!(e.contains("pages.text_color (#aaaaaa)"), "{e}");
        // The page background carries no text: a dark one is allowed.
        assert_eq!(
            pages_with(|p| p.background_color = "#111827".into()),
            Ok(())
        );
    }

    #[test]
    fn the_card_is_white_in_the_stylesheet() {
        let css = include_str!("../assets/tessera.css");
        let card = css
            .split(".card {")
            .nth(1)
            .and_then(|rest| rest.split('}').next())
            .unwrap_or_default();
        assert!(
            card.contains(&format!("background: {CARD_BACKGROUND};")),
            "the contrast check assumes the card's background is {CARD_BACKGROUND}: {card}"
        );
    }
}
