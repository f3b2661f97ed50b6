/// Strings from UTF-8 bytes without the generic path: `String(validating:as:)` resolves its encoding's metadata at
/// run time on every call, which was a tenth of the time spent parsing a pod.
enum UTF8Text {
    /// The string these bytes spell, or nil when they are not valid UTF-8. `ascii` says the caller has seen that no
    /// byte is 0x80 or above, so there is nothing to validate.
    @inline(__always)
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, ascii: Bool) -> String? {
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self)
    }
}
