#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bounded tables of decoded strings and small decoded objects and arrays, so that the copies of one value across
/// the objects a long-lived cache holds share one allocation.
///
/// Strings: "terminationMessagePolicy" in every container, an image name in every pod of a Deployment, the timestamp
/// repeated in each of a pod's conditions. An informer holding 150,000 decoded pods made about 40 string
/// allocations per pod, 30 of them a copy of a string it already held. Strings of at most 15 UTF-8 bytes are stored
/// inline in `String` and need no interning; longer ones up to `maxLength` are looked up here.
///
/// Objects and arrays (`maxContainerBytes` of JSON at most): a pod's tolerations, owner references, labels, resource
/// requests, the projected service-account volume's sources, a condition — the same in every pod of a ReplicaSet,
/// and each one a tree of member arrays when decoded, which took half of an informer's memory per pod. A container
/// is parsed as usual and then looked up by its bytes: when the table holds the same bytes, the held value (equal
/// to the one just parsed, since parsing is deterministic) is returned instead, and the copy is freed at once.
///
/// Both tables are direct-mapped: a value's slot is chosen by its hash, and another value hashing to the same slot
/// replaces it, so the tables never hold more than their capacity and values seen once (UIDs, names, a pod's own
/// volume) only pass through while the common ones stay.
///
/// Not thread-safe: one parser uses it at a time (for example one reflector's list-and-watch loop).
public final class JSONInterner {
    /// Longer strings are rare to repeat (annotations, certificates) and are not looked up.
    public static let maxLength = 128
    static let inlineLength = 15

    /// Larger objects and arrays hold something of their own more often than not and are not looked up.
    public static let maxContainerBytes = 512
    /// Smaller ones (`{"a":1}`) cost about as much to look up as to keep.
    static let minContainerBytes = 8

    private var slots: [String?]
    private let mask: Int
    private var containers: [(bytes: [UInt8], value: JSONValue)?]
    private let containerMask: Int
    /// String lookups answered from the table, and strings created (for tests and tuning).
    public private(set) var hits = 0
    public private(set) var misses = 0
    /// Object and array lookups answered from the table, and values stored.
    public private(set) var sharedContainers = 0
    public private(set) var storedContainers = 0

    /// Capacities are rounded up to powers of two.
    public init(capacity: Int = 1 << 13, containerCapacity: Int = 1 << 12) {
        let size = Self.powerOfTwo(capacity), containerSize = Self.powerOfTwo(containerCapacity)
        slots = Array(repeating: nil, count: size)
        mask = size - 1
        containers = Array(repeating: nil, count: containerSize)
        containerMask = containerSize - 1
    }

    static func powerOfTwo(_ n: Int) -> Int {
        var size = 1
        while size < max(1, n) { size <<= 1 }
        return size
    }

    /// Whether an object or array of `count` bytes of JSON is looked up at all.
    @inline(__always)
    static func wantsContainer(_ count: Int) -> Bool { count >= minContainerBytes && count <= maxContainerBytes }

    /// The value to keep for a container just parsed from `bytes`: the held one when its bytes are the same, else
    /// `parsed`, which is then held.
    func container(_ bytes: UnsafeBufferPointer<UInt8>, parsed: JSONValue) -> JSONValue {
        let slot = Self.wideHash(bytes) & containerMask
        if let held = containers[slot], held.bytes.count == bytes.count,
           held.bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }) {
            sharedContainers += 1
            return held.value
        }
        storedContainers += 1
        containers[slot] = (Array(bytes), parsed)
        return parsed
    }

    /// Whether a string of `count` UTF-8 bytes is looked up at all.
    @inline(__always)
    static func wants(_ count: Int) -> Bool { count > inlineLength && count <= maxLength }

    /// The string for these UTF-8 bytes: the held one when it is the same, else a new one (nil when the bytes are not
    /// valid UTF-8). `ascii`: no byte is 0x80 or above.
    func string(_ bytes: UnsafeBufferPointer<UInt8>, ascii: Bool = false) -> String? {
        let slot = Self.hash(bytes) & mask
        if let held = slots[slot], Self.equal(held, bytes) {
            hits += 1
            return held
        }
        guard let created = UTF8Text.string(bytes, ascii: ascii) else { return nil }
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

    /// A hash that reads eight bytes at a time, for the longer spans of containers.
    static func wideHash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let raw = UnsafeRawBufferPointer(bytes)
        var h: UInt64 = 0x9e37_79b9_7f4a_7c15 ^ UInt64(bytes.count)
        var i = 0
        while i + 8 <= raw.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xff51_afd7_ed55_8ccd
            h ^= h >> 32
            i += 8
        }
        while i < raw.count {
            h = (h ^ UInt64(raw[i])) &* 0x0000_0100_0000_01b3
            i += 1
        }
        h ^= h >> 29
        return Int(truncatingIfNeeded: h &* 0xc4ce_b9fe_1a85_ec53 ^ (h >> 32))
    }

    @inline(__always)
    static func equal(_ string: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var string = string
        return string.withUTF8 { held in
            held.count == bytes.count && (held.count == 0 || memcmp(held.baseAddress!, bytes.baseAddress!, held.count) == 0)
        }
    }
}
