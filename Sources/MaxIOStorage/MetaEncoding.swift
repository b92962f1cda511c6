import Foundation

/// A compact binary form of `ObjectMeta` for the catalog: a version byte, then (tag, length, bytes)
/// fields with LEB128 lengths. About ten times cheaper to decode than JSON on the GET path.
extension ObjectMeta {
    private enum Field: UInt8 {
        case contentType = 1, cacheControl, contentDisposition, contentEncoding, contentLanguage, expires
        case storageClass, userKey, userValue, checksumAlgorithm, checksumValue, checksumType, tagKey, tagValue,
            lockMode, lockRetainUntil, legalHold, acl, sse, sseCustomerVerifier, compressed
    }

    static let formatVersion: UInt8 = 1

    package func encoded() -> [UInt8] {
        var out: [UInt8] = [Self.formatVersion]
        out.reserveCapacity(64)
        func put(_ tag: Field, _ value: String?) {
            guard let value else { return }
            out.append(tag.rawValue)
            var n = value.utf8.count
            repeat {
                let byte = UInt8(n & 0x7f)
                n >>= 7
                out.append(n > 0 ? byte | 0x80 : byte)
            } while n > 0
            out.append(contentsOf: value.utf8)
        }
        put(.contentType, contentType)
        put(.cacheControl, cacheControl)
        put(.contentDisposition, contentDisposition)
        put(.contentEncoding, contentEncoding)
        put(.contentLanguage, contentLanguage)
        put(.expires, expires)
        put(.storageClass, storageClass)
        put(.checksumType, checksumType)
        for (k, v) in user.sorted(by: { $0.key < $1.key }) {
            put(.userKey, k)
            put(.userValue, v)
        }
        for (k, v) in (checksums ?? [:]).sorted(by: { $0.key < $1.key }) {
            put(.checksumAlgorithm, k)
            put(.checksumValue, v)
        }
        for t in tags {
            put(.tagKey, t.key)
            put(.tagValue, t.value)
        }
        put(.lockMode, lockMode?.rawValue)
        put(.lockRetainUntil, lockRetainUntil.map { String($0.timeIntervalSince1970) })
        put(.legalHold, legalHold ? "ON" : nil)
        put(.acl, acl)
        put(.sse, sse)
        put(.sseCustomerVerifier, sseCustomerVerifier)
        put(.compressed, compressed ? "1" : nil)
        return out
    }

    /// Decodes `encoded()`; nil when the bytes are not in this format.
    package init?(encoded bytes: some Collection<UInt8>) {
        let b = Array(bytes)
        guard b.first == Self.formatVersion else { return nil }
        self.init()
        var i = 1
        var pendingUserKey: String?
        var pendingChecksum: String?
        var pendingTag: String?
        while i < b.count {
            guard let tag = Field(rawValue: b[i]) else { return nil }
            i += 1
            var n = 0
            var shift = 0
            while true {
                guard i < b.count, shift < 35 else { return nil }
                let byte = b[i]
                i += 1
                n |= Int(byte & 0x7f) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
            }
            guard n <= b.count - i else { return nil }
            let value = String(decoding: b[i..<(i + n)], as: UTF8.self)
            i += n
            switch tag {
            case .contentType: contentType = value
            case .cacheControl: cacheControl = value
            case .contentDisposition: contentDisposition = value
            case .contentEncoding: contentEncoding = value
            case .contentLanguage: contentLanguage = value
            case .expires: expires = value
            case .storageClass: storageClass = value
            case .checksumType: checksumType = value
            case .lockMode: lockMode = LockMode(rawValue: value)
            case .lockRetainUntil: lockRetainUntil = Double(value).map { Date(timeIntervalSince1970: $0) }
            case .legalHold: legalHold = value == "ON"
            case .acl: acl = value
            case .sse: sse = value
            case .sseCustomerVerifier: sseCustomerVerifier = value
            case .compressed: compressed = value == "1"
            case .tagKey: pendingTag = value
            case .tagValue:
                guard let k = pendingTag else { return nil }
                tags.append(Tag(key: k, value: value))
                pendingTag = nil
            case .userKey: pendingUserKey = value
            case .userValue:
                guard let k = pendingUserKey else { return nil }
                user[k] = value
                pendingUserKey = nil
            case .checksumAlgorithm: pendingChecksum = value
            case .checksumValue:
                guard let k = pendingChecksum else { return nil }
                checksums = (checksums ?? [:]).merging([k: value]) { _, new in new }
                pendingChecksum = nil
            }
        }
        guard pendingUserKey == nil, pendingChecksum == nil, pendingTag == nil else { return nil }
    }
}
