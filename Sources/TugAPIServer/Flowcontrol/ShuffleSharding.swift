/// Shuffle sharding: a flow's hash deals it a hand of distinct queues out of a deck, the same hand every time, so
/// two flows rarely share a whole hand and one heavy flow fills only its own queues.
enum ShuffleSharding {
    /// The flow's hash: FNV-1a over schema name and distinguisher, then a 64-bit finalizer so every bit is mixed
    /// (a hand consumes up to 60 bits of it).
    static func hash(schema: String, distinguisher: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in schema.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        h = (h ^ 0) &* 0x0000_0100_0000_01b3
        for byte in distinguisher.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    /// `handSize` distinct queue indices in `0..<deckSize`: each draw takes the next mixed-radix digit of the hash
    /// as a position among the cards not yet dealt.
    static func deal(hash: UInt64, deckSize: Int, handSize: Int) -> [Int] {
        let size = max(1, min(handSize, deckSize))
        var remaining = hash
        var dealt: [Int] = []
        dealt.reserveCapacity(size)
        var sorted: [Int] = []
        sorted.reserveCapacity(size)
        for i in 0..<size {
            let left = UInt64(deckSize - i)
            var card = Int(remaining % left)
            remaining /= left
            // The card-th undealt card: step past every dealt card at or below it, in ascending order.
            var insertAt = 0
            for taken in sorted where taken <= card {
                card += 1
                insertAt += 1
            }
            sorted.insert(card, at: insertAt)
            dealt.append(card)
        }
        return dealt
    }
}
