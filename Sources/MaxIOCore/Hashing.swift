import Crypto
import Foundation
import NIOCore

extension ByteBuffer {
    /// Feeds the readable bytes to a hash function without copying.
    @inlinable
    package func update<H: HashFunction>(_ hasher: inout H) {
        self.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
    }
}

package enum Digest {
    package static func sha256Hex(_ data: some DataProtocol) -> String {
        Hex.encode(SHA256.hash(data: data))
    }
    package static func md5Hex(_ data: some DataProtocol) -> String {
        Hex.encode(Insecure.MD5.hash(data: data))
    }
    package static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}

/// A random identifier made of lower-case hex: 128 bits by default, from the system's secure
/// generator, eight bytes per draw.
package func randomHexID(bytes: Int = 16) -> String {
    var g = SystemRandomNumberGenerator()
    var out = [UInt8]()
    out.reserveCapacity(bytes + 7)
    while out.count < bytes {
        withUnsafeBytes(of: g.next()) { out.append(contentsOf: $0) }
    }
    return Hex.encode(out.prefix(bytes))
}

/// An id that sorts by creation time: 16 hex digits of nanoseconds since 1970, then `randomBytes` random
/// bytes in hex. Upload ids and version ids, so the catalog's order of ids is the order of creation.
package func timeOrderedID(now: Date = Date(), randomBytes: Int) -> String {
    let ns = UInt64(max(0, now.timeIntervalSince1970) * 1_000_000_000)
    let t = String(ns, radix: 16)
    return String(repeating: "0", count: max(0, 16 - t.count)) + t + randomHexID(bytes: randomBytes)
}
