/// A single HTTP byte range as S3 supports it.
package enum ByteRange: Equatable, Sendable {
    /// `bytes=first-last` (last inclusive, nil for open-ended)
    case from(UInt64, last: UInt64?)
    /// `bytes=-n`: the last n bytes
    case suffix(UInt64)

    /// Parses a `Range` header. Returns nil when the header is not a single well-formed byte range:
    /// such headers are ignored and the whole object is returned, as S3 does.
    package static func parse(_ header: String) -> ByteRange? {
        let h = header.trimmingPrefixSpaces()
        guard h.hasPrefix("bytes=") else { return nil }
        let spec = h.dropFirst(6)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let a = spec[..<dash].trimmingPrefixSpaces()
        let b = spec[spec.index(after: dash)...].trimmingPrefixSpaces()
        if a.isEmpty {
            guard let n = UInt64(b) else { return nil }
            return .suffix(n)
        }
        guard let first = UInt64(a) else { return nil }
        if b.isEmpty { return .from(first, last: nil) }
        guard let last = UInt64(b), last >= first else { return nil }
        return .from(first, last: last)
    }

    /// The resolved byte interval for an object of `size` bytes, or nil if unsatisfiable.
    package func resolve(size: UInt64) -> ClosedRange<UInt64>? {
        switch self {
        case .from(let first, let last):
            guard first < size else { return nil }
            return first...min(last ?? (size - 1), size - 1)
        case .suffix(let n):
            guard n > 0, size > 0 else { return nil }
            return (size - min(n, size))...(size - 1)
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingPrefixSpaces() -> String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
