import Foundation
import MaxIOCore

/// How a multipart object's additional checksum is formed (`x-amz-checksum-type`).
package enum ChecksumType: String, Sendable, Codable {
    /// The checksum of the concatenated binary part checksums, with `-N`.
    case COMPOSITE
    /// The checksum of the whole object (CRC family only), combined from the part CRCs.
    case FULL_OBJECT

    /// AWS's default for an algorithm named without a type.
    package static func defaultType(for algorithm: ChecksumAlgorithm) -> ChecksumType {
        algorithm == .CRC64NVME ? .FULL_OBJECT : .COMPOSITE
    }

    package func allows(_ algorithm: ChecksumAlgorithm) -> Bool {
        switch self {
        case .COMPOSITE: algorithm != .CRC64NVME
        case .FULL_OBJECT: algorithm == .CRC32 || algorithm == .CRC32C || algorithm == .CRC64NVME
        }
    }
}

/// A multipart upload in progress.
package struct UploadRecord: Sendable, Equatable {
    package var uploadID: String
    package var bucket: String
    package var key: String
    package var initiated: Date
    package var owner: String
    /// Headers the object gets when the upload completes.
    package var meta: ObjectMeta
    package var checksumAlgorithm: ChecksumAlgorithm?
    package var checksumType: ChecksumType?

    package init(
        uploadID: String, bucket: String, key: String, initiated: Date, owner: String, meta: ObjectMeta,
        checksumAlgorithm: ChecksumAlgorithm?, checksumType: ChecksumType?
    ) {
        self.uploadID = uploadID
        self.bucket = bucket
        self.key = key
        self.initiated = initiated
        self.owner = owner
        self.meta = meta
        self.checksumAlgorithm = checksumAlgorithm
        self.checksumType = checksumType
    }

    /// Upload ids sort by creation time (16 hex digits of nanoseconds), then 32 random hex digits, so the
    /// catalog's (bucket, key, upload_id) order is AWS's listing order (key, then initiation).
    package static func newID(now: Date = Date()) -> String { timeOrderedID(now: now, randomBytes: 16) }
}

/// One uploaded part of an upload in progress.
package struct PartRecord: Sendable, Equatable {
    package var partNumber: Int
    package var size: Int64
    /// MD5 hex, without quotes.
    package var etag: String
    package var lastModified: Date
    package var blobID: String
    /// The part's additional checksum (base64), in the upload's algorithm.
    package var checksum: String?

    package init(
        partNumber: Int, size: Int64, etag: String, lastModified: Date, blobID: String, checksum: String?
    ) {
        self.partNumber = partNumber
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.blobID = blobID
        self.checksum = checksum
    }
}

/// One part of a completed multipart object, by its position (1...N) in the object.
package struct ObjectPart: Sendable, Equatable {
    package var number: Int
    package var offset: Int64
    package var size: Int64
    package var blobID: String
    package var etag: String
    package var checksum: String?

    package init(number: Int, offset: Int64, size: Int64, blobID: String, etag: String, checksum: String?) {
        self.number = number
        self.offset = offset
        self.size = size
        self.blobID = blobID
        self.etag = etag
        self.checksum = checksum
    }
}

/// A part named in a CompleteMultipartUpload request.
package struct CompletedPart: Sendable, Equatable {
    package var partNumber: Int
    /// Without quotes.
    package var etag: String
    /// The checksums the client sent for this part (base64), by algorithm; only the upload's is checked.
    package var checksums: [ChecksumAlgorithm: String]

    package init(partNumber: Int, etag: String, checksums: [ChecksumAlgorithm: String] = [:]) {
        self.partNumber = partNumber
        self.etag = etag
        self.checksums = checksums
    }
}

/// What a completion did: the new object (with its version id), the records it removed for good (their
/// blobs to retire), and the blobs of uploaded parts the object does not use.
package struct CompletionResult: Sendable {
    package var record: ObjectRecord
    package var retired: [ObjectRecord]
    package var unusedBlobs: [String]
    /// True when the upload had already been completed into this object (a retried request).
    package var alreadyCompleted: Bool

    package init(record: ObjectRecord, retired: [ObjectRecord], unusedBlobs: [String], alreadyCompleted: Bool) {
        self.record = record
        self.retired = retired
        self.unusedBlobs = unusedBlobs
        self.alreadyCompleted = alreadyCompleted
    }
}

package struct UploadsQuery: Sendable {
    package var prefix: String
    package var delimiter: String?
    package var keyMarker: String?
    package var uploadIDMarker: String?
    package var maxUploads: Int

    package init(prefix: String, delimiter: String?, keyMarker: String?, uploadIDMarker: String?, maxUploads: Int) {
        self.prefix = prefix
        self.delimiter = delimiter
        self.keyMarker = keyMarker
        self.uploadIDMarker = uploadIDMarker
        self.maxUploads = maxUploads
    }
}

package struct UploadsPage: Sendable {
    package var uploads: [UploadRecord] = []
    package var commonPrefixes: [String] = []
    package var isTruncated = false
    /// Where the next page starts: the last key (or common prefix) and upload id returned.
    package var nextKeyMarker: String?
    package var nextUploadIDMarker: String?

    package init() {}
}
