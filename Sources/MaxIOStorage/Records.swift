import Foundation
import MaxIOCore

/// A bucket's versioning state. Once enabled it can be suspended, never turned off.
package enum VersioningState: String, Sendable, Equatable {
    case unversioned = ""
    case enabled = "Enabled"
    case suspended = "Suspended"
}

package struct BucketRecord: Sendable, Equatable {
    package var name: String
    package var owner: String
    package var region: String
    package var createdAt: Date
    package var versioning: VersioningState
    /// Bucket tags; nil when none were ever set (GetBucketTagging answers NoSuchTagSet).
    package var tags: [Tag]? = nil
    /// Object Lock; nil when the bucket was created without it and never got it.
    package var objectLock: ObjectLockConfig? = nil
    /// Lifecycle rules; nil when none are configured.
    package var lifecycle: [LifecycleRule]? = nil
    /// The owning tenant's id; empty for buckets of global users.
    package var tenant: String = ""
    /// Logical bytes of every stored version plus parts of uploads in progress.
    package var usedBytes: Int64 = 0
    /// Stored versions that are not delete markers.
    package var objectCount: Int64 = 0
    /// Bucket quotas; 0 = unlimited.
    package var maxBytes: Int64 = 0
    package var maxObjects: Int64 = 0
    /// The bucket policy (JSON) as it was put; nil when none.
    package var policy: String? = nil
    /// The CORS rules (JSON of `CORSRule`s); nil when none.
    package var cors: String? = nil
    /// The default encryption (JSON, MaxIOS3API's `BucketEncryption`); nil when none was put.
    package var encryption: String? = nil
    /// The bucket ACL (JSON, MaxIOIAM's `AccessControlList`); nil: the owner's full control only.
    package var acl: String? = nil
    /// The object ownership setting (`BucketOwnerEnforced`…); nil after DeleteBucketOwnershipControls.
    package var ownership: String? = "BucketOwnerEnforced"
    /// The PublicAccessBlock configuration (JSON); nil when none.
    package var publicAccessBlock: String? = nil

    package init(
        name: String, owner: String, region: String, createdAt: Date, versioning: VersioningState = .unversioned,
        tags: [Tag]? = nil, objectLock: ObjectLockConfig? = nil
    ) {
        self.objectLock = objectLock
        self.name = name
        self.owner = owner
        self.region = region
        self.createdAt = createdAt
        self.versioning = versioning
        self.tags = tags
    }
}

/// Version ids: 16 hex digits of nanoseconds, then 16 random ones (32 characters, as long as AWS's).
package enum VersionID {
    /// The version id of objects written while versioning is suspended.
    package static let null = "null"
    /// In the catalog, objects written to a bucket that never had versioning have the empty version id; they
    /// are the null version too, but get no `x-amz-version-id` header.
    package static let unversioned = ""

    package static func new(now: Date = Date()) -> String { timeOrderedID(now: now, randomBytes: 8) }

    /// The id as clients see it.
    package static func display(_ id: String) -> String { id.isEmpty ? null : id }
}

/// An object or bucket tag.
package struct Tag: Sendable, Equatable, Codable {
    package var key: String
    package var value: String

    package init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// Headers stored with an object and returned on GET/HEAD.
package struct ObjectMeta: Sendable, Equatable, Codable {
    package var contentType: String?
    package var cacheControl: String?
    package var contentDisposition: String?
    package var contentEncoding: String?
    package var contentLanguage: String?
    package var expires: String?
    /// `x-amz-meta-*` without the prefix, lower-case names, in name order.
    package var user: [String: String]
    package var storageClass: String?
    /// Additional checksums, by algorithm name (`CRC32`, `SHA256`...), base64.
    package var checksums: [String: String]?
    /// `COMPOSITE` or `FULL_OBJECT` for multipart objects with a checksum; nil means full-object.
    package var checksumType: String?
    /// Object tags, in the order they were given.
    package var tags: [Tag] = []
    /// Object Lock retention of this version, if any.
    package var lockMode: LockMode?
    package var lockRetainUntil: Date?
    package var legalHold = false
    /// The version's access control list (JSON, MaxIOIAM's `AccessControlList`); nil: only its owner, the bucket
    /// owner, has access through ACLs.
    package var acl: String?
    /// `AES256` when the blobs are sealed with a server key (SSE-S3); nil otherwise.
    package var sse: String?
    /// A salted HMAC of the customer key the blobs are sealed with (SSE-C); nil otherwise.
    package var sseCustomerVerifier: String?
    /// The blobs are stored compressed (transparent compression); sizes and digests are the uncompressed ones.
    package var compressed = false

    package init(
        contentType: String? = nil, cacheControl: String? = nil, contentDisposition: String? = nil,
        contentEncoding: String? = nil, contentLanguage: String? = nil, expires: String? = nil,
        user: [String: String] = [:], storageClass: String? = nil, checksums: [String: String]? = nil
    ) {
        self.contentType = contentType
        self.cacheControl = cacheControl
        self.contentDisposition = contentDisposition
        self.contentEncoding = contentEncoding
        self.contentLanguage = contentLanguage
        self.expires = expires
        self.user = user
        self.storageClass = storageClass
        self.checksums = checksums
    }
}

package struct ObjectRecord: Sendable, Equatable {
    package var bucket: String
    package var key: String
    package var size: Int64
    /// MD5 hex (or multipart form), without quotes.
    package var etag: String
    package var lastModified: Date
    /// The blob holding the bytes; for a multipart object (`parts > 0`), the id of its part manifest.
    package var blobID: String
    package var meta: ObjectMeta
    /// 0 for an object stored as one blob; the number of parts of a completed multipart upload.
    package var parts: Int
    /// `""` in a bucket that never had versioning, `"null"` for the null version, else the version id.
    package var versionID: String = VersionID.unversioned
    /// A delete marker: no data, hides the key while it is the latest version.
    package var isDeleteMarker = false
    /// Orders the versions of a key, newest highest (nanoseconds of the write, strictly increasing per key).
    package var seq: Int64 = 0
    /// Filled by the catalog only in records it returns as removed or replaced: the blobs of the parts
    /// of a multipart object, whose manifest the same transaction deleted.
    package var partBlobs: [String] = []

    /// The blobs to retire once this record is no longer visible.
    package var blobsToRetire: [String] { isDeleteMarker ? [] : parts == 0 ? [blobID] : partBlobs }

    package init(
        bucket: String, key: String, size: Int64, etag: String, lastModified: Date, blobID: String,
        meta: ObjectMeta, parts: Int = 0
    ) {
        self.parts = parts
        self.bucket = bucket
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.blobID = blobID
        self.meta = meta
    }
}

/// A conditional write, checked in the same transaction that makes the write visible.
package enum WriteCondition: Sendable, Equatable {
    /// `If-None-Match: *`: only if no object exists at the key.
    case ifNoneMatchAny
    /// `If-Match: etag`: only if the current object has this ETag.
    case ifMatch(String)
}

package struct ListedObject: Sendable, Equatable {
    package var key: String
    package var size: Int64
    package var etag: String
    package var lastModified: Date
    package var storageClass: String
    /// The object's ACL (raw), when the query asked for ACLs.
    package var acl: String? = nil

    package init(key: String, size: Int64, etag: String, lastModified: Date, storageClass: String) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.storageClass = storageClass
    }
}

/// One page of a listing: objects and common prefixes, interleaved in key order.
package struct ListPage: Sendable {
    package var objects: [ListedObject] = []
    package var commonPrefixes: [String] = []
    package var isTruncated = false
    /// The last key or common prefix returned: the next page starts after it.
    package var lastItem: String?

    package init() {}
}

package struct ListQuery: Sendable {
    package var prefix: String
    package var delimiter: String?
    /// Exclusive start: only keys (and prefixes) greater than this.
    package var after: String?
    package var maxKeys: Int

    /// Also return each object's ACL (for owners in buckets with ACLs enabled).
    package var withACLs = false

    package init(prefix: String, delimiter: String?, after: String?, maxKeys: Int) {
        self.prefix = prefix
        self.delimiter = delimiter
        self.after = after
        self.maxKeys = maxKeys
    }
}

extension ObjectMeta {
    private enum CodingKeys: String, CodingKey {
        case contentType, cacheControl, contentDisposition, contentEncoding, contentLanguage, expires, user
        case storageClass, checksums, checksumType, tags, lockMode, lockRetainUntil, legalHold
    }

    /// Reads the JSON rows of early builds, which lack the newer fields.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            contentType: try c.decodeIfPresent(String.self, forKey: .contentType),
            cacheControl: try c.decodeIfPresent(String.self, forKey: .cacheControl),
            contentDisposition: try c.decodeIfPresent(String.self, forKey: .contentDisposition),
            contentEncoding: try c.decodeIfPresent(String.self, forKey: .contentEncoding),
            contentLanguage: try c.decodeIfPresent(String.self, forKey: .contentLanguage),
            expires: try c.decodeIfPresent(String.self, forKey: .expires),
            user: try c.decodeIfPresent([String: String].self, forKey: .user) ?? [:],
            storageClass: try c.decodeIfPresent(String.self, forKey: .storageClass),
            checksums: try c.decodeIfPresent([String: String].self, forKey: .checksums))
        checksumType = try c.decodeIfPresent(String.self, forKey: .checksumType)
        tags = try c.decodeIfPresent([Tag].self, forKey: .tags) ?? []
        lockMode = try c.decodeIfPresent(LockMode.self, forKey: .lockMode)
        lockRetainUntil = try c.decodeIfPresent(Date.self, forKey: .lockRetainUntil)
        legalHold = try c.decodeIfPresent(Bool.self, forKey: .legalHold) ?? false
    }
}
