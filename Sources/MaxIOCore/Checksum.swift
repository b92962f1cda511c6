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
