import Foundation

/// What a write did: the record as stored (with its version id) and the records it removed for good, whose
/// blobs the caller retires. In a versioned bucket the replaced version is kept, not retired.
package struct WriteOutcome: Sendable {
    package var record: ObjectRecord
    package var retired: [ObjectRecord]

    package init(record: ObjectRecord, retired: [ObjectRecord]) {
        self.record = record
        self.retired = retired
    }
}

/// What a delete did.
package struct DeleteOutcome: Sendable {
    /// The version removed, or the delete marker created; nil in a bucket that never had versioning.
    package var versionID: String?
    /// A delete marker was created, or the version removed was one.
    package var deleteMarker: Bool
    package var retired: [ObjectRecord]
    /// In DeleteObjects: why this target was not deleted.
    package var error: StorageError?

    package init(versionID: String?, deleteMarker: Bool, retired: [ObjectRecord], error: StorageError? = nil) {
        self.versionID = versionID
        self.deleteMarker = deleteMarker
        self.retired = retired
        self.error = error
    }
}

/// One key (and optionally one version) named in a DeleteObjects request.
package struct DeleteTarget: Sendable {
    package var key: String
    package var versionID: String?
    /// Only while the version is not the latest (lifecycle's noncurrent expiration: a version that became the
    /// latest since the scan is left alone, reported as `preconditionFailed`).
    package var onlyIfNoncurrent: Bool
    /// Only if the version (or, without `versionID`, the latest version, which must not be a delete marker) is still
    /// the one that was read (its `seq`); else `preconditionFailed`.
    package var expectedSeq: Int64?

    package init(key: String, versionID: String?, onlyIfNoncurrent: Bool = false, expectedSeq: Int64? = nil) {
        self.key = key
        self.versionID = versionID
        self.onlyIfNoncurrent = onlyIfNoncurrent
        self.expectedSeq = expectedSeq
    }
}

package struct VersionsQuery: Sendable {
    package var prefix: String
    package var delimiter: String?
    package var keyMarker: String?
    package var versionIDMarker: String?
    package var maxKeys: Int

    /// Also return each version's ACL (for owners in buckets with ACLs enabled).
    package var withACLs = false

    package init(prefix: String, delimiter: String?, keyMarker: String?, versionIDMarker: String?, maxKeys: Int) {
        self.prefix = prefix
        self.delimiter = delimiter
        self.keyMarker = keyMarker
        self.versionIDMarker = versionIDMarker
        self.maxKeys = maxKeys
    }
}

package struct ListedVersion: Sendable, Equatable {
    package var key: String
    /// As clients see it (`null` for the null version).
    package var versionID: String
    package var isLatest: Bool
    package var isDeleteMarker: Bool
    package var size: Int64
    package var etag: String
    package var lastModified: Date
    package var storageClass: String
    /// The version's ACL (raw), when the query asked for ACLs.
    package var acl: String? = nil

    package init(
        key: String, versionID: String, isLatest: Bool, isDeleteMarker: Bool, size: Int64, etag: String,
        lastModified: Date, storageClass: String
    ) {
        self.key = key
        self.versionID = versionID
        self.isLatest = isLatest
        self.isDeleteMarker = isDeleteMarker
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.storageClass = storageClass
    }
}

/// A page of ListObjectVersions: versions and delete markers by key, newest first within a key.
package struct VersionsPage: Sendable {
    package var versions: [ListedVersion] = []
    package var commonPrefixes: [String] = []
    package var isTruncated = false
    package var nextKeyMarker: String?
    package var nextVersionIDMarker: String?

    package init() {}
}
