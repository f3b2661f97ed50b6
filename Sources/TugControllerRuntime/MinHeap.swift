/// A binary min-heap ordered by a caller-supplied comparison.
public struct MinHeap<Element> {
    private var items: [Element] = []
    private let less: @Sendable (Element, Element) -> Bool

    public init(by less: @escaping @Sendable (Element, Element) -> Bool) { self.less = less }

    public var count: Int { items.count }
    public var peek: Element? { items.first }

    public mutating func push(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    public mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, less(items[left], items[smallest]) { smallest = left }
            if right < items.count, less(items[right], items[smallest]) { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

extension MinHeap: Sendable where Element: Sendable {}
