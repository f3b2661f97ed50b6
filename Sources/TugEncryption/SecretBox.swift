/// NaCl's `crypto_secretbox` (XSalsa20 and Poly1305), which kube-apiserver's secretbox provider uses: `seal`
/// gives the 16-byte tag followed by the ciphertext, `open` checks the tag (in constant time) before decrypting.
/// Written from the NaCl specification (Bernstein, "Cryptography in NaCl"); checked against NaCl's own output.
public enum SecretBox {
    public static let keySize = 32
    public static let nonceSize = 24
    public static let overhead = 16

    public static func seal(_ message: some Collection<UInt8>, nonce: [UInt8], key: [UInt8]) -> [UInt8] {
        precondition(key.count == keySize && nonce.count == nonceSize)
        var stream = XSalsa20(key: key, nonce: nonce)
        let polyKey = stream.next(32)
        var ciphertext = Array(message)
        stream.xor(&ciphertext)
        return Poly1305.tag(ciphertext, key: polyKey) + ciphertext
    }

    /// The message, or nil when the box was not sealed with this key and nonce (or was changed).
    public static func open(_ box: some Collection<UInt8>, nonce: [UInt8], key: [UInt8]) -> [UInt8]? {
        precondition(key.count == keySize && nonce.count == nonceSize)
        let box = Array(box)
        guard box.count >= overhead else { return nil }
        var stream = XSalsa20(key: key, nonce: nonce)
        let polyKey = stream.next(32)
        var message = Array(box[overhead...])
        let expected = Poly1305.tag(message, key: polyKey)
        var difference: UInt8 = 0
        for i in 0..<overhead { difference |= expected[i] ^ box[i] }
        guard difference == 0 else { return nil }
        stream.xor(&message)
        return message
    }
}

/// The XSalsa20 key stream: HSalsa20 of the key and the nonce's first 16 bytes gives a subkey for Salsa20 with the
/// last 8 bytes of the nonce, counting blocks from 0.
struct XSalsa20 {
    var state: [UInt32]
    var block: [UInt8] = []
    var used = 64

    init(key: [UInt8], nonce: [UInt8]) {
        let subkey = Salsa20.hsalsa20(key: key, input: Array(nonce[0..<16]))
        state = Salsa20.setup(key: subkey, input: Array(nonce[16..<24]) + [UInt8](repeating: 0, count: 8))
    }

    mutating func nextByte() -> UInt8 {
        if used == 64 {
            block = Salsa20.block(state)
            used = 0
            // The 64-bit block counter, words 8 and 9.
            state[8] &+= 1
            if state[8] == 0 { state[9] &+= 1 }
        }
        defer { used += 1 }
        return block[used]
    }

    mutating func next(_ count: Int) -> [UInt8] { (0..<count).map { _ in nextByte() } }

    mutating func xor(_ bytes: inout [UInt8]) {
        for i in bytes.indices { bytes[i] ^= nextByte() }
    }
}

enum Salsa20 {
    static let sigma: [UInt32] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]  // "expand 32-byte k"

    static func word(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        let b = Array(bytes)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }

    static func words(_ bytes: [UInt8]) -> [UInt32] {
        stride(from: 0, to: bytes.count, by: 4).map { word(bytes[$0..<($0 + 4)]) }
    }

    /// The 16-word input: constants on the diagonal, the key around them, the 16-byte input in the middle.
    static func setup(key: [UInt8], input: [UInt8]) -> [UInt32] {
        let k = words(key), n = words(input)
        return [sigma[0], k[0], k[1], k[2], k[3], sigma[1], n[0], n[1], n[2], n[3], sigma[2], k[4], k[5], k[6], k[7], sigma[3]]
    }

    static func rounds(_ input: [UInt32]) -> [UInt32] {
        var x = input
        func quarter(_ a: Int, _ b: Int, _ c: Int, _ d: Int) {
            x[b] ^= (x[a] &+ x[d]).rotated(7)
            x[c] ^= (x[b] &+ x[a]).rotated(9)
            x[d] ^= (x[c] &+ x[b]).rotated(13)
            x[a] ^= (x[d] &+ x[c]).rotated(18)
        }
        for _ in 0..<10 {
            quarter(0, 4, 8, 12); quarter(5, 9, 13, 1); quarter(10, 14, 2, 6); quarter(15, 3, 7, 11)
            quarter(0, 1, 2, 3); quarter(5, 6, 7, 4); quarter(10, 11, 8, 9); quarter(15, 12, 13, 14)
        }
        return x
    }

    static func bytes(_ words: [UInt32]) -> [UInt8] {
        words.flatMap { w in [UInt8(w & 0xff), UInt8(w >> 8 & 0xff), UInt8(w >> 16 & 0xff), UInt8(w >> 24)] }
    }

    /// One 64-byte key-stream block: the rounds' output plus their input.
    static func block(_ state: [UInt32]) -> [UInt8] {
        bytes(zip(rounds(state), state).map { $0 &+ $1 })
    }

    /// HSalsa20: the rounds' diagonal and middle words, without the final addition.
    static func hsalsa20(key: [UInt8], input: [UInt8]) -> [UInt8] {
        let x = rounds(setup(key: key, input: input))
        return bytes([x[0], x[5], x[10], x[15], x[6], x[7], x[8], x[9]])
    }
}

/// Poly1305 (one-time authenticator) in 26-bit limbs: h = (h + block) · r mod 2^130 − 5, then tag = h + s mod 2^128.
enum Poly1305 {
    static func tag(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        let mask: UInt64 = 0x3ff_ffff
        let t = Salsa20.words(Array(key[0..<16])).map(UInt64.init)
        let r0 = t[0] & 0x3ff_ffff
        let r1 = ((t[0] >> 26) | (t[1] << 6)) & 0x3ff_ff03
        let r2 = ((t[1] >> 20) | (t[2] << 12)) & 0x3ff_c0ff
        let r3 = ((t[2] >> 14) | (t[3] << 18)) & 0x3f0_3fff
        let r4 = (t[3] >> 8) & 0x00f_ffff
        let (s1, s2, s3, s4) = (r1 * 5, r2 * 5, r3 * 5, r4 * 5)
        var (h0, h1, h2, h3, h4): (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        var offset = 0
        while offset < message.count {
            var chunk = Array(message[offset..<min(offset + 16, message.count)])
            let full = chunk.count == 16
            if !full {
                chunk.append(1)
                chunk += [UInt8](repeating: 0, count: 16 - chunk.count)
            }
            let m = Salsa20.words(chunk).map(UInt64.init)
            h0 += m[0] & mask
            h1 += ((m[0] >> 26) | (m[1] << 6)) & mask
            h2 += ((m[1] >> 20) | (m[2] << 12)) & mask
            h3 += ((m[2] >> 14) | (m[3] << 18)) & mask
            h4 += (m[3] >> 8) | (full ? 1 << 24 : 0)
            let d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1
            var d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2
            var d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3
            var d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4
            var d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0
            var c = d0 >> 26; h0 = d0 & mask
            d1 += c; c = d1 >> 26; h1 = d1 & mask
            d2 += c; c = d2 >> 26; h2 = d2 & mask
            d3 += c; c = d3 >> 26; h3 = d3 & mask
            d4 += c; c = d4 >> 26; h4 = d4 & mask
            h0 += c * 5; c = h0 >> 26; h0 &= mask
            h1 += c
            offset += 16
        }
        // Fully carry h, then take h − p when h ≥ p (chosen without branching).
        var c = h1 >> 26; h1 &= mask
        h2 += c; c = h2 >> 26; h2 &= mask
        h3 += c; c = h3 >> 26; h3 &= mask
        h4 += c; c = h4 >> 26; h4 &= mask
        h0 += c * 5; c = h0 >> 26; h0 &= mask
        h1 += c
        var g0 = h0 + 5; c = g0 >> 26; g0 &= mask
        var g1 = h1 + c; c = g1 >> 26; g1 &= mask
        var g2 = h2 + c; c = g2 >> 26; g2 &= mask
        var g3 = h3 + c; c = g3 >> 26; g3 &= mask
        let g4 = h4 &+ c &- (1 << 26)
        let useG = (g4 >> 63) &- 1  // all ones when g4 did not go below zero
        let keepH = ~useG
        h0 = (h0 & keepH) | (g0 & useG)
        h1 = (h1 & keepH) | (g1 & useG)
        h2 = (h2 & keepH) | (g2 & useG)
        h3 = (h3 & keepH) | (g3 & useG)
        h4 = (h4 & keepH) | (g4 & useG & mask)
        let w0 = (h0 | (h1 << 26)) & 0xffff_ffff
        let w1 = ((h1 >> 6) | (h2 << 20)) & 0xffff_ffff
        let w2 = ((h2 >> 12) | (h3 << 14)) & 0xffff_ffff
        let w3 = ((h3 >> 18) | (h4 << 8)) & 0xffff_ffff
        let s = Salsa20.words(Array(key[16..<32])).map(UInt64.init)
        var f = w0 + s[0]
        var out = [UInt32(f & 0xffff_ffff)]
        f = w1 + s[1] + (f >> 32); out.append(UInt32(f & 0xffff_ffff))
        f = w2 + s[2] + (f >> 32); out.append(UInt32(f & 0xffff_ffff))
        f = w3 + s[3] + (f >> 32); out.append(UInt32(f & 0xffff_ffff))
        return Salsa20.bytes(out)
    }
}

extension UInt32 {
    func rotated(_ count: UInt32) -> UInt32 { (self << count) | (self >> (32 - count)) }
}
