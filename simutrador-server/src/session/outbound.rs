//! What the session layer hands to a client's connection: [`Outgoing`] frames on the
//! connection's queue, and [`encode`], which turns a server message into one. The protocol
//! layer owns the sockets and drains the queue; the session layer (runs, monitors, lifecycle
//! pushes) only fills it, so it never needs the layers above it.

use shared_models::{Envelope, ErrorBody, ErrorCode, ServerMessage};

/// Messages queued for the writer task.
#[derive(Debug)]
pub enum Outgoing {
    /// A serialized envelope.
    Text(String),
    /// Close the connection with a code and reason.
    Close(u16, String),
}

/// Serialize a server message into a frame.
pub fn encode(message: ServerMessage, request_id: Option<String>) -> Outgoing {
    match serde_json::to_string(&Envelope::new(message, request_id.clone())) {
        Ok(text) => Outgoing::Text(text),
        Err(e) => {
            tracing::error!("cannot serialize a reply: {e}");
            let body = ErrorBody::new(
                ErrorCode::Internal,
                "the server could not encode its reply; retry",
            );
            let text = serde_json::to_string(&Envelope::new(ServerMessage::Error(body), request_id))
                .unwrap_or_else(|_| r#"{"type":"error","data":{"error_code":"INTERNAL","message":"encoding failed","details":null}}"#.to_string());
            Outgoing::Text(text)
        }
    }
}
