/// The members (or elements) of the containers being parsed: one stack per document. Each object or array is
/// built on top of it and then moved into an array of exactly its size, so a decoded tree keeps no growth slack
/// (a doubling array is a quarter empty on average, and a cluster keeps every object decoded in its informers),
/// and the stack's storage serves one container after the other.
final class ParseStack<Element> {
    private var base: UnsafeMutablePointer<Element>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 32) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    subscript(i: Int) -> Element { base[i] }

    func push(_ element: Element) {
        if count == capacity {
            let grown = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: base, count: count)
            base.deallocate()
            base = grown
            capacity *= 2
        }
        (base + count).initialize(to: element)
        count += 1
    }

    /// Moves the elements from index `start` on into an array of exactly their number.
    func pop(from start: Int) -> [Element] {
        let n = count - start
        guard n > 0 else { return [] }
        let out = [Element](unsafeUninitializedCapacity: n) { buffer, initialized in
            buffer.baseAddress!.moveInitialize(from: base + start, count: n)
            initialized = n
        }
        count = start
        return out
    }
}
