//! Whole-object checks applied while scanning for object boundaries.

use crate::error::DecodeError;

/// Ext callback for [`logferry_msgpack::walk`]: only EventTime (type 0) is known;
/// any other ext type makes Fluentd's decoder raise, closing the connection.
pub(crate) fn check_ext(ty: i8, _payload: &[u8]) -> Result<(), DecodeError> {
    if ty == 0 {
        Ok(())
    } else {
        Err(DecodeError::UnknownExt(ty))
    }
}
