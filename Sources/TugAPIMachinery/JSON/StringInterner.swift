#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bounded table of decoded strings, so that the copies of one key or value across the objects a long-lived cache
/// holds share one allocation: "terminationMessagePolicy" in every container, an image name in every pod of a
/// Deployment, the timestamp repeated in each of a pod's conditions. An informer holding 150,000 decoded pods made
/// about 40 string allocations per pod, 30 of them a copy of a string it already held.
///
/// Strings of at most 15 UTF-8 bytes are stored inline in `String` and need no interning; longer ones up to
/// `maxLength` are looked up here. The table is direct-mapped: a string's slot is chosen by its hash, and another
/// string hashing to the same slot replaces it, so the table never holds more than `capacity` strings and those
/// seen once (UIDs, names) only pass through while the common ones stay.
///
/// Not thread-safe: one parser uses it at a time (for example one reflector's list-and-watch loop).
public final class StringInterner {
    /// Longer strings are rare to repeat (annotations, certificates) and are not looked up.
    public static let maxLength = 128
    static let inlineLength = 15

    private var slots: [String?]
    private let mask: Int
    /// Lookups answered from the table, and strings created (for tests and tuning).
    public private(set) var hits = 0
    public private(set) var misses = 0

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int = 1 << 13) {
        var size = 1
        while size < max(1, capacity) { size <<= 1 }
        slots = Array(repeating: nil, count: size)
        mask = size - 1
    }

    /// Whether a string of `count` UTF-8 bytes is looked up at all.
    @inline(__always)
    static func wants(_ count: Int) -> Bool { count > inlineLength && count <= maxLength }

    /// The string for these UTF-8 bytes: the held one when it is the same, else a new one (nil when the bytes are not
    /// valid UTF-8).
    func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let slot = Self.hash(bytes) & mask
        if let held = slots[slot], Self.equal(held, bytes) {
            hits += 1
            return held
        }
        guard let created = String(validating: bytes, as: UTF8.self) else { return nil }
        misses += 1
        slots[slot] = created
        return created
    }

    /// FNV-1a over the bytes: cheap for the short strings it sees.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inline(__always)
    static func equal(_ string: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var string = string
        return string.withUTF8 { held in
            held.count == bytes.count && (held.count == 0 || memcmp(held.baseAddress!, bytes.baseAddress!, held.count) == 0)
        }
    }
}
