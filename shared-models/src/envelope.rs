//! The envelope every message travels in, and the server-side decoder that turns one text
//! frame into a typed [`ClientMessage`] or a precise, documented error.
//!
//! ```json
//! {"type": "get_session", "request_id": "r-42", "data": {"session_id": "…"}}
//! ```

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::error::{ErrorBody, ErrorCode};
use crate::messages::ClientMessage;

/// Longest accepted `request_id`, in bytes.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// A message with its optional `request_id`. `M` is [`ClientMessage`] or
/// [`crate::ServerMessage`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<M> {
    /// The message (`type` and `data`).
    #[serde(flatten)]
    pub message: M,
    /// Chosen by the client, echoed by the server on the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl<M> Envelope<M> {
    /// Wrap a message.
    pub fn new(message: M, request_id: Option<String>) -> Self {
        Envelope {
            message,
            request_id,
        }
    }
}

/// Why a frame could not be decoded, with the `request_id` when it could still be read so the
/// error reply can be matched to its request.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    /// The request's id, if the frame got that far.
    pub request_id: Option<String>,
    /// The error to send back.
    pub body: ErrorBody,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope<'a> {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    request_id: Option<Value>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

/// Decode one client frame.
///
/// Errors: not JSON / not an object / unknown top-level key / wrong field type →
/// `INVALID_MESSAGE` (with `details.path` for field errors); a `type` the server does not know →
/// `UNKNOWN_TYPE` (with `details.known_types`). Never panics, whatever the input.
pub fn decode_client_message(text: &str) -> Result<Envelope<ClientMessage>, DecodeError> {
    // The fast path, one pass: a well-formed frame with `type` before `data` (every frame the
    // SDK sends, among them each run's tick acknowledgements). Anything else, and every
    // error, goes through the careful path below, which says exactly what is wrong.
    if let Ok(env) = crate::frame::decode_envelope::<ClientMessage>(text)
        && env
            .request_id
            .as_ref()
            .is_none_or(|id| id.len() <= MAX_REQUEST_ID_LEN)
    {
        return Ok(env);
    }
    decode_carefully(text)
}

/// [`decode_client_message`] without its fast path: every rule checked one by one, each
/// failure explained.
fn decode_carefully(text: &str) -> Result<Envelope<ClientMessage>, DecodeError> {
    let raw: RawEnvelope<'_> = serde_json::from_str(text).map_err(|e| DecodeError {
        request_id: None,
        body: ErrorBody::new(
            ErrorCode::InvalidMessage,
            format!(
                "frame is not a valid message envelope ({e}); send a JSON object like {{\"type\": \"ping\", \"request_id\": \"1\", \"data\": {{}}}}"
            ),
        ),
    })?;

    let request_id = match raw.request_id {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.len() <= MAX_REQUEST_ID_LEN => Some(s),
        Some(Value::String(_)) => {
            return Err(invalid(
                None,
                format!("request_id is longer than {MAX_REQUEST_ID_LEN} bytes; use a shorter id"),
                "request_id",
            ));
        }
        Some(_) => {
            return Err(invalid(
                None,
                "request_id must be a string".into(),
                "request_id",
            ));
        }
    };

    let Some(kind) = raw.kind else {
        return Err(invalid(
            request_id,
            "message has no \"type\"; add one, e.g. \"type\": \"ping\"".into(),
            "type",
        ));
    };
    if !ClientMessage::TYPES.contains(&kind.as_str()) {
        let shown: String = kind.chars().take(64).collect();
        return Err(DecodeError {
            request_id,
            body: ErrorBody::new(
                ErrorCode::UnknownType,
                format!(
                    "unknown message type '{shown}'; see docs/protocol.md for the list of types"
                ),
            )
            .with_details(json!({ "type": shown, "known_types": ClientMessage::TYPES })),
        });
    }

    // `kind` is one of our own names, so it is safe to splice into JSON.
    let data = raw.data.map(RawValue::get).unwrap_or("{}");
    let data = if data.trim() == "null" { "{}" } else { data };
    let tagged = format!("{{\"type\":\"{kind}\",\"data\":{data}}}");
    let mut de = serde_json::Deserializer::from_str(&tagged);
    match serde_path_to_error::deserialize::<_, ClientMessage>(&mut de) {
        Ok(message) => Ok(Envelope {
            message,
            request_id,
        }),
        Err(e) => {
            let path = e.path().to_string();
            let path = path.strip_prefix("data.").unwrap_or(&path).to_string();
            let inner = e.into_inner();
            let at = if path == "." || path == "data" {
                String::new()
            } else {
                format!(" at '{path}'")
            };
            Err(DecodeError {
                request_id,
                body: ErrorBody::new(
                    ErrorCode::InvalidMessage,
                    format!("invalid '{kind}' data{at}: {}; see docs/protocol.md for the expected fields", strip_position(&inner.to_string())),
                )
                .with_details(json!({ "type": kind, "path": path })),
            })
        }
    }
}

fn invalid(request_id: Option<String>, message: String, path: &str) -> DecodeError {
    DecodeError {
        request_id,
        body: ErrorBody::new(ErrorCode::InvalidMessage, message)
            .with_details(json!({ "path": path })),
    }
}

/// serde_json appends " at line 1 column 57" positions that refer to our re-framed text, not
/// the user's; drop them.
fn strip_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::client::SessionRef;

    fn code(text: &str) -> ErrorCode {
        decode_client_message(text).unwrap_err().body.error_code
    }

    #[test]
    fn decodes_a_request_and_keeps_its_id() {
        let env = decode_client_message(
            r#"{"type":"get_session","request_id":"r1","data":{"session_id":"s"}}"#,
        )
        .unwrap();
        assert_eq!(env.request_id.as_deref(), Some("r1"));
        assert_eq!(
            env.message,
            ClientMessage::GetSession(SessionRef {
                session_id: "s".into()
            })
        );
    }

    #[test]
    fn the_fast_path_decodes_exactly_what_the_careful_path_does() {
        let long_id = "x".repeat(MAX_REQUEST_ID_LEN + 1);
        let frames = [
            r#"{"type":"get_session","request_id":"r1","data":{"session_id":"s"}}"#.to_string(),
            r#"{"data":{"session_id":"s"},"type":"get_session"}"#.into(),
            r#"{"type":"ping"}"#.into(),
            r#"{"type":"ping","data":null}"#.into(),
            r#"{"type":"ping","data":{}}"#.into(),
            r#"{"type":"ping","type":"ping"}"#.into(),
            r#"{"type":"ping","request_id":"a","request_id":"b"}"#.into(),
            r#"{"type":"get_session","data":{"session_id":"s"},"data":{"session_id":"t"}}"#.into(),
            r#"{"type":"ping","request_id":7}"#.into(),
            r#"{"type":"ping","request_id":null}"#.into(),
            format!(r#"{{"type":"ping","request_id":"{long_id}"}}"#),
            r#"{"type":"ping","extra":1}"#.into(),
            r#"{"type":"launch_rockets","data":{}}"#.into(),
            r#"{"type":"get_session","data":{"session_id":5}}"#.into(),
            r#"{"type":"get_session","data":{"session_id":"s","x":1}}"#.into(),
            r#"{"type":"tick_ack","data":{"session_id":"s","sequence_id":3,"orders":[{"order_id":"o1","symbol":"A","side":"buy","percent_of_equity":"0.9999"}]}}"#.into(),
            r#"{"type":"tick_ack","data":{"session_id":"s","sequence_id":3,"orders":[{"order_id":"o1","symbol":"A","side":"buy","quantity":"x"}]}}"#.into(),
            r#"{"type":"ping"} trailing"#.into(),
            "[]".into(),
            "".into(),
        ];
        for frame in &frames {
            let fast = decode_client_message(frame);
            let careful = decode_carefully(frame);
            assert_eq!(fast, careful, "{frame}");
        }
    }

    #[test]
    fn data_may_be_omitted_for_messages_without_fields() {
        let env = decode_client_message(r#"{"type":"ping"}"#).unwrap();
        assert_eq!(env.message.type_name(), "ping");
        assert!(decode_client_message(r#"{"type":"ping","data":null}"#).is_ok());
    }

    #[test]
    fn classifies_bad_frames() {
        assert_eq!(code("not json"), ErrorCode::InvalidMessage);
        assert_eq!(code("[1,2]"), ErrorCode::InvalidMessage);
        assert_eq!(code(r#"{"type":"launch_rockets"}"#), ErrorCode::UnknownType);
        assert_eq!(
            code(r#"{"type":"ping","extra":1}"#),
            ErrorCode::InvalidMessage
        );
        assert_eq!(code(r#"{"data":{}}"#), ErrorCode::InvalidMessage);
    }

    #[test]
    fn wrong_field_types_name_the_field_and_keep_the_request_id() {
        let err = decode_client_message(
            r#"{"type":"create_session","request_id":"x","data":{"symbols":["A"],"start_date":"2020-01-01","end_date":"2020-02-01","initial_capital":[1]}}"#,
        )
        .unwrap_err();
        assert_eq!(err.request_id.as_deref(), Some("x"));
        assert_eq!(err.body.error_code, ErrorCode::InvalidMessage);
        assert_eq!(err.body.details["path"], "initial_capital");
        assert!(
            err.body.message.contains("initial_capital"),
            "{}",
            err.body.message
        );
    }

    #[test]
    fn deeply_nested_json_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let text = format!(r#"{{"type":"ping","data":{deep}}}"#);
        assert_eq!(code(&text), ErrorCode::InvalidMessage);
        assert_eq!(code(&deep), ErrorCode::InvalidMessage);
    }

    #[test]
    fn server_messages_round_trip_with_request_id() {
        use crate::messages::ServerMessage;
        use crate::messages::server::Pong;
        let env = Envelope::new(
            ServerMessage::Pong(Pong {
                server_time: chrono::DateTime::UNIX_EPOCH,
            }),
            Some("7".into()),
        );
        let text = serde_json::to_string(&env).unwrap();
        assert!(text.contains(r#""type":"pong""#) && text.contains(r#""request_id":"7""#));
        let back: Envelope<ServerMessage> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, env);
    }
}
