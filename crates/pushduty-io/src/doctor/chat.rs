//! The chats' checks: whose the token is, and for Matrix whether that account is in the room.

use std::time::Duration;

use pushduty_core::urls::encode;

use super::probe::{get, post, send};
use super::services::{secret_or, unconfigured, unreachable_fix};
use super::{Broken, Outcome};
use crate::services::{MatrixConf, SlackConf};

pub(super) async fn matrix(c: &MatrixConf, limit: Duration) -> Outcome {
    let token = secret_or(&c.token, || c.client())?;
    let fix = unreachable_fix(&c.name);
    let whoami = format!("{}/_matrix/client/v3/account/whoami", c.url);
    let a = send(
        get(&whoami)?.bearer_auth(token.expose()),
        "Matrix",
        &c.url,
        limit,
        &fix,
    )
    .await?;
    let user = match a.status {
        200 => a.json()["user_id"].as_str().unwrap_or("?").to_string(),
        401 => {
            return Err(Broken::new(
                format!(
                    "Matrix refused the access token ({})",
                    a.json()["errcode"].as_str().unwrap_or("HTTP 401")
                ),
                format!(
                    "log in as the posting account again and point `services.{}.token` at the new access token",
                    c.name
                ),
            ));
        }
        _ => return Err(a.unexpected("Matrix", &c.url)),
    };
    let members = format!(
        "{}/_matrix/client/v3/rooms/{}/joined_members",
        c.url,
        encode(&c.room)
    );
    let a = send(
        get(&members)?.bearer_auth(token.expose()),
        "Matrix",
        &c.url,
        limit,
        &fix,
    )
    .await?;
    match a.status {
        200 => Ok(format!("the token is {user}'s, who is in room {}", c.room)),
        403 | 404 => Err(Broken::new(
            format!(
                "{user} is not in room {} ({})",
                c.room,
                a.json()["errcode"].as_str().unwrap_or("refused")
            ),
            format!("invite {user} to the room and accept, or check `room` in the runbook"),
        )),
        _ => Err(a.unexpected("Matrix", &c.url)),
    }
}

pub(super) async fn slack(c: &SlackConf, limit: Duration) -> Outcome {
    c.client().map_err(unconfigured)?;
    let Some(Ok(token)) = &c.token else {
        return Ok(
            "a webhook is named; it is not asked (a webhook cannot be read without posting)".into(),
        );
    };
    let url = format!("{}/auth.test", c.api_url);
    let req = post(&url)?.bearer_auth(token.expose());
    let a = send(req, "Slack", &c.api_url, limit, &unreachable_fix(&c.name)).await?;
    let v = a.json();
    match (a.status, v["ok"].as_bool()) {
        (200, Some(true)) => Ok(format!(
            "the token is valid (user {} of {})",
            v["user"].as_str().unwrap_or("?"),
            v["team"].as_str().unwrap_or("?")
        )),
        (_, Some(false)) => Err(Broken::new(
            format!(
                "Slack refused the token ({})",
                v["error"].as_str().unwrap_or("no reason given")
            ),
            format!(
                "make a bot token (xoxb-) with chat:write in the Slack app's settings and point `services.{}.token` at it",
                c.name
            ),
        )),
        _ => Err(a.unexpected("Slack", &c.api_url)),
    }
}
