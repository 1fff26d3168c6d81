//! Single-pass decoding of envelopes.
//!
//! `Envelope<M>` derives `Deserialize` with `#[serde(flatten)]`, which makes serde buffer the
//! whole message (every nested value) before it can pick the variant — for a 10 MB `results`
//! that is millions of small allocations. [`decode_envelope`] instead reads the object's keys
//! in order and, once it has seen `type`, deserializes `data` straight into the variant. When
//! `data` comes before `type` (a hand-written frame), it keeps `data` as raw text and decodes
//! it afterwards: still correct, just a second pass over that part.

use serde::Deserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::marker::PhantomData;

use crate::envelope::Envelope;

/// Decode `{"type": …, "request_id": …, "data": …}` into `Envelope<M>` for an adjacently
/// tagged `M` (`tag = "type", content = "data"`), in one pass when `type` comes first.
pub fn decode_envelope<M: DeserializeOwned>(text: &str) -> Result<Envelope<M>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let env = de.deserialize_map(EnvelopeVisitor(PhantomData))?;
    de.end()?;
    Ok(env)
}

struct EnvelopeVisitor<M>(PhantomData<M>);

impl<'de, M: DeserializeOwned> Visitor<'de> for EnvelopeVisitor<M> {
    type Value = Envelope<M>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message envelope object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kind: Option<String> = None;
        let mut request_id: Option<String> = None;
        let mut message: Option<M> = None;
        let mut raw: Option<Box<RawValue>> = None;
        let mut seen_id = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "type" if kind.is_some() => return Err(de::Error::duplicate_field("type")),
                "type" => kind = Some(map.next_value()?),
                "request_id" if seen_id => return Err(de::Error::duplicate_field("request_id")),
                "request_id" => {
                    seen_id = true;
                    request_id = map.next_value()?;
                }
                "data" if message.is_some() || raw.is_some() => {
                    return Err(de::Error::duplicate_field("data"));
                }
                "data" => match &kind {
                    Some(k) => message = Some(map.next_value_seed(DataSeed::<M>::new(k))?),
                    None => raw = Some(map.next_value()?),
                },
                other => {
                    return Err(de::Error::unknown_field(
                        other,
                        &["type", "request_id", "data"],
                    ));
                }
            }
        }
        let kind = kind.ok_or_else(|| de::Error::missing_field("type"))?;
        let message = match (message, raw) {
            (Some(m), _) => m,
            (None, Some(raw)) => M::deserialize(Tagged {
                kind: &kind,
                data: Some(&*raw),
            })
            .map_err(de::Error::custom)?,
            // No `data`: a message without fields (`{"type": "ping"}`).
            (None, None) => {
                let empty = RawValue::from_string("{}".into()).map_err(de::Error::custom)?;
                M::deserialize(Tagged {
                    kind: &kind,
                    data: Some(&*empty),
                })
                .map_err(de::Error::custom)?
            }
        };
        Ok(Envelope {
            message,
            request_id,
        })
    }
}

/// Deserializes `M` from the `data` value, given the `type` already read.
struct DataSeed<'k, M> {
    kind: &'k str,
    _m: PhantomData<M>,
}

impl<'k, M> DataSeed<'k, M> {
    fn new(kind: &'k str) -> Self {
        DataSeed {
            kind,
            _m: PhantomData,
        }
    }
}

impl<'de, M: DeserializeOwned> DeserializeSeed<'de> for DataSeed<'_, M> {
    type Value = M;

    fn deserialize<D: Deserializer<'de>>(self, data: D) -> Result<M, D::Error> {
        M::deserialize(Tagged {
            kind: self.kind,
            data: Some(data),
        })
    }
}

/// A two-entry map `{"type": kind, "data": data}` over an existing deserializer for `data`.
struct Tagged<'k, D> {
    kind: &'k str,
    data: Option<D>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Tagged<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        visitor.visit_map(TaggedAccess {
            kind: Some(self.kind),
            data: self.data,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct TaggedAccess<'k, D> {
    kind: Option<&'k str>,
    data: Option<D>,
}

impl<'de, D: Deserializer<'de>> MapAccess<'de> for TaggedAccess<'_, D> {
    type Error = D::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, D::Error> {
        let key = if self.kind.is_some() {
            "type"
        } else if self.data.is_some() {
            "data"
        } else {
            return Ok(None);
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, D::Error> {
        match (self.kind.take(), self.data.take()) {
            (Some(kind), data) => {
                self.data = data;
                seed.deserialize(de::value::StrDeserializer::<D::Error>::new(kind))
            }
            (None, Some(data)) => seed.deserialize(data),
            (None, None) => Err(de::Error::custom("no value left")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::ServerMessage;
    use crate::messages::simulation::BarSettled;

    #[test]
    fn decodes_in_any_key_order_with_and_without_data() {
        let a = r#"{"type":"bar_settled","request_id":"r","data":{"session_id":"s","sequence_id":3,"equity":"1.50"}}"#;
        let b = r#"{"data":{"session_id":"s","sequence_id":3,"equity":"1.50"},"request_id":"r","type":"bar_settled"}"#;
        for text in [a, b] {
            let env: Envelope<ServerMessage> = decode_envelope(text).unwrap();
            assert_eq!(env.request_id.as_deref(), Some("r"));
            assert_eq!(
                env.message,
                ServerMessage::BarSettled(BarSettled {
                    session_id: "s".into(),
                    sequence_id: 3,
                    equity: rust_decimal::Decimal::new(150, 2),
                })
            );
            let generic: Envelope<ServerMessage> = serde_json::from_str(text).unwrap();
            assert_eq!(generic, env);
        }
        let ping: Envelope<crate::ClientMessage> = decode_envelope(r#"{"type":"ping"}"#).unwrap();
        assert_eq!(ping.message.type_name(), "ping");
    }

    #[test]
    fn bad_frames_are_errors() {
        for text in [
            "",
            "[]",
            r#"{"type":"nope","data":{}}"#,
            r#"{"type":"bar_settled","data":{"session_id":1}}"#,
            r#"{"data":{}}"#,
            r#"{"type":"pong","data":{"server_time":"2020-01-01T00:00:00Z"},"x":1}"#,
            r#"{"type":"pong","data":{"server_time":"2020-01-01T00:00:00Z"}} trailing"#,
        ] {
            assert!(decode_envelope::<ServerMessage>(text).is_err(), "{text}");
        }
    }
}
