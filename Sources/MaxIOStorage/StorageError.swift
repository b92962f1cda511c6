import Foundation
import MaxIOCore

/// Errors of the storage layer. Translated to S3 errors in one place (MaxIOS3API).
package enum StorageError: Error, Sendable, Equatable {
    case noSuchBucket
    case bucketAlreadyExists
    case bucketAlreadyOwnedByYou
    case bucketNotEmpty
    case noSuchKey
    case noSuchVersion
    /// The version is a delete marker: the latest one (the key looks missing), or one named by version id.
    case deleteMarker(versionID: String, requested: Bool, lastModified: Date)
    case preconditionFailed
    case badDigest
    /// The additional checksum sent did not match the data.
    case checksumMismatch(ChecksumAlgorithm)
    case contentSHA256Mismatch
    case incompleteBody
    case entityTooLarge
    case noSuchUpload
    /// A part named at completion was never uploaded, or its ETag or checksum differs.
    case invalidPart(partNumber: Int)
    case invalidPartOrder
    /// A part other than the last is under the 5 MiB minimum.
    case entityTooSmall(partNumber: Int, size: Int64)
    /// A request that is well-formed but not acceptable; the message says why.
    case invalidRequest(String)
    /// CompleteMultipartUpload named a checksum type other than the upload's.
    case checksumTypeMismatch(upload: String?, requested: String)
    /// Object Lock forbids it (legal hold or retention): AccessDenied.
    case objectLocked(String)
    /// The bucket's state forbids it (e.g. suspending versioning with Object Lock): InvalidBucketState.
    case invalidBucketState(String)
    /// The version has no retention or legal hold: NoSuchObjectLockConfiguration.
    case noObjectLockConfiguration
    /// A storage or object-count quota of the bucket or its tenant would be exceeded: QuotaExceeded.
    case quotaExceeded(String)
    /// The tenant's bucket quota is reached: TooManyBuckets.
    case tooManyBuckets
    /// The object is sealed with a customer key (SSE-C) and the request sent none.
    case customerKeyRequired
    /// The customer key sent is not the object's.
    case customerKeyMismatch
    /// A customer key was sent for an object not sealed with one.
    case customerKeyNotApplicable
    case io(String)
}
