/// A bucket name that follows AWS's general-purpose bucket naming rules.
package struct BucketName: Hashable, Sendable, CustomStringConvertible {
    package let value: String
    package var description: String { value }

    package init?(_ name: some StringProtocol) {
        guard Self.isValid(name) else { return nil }
        self.value = String(name)
    }

    package static func isValid(_ name: some StringProtocol) -> Bool {
        let b = Array(name.utf8)
        guard (3...63).contains(b.count) else { return false }
        func alnum(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
        }
        guard alnum(b[0]), alnum(b[b.count - 1]) else { return false }
        var prev: UInt8 = 0
        for c in b {
            guard alnum(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "-") else { return false }
            if c == UInt8(ascii: "."), prev == UInt8(ascii: ".") || prev == UInt8(ascii: "-") { return false }
            if c == UInt8(ascii: "-"), prev == UInt8(ascii: ".") { return false }
            prev = c
        }
        let s = String(name)
        if s.hasPrefix("xn--") || s.hasPrefix("sthree-") || s.hasPrefix("amzn-s3-demo-") { return false }
        if s.hasSuffix("-s3alias") || s.hasSuffix("--ol-s3") || s.hasSuffix(".mrap") || s.hasSuffix("--x-s3") {
            return false
        }
        // Not formatted as an IPv4 address.
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) && $0.count <= 3 }) {
            return false
        }
        return true
    }
}

/// Object key limits: non-empty, at most 1024 bytes of UTF-8.
package enum ObjectKeyRules {
    package static let maxBytes = 1024
}

/// The successor used to skip past every string that starts with `prefix`
/// in byte-wise order: the smallest byte string greater than all of them.
package func bytePrefixSuccessor(_ prefix: [UInt8]) -> [UInt8]? {
    var p = prefix
    while let last = p.last {
        if last == 0xff {
            p.removeLast()
        } else {
            p[p.count - 1] = last + 1
            return p
        }
    }
    return nil
}
