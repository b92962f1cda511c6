import MaxIOCore

/// Errors of the storage layer. Translated to S3 errors in one place (MaxIOS3API).
package enum StorageError: Error, Sendable, Equatable {
    case noSuchBucket
    case bucketAlreadyExists
    case bucketAlreadyOwnedByYou
    case bucketNotEmpty
    case noSuchKey
    case preconditionFailed
    case badDigest
    /// The additional checksum sent did not match the data.
    case checksumMismatch(ChecksumAlgorithm)
    case contentSHA256Mismatch
    case incompleteBody
    case entityTooLarge
    case io(String)
}
