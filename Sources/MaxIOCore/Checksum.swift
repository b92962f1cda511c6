import CMaxIOChecksum
import Crypto
import Foundation

/// The additional checksums of S3 (`x-amz-checksum-*`).
package enum ChecksumAlgorithm: String, Sendable, CaseIterable, Codable {
    case CRC32, CRC32C, CRC64NVME, SHA1, SHA256

    /// `x-amz-checksum-crc32` etc.
    package var headerName: String { "x-amz-checksum-" + rawValue.lowercased() }

    package init?(headerName: String) {
        guard headerName.hasPrefix("x-amz-checksum-") else { return nil }
        self.init(rawValue: headerName.dropFirst("x-amz-checksum-".count).uppercased())
    }

    /// Bytes of the digest.
    package var size: Int {
        switch self {
        case .CRC32, .CRC32C: 4
        case .CRC64NVME: 8
        case .SHA1: 20
        case .SHA256: 32
        }
    }
}

/// A streaming checksum of one of the S3 algorithms.
package struct ChecksumHasher: Sendable {
    package let algorithm: ChecksumAlgorithm
    private var crc32: UInt32 = 0
    private var crc64: UInt64 = 0
    private var sha1 = Insecure.SHA1()
    private var sha256 = SHA256()

    package init(_ algorithm: ChecksumAlgorithm) { self.algorithm = algorithm }

    package mutating func update(_ raw: UnsafeRawBufferPointer) {
        guard let base = raw.baseAddress, raw.count > 0 else { return }
        switch algorithm {
        case .CRC32: crc32 = maxio_crc32(crc32, base, raw.count)
        case .CRC32C: crc32 = maxio_crc32c(crc32, base, raw.count)
        case .CRC64NVME: crc64 = maxio_crc64nvme(crc64, base, raw.count)
        case .SHA1: sha1.update(bufferPointer: raw)
        case .SHA256: sha256.update(bufferPointer: raw)
        }
    }

    package mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest, big-endian for CRCs.
    package func finalize() -> [UInt8] {
        switch algorithm {
        case .CRC32, .CRC32C: withUnsafeBytes(of: crc32.bigEndian) { Array($0) }
        case .CRC64NVME: withUnsafeBytes(of: crc64.bigEndian) { Array($0) }
        case .SHA1: Array(sha1.finalize())
        case .SHA256: Array(sha256.finalize())
        }
    }

    /// The digest as S3 sends it: base64.
    package func base64() -> String { Data(finalize()).base64EncodedString() }
}

extension ChecksumAlgorithm {
    /// Whether checksums of consecutive pieces combine into the checksum of the whole (the CRC family).
    package var combinable: Bool { self == .CRC32 || self == .CRC32C || self == .CRC64NVME }

    /// The checksum of the concatenation of pieces, from each piece's digest (big-endian) and length;
    /// nil for algorithms that do not combine or for a malformed digest.
    package func combine(_ pieces: [(digest: [UInt8], length: Int64)]) -> [UInt8]? {
        guard combinable else { return nil }
        var acc: UInt64 = 0
        var first = true
        for (digest, length) in pieces {
            guard digest.count == size else { return nil }
            var v: UInt64 = 0
            for b in digest { v = v << 8 | UInt64(b) }
            if first {
                acc = v
                first = false
                continue
            }
            switch self {
            case .CRC32: acc = UInt64(maxio_crc32_combine(UInt32(acc), UInt32(v), UInt64(length)))
            case .CRC32C: acc = UInt64(maxio_crc32c_combine(UInt32(acc), UInt32(v), UInt64(length)))
            case .CRC64NVME: acc = maxio_crc64nvme_combine(acc, v, UInt64(length))
            case .SHA1, .SHA256: return nil
            }
        }
        if size == 4 { return withUnsafeBytes(of: UInt32(truncatingIfNeeded: acc).bigEndian) { Array($0) } }
        return withUnsafeBytes(of: acc.bigEndian) { Array($0) }
    }
}
