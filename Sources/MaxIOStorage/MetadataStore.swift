import Foundation

/// Bucket settings kept as opaque text by the catalog (their grammar belongs to MaxIOIAM).
package enum BucketSetting: String, Sendable {
    case policy
    case acl
    case ownership
    case publicAccessBlock = "public_access_block"
    case cors
    case encryption
}

/// The catalog: buckets and object metadata. Every method is one transaction.
/// Implementations: SQLite (embedded default); PostgreSQL (cluster) later. Methods throw `StorageError`
/// for expected outcomes; anything else is an internal error.
package protocol MetadataStore: Sendable {
    /// Throws `bucketAlreadyOwnedByYou` / `bucketAlreadyExists` if the name is taken, `tooManyBuckets` when the
    /// bucket's tenant has reached its bucket quota.
    func createBucket(_ bucket: BucketRecord) async throws
    /// Sets a bucket's quotas (0 = unlimited). Throws `noSuchBucket`.
    func setBucketQuota(bucket: String, maxBytes: Int64, maxObjects: Int64) async throws
    /// Sets (or with nil removes) one of a bucket's access settings. Throws `noSuchBucket`.
    func setBucketSetting(bucket: String, _ setting: BucketSetting, value: String?) async throws
    /// Reserves `bytes` (and `objects` objects) against the quotas of the bucket and its tenant before a body is
    /// accepted; nil when no quota applies. Throws `quotaExceeded` when usage plus live reservations would exceed
    /// a quota, `noSuchBucket`. The reservation lapses after `ttl` seconds.
    /// With `replacing`, the version a write to that key would remove for good (unversioned bucket, or the null
    /// version when versioning is suspended) is credited.
    func reserve(bucket: String, replacing key: String?, bytes: Int64, objects: Int64, ttl: TimeInterval)
        async throws -> String?
    /// Gives back a reservation that no write consumed.
    func releaseReservation(_ id: String) async throws
    func bucket(_ name: String) async throws -> BucketRecord?
    /// Buckets in name order, optionally of one owner, with a prefix, after a name.
    func listBuckets(owner: String?, prefix: String?, after: String?, limit: Int) async throws -> [BucketRecord]
    /// Throws `noSuchBucket` or `bucketNotEmpty`. Uploads in progress go with the bucket: returns the blobs
    /// of their parts, for the caller to retire.
    @discardableResult
    func deleteBucket(_ name: String) async throws -> [String]

    /// Sets a bucket's versioning (enabled or suspended). Throws `noSuchBucket`.
    func setVersioning(bucket: String, state: VersioningState) async throws
    /// Sets (or with nil removes) a bucket's tags. Throws `noSuchBucket`.
    func setBucketTags(bucket: String, tags: [Tag]?) async throws
    /// Sets (or with nil removes) a bucket's lifecycle rules. Throws `noSuchBucket`.
    func setLifecycle(bucket: String, rules: [LifecycleRule]?) async throws
    /// The buckets that have lifecycle rules, with them.
    func lifecycleConfigurations() async throws -> [(bucket: String, rules: [LifecycleRule])]
    /// Latest versions (delete markers included) with keys after `after`, in key order. Throws `noSuchBucket`.
    func scanLatest(bucket: String, after: String?, limit: Int) async throws -> [ObjectRecord]
    /// Keys that have older versions, after `after`, in key order. Throws `noSuchBucket`.
    func keysWithOlderVersions(bucket: String, after: String?, limit: Int) async throws -> [String]
    /// Every version of a key, newest (the latest) first. Throws `noSuchBucket`.
    func versionsOfKey(bucket: String, key: String) async throws -> [ObjectRecord]

    /// Sets a bucket's Object Lock configuration (it cannot be turned off). Throws `noSuchBucket`, and
    /// `invalidBucketState` unless versioning is enabled.
    func setObjectLock(bucket: String, config: ObjectLockConfig) async throws
    /// Changes the metadata of the latest version of a key, or of the version named, in one transaction:
    /// `change` gets the metadata and the bucket's Object Lock configuration and may throw to refuse. Returns
    /// the changed record. Throws `noSuchBucket`, `noSuchKey`, `noSuchVersion` or `deleteMarker`.
    func updateObject(
        bucket: String, key: String, versionID: String?,
        change: @Sendable (inout ObjectMeta, ObjectLockConfig?) throws -> Void
    ) async throws -> ObjectRecord

    /// The latest version of a key, which may be a delete marker. Throws `noSuchBucket` when the bucket does
    /// not exist; nil when the key does not.
    func object(bucket: String, key: String) async throws -> ObjectRecord?
    /// One version of a key (`null` names the null version); nil when there is no such version. Throws
    /// `noSuchBucket`.
    func objectVersion(bucket: String, key: String, versionID: String) async throws -> ObjectRecord?
    /// Makes `object` the latest version, checking `condition` and the bucket's existence in the same
    /// transaction; assigns its version id from the bucket's versioning state. Returns the stored record and
    /// the records removed for good (an overwritten object in an unversioned bucket, the previous null
    /// version when versioning is suspended), whose blobs the caller retires.
    /// `bodyVerified`: the request carried Content-MD5 or a checksum; a version that ends up under Object Lock
    /// (its own settings or the bucket's default retention) is refused without one, as AWS does.
    /// With quotas on the bucket or its tenant, the write is refused (`quotaExceeded`) when it would take usage
    /// (plus other live reservations) over one; `reservation`, taken with `reserve` before the body, is released in
    /// the same transaction.
    func putObject(_ object: ObjectRecord, condition: WriteCondition?, bodyVerified: Bool, reservation: String?)
        async throws -> WriteOutcome
    /// Without `versionID`: removes the object (unversioned bucket) or adds a delete marker (versioned).
    /// With `versionID`: removes that version for good (the next one becomes the latest). Throws
    /// `noSuchBucket`; with `ifMatch`, `noSuchKey` when there is no object and `preconditionFailed` when its
    /// ETag differs.
    /// A version under Object Lock is not removed (`objectLocked`), unless only GOVERNANCE retention holds it and
    /// `bypassGovernance` is set.
    func deleteObject(bucket: String, key: String, versionID: String?, ifMatch: String?, bypassGovernance: Bool)
        async throws -> DeleteOutcome
    /// Deletes several keys or versions in one transaction, as `deleteObject` each; a locked version is reported
    /// in its outcome's `error`. Throws `noSuchBucket`.
    func deleteObjects(bucket: String, targets: [DeleteTarget], bypassGovernance: Bool) async throws
        -> [DeleteOutcome]
    /// Versions and delete markers by key, newest first. Throws `noSuchBucket`.
    func listVersions(bucket: String, query: VersionsQuery) async throws -> VersionsPage
    /// Throws `noSuchBucket`.
    func listObjects(bucket: String, query: ListQuery) async throws -> ListPage
    /// Every blob id the catalog references, of objects, object parts and upload parts (for garbage
    /// collection of orphans).
    func referencedBlobIDs() async throws -> Set<String>

    /// The parts of a completed multipart object, in order; empty when the manifest no longer exists
    /// (the object was replaced or deleted).
    func objectParts(manifest: String) async throws -> [ObjectPart]

    // MARK: multipart uploads

    /// Throws `noSuchBucket`.
    func createUpload(_ upload: UploadRecord) async throws
    /// The upload, if it is in progress for this bucket and key. Throws `noSuchBucket`.
    func upload(id: String, bucket: String, key: String) async throws -> UploadRecord?
    /// Records an uploaded part, replacing one with the same number; returns the replaced part, whose blob
    /// the caller retires. Throws `noSuchUpload` when the upload is not (or no longer) in progress.
    /// Quotas are checked as for `putObject`.
    func putPart(_ part: PartRecord, uploadID: String, bucket: String, key: String, reservation: String?) async throws
        -> PartRecord?
    /// Parts with numbers greater than `after`, ascending, at most `limit`. Throws `noSuchUpload`.
    func listParts(uploadID: String, bucket: String, key: String, after: Int, limit: Int) async throws -> (
        UploadRecord, [PartRecord]
    )
    /// Completes an upload in one transaction: `build` checks the parts named by the request against the
    /// uploaded ones and returns the object and its manifest; the object becomes visible (checking
    /// `condition`), the upload and its parts disappear. A retried completion of an upload that already made
    /// the current object at the key answers that object (`alreadyCompleted`). Throws `noSuchUpload`.
    func completeUpload(
        uploadID: String, bucket: String, key: String, condition: WriteCondition?,
        build: @Sendable (UploadRecord, [PartRecord]) throws -> (ObjectRecord, [ObjectPart])
    ) async throws -> CompletionResult
    /// Removes an upload; returns the blobs of its parts. Throws `noSuchUpload`.
    func abortUpload(uploadID: String, bucket: String, key: String) async throws -> [String]
    /// Uploads in progress, by key then initiation. Throws `noSuchBucket`.
    func listUploads(bucket: String, query: UploadsQuery) async throws -> UploadsPage
    /// Uploads (of any bucket) initiated before `before`, oldest first, at most `limit`.
    func staleUploads(before: Date, limit: Int, bucket: String?) async throws -> [UploadRecord]
}

/// A catalog that can answer on the calling thread (an embedded database). `ObjectService` uses it to do
/// one request's metadata and file work in a single thread-pool job instead of a hop for each step
/// (see docs/adr/0003). Same semantics as the async methods of `MetadataStore`.
package protocol SynchronousMetadataStore: MetadataStore {
    func objectSync(bucket: String, key: String) throws -> ObjectRecord?
    func putObjectSync(_ object: ObjectRecord, condition: WriteCondition?, bodyVerified: Bool, reservation: String?)
        throws -> WriteOutcome
    func deleteObjectSync(bucket: String, key: String, ifMatch: String?) throws -> DeleteOutcome
    func objectPartsSync(manifest: String) throws -> [ObjectPart]
}
